import { newQuickJSWASMModuleFromVariant, DefaultIntrinsics } from 'quickjs-emscripten-core';
import variant from '@jitl/quickjs-wasmfile-release-sync';
import { Evaluator } from './src/search/sandbox-worker.ts';
const mod = await newQuickJSWASMModuleFromVariant(variant);
const rt = mod.newRuntime();
rt.setInterruptHandler(() => false);
const N = 2000;
const intr = { ...DefaultIntrinsics, Date: false };
function time(name: string, f: () => void) { const t = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, ((performance.now() - t) / N * 1000).toFixed(0), 'us'); }
const steps = ['const a = 48 / 2;', 'const b = a * 3;', 'const c = b + 1;', 'c + 48;'];
for (let rep = 0; rep < 2; rep++) {
time('ctx', () => rt.newContext({ intrinsics: intr }).dispose());
time('ctx default intr', () => rt.newContext().dispose());
time('ctx+4 steps', () => { const c = rt.newContext({ intrinsics: intr }); for (const s of steps) c.evalCode(s, 's.js', { type: 'global' }).unwrap().dispose(); c.dispose(); });
time('ctx+install', () => { const c = rt.newContext({ intrinsics: intr }); const f = c.newFunction('print', () => {}); c.defineProp(c.global, 'print', {value: f}); const g = c.newFunction('r', () => {}); const m = c.getProp(c.global, 'Math'); c.setProp(m, 'random', g); m.dispose(); f.dispose(); g.dispose(); c.dispose(); });
const ev = await Evaluator.create({ timeoutMs: 1000, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 });
time('evaluator', () => ev.run(['const a = 48 / 2;', 'const b = a * 3;', 'const c = b + 1;', 'print(c + 48);']));
time('evaluator noprint', () => ev.run(steps));
time('evaluator empty', () => ev.run([]));
}
