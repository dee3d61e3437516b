import { newQuickJSWASMModuleFromVariant, DefaultIntrinsics } from 'quickjs-emscripten-core';
import variant from '@jitl/quickjs-wasmfile-release-sync';
const mod = await newQuickJSWASMModuleFromVariant(variant);
const rt = mod.newRuntime();
const N = 300;
const variants: Record<string, any> = {
  default: DefaultIntrinsics,
  noDate: { ...DefaultIntrinsics, Date: false },
  noDateTA: { ...DefaultIntrinsics, Date: false, TypedArrays: false },
  noDateTAProxy: { ...DefaultIntrinsics, Date: false, TypedArrays: false, Proxy: false },
  minimal: { BaseObjects: true, Eval: true, JSON: true, MapSet: true, Promise: true, RegExp: true },
};
const best: Record<string, number> = {};
for (let rep = 0; rep < 15; rep++) for (const [k, v] of Object.entries(variants)) {
  const t = performance.now(); for (let i = 0; i < N; i++) rt.newContext({ intrinsics: v }).dispose();
  const us = (performance.now() - t) / N * 1000; best[k] = Math.min(best[k] ?? 1e9, us);
}
console.log(best);
const c = rt.newContext({ intrinsics: variants.minimal });
for (const s of ['async function f(){ await 1; return 2 }; typeof f()', 'new Proxy({}, {})', 'new Uint8Array(3)', '"é".normalize("NFD").length', '/a+/.test("aa")']) { const r = c.evalCode(s, 'x.js', {type: 'global'}); console.log(s, r.error ? c.dump(r.error) : c.dump(r.value)); (r.error ?? r.value)!.dispose(); }
