// The WebGPU backend (src/model/webgpu.ts) must compute what wasm computes: one GPT training step
// (loss, gradients, AdamW update) and KV-cached decoding. Without a GPU this runs on Mesa's llvmpipe
// through Dawn's OpenGL ES backend, the same kernels a GPU runs. tfjs has one global backend: each
// case computes its wasm reference first, then switches to webgpu, with the weights carried over as
// Float32Arrays so both sides start from identical numbers.
//
// No adapter at all is a FAILURE (CI installs Mesa's EGL/GLES so one exists), unless RSTAR_SKIP_WEBGPU=1.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, type GPTConfig } from '../src/model/gpt.ts';
import { generate } from '../src/model/generate.ts';
import { AdamW } from '../src/train/optim.ts';
import { adamwApplyFused, countDispatches, hasHardwareGPU, isSoftwareAdapter, webgpuErrors, webgpuInfo } from '../src/model/backends/webgpu.ts';

const SKIP = process.env.RSTAR_SKIP_WEBGPU === '1';
const TINY: GPTConfig = { vocabSize: 67, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32, seed: 7 };

let seed = 99;
function tokens(n: number, V: number): number[] {
  return Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0), (seed >>> 8) % V));
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

type Weights = Map<string, Float32Array>;
async function readWeights(model: GPT): Promise<Weights> {
  const out: Weights = new Map();
  for (const [n, v] of model.namedWeights()) out.set(n, (await v.data()) as Float32Array);
  return out;
}
/** A GPT on the current backend holding exactly `w`. */
function modelWith(w: Weights): GPT {
  const m = new GPT(TINY);
  for (const [n, v] of m.namedWeights()) v.assign(tf.tensor(w.get(n)!, v.shape, 'float32'));
  return m;
}

let webgpuError: unknown = null;
beforeAll(async () => {
  try {
    await setupBackend('webgpu');
  } catch (e) {
    webgpuError = e;
  }
});

describe.skipIf(SKIP)('webgpu backend', () => {
  // a WebGPU validation error means a dropped dispatch and silently wrong numbers
  afterEach(() => expect(webgpuErrors()).toEqual([]));

  it('initialises an adapter (hardware GPU or Mesa software renderer)', async () => {
    if (webgpuError) throw new Error(`webgpu did not initialise (set RSTAR_SKIP_WEBGPU=1 to skip): ${String(webgpuError)}`);
    expect(tf.getBackend()).toBe('webgpu');
    const info = webgpuInfo()!;
    expect(info).not.toBeNull();
    // the software path is taken only without a hardware adapter (unless forced)
    if (info.path === 'hardware') expect(await hasHardwareGPU()).toBe(true);
    else if (process.env.RSTAR_WEBGPU !== 'software') expect(await hasHardwareGPU()).toBe(false);
    expect(info.software).toBe(info.path === 'software');
    if (info.path === 'software') expect(info.featureLevel).toBe('compatibility');
    console.log(`webgpu adapter: ${JSON.stringify(info)}`);
  });

  it('one training step (loss, gradients, AdamW update) matches wasm', async () => {
    const B = 3;
    const T = 24;
    const ids = tokens(B * T, TINY.vocabSize);
    const tgt = tokens(B * T, TINY.vocabSize);
    // the first 5 positions of every row masked out, as SFT masks the question
    const mask = Array.from({ length: B * T }, (_, i) => (i % T < 5 ? 0 : 1));
    const run = async () => {
      const model = modelWith(init);
      const params = model.namedWeights();
      const before = await readWeights(model);
      const x = tf.tensor2d(ids, [B, T], 'int32');
      const y = tf.tensor2d(tgt, [B, T], 'int32');
      const m = tf.tensor2d(mask, [B, T], 'float32');
      const { value, grads } = tf.variableGrads(() => model.lmLoss(x, y, m, { training: true }), [...params.values()]);
      const g = new Map([...params].map(([n, v]) => [n, grads[v.name]!]));
      const gData = new Map<string, Float32Array>();
      for (const [n, t] of g) gData.set(n, (await t.data()) as Float32Array);
      const opt = new AdamW(params, { lr: 1e-2 });
      const norm = (await opt.apply(g).data())[0]!;
      const after = await readWeights(model);
      const out = { loss: (await value.data())[0]!, grads: gData, norm, before, after };
      tf.dispose([x, y, m, value, ...g.values()]);
      opt.dispose();
      model.dispose();
      return out;
    };
    await setupBackend('wasm');
    const init = await readWeights(new GPT(TINY));
    const ref = await run();
    await setupBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const got = await run();

    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-4);
    expect(ref.loss).toBeGreaterThan(3); // ≈ ln 67 at init: the loss is real, not a degenerate 0
    expect(Math.abs(got.norm - ref.norm) / ref.norm).toBeLessThan(1e-3);
    for (const [n, r] of ref.grads) {
      const d = maxDiff(got.grads.get(n)!, r);
      // absolute, and relative to the tensor's largest gradient (many are far below 1e-3)
      expect(d, `grad ${n}`).toBeLessThan(1e-3);
      expect(d, `grad ${n}`).toBeLessThanOrEqual(1e-3 * maxAbs(r) + 1e-7);
    }
    let moved = 0;
    for (const [n, r] of ref.after) {
      expect(maxDiff(got.after.get(n)!, r), `updated ${n}`).toBeLessThan(1e-3);
      // AdamW's first step moves each weight by ≈ lr·sign(g): compare the steps themselves. An
      // element whose gradient is at rounding level may flip sign; allow a few of those.
      const b = ref.before.get(n)!;
      const a = got.after.get(n)!;
      let off = 0;
      for (let i = 0; i < r.length; i++) {
        const dr = r[i]! - b[i]!;
        if (Math.abs(dr) > 1e-3) moved++;
        if (Math.abs(a[i]! - b[i]! - dr) > 1e-4) off++;
      }
      expect(off / r.length, `update of ${n}`).toBeLessThan(0.01);
    }
    expect(moved).toBeGreaterThan(1000); // the step did move the weights
  });

  it('KV-cached prefill + decode steps and generate() match wasm', async () => {
    const lens = [5, 11, 2];
    const prompts = lens.map((n) => tokens(n, TINY.vocabSize));
    const P = Math.max(...lens);
    const B = lens.length;
    const ids: number[] = [];
    const valid: number[] = [];
    for (const p of prompts) {
      ids.push(...new Array(P - p.length).fill(0), ...p);
      valid.push(...new Array(P - p.length).fill(0), ...new Array(p.length).fill(1));
    }
    const feed = Array.from({ length: 6 }, () => tokens(B, TINY.vocabSize));
    // teacher-forced: the same tokens go in on both backends, so logits compare step by step
    const run = async () => {
      const model = modelWith(init);
      const cache = model.newCache(B, P + feed.length);
      const logits: Float32Array[] = [];
      const pre = model.step(cache, tf.tensor2d(ids, [B, P], 'int32'), { valid, last: true });
      logits.push((await pre.data()) as Float32Array);
      pre.dispose();
      for (const f of feed) {
        const l = model.step(cache, tf.tensor2d(f, [B, 1], 'int32'), { last: true });
        logits.push((await l.data()) as Float32Array);
        l.dispose();
      }
      cache.dispose();
      const sampled = await generate(model, prompts, { maxNewTokens: 8, temperature: 1, seed: 5 });
      model.dispose();
      return { logits, sampled };
    };
    await setupBackend('wasm');
    const init = await readWeights(new GPT(TINY));
    const ref = await run();
    await setupBackend('webgpu');
    const got = await run();
    ref.logits.forEach((r, i) => {
      expect(r.length).toBe(B * TINY.vocabSize);
      expect(maxDiff(got.logits[i]!, r), `step ${i}`).toBeLessThan(1e-3);
    });
    expect(got.sampled.tokens).toEqual(ref.sampled.tokens);
    expect(got.sampled.tokens.every((t) => t.length === 8)).toBe(true);
  });

  it('fused AdamW update equals the op-by-op AdamW, in under half the dispatches', async () => {
    await setupBackend('webgpu');
    const cfg = { lr: 3e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 0.5 };
    const shapes: Record<string, number[]> = { w: [33, 17], b: [17], e: [5, 3, 7] };
    let r = 7;
    const rnd = (n: number) => Float32Array.from({ length: n }, () => ((r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5));
    const init = new Map(Object.entries(shapes).map(([k, s]) => [k, rnd(s.reduce((a, b) => a * b, 1))]));
    const gradsAt = Array.from({ length: 3 }, () => new Map(Object.entries(shapes).map(([k, s]) => [k, rnd(s.reduce((a, b) => a * b, 1))])));
    const vars = () => new Map(Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(init.get(k)!, s), true)]));
    const zeros = (ps: Map<string, tf.Variable>) => new Map([...ps].map(([k, p]) => [k, tf.variable(tf.zerosLike(p), false)]));
    const toGrads = (i: number) => new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(gradsAt[i]!.get(k)!, s)]));

    const ref = vars();
    const opt = new AdamW(ref, { ...cfg, fused: false }); // the op-by-op reference
    const fused = vars();
    const m = zeros(fused);
    const v = zeros(fused);
    const counts = { ref: 0, fused: 0 };
    for (let i = 0; i < 3; i++) {
      const g1 = toGrads(i);
      const g2 = toGrads(i);
      let n1 = 0;
      let n2 = 0;
      counts.ref += (await countDispatches(async () => {
        const n = opt.apply(g1);
        n1 = (await n.data())[0]!;
        n.dispose();
      })).dispatches;
      counts.fused += (await countDispatches(async () => {
        const n = adamwApplyFused(fused, m, v, g2, cfg, i + 1, cfg.lr);
        n2 = (await n.data())[0]!;
        n.dispose();
      })).dispatches;
      expect(n2).toBeCloseTo(n1, 5);
      expect(n1).toBeGreaterThan(cfg.clip); // clipping is active
      tf.dispose([...g1.values(), ...g2.values()]);
    }
    const st = await opt.state();
    for (const k of Object.keys(shapes)) {
      const a = await fused.get(k)!.data();
      expect(maxDiff(a, await ref.get(k)!.data()), k).toBeLessThan(1e-6);
      expect(maxDiff(a, init.get(k)!), k).toBeGreaterThan(0.05); // three steps of lr 3e-2 moved it
      expect(maxDiff(await m.get(k)!.data(), st.m[k]!), k).toBeLessThan(1e-6);
      expect(maxDiff(await v.get(k)!.data(), st.v[k]!), k).toBeLessThan(1e-7);
    }
    expect(counts.fused * 2).toBeLessThan(counts.ref);
    console.log(`AdamW dispatches for 3 params x 3 steps: op-by-op ${counts.ref}, fused ${counts.fused}`);
    opt.dispose();
    tf.dispose([...ref.values(), ...fused.values(), ...m.values(), ...v.values()]);
  });

  it('addN over more inputs than a shader can bind', async () => {
    await setupBackend('webgpu');
    const xs = Array.from({ length: 37 }, (_, i) => tf.fill([5], i + 1));
    const s = tf.addN(xs);
    expect(Array.from(await s.data())).toEqual(new Array(5).fill((37 * 38) / 2));
    tf.dispose([s, ...xs]);
  });

  it('host values reach the GPU intact and in order (writeBuffer upload, buffers recycled)', async () => {
    await setupBackend('webgpu');
    // a chain in one command encoder: each step uploads new host values into pooled buffers that
    // earlier, already-disposed steps used, so a misordered write would show in the sums
    let acc = tf.zeros([257]);
    let want = new Float32Array(257);
    for (let i = 0; i < 40; i++) {
      const host = Float32Array.from({ length: 257 }, (_, j) => ((i * 31 + j * 7) % 13) - 6.5);
      const ints = tf.tensor1d(Int32Array.from(host, (v) => Math.round(v * 2)), 'int32');
      const mask = tf.tensor1d(Array.from(host, (v) => v > 0), 'bool');
      const next = tf.add(acc, tf.mul(tf.add(tf.tensor1d(host), tf.cast(ints, 'float32')), tf.cast(mask, 'float32')));
      tf.dispose([acc, ints, mask]);
      acc = next;
      want = want.map((w, j) => w + (host[j]! > 0 ? host[j]! + Math.round(host[j]! * 2) : 0));
    }
    expect(Array.from(await acc.data())).toEqual(Array.from(want));
    acc.dispose();
    expect(webgpuErrors()).toEqual([]);
  });

  it('countDispatches counts GPU compute dispatches', async () => {
    await setupBackend('webgpu');
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const n1 = await countDispatches(async () => {
      const r = tf.add(tf.matMul(a, a), 1);
      await r.data();
      r.dispose();
    });
    const n2 = await countDispatches(async () => {
      const r = tf.add(tf.add(tf.matMul(a, a), 1), 2);
      await r.data();
      r.dispose();
    });
    a.dispose();
    expect(n1.dispatches).toBeGreaterThanOrEqual(2);
    expect(n2.dispatches).toBe(n1.dispatches + 1);
    expect(n1.reads).toBe(1);
  });
});

describe('isSoftwareAdapter', () => {
  it('tells CPU renderers from GPUs', () => {
    expect(isSoftwareAdapter({ vendor: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL ES 3.2 Mesa 22.3.6' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia', device: 'NVIDIA H100', isFallbackAdapter: true })).toBe(true);
  });
});
