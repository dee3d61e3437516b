import { Evaluator } from './src/search/sandbox-worker.ts';
const ev = await Evaluator.create({ timeoutMs: 200, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 });
for (const code of [
  '/(a+)+$/.test("a".repeat(30) + "b")',
  'const a = Array(1e6).fill(0).map((_, i) => i); a.sort(); a.length',
  'const a = Array(2e6).fill(0); a.sort(); a.length',
  'const s = "ab".repeat(5e6); s.split("").length',
  'JSON.stringify(Array(1e6).fill("x")).length',
  '"x".repeat(1e7).indexOf("y")',
  'const a = []; a[1e8] = 1; a.indexOf(2)',
  'Array.from({length: 3e6}).length',
  'const a = Array(4e6).fill(1); a.reverse(); a.reverse(); a.includes(2)',
  'const s = "a".repeat(1 << 20); let n = 0; s.replace(/a/g, () => n++); n',
]) {
  const t = performance.now();
  const r = ev.run([code]);
  console.log((performance.now() - t).toFixed(0), 'ms', code, '=>', r.ok, r.error);
}
