import { Evaluator } from './src/search/sandbox-worker.ts';
const ev = await Evaluator.create({ timeoutMs: 1000, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 });
console.log(ev.run(['print(typeof Error.stackTraceLimit, Error.stackTraceLimit, typeof Error.captureStackTrace)']).output);
console.log(ev.run(['let d = 0; function f() { d++; f() } try { f() } catch (e) { print(d, e.stack.split("\\n").length) }']).output);
