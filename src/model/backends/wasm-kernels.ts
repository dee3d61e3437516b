// Kernel overrides for @tensorflow/tfjs-backend-wasm 4.22 that make GPT training fast.
//
// Why: the shipped wasm BatchMatMul only reaches XNNPACK for a single un-transposed
// 2-D product; every batched (3-D+) or transposed product falls into a naive
// blocked C++ loop (~10-40× slower). We materialise transposes with the wasm
// Transpose kernel and run each batch slice as its own 2-D XNNPACK product, on
// zero-copy *views* of the operands' wasm heap memory (extra tensor ids registered
// with the C++ side and unregistered without freeing). Products with one untransposed
// B for all rows instead go through the C++ entry point with the real tensor ids:
// XNNPACK caches its packed copy of B (and the bias) on B's id, which a view would
// throw away on every call (decoding reuses the same weights every step).
// UnsortedSegmentSum (the gradient of gather) has no wasm kernel at all; we add one.
import * as tf from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { blas, type BlasAddon } from './blas.ts';

interface HeapData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}
interface WasmModule {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  cwrap(name: string, ret: null | string, args: string[]): (...a: unknown[]) => unknown;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
/** The parts of BackendWasm (not all public in its typings) the kernels use. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: DataId): HeapData };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}
type Args = { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: NamedAttrMap };

/** Per-slice product rows below which the shipped path wins: creating an XNNPACK
 *  operator packs all of B, which dominates when A has a handful of rows (KV-cached
 *  decoding: one query row per head). Measured with bench/wasm-kernels micro-runs. */
export const TINY_ROWS = 8;

const originals = new Map<string, KernelConfig>();
let rawMatMul: ((...a: unknown[]) => unknown) | null = null;
let rawMatMulOwner: WasmModule | null = null;

function orig(name: string): KernelFunc {
  const k = originals.get(name);
  if (!k) throw new Error(`wasm kernel ${name} was not registered by tfjs-backend-wasm`);
  return k.kernelFunc;
}

function run(name: string, inputs: Record<string, TensorInfo>, backend: WasmBackend, attrs: NamedAttrMap = {}): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  return k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs }) as TensorInfo;
}

function matmulFn(backend: WasmBackend) {
  if (rawMatMulOwner !== backend.wasm || !rawMatMul) {
    rawMatMul = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
    rawMatMulOwner = backend.wasm;
  }
  return rawMatMul;
}

let rawFused: ((...a: unknown[]) => unknown) | null = null;
let rawFusedOwner: WasmModule | null = null;
function fusedFn(backend: WasmBackend) {
  if (rawFusedOwner !== backend.wasm || !rawFused) {
    rawFused = backend.wasm.cwrap('_FusedMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number',
    ]);
    rawFusedOwner = backend.wasm;
  }
  return rawFused;
}

/** Inner size each b has been handed to the C++ operator cache with. That cache is keyed
 *  on (b id, bias id, clamp) only, so a reshaped alias of the same buffer (same id) with a
 *  different k would silently reuse the wrong packed weights; those go the view path. */
const packedK = new WeakMap<DataId, number>();

/** Clamp-type activations XNNPACK applies inside the product (the C++ FusableActivation). */
const XNN_CLAMP: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * out[1, rows, n] = a[rows, k] · b[k, n] (+ bias[n], clamped) through the shipped C++ entry
 * point with the operands' real tensor ids, so XNNPACK's operator (the packed copy of b,
 * and the bias) stays cached on b's id until b is disposed: long-lived weights (decoding)
 * are packed once instead of on every call. Both operands must be stored untransposed and
 * contiguous; null when the cache could hold a different packing for b's id.
 */
function cachedXnn(backend: WasmBackend, a: TensorInfo, rows: number, k: number, b: TensorInfo, n: number, bias: TensorInfo | null, act = 'linear'): TensorInfo | null {
  const prevK = packedK.get(b.dataId);
  if (prevK !== undefined && prevK !== k) return null;
  packedK.set(b.dataId, k);
  const out = backend.makeOutput([1, rows, n], 'float32');
  const ia = backend.dataIdMap.get(a.dataId).id;
  const ib = backend.dataIdMap.get(b.dataId).id;
  const io = backend.dataIdMap.get(out.dataId).id;
  if (bias || act !== 'linear') {
    const ibias = bias ? backend.dataIdMap.get(bias.dataId).id : 0;
    fusedFn(backend)(ia, shapeBytes([1, rows, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, XNN_CLAMP[act]!, ibias, 0, 0, io);
  } else {
    matmulFn(backend)(ia, shapeBytes([1, rows, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, io);
  }
  return out;
}

/** Register `size` float32 elements at `offset` as a tensor id known only to C++. */
function view(backend: WasmBackend, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

/** out[rows×n] = a[rows×k] · b[k×n], all row-major at byte offsets in the wasm heap. */
function xnnMatMul(backend: WasmBackend, offA: number, rows: number, k: number, offB: number, n: number, offOut: number) {
  const fn = matmulFn(backend);
  const ia = view(backend, offA, rows * k);
  const ib = view(backend, offB, k * n);
  const io = view(backend, offOut, rows * n);
  try {
    fn(ia, shapeBytes([1, rows, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, io);
  } finally {
    // Unregistering ib also drops the XNNPACK operator cached on it.
    backend.wasm.tfjs.disposeData(ia);
    backend.wasm.tfjs.disposeData(ib);
    backend.wasm.tfjs.disposeData(io);
  }
}

let heapView: Float32Array | null = null;
/** float32 view of the whole wasm heap (re-made after a growth replaced the buffer). */
function heapF32(backend: WasmBackend): Float32Array {
  const buf = backend.wasm.HEAPU8.buffer;
  if (!heapView || heapView.buffer !== buf) heapView = new Float32Array(buf);
  return heapView;
}

/**
 * The whole product through the native BLAS addon (src/model/blas.ts) on the wasm heap:
 * transposes are gemm flags (no copies), batches are strides (0 = broadcast), an optional
 * per-column bias of length n is written into C before accumulating.
 */
function blasMatMul(
  lib: BlasAddon, backend: WasmBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, bias: TensorInfo | null,
): TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  const batch = util.sizeFromShape(outer);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const heap = heapF32(backend); // after makeOutput: it may have grown the heap
  const off = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset / 4;
  const [oa, ob, oc] = [off(a), off(b), off(out)];
  const obias = bias ? off(bias) : -1;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const ta = transposeA ? 1 : 0;
  const tb = transposeB ? 1 : 0;
  if (batchB === 1 && !transposeA) {
    // every row of A against the one B: a single product with batchA·m rows
    lib.gemm(heap, ta, tb, batchA * m, n, k, oa, lda, ob, ldb, oc, n, 0, 1, 0, 0, 0, obias);
  } else if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    const sa = batchA === 1 ? 0 : m * k;
    const sb = batchB === 1 ? 0 : k * n;
    lib.gemm(heap, ta, tb, m, n, k, oa, lda, ob, ldb, oc, n, 0, batch, sa, sb, m * n, obias);
  } else {
    const idxA = broadcastIndex(outer, outerA);
    const idxB = broadcastIndex(outer, outerB);
    for (let i = 0; i < batch; i++) {
      lib.gemm(heap, ta, tb, m, n, k, oa + idxA(i) * m * k, lda, ob + idxB(i) * k * n, ldb, oc + i * m * n, n, 0, 1, 0, 0, 0, obias);
    }
  }
  return out;
}

function swapLast2(x: TensorInfo, backend: WasmBackend): TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return transpose({ inputs: { x }, backend, attrs: { perm } });
}

function batchMatMul(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const transposeA = !!attrs.transposeA;
  const transposeB = !!attrs.transposeB;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return orig('BatchMatMul')(args as never) as TensorInfo;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  util.assert(k === kb, () => `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const lib = blas();
  if (lib) return blasMatMul(lib, backend, a, b, transposeA, transposeB, null);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  const batch = util.sizeFromShape(outer);
  // With one B for every batch, all rows of A go through a single product.
  const flat = batchB === 1;
  const rows = flat ? batchA * m : m;
  // The shipped kernel only broadcasts a batch of 1, so general broadcasts stay with us.
  const simpleBatch = batchA === batchB || batchA === 1 || batchB === 1;
  if (m * n * k === 0) return orig('BatchMatMul')(args as never) as TensorInfo;
  // One untransposed B for all rows: XNNPACK with real ids, which keeps b packed.
  // With a few rows spread over a batch of A the shipped blocked loop is cheaper.
  if (flat && !transposeA && !transposeB && (batchA === 1 || rows >= TINY_ROWS)) {
    const out = cachedXnn(backend, a, rows, k, b, n, null);
    if (out) {
      out.shape = [...outer, m, n];
      return out;
    }
  }
  if (rows < TINY_ROWS && simpleBatch) return orig('BatchMatMul')(args as never) as TensorInfo;

  // 2-D with transposes: either transpose the operands, or compute Cᵀ = op(b)ᵀ·op(a)ᵀ
  // (no copy for operands already stored transposed) and transpose the result;
  // whichever moves fewer elements (e.g. the tied-embedding gradient dlogitsᵀ·h).
  if (batch === 1 && (transposeA || transposeB) && n >= TINY_ROWS) {
    const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
    const swapped = (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n;
    if (swapped < direct) {
      const ct = batchMatMul({ inputs: { a: b, b: a }, backend, attrs: { transposeA: !transposeB, transposeB: !transposeA } });
      const c = swapLast2(ct, backend);
      backend.disposeData(ct.dataId);
      c.shape = [...outer, m, n];
      return c;
    }
  }

  const temps: TensorInfo[] = [];
  const aa = transposeA ? swapLast2(a, backend) : a;
  if (transposeA) temps.push(aa);
  const bb = transposeB ? swapLast2(b, backend) : b;
  if (transposeB) temps.push(bb);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  try {
    const offA = backend.dataIdMap.get(aa.dataId).memoryOffset;
    const offB = backend.dataIdMap.get(bb.dataId).memoryOffset;
    const offO = backend.dataIdMap.get(out.dataId).memoryOffset;
    if (flat) {
      xnnMatMul(backend, offA, rows, k, offB, n, offO);
    } else {
      const idxA = broadcastIndex(outer, outerA);
      const idxB = broadcastIndex(outer, outerB);
      for (let i = 0; i < batch; i++) {
        xnnMatMul(backend, offA + idxA(i) * m * k * 4, m, k, offB + idxB(i) * k * n * 4, n, offO + i * m * n * 4);
      }
    }
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
  return out;
}

/** Drop size-1 axes and merge axes that stay adjacent under `perm`: the smallest
 *  equivalent transpose (e.g. [2,3,4,5] with [0,1,3,2] → [6,4,5] with [0,2,1]). */
export function reduceTranspose(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const axes = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const rank = new Map(axes.map((ax, i) => [ax, i]));
  const q = perm.filter((p) => shape[p] !== 1).map((p) => rank.get(p)!);
  // runs of consecutive input axes that also sit next to each other in the output
  const runs: number[][] = [];
  for (const p of q) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === p - 1) last.push(p);
    else runs.push([p]);
  }
  const byInput = [...runs].sort((x, y) => x[0]! - y[0]!);
  return {
    shape: byInput.map((r) => r.reduce((s, d) => s * shape[axes[d]!]!, 1)),
    perm: runs.map((r) => byInput.indexOf(r)),
  };
}

/** Cache-blocked swap of the last two axes of [batch, r, c] on typed arrays. */
function blockedTranspose(src: Float32Array | Int32Array | Uint8Array, dst: typeof src, batch: number, r: number, c: number) {
  const T = 16;
  for (let b = 0; b < batch; b++) {
    const o = b * r * c;
    for (let r0 = 0; r0 < r; r0 += T) {
      const r1 = Math.min(r0 + T, r);
      for (let c0 = 0; c0 < c; c0 += T) {
        const c1 = Math.min(c0 + T, c);
        for (let i = r0; i < r1; i++) {
          let si = o + i * c + c0;
          let di = o + c0 * r + i;
          for (let j = c0; j < c1; j++) {
            dst[di] = src[si++]!;
            di += r;
          }
        }
      }
    }
  }
}

function heapArray(backend: WasmBackend, t: TensorInfo, size = util.sizeFromShape(t.shape)) {
  const buf = backend.wasm.HEAPU8.buffer;
  const off = backend.dataIdMap.get(t.dataId).memoryOffset;
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(buf, off, size);
    case 'int32':
      return new Int32Array(buf, off, size);
    case 'bool':
      return new Uint8Array(buf, off, size);
    default:
      throw new Error(`unsupported dtype ${t.dtype}`);
  }
}

/** Transpose: the shipped 2-D/3-D kernels walk the output with a stride-n read
 *  (no blocking, ~7 ns/element on this machine); swaps of two axis groups go through a
 *  blocked JS loop instead. Permutations that keep the innermost axis (e.g. the
 *  [0,2,1,3] of attention heads) copy contiguous rows and stay on the shipped kernel. */
function transpose(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const perm = attrs.perm as number[];
  const red = reduceTranspose(x.shape, perm);
  const p = red.perm;
  const swap2 = p.length === 2 && p[0] === 1;
  const swap3 = p.length === 3 && p[0] === 0 && p[1] === 2;
  if (x.dtype === 'string' || x.dtype === 'complex64' || !(swap2 || swap3)) return orig('Transpose')(args as never) as TensorInfo;
  const out = backend.makeOutput(perm.map((d) => x.shape[d]!), x.dtype);
  const [batch, r, c] = swap2 ? [1, red.shape[0]!, red.shape[1]!] : (red.shape as [number, number, number]);
  blockedTranspose(heapArray(backend, x), heapArray(backend, out), batch, r, c);
  return out;
}

/** Maps a flat index over the broadcast `outer` shape to the flat index into `part`
 *  (right-aligned, size-1 dims broadcast), as numpy/tf broadcasting defines it. */
function broadcastIndex(outer: number[], part: number[]): (i: number) => number {
  const size = util.sizeFromShape(part);
  if (size === 1) return () => 0;
  if (size === util.sizeFromShape(outer)) return (i) => i;
  const off = outer.length - part.length;
  const outStrides = util.computeStrides(outer);
  const partStrides = util.computeStrides(part);
  return (i) => {
    let j = 0;
    for (let d = 0; d < outer.length; d++) {
      const c = Math.floor(i / (outStrides[d] ?? 1));
      i -= c * (outStrides[d] ?? 1);
      const pd = d - off;
      if (pd >= 0 && part[pd] !== 1) j += c * (partStrides[pd] ?? 1);
    }
    return j;
  };
}

/** Tile: the shipped kernel maps every output element back to its source (~80 ns/element;
 *  GPT tiles its position embeddings over the batch). Here each innermost row is copied once
 *  and every repeat is a block copy of what is already written. */
function tile(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const reps = attrs.reps as number[];
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length || x.shape.length === 0) {
    return orig('Tile')(args as never) as TensorInfo;
  }
  const shape = x.shape;
  const out = backend.makeOutput(shape.map((d, i) => d * reps[i]!), x.dtype);
  if (util.sizeFromShape(out.shape) === 0) return out;
  const src = heapArray(backend, x);
  const dst = heapArray(backend, out);
  const rank = shape.length;
  const srcStride = util.computeStrides(shape);
  const dstStride = util.computeStrides(out.shape);
  const fill = (d: number, so: number, o: number) => {
    const n = shape[d]!;
    if (d === rank - 1) dst.set(src.subarray(so, so + n), o);
    else for (let i = 0; i < n; i++) fill(d + 1, so + i * srcStride[d]!, o + i * dstStride[d]!);
    // the block just written (one copy of axis d) repeats reps[d] - 1 more times
    const block = n * (d === rank - 1 ? 1 : dstStride[d]!);
    for (let r = 1; r < reps[d]!; r++) dst.copyWithin(o + r * block, o, o + block);
  };
  fill(0, 0, 0);
  return out;
}

const ACTIVATION_KERNEL: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** The whole fused product in one cached XNNPACK call, when b is one untransposed matrix,
 *  the bias a plain per-column vector and the activation a clamp; else null. */
function fusedCached(args: Args, act: string): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const { a, b, bias } = inputs;
  if (attrs.transposeA || attrs.transposeB || XNN_CLAMP[act] === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k, n] = [a.shape[ra - 2]!, a.shape[ra - 1]!, b.shape[rb - 1]!];
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  if (util.sizeFromShape(b.shape.slice(0, -2)) !== 1 || b.shape[rb - 2] !== k || m * n * k === 0) return null;
  if (batchA !== 1 && batchA * m < TINY_ROWS) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length > ra || util.sizeFromShape(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) return null;
  const out = cachedXnn(backend, a, batchA * m, k, b, n, bias ?? null, act);
  if (out) out.shape = [...broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  return out;
}

/** _FusedMatMul = our BatchMatMul, then bias (any broadcastable shape) and activation. */
function fusedMatMul(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b, bias, preluActivationWeights } = inputs;
  const act = (attrs.activation as string | undefined) ?? 'linear';
  if (act !== 'linear' && !ACTIVATION_KERNEL[act]) return orig('_FusedMatMul')(args as never) as TensorInfo;
  const lib = blas();
  // a plain per-column bias goes into the product; anything else is added afterwards
  const colBias = bias && bias.dtype === 'float32' && bias.shape.length <= Math.max(a.shape.length, b.shape.length) &&
    util.sizeFromShape(bias.shape) === bias.shape[bias.shape.length - 1] &&
    bias.shape[bias.shape.length - 1] === (attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]);
  let y: TensorInfo;
  let biasDone = false;
  if (lib && a.dtype === 'float32' && b.dtype === 'float32') {
    y = blasMatMul(lib, backend, a, b, !!attrs.transposeA, !!attrs.transposeB, colBias ? bias : null);
    biasDone = !!colBias;
  } else {
    const fused = fusedCached(args, act);
    if (fused) return fused;
    y = batchMatMul({ inputs: { a, b }, backend, attrs: { transposeA: attrs.transposeA, transposeB: attrs.transposeB } });
  }
  const step = (next: TensorInfo) => {
    backend.disposeData(y.dataId);
    y = next;
  };
  if (bias && !biasDone) step(run('Add', { a: y, b: bias }, backend));
  if (act === 'prelu') step(run('Prelu', { x: y, alpha: preluActivationWeights! }, backend));
  else if (act === 'leakyrelu') step(run('LeakyRelu', { x: y }, backend, { alpha: (attrs.leakyreluAlpha as number) ?? 0.2 }));
  else if (act !== 'linear') step(run(ACTIVATION_KERNEL[act]!, { x: y }, backend));
  return y;
}

/** out[s, ...] = Σ x[i, ...] over i with segmentIds[i] == s; ids outside
 *  [0, numSegments) are dropped (what tf's cpu and webgl kernels do). */
function unsortedSegmentSum(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, segmentIds } = inputs;
  const numSegments = attrs.numSegments as number;
  const nIds = util.sizeFromShape(segmentIds.shape);
  const inner = nIds === 0 ? 0 : util.sizeFromShape(x.shape) / nIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const dtype: DataType = x.dtype === 'int32' ? 'int32' : 'float32';
  const out = backend.makeOutput(outShape, dtype);
  // Views only after makeOutput: a malloc may grow (and detach) the heap buffer.
  const buf = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  const xd = backend.dataIdMap.get(x.dataId);
  const sd = backend.dataIdMap.get(segmentIds.dataId);
  const od = backend.dataIdMap.get(out.dataId);
  const Arr = dtype === 'int32' ? Int32Array : Float32Array;
  const xs = new Arr(buf, xd.memoryOffset, nIds * inner);
  const o = new Arr(buf, od.memoryOffset, numSegments * inner);
  o.fill(0);
  const ids = segmentIds.dtype === 'float32' ? new Float32Array(buf, sd.memoryOffset, nIds) : new Int32Array(buf, sd.memoryOffset, nIds);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i]!;
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
  }
  return out;
}

let ones: { t: TensorInfo; n: number; owner: WasmModule } | null = null;
/** A float32 vector of ≥ n ones in the wasm heap, kept for the process (grown on demand;
 *  outside tfjs's engine, so it never shows in tf.memory()). */
function onesVector(backend: WasmBackend, n: number): TensorInfo {
  if (ones && ones.owner === backend.wasm && ones.n >= n) return ones.t;
  if (ones && ones.owner === backend.wasm) backend.disposeData(ones.t.dataId, true);
  const size = Math.max(n, 1024);
  const t = backend.makeOutput([size], 'float32');
  (heapArray(backend, t) as Float32Array).fill(1);
  ones = { t, n: size, owner: backend.wasm };
  return t;
}

/** Sum over a contiguous block of axes that is not innermost (bias gradients sum
 *  [B*T, n] over rows): the shipped kernel transposes first; this sums rows in place. */
function sum(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
  const contiguous = axes.length > 0 && axes.every((ax, i) => i === 0 || ax === axes[i - 1]! + 1);
  const lo = axes[0] ?? 0;
  const hi = (axes[axes.length - 1] ?? -1) + 1;
  if (x.dtype !== 'float32' || !contiguous || hi === rank) return orig('Sum')(args as never) as TensorInfo;
  const outer = util.sizeFromShape(x.shape.slice(0, lo));
  const red = util.sizeFromShape(x.shape.slice(lo, hi));
  const inner = util.sizeFromShape(x.shape.slice(hi));
  const outShape = attrs.keepDims
    ? x.shape.map((d, i) => (i >= lo && i < hi ? 1 : d))
    : x.shape.filter((_, i) => i < lo || i >= hi);
  const out = backend.makeOutput(outShape, 'float32');
  const lib = blas();
  if (lib && red > 1) {
    // out[a] = 1ᵀ · x[a] as a [1 × red]·[red × inner] product: vectorised, ~5× the JS loop
    const ones = onesVector(backend, red);
    const heap = heapF32(backend);
    const off = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset / 4;
    lib.gemm(heap, 0, 0, 1, inner, red, off(ones), red, off(x), inner, off(out), inner, 0, outer, 0, red * inner, inner, -1);
    return out;
  }
  const xs = heapArray(backend, x) as Float32Array;
  const o = heapArray(backend, out) as Float32Array;
  o.fill(0);
  for (let a = 0; a < outer; a++) {
    const ob = a * inner;
    for (let r = 0; r < red; r++) {
      const xb = (a * red + r) * inner;
      for (let j = 0; j < inner; j++) o[ob + j]! += xs[xb + j]!;
    }
  }
  return out;
}

const CMP = { Equal: 0, NotEqual: 1, Greater: 2, GreaterEqual: 3, Less: 4, LessEqual: 5 } as const;

/** Comparisons: the shipped kernels take ~5 ns/element, and ~100 ns/element when one
 *  side broadcasts (the gradient of max, inside logSumExp, does exactly that). */
function compare(op: number) {
  return (args: Args): TensorInfo => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    if (a.dtype === 'string' || b.dtype === 'string' || a.dtype === 'complex64' || b.dtype === 'complex64') {
      return orig(Object.keys(CMP)[op]!)(args as never) as TensorInfo;
    }
    const outShape = broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(outShape, 'bool');
    const A = heapArray(backend, a);
    const B = heapArray(backend, b);
    const O = heapArray(backend, out) as Uint8Array;
    const rank = outShape.length;
    const C = rank ? outShape[rank - 1]! : 1;
    const rows = C === 0 ? 0 : util.sizeFromShape(outShape) / C;
    const idxA = rowBase(outShape, a.shape);
    const idxB = rowBase(outShape, b.shape);
    const sa = a.shape.length && a.shape[a.shape.length - 1] === C && C !== 1 ? 1 : 0;
    const sb = b.shape.length && b.shape[b.shape.length - 1] === C && C !== 1 ? 1 : 0;
    if (A instanceof Float32Array && B instanceof Float32Array) {
      compareF32(op, A, B, O, rows, C, idxA, idxB, sa, sb);
      return out;
    }
    for (let r = 0; r < rows; r++) {
      let ia = idxA(r);
      let ib = idxB(r);
      const ob = r * C;
      switch (op) {
        case 0: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia] === B[ib] ? 1 : 0; break;
        case 1: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia] !== B[ib] ? 1 : 0; break;
        case 2: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! > B[ib]! ? 1 : 0; break;
        case 3: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! >= B[ib]! ? 1 : 0; break;
        case 4: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! < B[ib]! ? 1 : 0; break;
        default: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! <= B[ib]! ? 1 : 0;
      }
    }
    return out;
  };
}

/** The float32 loops of `compare`, apart: a function that only ever sees Float32Array
 *  stays monomorphic (the shared loop, fed int32/bool too, ran ~6× slower in training). */
function compareF32(
  op: number, A: Float32Array, B: Float32Array, O: Uint8Array, rows: number, C: number,
  idxA: (r: number) => number, idxB: (r: number) => number, sa: number, sb: number,
): void {
  for (let r = 0; r < rows; r++) {
    let ia = idxA(r);
    let ib = idxB(r);
    const ob = r * C;
    switch (op) {
      case 0: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia] === B[ib] ? 1 : 0; break;
      case 1: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia] !== B[ib] ? 1 : 0; break;
      case 2: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! > B[ib]! ? 1 : 0; break;
      case 3: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! >= B[ib]! ? 1 : 0; break;
      case 4: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! < B[ib]! ? 1 : 0; break;
      default: for (let j = 0; j < C; j++, ia += sa, ib += sb) O[ob + j] = A[ia]! <= B[ib]! ? 1 : 0;
    }
  }
}

/** Element offset in `part` (broadcast against `outShape`) where output row r starts;
 *  rows run over all but the last output axis. */
function rowBase(outShape: number[], part: number[]): (r: number) => number {
  const rank = outShape.length;
  if (rank <= 1) return () => 0;
  const lead = outShape.slice(0, -1);
  const off = rank - part.length;
  const ls = [...util.computeStrides(lead), 1];
  const ps = [...util.computeStrides(part), 1];
  return (r) => {
    let base = 0;
    for (let d = 0; d < lead.length; d++) {
      const c = Math.floor(r / ls[d]!);
      r -= c * ls[d]!;
      const pd = d - off;
      if (pd >= 0 && part[pd] !== 1) base += c * ps[pd]!;
    }
    return base;
  };
}

/** Identity / same-dtype Cast share the input's buffer (as the cpu backend does); the
 *  shipped kernels copy it, and gradients cast every multiplicand to float32. Safe
 *  because no wasm kernel writes into its inputs. */
function alias(name: 'Identity' | 'Cast') {
  return (args: Args): TensorInfo => {
    const { inputs, backend } = args;
    const { x } = inputs;
    const dtype = (args.attrs ?? {}).dtype;
    if (x.dtype === 'string' || (name === 'Cast' && dtype !== x.dtype)) return orig(name)(args as never) as TensorInfo;
    (backend as unknown as { incRef(d: DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

const OVERRIDES: Array<{ name: string; fn: (a: Args) => TensorInfo }> = [
  { name: 'BatchMatMul', fn: batchMatMul },
  { name: '_FusedMatMul', fn: fusedMatMul },
  { name: 'UnsortedSegmentSum', fn: unsortedSegmentSum },
  { name: 'Transpose', fn: transpose },
  { name: 'Sum', fn: sum },
  { name: 'Tile', fn: tile },
  { name: 'Identity', fn: alias('Identity') },
  { name: 'Cast', fn: alias('Cast') },
  ...Object.entries(CMP).map(([name, op]) => ({ name, fn: compare(op) })),
];

let registered = false;
/** Replace/add our wasm kernels; idempotent. Works before or after the wasm backend
 *  is initialised (the originals' setup functions still run). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const { name, fn } of OVERRIDES) {
    let prev: KernelConfig | undefined;
    try {
      prev = tf.getKernel(name, 'wasm');
    } catch {
      prev = undefined;
    }
    if (prev) {
      originals.set(name, prev);
      tf.unregisterKernel(name, 'wasm');
    }
    const setup = prev?.setupFunc;
    tf.registerKernel({ kernelName: name, backendName: 'wasm', setupFunc: setup, kernelFunc: fn as unknown as KernelFunc });
  }
}

/** For tests/benches: the shipped kernel (e.g. to compare speed). */
export function originalWasmKernel(name: string): KernelFunc | undefined {
  return originals.get(name)?.kernelFunc;
}
