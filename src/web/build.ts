// The page's bundles: esbuild over the same library code the CLI runs (search, models, sandbox
// evaluator), for the browser. Node built-ins that library modules import are replaced by the shims
// in ./shims: path and url work (they only name files), fs returns the few files modules read next to
// themselves at import (the sandbox prelude's sources, embedded here), everything else throws if used.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHIMS = path.join(HERE, 'shims');
/** Files `readFileSync(new URL('./x', import.meta.url))` reads at import, embedded by file name. */
const EMBED_DIRS = [path.join(HERE, '../sandbox/prelude')];

const SHIM_OF: Record<string, string> = {
  fs: 'fs.ts',
  'fs/promises': 'unavailable.ts',
  path: 'path.ts',
  url: 'url.ts',
  worker_threads: 'worker-threads.ts',
};

export interface WebBundle {
  /** Output files by name (page.js, sandbox-worker.js, chunk-*.js, *.map). */
  files: Map<string, Uint8Array>;
  ms: number;
}

function embeddedFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of EMBED_DIRS) {
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
      if (Object.hasOwn(out, f)) throw new Error(`${path.join(dir, f)}: a second embedded file named ${f} (the browser fs shim keys them by name)`);
      out[f] = fs.readFileSync(path.join(dir, f), 'utf8');
    }
  }
  return out;
}

const nodeShims: esbuild.Plugin = {
  name: 'rstar-node-shims',
  setup(b) {
    const builtins = new Set(['fs', 'fs/promises', 'path', 'url', 'worker_threads', 'crypto', 'os', 'child_process', 'module', 'events', 'util', 'perf_hooks']);
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (a) => {
      const name = a.path.replace(/^node:/, '');
      if (!a.path.startsWith('node:') && !builtins.has(name)) return undefined;
      if (!builtins.has(name)) return { errors: [{ text: `${a.path} (imported by ${a.importer}) has no browser shim in src/web/shims` }] };
      return { path: path.join(SHIMS, SHIM_OF[name] ?? 'unavailable.ts') };
    });
  },
};

/** Bundle page.ts and sandbox-worker.ts (ES modules, code split, minified). */
export async function buildWeb(o: { minify?: boolean } = {}): Promise<WebBundle> {
  const t0 = performance.now();
  let res: esbuild.BuildResult<{ write: false }>;
  try {
    res = await esbuild.build({
      entryPoints: { page: path.join(HERE, 'page.ts'), 'sandbox-worker': path.join(HERE, 'sandbox-worker.ts') },
      bundle: true,
      format: 'esm',
      splitting: true,
      platform: 'browser',
      target: 'es2022',
      outdir: '/app',
      write: false,
      minify: o.minify ?? true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
      define: { __RSTAR_FILES__: JSON.stringify(embeddedFiles()), 'process.env.NODE_ENV': '"production"' },
      plugins: [nodeShims],
    });
  } finally {
    // the service process is only needed again for another build (esbuild restarts it then)
    await esbuild.stop();
  }
  const files = new Map<string, Uint8Array>();
  for (const f of res.outputFiles) files.set(path.basename(f.path), f.contents);
  return { files, ms: performance.now() - t0 };
}
