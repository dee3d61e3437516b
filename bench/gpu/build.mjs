// Bundles the CLI and the benches into single ESM files for a machine without node_modules
// (the lent GPU box): .gpu/rstar.mjs, .gpu/bench.mjs and .gpu/probe.mjs. Usage: node bench/gpu/build.mjs [outdir]
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(root, process.argv[2] ?? '.gpu');

// backend.ts imports webgpu.ts through a variable (so a checkout without it still type-checks);
// a bundler only follows literal specifiers, so make that one literal here.
const literalWebGPU = {
  name: 'literal-webgpu-import',
  setup(b) {
    b.onLoad({ filter: /src[\\/]model[\\/]backend\.ts$/ }, async (args) => {
      let src = await readFile(args.path, 'utf8');
      const at = src.indexOf('async function loadWebGPUModule');
      if (at >= 0) {
        const end = src.indexOf('\n}\n', at);
        const body = src.slice(at, end).replace(/import\(spec\)/g, "import('./webgpu.ts')");
        src = src.slice(0, at) + body + src.slice(end);
      }
      return { contents: src, loader: 'ts' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // tfjs packages ship CommonJS `main` and ESM `module`: one copy of tfjs-core either way, since
  // every importer resolves through the same fields
  mainFields: ['module', 'main'],
  // webgpu loads dawn.node relative to its own file: ship it as .gpu/node_modules/webgpu instead
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'nodejs-polars', 'nodejs-polars-*'],
  // CommonJS dependencies call require(); give the ESM bundle one
  banner: { js: "import { createRequire as __rstarCreateRequire } from 'node:module'; const require = __rstarCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [literalWebGPU],
};

for (const [entry, file] of [['src/cli.ts', 'rstar.mjs'], ['bench/run.ts', 'bench.mjs'], ['bench/gpu/probe.ts', 'probe.mjs']]) {
  await build({ ...common, entryPoints: [path.join(root, entry)], outfile: path.join(out, file) });
  const text = await readFile(path.join(out, file), 'utf8');
  if (!text.includes('initWebGPU')) throw new Error(`${file}: src/model/webgpu.ts did not make it into the bundle`);
}
console.log(`bundled into ${out}`);
