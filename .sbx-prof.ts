import { Evaluator } from './src/search/sandbox-worker.ts';
const ev = await Evaluator.create({ timeoutMs: 1000, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 });
const steps = ['const a = 48 / 2;', 'const b = a * 3;', 'const c = b + 1;', 'print(c + 48);'];
for (let rep = 0; rep < 3; rep++) {
  const t = performance.now();
  for (let i = 0; i < 1000; i++) ev.run(steps);
  console.log('us/eval', (performance.now() - t));
}
