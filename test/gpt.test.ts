import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, GPT_PRESETS, type GPTConfig } from '../src/model/gpt.ts';

// small enough for the pure-JS cpu backend, big enough to have several heads and layers
const TINY: GPTConfig = { vocabSize: 61, blockSize: 48, nLayer: 2, nHead: 4, nEmbd: 32 };

beforeAll(async () => {
  await setupBackend('cpu');
});

function randomTokens(n: number, V: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648), s % V));
}

/** Logits of the last position of `seq`, full recompute without any cache. */
function fullLast(model: GPT, seq: number[]): Float32Array {
  return tf.tidy(() => {
    const l = model.logits(tf.tensor2d([seq], [1, seq.length], 'int32'));
    return tf.slice(l, [0, seq.length - 1, 0], [1, 1, model.vocabSize]).dataSync() as Float32Array;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('GPT', () => {
  it('KV-cached logits equal full recompute, batch 1', () => {
    const model = new GPT({ ...TINY, seed: 3 });
    const seq = randomTokens(20, TINY.vocabSize, 1);
    const cache = model.newCache(1, 20);
    // prefill 12 tokens in one forward: every position's logits must match
    const pre = model.step(cache, tf.tensor2d([seq.slice(0, 12)], [1, 12], 'int32'));
    const full = model.logits(tf.tensor2d([seq.slice(0, 12)], [1, 12], 'int32'));
    expect(maxAbsDiff(pre.dataSync(), full.dataSync())).toBeLessThan(1e-4);
    for (let t = 12; t < 20; t++) {
      const l = model.step(cache, tf.tensor2d([[seq[t]!]], [1, 1], 'int32'), { last: true });
      expect(l.shape).toEqual([1, 1, TINY.vocabSize]);
      expect(maxAbsDiff(l.dataSync(), fullLast(model, seq.slice(0, t + 1)))).toBeLessThan(1e-4);
    }
    expect(cache.length).toBe(20);
    cache.dispose();
    model.dispose();
  });

  it('KV-cached logits equal full recompute, batch 8 with left-padded ragged prompts', () => {
    const model = new GPT({ ...TINY, seed: 4 });
    const lens = [3, 9, 1, 14, 6, 14, 2, 11];
    const prompts = lens.map((n, i) => randomTokens(n, TINY.vocabSize, 10 + i));
    const T = Math.max(...lens);
    const ids: number[] = [];
    const valid: number[] = [];
    for (const p of prompts) {
      ids.push(...new Array(T - p.length).fill(0), ...p);
      valid.push(...new Array(T - p.length).fill(0), ...new Array(p.length).fill(1));
    }
    const cache = model.newCache(8, T + 6);
    let last = model.step(cache, tf.tensor2d(ids, [8, T], 'int32'), { valid, last: true }).dataSync();
    const seqs = prompts.map((p) => [...p]);
    const V = TINY.vocabSize;
    for (let step = 0; step <= 6; step++) {
      seqs.forEach((s, b) => {
        expect(maxAbsDiff(last.subarray(b * V, (b + 1) * V), fullLast(model, s))).toBeLessThan(1e-4);
      });
      if (step === 6) break;
      const next = seqs.map((s, b) => randomTokens(1, V, 100 * step + b)[0]!);
      next.forEach((t, b) => seqs[b]!.push(t));
      last = model.step(cache, tf.tensor2d(next, [8, 1], 'int32'), { last: true }).dataSync();
    }
    cache.dispose();
    model.dispose();
  });

  it('selectRows duplicates a prefilled row into independent continuations', () => {
    const model = new GPT({ ...TINY, seed: 5 });
    const prompt = randomTokens(7, TINY.vocabSize, 77);
    const cache = model.newCache(1, 10);
    model.step(cache, tf.tensor2d([prompt], [1, 7], 'int32'), { last: true }).dispose();
    const k3 = model.selectRows(cache, [0, 0, 0]);
    const next = [5, 17, 40];
    const l = model.step(k3, tf.tensor2d(next, [3, 1], 'int32'), { last: true }).dataSync();
    next.forEach((t, j) => {
      const V = TINY.vocabSize;
      expect(maxAbsDiff(l.subarray(j * V, (j + 1) * V), fullLast(model, [...prompt, t]))).toBeLessThan(1e-4);
    });
    // the source cache is untouched by stepping the copy
    expect(cache.length).toBe(7);
    expect(k3.length).toBe(8);
    cache.dispose();
    k3.dispose();
    model.dispose();
  });

  it('cached decoding follows weight updates (folded inference weights are rebuilt)', () => {
    const model = new GPT({ ...TINY, seed: 9 });
    const seq = randomTokens(6, TINY.vocabSize, 5);
    const run = () => {
      const c = model.newCache(1, 6);
      const l = model.step(c, tf.tensor2d([seq], [1, 6], 'int32'), { last: true }).dataSync();
      c.dispose();
      return l;
    };
    const before = run();
    const w = model.namedWeights();
    w.get('ln_f.bias')!.assign(tf.fill([TINY.nEmbd], 0.3));
    w.get('h.1.mlp.fc.weight')!.assign(tf.mul(w.get('h.1.mlp.fc.weight')!, 3));
    const after = run();
    expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(after, fullLast(model, seq))).toBeLessThan(1e-4);
    model.dispose();
  });

  it('is causal: a later token does not change earlier logits', () => {
    const model = new GPT({ ...TINY, seed: 6 });
    const a = randomTokens(16, TINY.vocabSize, 9);
    const b = [...a];
    b[10] = (b[10]! + 1) % TINY.vocabSize;
    const la = model.logits(tf.tensor2d([a], [1, 16], 'int32')).arraySync()[0]!;
    const lb = model.logits(tf.tensor2d([b], [1, 16], 'int32')).arraySync()[0]!;
    for (let t = 0; t < 10; t++) expect(maxAbsDiff(la[t]!, lb[t]!)).toBe(0);
    for (let t = 10; t < 16; t++) expect(maxAbsDiff(la[t]!, lb[t]!)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('loss falls when overfitting a tiny batch with Adam', () => {
    const model = new GPT({ ...TINY, seed: 7 });
    const B = 4;
    const T = 16;
    const seqs = Array.from({ length: B }, (_, i) => randomTokens(T + 1, TINY.vocabSize, 200 + i));
    const ids = tf.tensor2d(seqs.map((s) => s.slice(0, T)), [B, T], 'int32');
    const targets = tf.tensor2d(seqs.map((s) => s.slice(1)), [B, T], 'int32');
    // mask the first 4 positions, like a question masked out of SFT
    const mask = tf.tensor2d(seqs.map(() => Array.from({ length: T }, (_, t) => (t < 4 ? 0 : 1))), [B, T]);
    const vars = [...model.namedWeights().values()];
    const opt = tf.train.adam(3e-3);
    const first = model.lmLoss(ids, targets, mask).dataSync()[0]!;
    // random init predicts close to uniform
    expect(Math.abs(first - Math.log(TINY.vocabSize))).toBeLessThan(0.3);
    let loss = first;
    for (let i = 0; i < 30; i++) {
      const l = opt.minimize(() => model.lmLoss(ids, targets, mask), true, vars)!;
      loss = l.dataSync()[0]!;
      l.dispose();
    }
    expect(loss).toBeLessThan(first * 0.5);
    opt.dispose();
    model.dispose();
  });

  it('lmLoss only counts masked-in positions', () => {
    const model = new GPT({ ...TINY, seed: 8 });
    const ids = tf.tensor2d([randomTokens(8, TINY.vocabSize, 1)], [1, 8], 'int32');
    const t1 = randomTokens(8, TINY.vocabSize, 2);
    const t2 = [...t1];
    t2[0] = (t2[0]! + 3) % TINY.vocabSize; // differs only where the mask is 0
    const mask = tf.tensor2d([[0, 1, 1, 1, 1, 1, 1, 1]]);
    const a = model.lmLoss(ids, tf.tensor2d([t1], [1, 8], 'int32'), mask).dataSync()[0]!;
    const b = model.lmLoss(ids, tf.tensor2d([t2], [1, 8], 'int32'), mask).dataSync()[0]!;
    expect(a).toBeCloseTo(b, 6);
    // against a hand computation from the logits
    const logits = model.logits(ids).arraySync()[0]!;
    let sum = 0;
    for (let t = 1; t < 8; t++) {
      const row = logits[t]!;
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
      sum += lse - row[t1[t]!]!;
    }
    expect(a).toBeCloseTo(sum / 7, 4);
    model.dispose();
  });

  it('dropout: seeded masks repeat, other seeds differ, evaluation ignores it, rate is checked', () => {
    const model = new GPT({ ...TINY, seed: 9, dropout: 0.3 });
    const ids = tf.tensor2d([randomTokens(12, TINY.vocabSize, 4), randomTokens(12, TINY.vocabSize, 5)], [2, 12], 'int32');
    const tg = tf.tensor2d([randomTokens(12, TINY.vocabSize, 6), randomTokens(12, TINY.vocabSize, 7)], [2, 12], 'int32');
    const mask = tf.ones([2, 12]) as tf.Tensor2D;
    const loss = (opts: { training?: boolean; dropoutSeed?: number }) => model.lmLoss(ids, tg, mask, opts).dataSync()[0]!;
    const a = loss({ training: true, dropoutSeed: 42 });
    expect(loss({ training: true, dropoutSeed: 42 })).toBe(a);
    expect(Math.abs(loss({ training: true, dropoutSeed: 43 }) - a)).toBeGreaterThan(1e-4);
    const evalLoss = loss({});
    expect(Math.abs(evalLoss - a)).toBeGreaterThan(1e-4);
    // without dropout the training forward is the evaluation forward
    model.setDropout(0);
    expect(loss({ training: true, dropoutSeed: 42 })).toBeCloseTo(evalLoss, 6);
    expect(model.config.dropout).toBe(0);
    expect(() => model.setDropout(1)).toThrow(/dropout must be in \[0, 1\)/);
    model.dispose();
  });

  it('namedWeights are stable, complete and seeded', () => {
    const cfg = { ...TINY, seed: 11 };
    const a = new GPT(cfg);
    const b = new GPT(cfg);
    const c = new GPT({ ...cfg, seed: 12 });
    const wa = a.namedWeights();
    expect([...wa.keys()]).toEqual([...b.namedWeights().keys()]);
    expect(wa.size).toBe(2 + 16 * TINY.nLayer + 2);
    expect([...wa.keys()].slice(0, 4)).toEqual(['wte', 'wpe', 'h.0.ln_1.weight', 'h.0.ln_1.bias']);
    expect(wa.get('h.1.mlp.fc.weight')!.shape).toEqual([32, 128]);
    // parameter count of a GPT with tied head: V*D + P*D + N*(12 D^2 + 13 D) + 2D
    const D = TINY.nEmbd;
    const n = [...wa.values()].reduce((s, v) => s + v.size, 0);
    expect(n).toBe(TINY.vocabSize * D + TINY.blockSize * D + TINY.nLayer * (12 * D * D + 13 * D) + 2 * D);
    // same seed → same values; other seed → different values
    expect(maxAbsDiff(wa.get('h.0.attn.q.weight')!.dataSync(), b.namedWeights().get('h.0.attn.q.weight')!.dataSync())).toBe(0);
    expect(maxAbsDiff(wa.get('h.0.attn.q.weight')!.dataSync(), c.namedWeights().get('h.0.attn.q.weight')!.dataSync())).toBeGreaterThan(0);
    // residual projections are initialised smaller (GPT-2)
    const std = (t: tf.Tensor) => Math.sqrt(tf.moments(t).variance.dataSync()[0]!);
    expect(std(wa.get('h.0.attn.proj.weight')!)).toBeLessThan(0.6 * std(wa.get('h.0.attn.q.weight')!));
    // complete: every weight gets a non-zero gradient from the loss
    const ids = tf.tensor2d([randomTokens(8, TINY.vocabSize, 3)], [1, 8], 'int32');
    const tg = tf.tensor2d([randomTokens(8, TINY.vocabSize, 4)], [1, 8], 'int32');
    const { grads } = tf.variableGrads(() => a.lmLoss(ids, tg, tf.ones([1, 8])), [...wa.values()]);
    for (const [name, v] of wa) {
      const g = grads[v.name];
      expect(g, name).toBeDefined();
      expect(tf.max(tf.abs(g!)).dataSync()[0]!, name).toBeGreaterThan(0);
    }
    // dispose frees every weight
    const before = tf.memory().numTensors;
    c.dispose();
    expect(before - tf.memory().numTensors).toBe(wa.size);
    a.dispose();
    b.dispose();
  });

  it('presets match the documented sizes', () => {
    expect(GPT_PRESETS.S).toMatchObject({ vocabSize: 512, nEmbd: 128, nLayer: 4, nHead: 4, blockSize: 128 });
    expect(GPT_PRESETS.M).toMatchObject({ vocabSize: 2048, nEmbd: 256, nLayer: 6, nHead: 8, blockSize: 256 });
    const m = new GPT(GPT_PRESETS.S);
    expect(m.config).toMatchObject({ arch: 'gpt', ...GPT_PRESETS.S });
    expect(JSON.parse(JSON.stringify(m.config))).toEqual(m.config);
    m.dispose();
  });
});
