// A worker thread that runs one of this repo's TypeScript modules. tsx's loader must be registered
// before the module loads (execArgv --import is not honoured for workers on Node 20), hence a small
// JS bootstrap; absolute URLs resolve from any cwd, under vitest or `node --import tsx`. (The ESM
// build of tsx/esm/api: createRequire would resolve its CommonJS twin.) A failure to load reaches
// the parent as a message { type: 'error', error }.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export function tsWorker(moduleUrl: string, workerData: unknown): Worker {
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const boot = `(async () => { const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(moduleUrl)}); })().catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', error: String(e && e.stack || e) }); });`;
  return new Worker(boot, { eval: true, workerData });
}
