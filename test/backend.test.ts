// The wasm kernel overrides (src/model/wasm-kernels.ts) must compute what the pure-JS cpu
// backend computes. tfjs's backend is process-global: every case computes its cpu
// reference first, then switches to wasm (setupBackend awaits each switch). Matrix
// products run twice: on the wasm kernels and on the native BLAS addon (native/, when built;
// CI builds it, so there a missing addon fails instead of skipping).
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { backendName, setupBackend } from '../src/model/backends/backend.ts';
import { originalWasmKernel, reduceTranspose } from '../src/model/backends/wasm-kernels.ts';
import { ADDON_PATH, blas, blasStatus, loadBlas, setBlasEnabled } from '../src/model/backends/blas.ts';
import { GPT } from '../src/model/gpt.ts';
import { AdamW } from '../src/train/optim.ts';

let seed = 12345;
function rand(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = ((seed / 2 ** 32) * 2 - 1) * scale;
  }
  return a;
}
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Runs f on cpu and on wasm; returns both results as flat arrays with shapes. */
async function onBoth(f: () => tf.Tensor): Promise<{ cpu: ArrayLike<number>; wasm: ArrayLike<number>; cpuShape: number[]; wasmShape: number[] }> {
  await setupBackend('cpu');
  const c = f();
  const cpu = await c.data();
  const cpuShape = c.shape;
  c.dispose();
  await setupBackend('wasm');
  const w = f();
  const wasm = await w.data();
  const wasmShape = w.shape;
  w.dispose();
  return { cpu, wasm, cpuShape, wasmShape };
}

describe('setupBackend', () => {
  it('switches, reports and is idempotent', async () => {
    expect(await setupBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await setupBackend('wasm')).toBe('wasm');
    expect(await setupBackend('wasm')).toBe('wasm');
    expect(backendName()).toBe('wasm');
    // auto keeps whatever is up
    expect(await setupBackend('auto')).toBe('wasm');
    // our BatchMatMul replaced the shipped one
    expect(originalWasmKernel('BatchMatMul')).toBeTypeOf('function');
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).not.toBe(originalWasmKernel('BatchMatMul'));
    await expect(setupBackend('tensorflow')).rejects.toThrow(/tfjs-node/);
    expect(tf.getBackend()).toBe('wasm');
  });
});

const addon = loadBlas();
const inCI = !!process.env.CI && process.env.CI !== 'false';
const MODES: [string, boolean][] = [['wasm kernels', false], ['native BLAS', true]];
afterAll(() => {
  setBlasEnabled(true);
});

describe('native BLAS addon', () => {
  it('is built and loads (required in CI)', () => {
    if (!addon) {
      if (inCI) throw new Error(`CI must build the BLAS addon: ${blasStatus()} — apt-get install libopenblas-dev, then node-gyp rebuild in native/`);
      console.warn(`SKIPPED native BLAS checks: ${blasStatus()} (${ADDON_PATH})`);
      return;
    }
    expect(addon.getThreads()).toBeGreaterThanOrEqual(1);
    expect(addon.config()).toMatch(/OpenBLAS/);
  });

  it.skipIf(!addon)('gemm: transposes, strides, broadcast and bias on a plain Float32Array', () => {
    // heap: A [2, 2x3] at 0, B [3x2] at 12, bias [2] at 18, C [2, 2x2] at 20
    const h = new Float32Array(28);
    h.set([1, 2, 3, 4, 5, 6, -1, 0, 1, 2, 0, -2], 0);
    h.set([1, 0, 0, 1, 2, 3], 12);
    h.set([10, 20], 18);
    addon!.gemm(h, 0, 0, 2, 2, 3, 0, 3, 12, 2, 20, 2, 0, 2, 6, 0, 4, 18);
    // A0·B = [[7,11],[16,23]], A1·B = [[1,3],[-2,-6]], plus the bias per column
    expect([...h.subarray(20, 28)]).toEqual([17, 31, 26, 43, 11, 23, 8, 14]);
    // Bᵀ·A0ᵀ (both operands stored untransposed, flags only) = (A0·B)ᵀ
    const h2 = h.slice();
    addon!.gemm(h2, 1, 1, 2, 2, 3, 12, 2, 0, 3, 20, 2, 0, 1, 0, 0, 0, -1);
    expect([...h2.subarray(20, 24)]).toEqual([7, 16, 11, 23]);
  });

  it.skipIf(!addon)('gemm refuses operands outside the array', () => {
    const h = new Float32Array(16);
    expect(() => addon!.gemm(h, 0, 0, 4, 4, 4, 0, 4, 0, 4, 4, 4, 0, 1, 0, 0, 0, -1)).toThrow(RangeError);
    // 2x2 slices 4 apart: 4 of them end exactly at 16, a 5th would not fit
    expect(() => addon!.gemm(h, 0, 0, 2, 2, 2, 0, 2, 0, 2, 0, 2, 0, 4, 4, 4, 4, -1)).not.toThrow();
    expect(() => addon!.gemm(h, 0, 0, 2, 2, 2, 0, 2, 0, 2, 0, 2, 0, 5, 4, 4, 4, -1)).toThrow(RangeError);
    expect(() => addon!.gemm(h, 0, 0, 2, 2, 2, 0, 1, 0, 2, 0, 2, 0, 1, 0, 0, 0, -1)).toThrow(RangeError); // lda < k
    expect(() => addon!.gemm(h, 0, 0, 2, 2, 2, 0, 2, 0, 2, 0, 2, 0, 1, 0, 0, 0, 15)).toThrow(RangeError);
  });
});

describe.each(MODES)('BatchMatMul vs cpu (%s)', (_mode, useBlas) => {
  const run = useBlas && !addon ? it.skip : it;
  const toggle = async <T>(f: () => Promise<T>): Promise<T> => {
    const prev = setBlasEnabled(useBlas);
    try {
      return await f();
    } finally {
      setBlasEnabled(prev);
    }
  };

  const cases: [number[], number[], boolean, boolean][] = [
    [[64, 32], [32, 48], false, false],
    [[32, 64], [32, 48], true, false],
    [[64, 32], [48, 32], false, true],
    [[32, 64], [48, 32], true, true],
    [[300, 70], [130, 70], false, true], // swapped product is cheaper here
    [[70, 300], [70, 20], true, false],
    [[4, 16, 8], [4, 8, 12], false, false],
    [[4, 8, 16], [4, 12, 8], true, true],
    [[2, 3, 16, 8], [2, 3, 12, 8], false, true], // attention scores
    [[2, 3, 16, 16], [2, 3, 16, 8], false, false], // attention · values
    [[2, 3, 8, 16], [8, 12], true, false], // b broadcast over the batch
    [[9, 33], [2, 33, 17], false, false], // a broadcast over the batch
    [[2, 4, 1, 32], [2, 4, 32, 40], false, false], // KV decode: one query row per head (shipped path)
    [[3, 32], [100, 32], false, true], // tiny rows, tied head while decoding
    [[256, 128], [128, 384], false, false], // large
    [[2, 2, 128, 64], [2, 2, 128, 64], false, true],
  ];
  run.each(cases)('%j x %j tA=%s tB=%s', async (sa, sb, ta, tb) => {
    const da = rand(size(sa));
    const db = rand(size(sb));
    const r = await toggle(() => onBoth(() => tf.matMul(tf.tensor(da, sa), tf.tensor(db, sb), ta, tb)));
    expect(r.wasmShape).toEqual(r.cpuShape);
    expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-4);
  });

  run('broadcasts batch dims on both sides ([2,1] with [1,3]) like numpy', () => toggle(async () => {
    await setupBackend('wasm');
    // 5 rows: below TINY_ROWS, where the shipped kernel would get this wrong
    const sa = [2, 1, 5, 4];
    const sb = [1, 3, 4, 6];
    const da = rand(size(sa));
    const db = rand(size(sb));
    const out = tf.matMul(tf.tensor(da, sa), tf.tensor(db, sb));
    expect(out.shape).toEqual([2, 3, 5, 6]);
    const got = await out.data();
    // plain loops as the reference (the cpu kernel handles only one-sided broadcast)
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        for (let r = 0; r < 5; r++) {
          for (let c = 0; c < 6; c++) {
            let s = 0;
            for (let k = 0; k < 4; k++) s += da[i * 20 + r * 4 + k]! * db[j * 24 + k * 6 + c]!;
            expect(Math.abs(got[((i * 3 + j) * 5 + r) * 6 + c]! - s)).toBeLessThanOrEqual(1e-5);
          }
        }
      }
    }
  }));

  run('_FusedMatMul with bias and activation', () => toggle(async () => {
    const a = rand(40 * 24);
    const b = rand(24 * 36);
    const bias = rand(36);
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid'] as const) {
      const r = await onBoth(() =>
        tf.fused.matMul({ a: tf.tensor2d(a, [40, 24]), b: tf.tensor2d(b, [24, 36]).mul(4), bias: tf.tensor1d(bias), activation }),
      );
      expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-4);
    }
  }));

  run.each([
    [[3, 40, 24], [24, 36], [36], false, false], // batched rows, one weight, vector bias
    [[40, 24], [36, 24], [1, 36], false, true], // transposed weight, [1, n] bias
    [[24, 40], [24, 36], [1], true, false], // scalar bias: added after the product
    [[2, 40, 24], [2, 24, 36], [40, 36], false, false], // per-element bias
    [[5, 24], [24, 36], [36], false, false], // few rows
  ] as [number[], number[], number[], boolean, boolean][])('_FusedMatMul %j x %j bias %j tA=%s tB=%s', (sa, sb, sbias, ta, tb) => toggle(async () => {
    const a = rand(size(sa));
    const b = rand(size(sb));
    const bias = rand(size(sbias));
    const r = await onBoth(() =>
      tf.fused.matMul({ a: tf.tensor(a, sa), b: tf.tensor(b, sb), bias: tf.tensor(bias, sbias), transposeA: ta, transposeB: tb }),
    );
    expect(r.wasmShape).toEqual(r.cpuShape);
    expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-4);
  }));

  run('a weight reused, reshaped to another k, or freed and its memory reused stays correct', () => toggle(async () => {
    // XNNPACK keeps a packed copy of b keyed on b's tensor id (not its shape or contents)
    await setupBackend('wasm');
    const check = async (out: tf.Tensor, a: Float32Array, sa: number[], b: Float32Array, sb: number[]) => {
      const got = await out.data();
      out.dispose();
      const [m, k] = sa as [number, number];
      const n = sb[1]!;
      let worst = 0;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
          worst = Math.max(worst, Math.abs(got[i * n + j]! - s));
        }
      }
      return worst;
    };
    const wd = rand(48);
    const w = tf.tensor2d(wd, [12, 4]);
    const a1 = rand(16 * 12);
    const a2 = rand(16 * 6);
    const a3 = rand(9 * 12);
    expect(await check(tf.matMul(tf.tensor2d(a1, [16, 12]), w), a1, [16, 12], wd, [12, 4])).toBeLessThanOrEqual(1e-5);
    expect(await check(tf.matMul(tf.tensor2d(a1, [16, 12]), w), a1, [16, 12], wd, [12, 4])).toBeLessThanOrEqual(1e-5);
    // the same buffer (a reshape shares the tensor id) as [6, 8]
    expect(await check(tf.matMul(tf.tensor2d(a2, [16, 6]), tf.reshape(w, [6, 8])), a2, [16, 6], wd, [6, 8])).toBeLessThanOrEqual(1e-5);
    w.dispose();
    // new contents, likely at the freed offset
    const wd2 = rand(48);
    const w2 = tf.tensor2d(wd2, [12, 4]);
    expect(await check(tf.matMul(tf.tensor2d(a3, [9, 12]), w2), a3, [9, 12], wd2, [12, 4])).toBeLessThanOrEqual(1e-5);
    w2.dispose();
  }));
});

describe('other overridden kernels vs cpu', () => {
  it('reduceTranspose finds the minimal equivalent permutation', () => {
    expect(reduceTranspose([2, 3, 4, 5], [0, 1, 3, 2])).toEqual({ shape: [6, 4, 5], perm: [0, 2, 1] });
    expect(reduceTranspose([16, 128, 4, 32], [0, 2, 1, 3])).toEqual({ shape: [16, 128, 4, 32], perm: [0, 2, 1, 3] });
    expect(reduceTranspose([7, 1, 9], [2, 1, 0])).toEqual({ shape: [7, 9], perm: [1, 0] });
  });

  it.each([
    [[33, 70], [1, 0]],
    [[3, 40, 17], [0, 2, 1]],
    [[2, 3, 4, 5], [0, 1, 3, 2]],
    [[4, 6, 3, 8], [0, 2, 1, 3]],
    [[5, 6, 7], [2, 0, 1]],
    [[2, 3, 2, 3, 2], [4, 3, 2, 1, 0]],
  ])('Transpose %j perm %j (float32 and int32)', async (shape, perm) => {
    const d = rand(size(shape), 100);
    const r = await onBoth(() => tf.transpose(tf.tensor(d, shape), perm));
    expect(r.wasmShape).toEqual(r.cpuShape);
    expect(maxDiff(r.cpu, r.wasm)).toBe(0);
    const ri = await onBoth(() => tf.transpose(tf.tensor(d, shape, 'int32'), perm));
    expect(maxDiff(ri.cpu, ri.wasm)).toBe(0);
  });

  it.each([
    [[128, 16], [4, 1]],
    [[3, 5], [2, 3]],
    [[2, 3, 4], [3, 1, 2]],
    [[2, 1, 3], [1, 4, 1]],
    [[7], [5]],
    [[4, 3], [1, 1]],
  ])('Tile %j reps %j (float32, int32, bool)', async (shape, reps) => {
    const d = rand(size(shape), 100).map(Math.round);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const r = await onBoth(() => tf.tile(tf.tensor(d, shape, dtype), reps));
      expect(r.wasmShape).toEqual(r.cpuShape);
      expect(maxDiff(r.cpu, r.wasm)).toBe(0);
    }
  });

  it.each([
    [[50, 30], 0, false],
    [[50, 30], 0, true],
    [[4, 50, 30], 1, false],
    [[4, 50, 30], [0, 1], true],
    [[4, 5, 6], [1, 2], false],
    [[4, 5, 6], -1, false],
    [[4, 5, 6], [0, 2], false],
    [[2048, 128], 0, false], // bias gradient: long reduction
  ] as [number[], number | number[], boolean][])('Sum %j axis %j keepDims %s (wasm kernels and native BLAS)', async (shape, axis, keepDims) => {
    const d = rand(size(shape));
    for (const useBlas of addon ? [false, true] : [false]) {
      setBlasEnabled(useBlas);
      const r = await onBoth(() => tf.sum(tf.tensor(d, shape), axis, keepDims));
      setBlasEnabled(true);
      expect(r.wasmShape).toEqual(r.cpuShape);
      expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-4);
    }
  });

  it.each([
    ['equal', [30, 20], [30, 1]],
    ['notEqual', [30, 20], [20]],
    ['greater', [3, 4, 5], [4, 1]],
    ['greaterEqual', [3, 4, 5], []],
    ['less', [6, 5], [6, 5]],
    ['lessEqual', [1, 5], [7, 1]],
  ] as const)('%s %j vs %j (float32 and int32, with ties)', async (op, sa, sb) => {
    // small integer values so ties occur
    const da = rand(size([...sa]), 3).map(Math.round);
    const db = rand(size([...sb]), 3).map(Math.round);
    for (const dtype of ['float32', 'int32'] as const) {
      const r = await onBoth(() => tf[op](tf.tensor(da, [...sa], dtype), tf.tensor(db, [...sb], dtype)));
      expect(r.wasmShape).toEqual(r.cpuShape);
      expect(maxDiff(r.cpu, r.wasm)).toBe(0);
    }
  });
});

describe('Identity / Cast share buffers on wasm', () => {
  it('a clone or same-dtype cast survives disposal of its source, and real casts convert', async () => {
    await setupBackend('wasm');
    const a = tf.tensor1d([1.5, -2.25, 3]);
    const c = tf.clone(a);
    const f = tf.cast(a, 'float32');
    const i = tf.cast(a, 'int32');
    a.dispose();
    expect([...(await c.data())]).toEqual([1.5, -2.25, 3]);
    expect([...(await f.data())]).toEqual([1.5, -2.25, 3]);
    expect([...(await i.data())]).toEqual([1, -2, 3]);
    c.dispose();
    expect([...(await f.data())]).toEqual([1.5, -2.25, 3]);
    f.dispose();
    i.dispose();
  });
});

describe('UnsortedSegmentSum (missing in wasm)', () => {
  it('matches cpu, dropping negative and out-of-range ids', async () => {
    const x = rand(10 * 6);
    const ids = [0, 3, -1, 2, 3, 7, 0, 5, 4, -3];
    const r = await onBoth(() => tf.unsortedSegmentSum(tf.tensor2d(x, [10, 6]), tf.tensor1d(ids, 'int32'), 5));
    expect(r.wasmShape).toEqual([5, 6]);
    expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-5);
    // segment 1 has no rows: zeros; ids 7, 5, -1, -3 contribute nowhere
    for (let j = 0; j < 6; j++) {
      expect(r.wasm[6 + j]).toBe(0);
      expect(r.wasm[3 * 6 + j]).toBeCloseTo(x[6 + j]! + x[4 * 6 + j]!, 5);
    }
  });

  it('matches cpu for 1-D data', async () => {
    const x = rand(12);
    const r = await onBoth(() => tf.unsortedSegmentSum(tf.tensor1d(x), tf.tensor1d([1, 1, 0, 2, 2, 2, 0, 1, 9, 0, 1, 2], 'int32'), 3));
    expect(r.wasmShape).toEqual([3]);
    expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-5);
  });

  it('the gradient of tf.gather on wasm equals cpu', async () => {
    const table = rand(50 * 16);
    const idx = [3, 7, 3, 0, 49, 7, 7, 12, 3, 25, 0, 1];
    const w = rand(12 * 16);
    const r = await onBoth(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32')), tf.tensor2d(w, [12, 16]))))(
        tf.tensor2d(table, [50, 16]),
      ),
    );
    expect(r.wasmShape).toEqual([50, 16]);
    expect(maxDiff(r.cpu, r.wasm)).toBeLessThanOrEqual(1e-5);
    // row 7 gathered three times: its gradient is the sum of three rows of w
    for (let j = 0; j < 16; j++) expect(r.wasm[7 * 16 + j]).toBeCloseTo(w[16 + j]! + w[5 * 16 + j]! + w[6 * 16 + j]!, 5);
  });
});

describe.each(MODES)('one GPT training step (%s)', (_mode, useBlas) => {
  (useBlas && !addon ? it.skip : it)('loss, every gradient and every updated weight agree between wasm and cpu', async () => {
    setBlasEnabled(useBlas);
    const cfg = { vocabSize: 96, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 32, seed: 7 };
    const B = 3;
    const T = 24;
    const ids = Int32Array.from(rand(B * T), (v) => Math.floor(Math.abs(v) * 96) % 96);
    const tgt = Int32Array.from(rand(B * T), (v) => Math.floor(Math.abs(v) * 96) % 96);
    const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < 4 ? 0 : 1));
    let init: Map<string, Float32Array> | null = null;

    async function trainStep(backend: 'cpu' | 'wasm') {
      await setupBackend(backend);
      const model = new GPT(cfg);
      const params = model.namedWeights();
      // identical initial weights on both backends (tfjs's seeded random is backend-specific)
      if (!init) init = new Map([...params].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));
      else for (const [n, v] of params) v.assign(tf.tensor(init.get(n)!, v.shape));
      const opt = new AdamW(params, { lr: 1e-2 });
      const vars = [...params.values()];
      const { value, grads } = tf.variableGrads(
        () => model.lmLoss(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(tgt, [B, T], 'int32'), tf.tensor2d(mask, [B, T]), { training: true }),
        vars,
      );
      const g = new Map<string, tf.Tensor>();
      for (const [n, v] of params) g.set(n, grads[v.name]!);
      const gradData = new Map([...g].map(([n, t]) => [n, t.dataSync().slice()]));
      opt.apply(g).dispose();
      const after = new Map([...params].map(([n, v]) => [n, v.dataSync().slice()]));
      const loss = value.dataSync()[0]!;
      for (const t of Object.values(grads)) t.dispose();
      value.dispose();
      opt.dispose();
      model.dispose();
      return { loss, gradData, after };
    }

    const c = await trainStep('cpu');
    const w = await trainStep('wasm');
    expect(Number.isFinite(c.loss)).toBe(true);
    expect(Math.abs(c.loss - w.loss)).toBeLessThanOrEqual(1e-4);
    expect(c.gradData.size).toBeGreaterThan(20);
    let worstG = 0;
    let worstW = 0;
    for (const [n, gc] of c.gradData) {
      const gw = w.gradData.get(n)!;
      worstG = Math.max(worstG, maxDiff(gc, gw));
      worstW = Math.max(worstW, maxDiff(c.after.get(n)!, w.after.get(n)!));
    }
    expect(worstG).toBeLessThanOrEqual(1e-4);
    expect(worstW).toBeLessThanOrEqual(1e-4);
    // the step moved the weights (so the comparison above is not vacuous)
    const wte0 = init!.get('wte')!;
    expect(maxDiff(wte0, w.after.get('wte')!)).toBeGreaterThan(1e-3);
    expect(blas() !== null).toBe(useBlas);
    setBlasEnabled(true);
  });
});
