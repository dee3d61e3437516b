// `rstar serve`: a static file server (node:http) for the browser solve page. It serves the page, its
// bundles (built with esbuild at start, build.ts), the wasm binaries of TensorFlow.js and QuickJS from
// node_modules, and the checkpoint folders' files. All computation happens in the browser.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseCheckpointConfig } from '../model/checkpoint.ts';
import { buildWeb } from './build.ts';
import type { CheckpointIndex } from './checkpoints.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** What a checkpoint folder may serve. */
const CHECKPOINT_FILES = new Set(['config.json', 'weights.json', 'weights.bin', 'tokenizer.model']);
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.model': 'application/octet-stream',
};

export interface ServeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (this machine only); 0.0.0.0 serves the network. */
  host?: string;
  /** Folder of checkpoint folders (default ./checkpoints). */
  checkpoints?: string;
  log?: (line: string) => void;
}

export interface WebServer {
  url: string;
  port: number;
  /** Responses sent and body bytes served (what a page load downloads, workers included). */
  stats: { requests: number; bytes: number };
  close(): Promise<void>;
}

/** The checkpoint folders under `dir` by kind; `ensemble` is `rstar solve`'s default (policy + policy-mN). */
export function checkpointIndex(dir: string): CheckpointIndex {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no checkpoints folder (expected policy/ and ppm/ folders with config.json)`);
  const policies: string[] = [];
  const ppms: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'config.json');
    if (!/^[\w.-]+$/.test(name) || !fs.existsSync(file)) continue;
    const cfg = parseCheckpointConfig(fs.readFileSync(file, 'utf8'), file);
    (cfg.kind === 'ppm' ? ppms : policies).push(name);
  }
  const first = (xs: string[], name: string) => [...xs.filter((x) => x === name), ...xs.filter((x) => x !== name)];
  const ordered = first(policies, 'policy');
  return { policies: ordered, ppms: first(ppms, 'ppm'), ensemble: ordered.filter((p) => p === 'policy' || /^policy-m\d+$/.test(p)) };
}

/** node_modules files the page loads, by URL path. */
function vendorFiles(): Map<string, string> {
  const tfjs = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(tfjs).filter((f) => f.endsWith('.wasm'))) out.set(`/vendor/tfjs/${f}`, path.join(tfjs, f));
  out.set('/vendor/quickjs/emscripten-module.wasm', require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
  return out;
}

export async function serveWeb(o: ServeOptions = {}): Promise<WebServer> {
  const log = o.log ?? ((l: string) => console.error(l));
  const dir = path.resolve(o.checkpoints ?? 'checkpoints');
  checkpointIndex(dir); // a missing or broken folder fails now, with its one line
  const bundle = await buildWeb();
  log(`bundled the page in ${Math.round(bundle.ms)} ms (${[...bundle.files.keys()].filter((f) => f.endsWith('.js')).length} scripts)`);
  const page = fs.readFileSync(path.join(HERE, 'index.html'));
  const vendor = vendorFiles();
  const stats = { requests: 0, bytes: 0 };

  // Revalidated on every use (no-cache) with an ETag: a reload, or the sandbox worker asking for a
  // chunk the page already has, costs a 304 and no body.
  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: Uint8Array | string) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const etag = status === 200 ? `"${createHash('sha1').update(buf).digest('base64url')}"` : undefined;
    stats.requests++;
    if (etag && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-cache' });
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.byteLength, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...(etag ? { ETag: etag } : {}) });
    res.end(req.method === 'HEAD' ? undefined : buf);
    if (req.method !== 'HEAD') stats.bytes += buf.byteLength;
  };
  const typeOf = (file: string) => TYPES[path.extname(file)] ?? 'application/octet-stream';

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'text/plain', 'method not allowed\n');
    let url: string;
    try {
      url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(req, res, 400, 'text/plain', 'bad URL\n');
    }
    if (url === '/' || url === '/index.html') return send(req, res, 200, TYPES['.html']!, page);
    const app = /^\/app\/([\w.-]+)$/.exec(url);
    if (app && bundle.files.has(app[1]!)) return send(req, res, 200, typeOf(app[1]!), bundle.files.get(app[1]!)!);
    const v = vendor.get(url);
    if (v) return send(req, res, 200, typeOf(v), await fs.promises.readFile(v));
    if (url === '/checkpoints/index.json') return send(req, res, 200, TYPES['.json']!, JSON.stringify(checkpointIndex(dir)));
    const ck = /^\/checkpoints\/([\w.-]+)\/([\w.-]+)$/.exec(url);
    if (ck && ck[1] !== '.' && ck[1] !== '..' && CHECKPOINT_FILES.has(ck[2]!)) {
      const file = path.join(dir, ck[1]!, ck[2]!);
      if (fs.existsSync(file)) return send(req, res, 200, typeOf(file), await fs.promises.readFile(file));
    }
    return send(req, res, 404, 'text/plain', `not found: ${url}\n`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`rstar serve: ${req.url}: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) send(req, res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
