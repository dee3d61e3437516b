import { Worker } from 'node:worker_threads';
const url = new URL('./.sbx-stk-w.ts', import.meta.url).href;
const api = import.meta.resolve('tsx/esm/api');
for (const [mb, qjs] of [[4, 512 << 10], [8, 512 << 10], [16, 512 << 10], [4, 256 << 10]]) {
  const w = new Worker(`import(${JSON.stringify(api)}).then(m => m.tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)}))`, { eval: true, workerData: { qjs }, resourceLimits: { stackSizeMb: mb } });
  const r = await new Promise((res, rej) => { w.on('message', res); w.on('error', rej); });
  console.log('stackSizeMb', mb, 'qjs', qjs, '\n  ' + (r as string[]).join('\n  '));
  await w.terminate();
}
