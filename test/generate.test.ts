import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, type GPTConfig } from '../src/model/gpt.ts';
import { endsInLoop, generate, mulberry32, sampleK, sampleMany, sampleToken } from '../src/model/generate.ts';

const TINY: GPTConfig = { vocabSize: 37, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 32, seed: 21 };
let model: GPT;

beforeAll(async () => {
  await setupBackend('cpu');
  model = new GPT(TINY);
  // A freshly initialised tied-embedding GPT just repeats its input token. Larger weights (positions
  // most) make greedy paths depend on both position and content, so cache/padding bugs show.
  for (const [name, v] of model.namedWeights()) if (v.shape.length === 2) v.assign(tf.mul(v, name === 'wpe' ? 20 : 4));
});

/** Greedy decoding by full recompute of the whole sequence every step (no cache). */
function greedyReference(prompt: number[], n: number): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = tf.tidy(() => {
      const l = model.logits(tf.tensor2d([seq], [1, seq.length], 'int32'));
      return tf.slice(l, [0, seq.length - 1, 0], [1, 1, TINY.vocabSize]).dataSync();
    });
    const tok = sampleToken(row, 0, TINY.vocabSize, 0, 1, () => 0);
    seq.push(tok);
    out.push(tok);
  }
  return out;
}

const P1 = [1, 5, 9, 2, 7];
const P2 = [3, 3, 8, 30, 12, 4, 19, 22, 6, 1, 0, 17];
const P3 = [11];

describe('generate', () => {
  it('greedy equals argmax of full recompute, step by step', async () => {
    const ref = greedyReference(P2, 20);
    const { tokens, stopped } = await generate(model, [P2], { maxNewTokens: 20, temperature: 0 });
    expect(tokens[0]).toEqual(ref);
    expect(stopped).toEqual([false]);
    // the reference is not degenerate (a constant sequence would hide position bugs)
    expect(new Set(ref).size).toBeGreaterThan(1);
  });

  it('a ragged batch equals each prompt decoded alone', async () => {
    const prompts = [P1, P2, P3, P2.slice(3)];
    const batch = await generate(model, prompts, { maxNewTokens: 12, temperature: 0 });
    for (let i = 0; i < prompts.length; i++) {
      expect(batch.tokens[i]).toEqual(greedyReference(prompts[i]!, 12));
    }
  });

  it('stop sequences cut a row right after the sequence', async () => {
    const ref = greedyReference(P1, 16);
    // single-token stop: the first occurrence of the 4th token
    const single = ref[3]!;
    const cut1 = ref.indexOf(single) + 1;
    // multi-token stop: tokens 6..8; the row must run until their first complete occurrence
    const multi = ref.slice(6, 9);
    let cut2 = -1;
    for (let i = 3; i <= ref.length; i++) if (ref.slice(i - 3, i).join() === multi.join()) { cut2 = i; break; }
    const r = await generate(model, [P1, P1, P1], { maxNewTokens: 16, temperature: 0, stop: [] });
    expect(r.tokens).toEqual([ref, ref, ref]);
    const s = await generate(model, [P1, P1], { maxNewTokens: 16, temperature: 0, stop: [[single]] });
    expect(s.tokens[0]).toEqual(ref.slice(0, cut1));
    expect(s.stopped).toEqual([true, true]);
    const m = await generate(model, [P1], { maxNewTokens: 16, temperature: 0, stop: [[999, 998], multi] });
    expect(m.tokens[0]).toEqual(ref.slice(0, cut2));
    expect(m.stopped[0]).toBe(true);
    // a stop sequence that never appears: the row runs out of tokens, not stopped
    const n = await generate(model, [P1], { maxNewTokens: 16, temperature: 0, stop: [[999]] });
    expect(n.tokens[0]).toEqual(ref);
    expect(n.stopped[0]).toBe(false);
    // eos behaves like a one-token stop
    const e = await generate(model, [P1], { maxNewTokens: 16, temperature: 0, eosId: single });
    expect(e.tokens[0]).toEqual(ref.slice(0, cut1));
  });

  it('rows that stop early do not disturb the others (compaction)', async () => {
    const prompts = [P1, P2, P3, P1, P2, P3, P2.slice(2), P1.slice(1)];
    const refs = prompts.map((p) => greedyReference(p, 14));
    // stop on the first token of rows 0..5's references: most rows end early, the batch compacts
    const stop = [[refs[0]![0]!], [refs[1]![0]!], [refs[2]![0]!]];
    const r = await generate(model, prompts, { maxNewTokens: 14, temperature: 0, stop });
    prompts.forEach((_, i) => {
      const ref = refs[i]!;
      const cut = ref.findIndex((t) => stop.some((s) => s[0] === t));
      expect(r.tokens[i]).toEqual(cut >= 0 ? ref.slice(0, cut + 1) : ref);
      expect(r.stopped[i]).toBe(cut >= 0);
    });
  });

  it('seeded sampling repeats, and other seeds differ', async () => {
    const opts = { maxNewTokens: 24, temperature: 1, seed: 42 };
    const a = await generate(model, [P1, P2], opts);
    const b = await generate(model, [P1, P2], opts);
    const c = await generate(model, [P1, P2], { ...opts, seed: 43 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    // sampling is not greedy decoding in disguise
    expect(a.tokens[0]).not.toEqual(greedyReference(P1, 24));
  });

  it('top-p near 0 equals greedy', async () => {
    const g = await generate(model, [P1, P2, P3], { maxNewTokens: 16, temperature: 0 });
    const p = await generate(model, [P1, P2, P3], { maxNewTokens: 16, temperature: 1.5, topP: 1e-6, seed: 7 });
    expect(p.tokens).toEqual(g.tokens);
  });

  it('sampleK prefills once and gives k seeded samples of one prompt', async () => {
    const k = await sampleK(model, P2, 6, { maxNewTokens: 10, temperature: 1, seed: 5 });
    expect(k.tokens).toHaveLength(6);
    expect(new Set(k.tokens.map((t) => t.join())).size).toBeGreaterThan(1);
    // identical to decoding 6 copies of the prompt as a plain batch with the same seed
    const plain = await generate(model, new Array(6).fill(P2), { maxNewTokens: 10, temperature: 1, seed: 5 });
    expect(k.tokens).toEqual(plain.tokens);
    // greedy samples are all the greedy path
    const g = await sampleMany(model, [P1, P3], 3, { maxNewTokens: 8, temperature: 0 });
    expect(g.tokens).toEqual([...new Array(3).fill(greedyReference(P1, 8)), ...new Array(3).fill(greedyReference(P3, 8))]);
  });

  it('stops at the context length instead of overflowing positions', async () => {
    const long = Array.from({ length: TINY.blockSize - 3 }, (_, i) => (i * 7) % TINY.vocabSize);
    const r = await generate(model, [long, P1], { maxNewTokens: 10, temperature: 0 });
    expect(r.tokens[0]).toHaveLength(4);
    expect(r.tokens[1]).toHaveLength(10);
  });

  it('frees every tensor it creates', async () => {
    const before = tf.memory().numTensors;
    await sampleMany(model, [P1, P2], 3, { maxNewTokens: 8, temperature: 1, seed: 1, stop: [[3]] });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a logits hook sees each live row with its prompt and its tokens, and steers what it samples', async () => {
    const seen: string[] = [];
    const res = await sampleMany(model, [P1, P3], 2, {
      maxNewTokens: 3,
      temperature: 0,
      logitsHook: (row, prompt, tokens, logits, off) => {
        seen.push(`${row}:${prompt}:${tokens.length}`);
        // row 1 must emit 7 + its step; the others decode freely
        if (row === 1) logits[off + 7 + tokens.length] = 1e9;
      },
    });
    expect(res.tokens[1]).toEqual([7, 8, 9]);
    const free = await sampleMany(model, [P1, P3], 2, { maxNewTokens: 3, temperature: 0 });
    expect(res.tokens[0]).toEqual(free.tokens[0]);
    expect(res.tokens[2]).toEqual(free.tokens[2]);
    expect(seen.filter((s) => s.startsWith('3:')).map((s) => s.split(':')[1])).toEqual(['1', '1', '1']);
    expect(seen.filter((s) => s.startsWith('0:')).map((s) => s.split(':')[2])).toEqual(['0', '1', '2']);
  });
});

describe('loops', () => {
  it('endsInLoop: the tail is one block of at least minTokens written repeats times', () => {
    const block = [4, 9, 2, 7, 1, 3, 8, 5];
    expect(endsInLoop([6, ...block, ...block, ...block], 3, 8)).toBe(true);
    expect(endsInLoop([6, ...block, ...block], 3, 8)).toBe(false);
    expect(endsInLoop([6, ...block, ...block, ...block.slice(0, 7), 0], 3, 8)).toBe(false);
    // a shorter period counts through its multiples: [1, 2] six times is [1, 2, 1, 2] three times
    expect(endsInLoop(Array.from({ length: 12 }, (_, i) => 1 + (i % 2)), 3, 4)).toBe(true);
    expect(endsInLoop(Array.from({ length: 10 }, (_, i) => 1 + (i % 2)), 3, 4)).toBe(false);
    expect(endsInLoop(Array.from({ length: 30 }, () => 0), 3, 8)).toBe(true);
    expect(endsInLoop([], 3, 8)).toBe(false);
  });

  it('a row caught in a loop ends unfinished; the others decode on', async () => {
    // the hook writes row 0 a sequence without a period and row 1 a 4-token block again and again
    const hook = (row: number, _p: number, tokens: readonly number[], logits: Float32Array, off: number) => {
      const t = tokens.length;
      logits[off + (row === 0 ? (t * t + 3 * t) % 31 : 5 + (t % 4))] = 1e9;
    };
    const r = await sampleMany(model, [P1], 2, { maxNewTokens: 30, temperature: 0, logitsHook: hook, loop: { repeats: 3, minTokens: 4 } });
    expect(r.tokens[1]).toEqual([5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8]);
    expect(r.stopped[1]).toBe(false);
    const free = await sampleMany(model, [P1], 2, { maxNewTokens: 30, temperature: 0, logitsHook: hook });
    expect(r.tokens[0]).toEqual(free.tokens[0]);
    expect(r.tokens[0]).toHaveLength(30);
    expect(free.tokens[1]).toHaveLength(30);
  });
});

describe('sampleToken', () => {
  it('follows the softmax distribution and the nucleus', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const rand = mulberry32(9);
    const count = (temperature: number, topP: number) => {
      const c = [0, 0, 0, 0];
      for (let i = 0; i < 20000; i++) c[sampleToken(logits, 0, 4, temperature, topP, rand)]!++;
      return c.map((x) => x / 20000);
    };
    const full = count(1, 1);
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(full[i]!).toBeCloseTo(p, 1));
    // top-p 0.7: nucleus {0, 1} (0.5 < 0.7 <= 0.8), renormalised to 5/8, 3/8
    const nuc = count(1, 0.7);
    expect(nuc[0]!).toBeCloseTo(0.625, 1);
    expect(nuc[2]! + nuc[3]!).toBe(0);
    expect(sampleToken([0, 2, 2, 1], 0, 4, 0, 1, rand)).toBe(1);
  });
});
