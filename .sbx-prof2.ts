import { newQuickJSWASMModuleFromVariant, DefaultIntrinsics } from 'quickjs-emscripten-core';
import variant from '@jitl/quickjs-wasmfile-release-sync';
import { readFileSync } from 'node:fs';
const src = readFileSync('src/search/sandbox-worker.ts', 'utf8');
const PRELUDE = eval('`' + src.split('const PRELUDE = `')[1]!.split('})`;')[0] + '})`');
const mod = await newQuickJSWASMModuleFromVariant(variant);
const rt = mod.newRuntime();
rt.setInterruptHandler(() => false);
const N = 1000;
const intr = { ...DefaultIntrinsics, Date: false };
function time(name: string, f: () => void) { const t = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, ((performance.now() - t) / N * 1000).toFixed(0), 'us'); }
time('ctx', () => rt.newContext({ intrinsics: intr }).dispose());
time('ctx+prelude compile', () => { const c = rt.newContext({ intrinsics: intr }); c.evalCode(PRELUDE, 'p.js', { type: 'global' }).unwrap().dispose(); c.dispose(); });
time('ctx+newFunction', () => { const c = rt.newContext({ intrinsics: intr }); c.newFunction('emit', () => {}).dispose(); c.dispose(); });
time('ctx+4 steps', () => { const c = rt.newContext({ intrinsics: intr }); for (const s of ['const a = 48 / 2;', 'const b = a * 3;', 'const c = b + 1;', 'c + 48;']) c.evalCode(s, 's.js', { type: 'global' }).unwrap().dispose(); c.dispose(); });
