import { Worker } from 'node:worker_threads';
const url = new URL('./.sbx-w.ts', import.meta.url);
async function tryIt(name: string, mk: () => Worker) {
  try {
    const w = mk();
    const r = await new Promise((res, rej) => { w.on('message', res); w.on('error', rej); });
    console.log(name, 'OK', r); await w.terminate();
  } catch (e) { console.log(name, 'FAIL', (e as Error).message.slice(0, 100)); }
}
await tryIt('execArgv --import tsx', () => new Worker(url, { execArgv: ['--import', 'tsx'] }));
await tryIt('execArgv --import tsx/esm', () => new Worker(url, { execArgv: ['--import', 'tsx/esm'] }));
await tryIt('eval tsImport', () => new Worker(`import('tsx/esm/api').then(m => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}))`, { eval: true }));
await tryIt('eval register', () => new Worker(`import('tsx/esm/api').then(m => { m.register(); return import(${JSON.stringify(url.href)}) })`, { eval: true }));
await tryIt('default', () => new Worker(url));
