import { workerData, parentPort } from 'node:worker_threads';
import { Evaluator } from './src/search/sandbox-worker.ts';
const ev = await Evaluator.create({ timeoutMs: 1000, memoryBytes: 32 << 20, stackBytes: workerData.qjs, maxOutput: 2000 });
const cases = [
  'function f(n) { return f(n + 1) + 1; } f(0)',
  'function f() { try { f(); } catch (e) { f(); } } f()',
  'function f(a) { return [a].map(f) } f(1)',
  'const o = {}; o.toJSON = () => [o]; JSON.stringify(o)',
  'const h = { get(t, k) { return p[k] } }; const p = new Proxy({}, h); p.x',
  'function f() { return String({ toString: f }) } f()',
  'function f() { return [1].sort(f) } f()',
  'function f() { try { return f() } finally { f() } } f()',
  'function f(){ return eval("f()") } f()',
  'function f(){ return new Promise(f) } f()',
  'function f(){ return Reflect.apply(f, null, []) } f()',
  'function f(){ return Function.prototype.call.call(f) } f()',
  'function f(){ return f.bind(null)() } f()',
];
const out: string[] = [];
for (const c of cases) {
  if (ev.broken) { out.push('BROKEN, skip'); continue; }
  const r = ev.run([c]);
  out.push(`${r.error?.slice(0, 60)} | ${c}`);
}
parentPort!.postMessage(out);
