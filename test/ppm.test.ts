// The process preference model: scores, padding-independent batching, the backbone copy from a policy,
// the pairwise loss, and PPM training end to end on corrupted-step pairs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, type GPTConfig } from '../src/model/gpt.ts';
import { DEFAULT_MODEL, Tokenizer } from '../src/model/tokenizer.ts';
import { readTensorFile, saveCheckpoint } from '../src/model/checkpoint.ts';
import { loadPolicyAny } from '../src/model/load.ts';
import { lastStepStart, PPM, PPM_HEAD_A, PPM_HEAD_B, PPM_HEAD_V, PPM_HEAD_W } from '../src/model/ppm.ts';
import { MARK, promptFor, serializeStep } from '../src/data/steps.ts';
import { corruptionPairs } from '../src/train/pairs.ts';
import { encodePairs, encodePairsFor, pairAccuracy, splitPairs, trainPPM } from '../src/train/ppm.ts';
import { checkPromptNumbers, loadPPM, ppmOptions } from '../src/model/load.ts';
import { trainPPMs } from '../src/train/ppm-seeds.ts';

let tok: Tokenizer;
let cfg: GPTConfig;
let root: string;

beforeAll(async () => {
  await setupBackend('wasm');
  tok = await Tokenizer.load();
  cfg = { vocabSize: tok.vocabSize, blockSize: 128, nLayer: 1, nHead: 2, nEmbd: 32 };
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-ppm-'));
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function randomSeqs(lens: number[], seed: number): number[][] {
  let s = seed;
  return lens.map((n) => Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648), 9 + (s % (cfg.vocabSize - 9)))));
}

/** A PPM whose head is large enough that scores spread over (-1, 1). */
function ppmWithHead(seed: number): PPM {
  const ppm = new PPM(new GPT({ ...cfg, seed }), seed);
  ppm.headW.assign(tf.mul(ppm.headW, 40));
  ppm.headB.assign(tf.tensor1d([0.1]));
  return ppm;
}

/** Hidden state of the last token of one unpadded sequence. */
function lastHidden(lm: { hidden: PPM['backbone']['hidden'] }, seq: number[]): Float32Array {
  return tf.tidy(() => {
    const h = lm.hidden(tf.tensor2d([seq], [1, seq.length], 'int32'));
    return tf.slice(h, [0, seq.length - 1, 0], [1, 1, h.shape[2]]).dataSync() as Float32Array;
  });
}

describe('PPM scores', () => {
  it('are tanh(w·h_last + b), in (-1, 1)', async () => {
    const ppm = ppmWithHead(3);
    const seqs = randomSeqs([5, 17, 1, 40, 23, 8], 1);
    const got = await ppm.score(seqs);
    const w = ppm.headW.dataSync();
    const b = ppm.headB.dataSync()[0]!;
    seqs.forEach((s, i) => {
      const h = lastHidden(ppm.backbone, s);
      const z = h.reduce((acc, x, d) => acc + x * w[d]!, b);
      expect(got[i]).toBeCloseTo(Math.tanh(z), 5);
      expect(got[i]).toBeGreaterThan(-1);
      expect(got[i]).toBeLessThan(1);
    });
    // the scores differ by sequence (the test above compares something)
    expect(new Set(got.map((x) => x.toFixed(4))).size).toBeGreaterThan(3);
    ppm.dispose();
  });

  it('scoring many sequences of different lengths equals scoring each alone (padding, last-token gather)', async () => {
    const ppm = ppmWithHead(4);
    const lens = [3, 30, 1, 12, 30, 7, 64, 2, 19, 45];
    const seqs = randomSeqs(lens, 2);
    const alone = [];
    for (const s of seqs) alone.push((await ppm.score([s]))[0]!);
    for (const budget of [4096, 100]) {
      // one padded batch, and many small ones (the order the rows come back in matters too)
      const together = await ppm.score(seqs, { batchTokens: budget });
      for (let i = 0; i < seqs.length; i++) expect(Math.abs(together[i]! - alone[i]!), `row ${i} (len ${lens[i]}), budget ${budget}`).toBeLessThanOrEqual(1e-5);
    }
    // the differentiable path used in training: right-padded [B,T] + lengths
    const T = 64;
    const ids = new Int32Array(seqs.length * T);
    seqs.forEach((s, i) => ids.set(s, i * T));
    const t = tf.tensor2d(ids, [seqs.length, T], 'int32');
    const padded = ppm.scores(t, lens).dataSync();
    t.dispose();
    for (let i = 0; i < seqs.length; i++) expect(Math.abs(padded[i]! - alone[i]!)).toBeLessThanOrEqual(1e-5);
    ppm.dispose();
  });

  it('refuses a sequence longer than the context', async () => {
    const ppm = ppmWithHead(5);
    await expect(ppm.score(randomSeqs([cfg.blockSize + 1], 3))).rejects.toThrow(/context/);
    ppm.dispose();
  });
});

describe('PPM from a policy checkpoint', () => {
  it('copies the backbone: identical hidden states; a saved PPM loads back with identical scores', async () => {
    const dir = path.join(root, 'policy');
    const lm = new GPT({ ...cfg, seed: 21 });
    await saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
    const p = await loadPolicyAny(dir);
    const ppm = new PPM(p.lm, 8);
    const seqs = randomSeqs([9, 33], 4);
    for (const s of seqs) {
      const ids = tf.tensor2d([s], [1, s.length], 'int32');
      const a = lm.hidden(ids).dataSync();
      const b = ppm.backbone.hidden(ids).dataSync();
      expect(Array.from(b)).toEqual(Array.from(a));
      ids.dispose();
    }
    expect([...ppm.namedWeights().keys()]).toEqual([...lm.namedWeights().keys(), PPM_HEAD_W, PPM_HEAD_B]);
    ppm.headW.assign(tf.mul(ppm.headW, 30));
    const ppmDir = path.join(root, 'ppm');
    await saveCheckpoint(ppmDir, ppm.backbone, { kind: 'ppm', tokenizerFile: p.tokenizerFile, tokenizerSha256: tok.sha256, promptNumbers: 'values', extra: ppm.headWeights() });
    const loaded = await loadPPM(ppmDir);
    expect(loaded.tokenizer.sha256).toBe(tok.sha256);
    expect(await loaded.ppm.score(seqs)).toEqual(await ppm.score(seqs));
    loaded.ppm.dispose();
    ppm.dispose();
    lm.dispose();
  });
});

describe('pair loss', () => {
  it('equals -mean log sigmoid(r+ - r-) computed by hand, and counts r+ > r-', async () => {
    const ppm = ppmWithHead(6);
    const pos = randomSeqs([6, 14, 3, 22, 9], 5);
    const neg = randomSeqs([11, 4, 3, 18, 25], 6);
    const rp = await ppm.score(pos);
    const rn = await ppm.score(neg);
    const want = rp.reduce((acc, r, i) => acc - Math.log(1 / (1 + Math.exp(-(r - rn[i]!)))), 0) / rp.length;
    const pad = (xs: number[][]) => {
      const T = Math.max(...xs.map((s) => s.length));
      const a = new Int32Array(xs.length * T);
      xs.forEach((s, i) => a.set(s, i * T));
      return tf.tensor2d(a, [xs.length, T], 'int32');
    };
    const P = pad(pos);
    const N = pad(neg);
    const { loss, correct } = ppm.pairLoss(P, pos.map((s) => s.length), N, neg.map((s) => s.length));
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
    expect(correct.dataSync()[0]).toBe(rp.filter((r, i) => r > rn[i]!).length);
    // the scores are spread: the loss is not the trivial log 2
    expect(Math.abs(want - Math.log(2))).toBeGreaterThan(1e-3);
    for (const t of [P, N, loss, correct]) t.dispose();
    ppm.dispose();
  });
});

describe('trainPPM', () => {
  it('raises held-out pair accuracy on corrupted-step pairs and keeps the best PPM in best/', async () => {
    const policy = path.join(root, 'init-policy');
    const lm = new GPT({ ...cfg, seed: 31 });
    await saveCheckpoint(policy, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
    lm.dispose();
    // bootstrap-like trajectories whose code has exactly one thing to corrupt, the operator. Whether
    // + or - is right depends on the question ("gets more" / "gives away"), so no ranking of operators
    // alone gets every pair right: the PPM has to read the question
    const trajs = Array.from({ length: 80 }, (_, i) => {
      const more = i % 2 === 0;
      const who = ['Mia', 'Leo', 'Ava', 'Sam', 'Zoe'][i % 5]!;
      return {
        problemId: `p${i}`,
        question: more ? `${who} has ${9 + (i % 17)} pens and gets ${2 + (i % 5)} more. How many pens now?` : `${who} has ${9 + (i % 17)} pens and gives away ${2 + (i % 5)}. How many pens now?`,
        steps: [
          serializeStep({ comment: ['The answer.'], code: `print(pens ${more ? '+' : '-'} extra);` }, true),
        ],
      };
    });
    const pairs = corruptionPairs(trajs, { seed: 1, numbers: 'values' });
    expect(pairs.length).toBe(trajs.length);
    const { train, dev } = splitPairs(pairs, 0.25, 3);
    expect(dev.length).toBeGreaterThan(5);
    expect(train.length).toBeGreaterThan(30);
    const out = path.join(root, 'ppm-train');
    // the hidden-state readout alone must learn this (the likelihood input is tested below)
    const r = await trainPPM(train, dev, { init: policy, out, steps: 30, evalEvery: 10, batchPairs: 16, lr: 1e-2, seed: 2, quiet: true, loglik: false });
    expect(r.train).toBe(train.length);
    expect(r.dev).toBe(dev.length);
    expect(r.steps).toBe(30);
    expect(r.bestMetric).toBeGreaterThanOrEqual(r.firstMetric + 0.2);
    expect(r.bestMetric).toBeGreaterThanOrEqual(0.75);
    // and the held-out pair loss fell from log 2 (scores start near 0)
    const evals = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.kind === 'eval');
    expect(evals.map((m) => m.step)).toEqual([0, 10, 20, 30]);
    expect(evals[0].devLoss).toBeCloseTo(Math.log(2), 2);
    expect(evals.at(-1).devLoss).toBeLessThan(evals[0].devLoss - 0.2);
    // best/ is a PPM checkpoint whose held-out accuracy is bestMetric
    const best = await loadPPM(r.bestDir);
    const acc = await pairAccuracy(best.ppm, await encodePairsFor(best.ppm, best.tokenizer, dev));
    expect(acc.accuracy).toBeCloseTo(r.bestMetric, 6);
    // it keeps its policy's prompt style (a checkpoint without the field: 'values'), and refuses a
    // policy trained on the other
    expect(best.promptNumbers).toBe('values');
    expect(() => checkPromptNumbers({ spec: 'p', promptNumbers: 'values' }, best)).not.toThrow();
    expect(() => checkPromptNumbers({ spec: 'p', promptNumbers: 'names' }, best)).toThrow(/PPM trained on prompts with numbers as "values", policy p on "names"/);
    best.ppm.dispose();
  });
});

/** An untrained policy checkpoint under root. */
async function newPolicy(name: string, seed: number): Promise<string> {
  const dir = path.join(root, name);
  const lm = new GPT({ ...cfg, seed });
  await saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
  lm.dispose();
  return dir;
}

/** Corrupted-step pairs of n one-step addition problems, split 3:1. */
function additionPairs(n: number, seed: number) {
  const trajs = Array.from({ length: n }, (_, i) => ({
    problemId: `q${i}`,
    question: `Tom has ${3 + (i % 7)} apples and gets ${2 + (i % 4)} more. How many apples?`,
    steps: [serializeStep({ comment: ['Total.'], code: 'print(n0 + n1);' }, true)],
  }));
  return splitPairs(corruptionPairs(trajs, { seed, numbers: 'values' }), 0.25, 3);
}

describe('PPM likelihood input', () => {
  it('finds where the last step starts', () => {
    const B = new Set([7, 9]); // 7 = <solution>, 9 = <end_of_step>; 5 = newline
    // q q <solution> \n a a <eos> \n b b b <eos> \n  → the last step is "b b b <eos> \n" at 8
    const ids = [1, 2, 7, 5, 3, 3, 9, 5, 4, 4, 4, 9, 5];
    expect(lastStepStart(ids, ids.length, B, 5)).toBe(8);
    // the first step starts after "<solution>\n"
    expect(lastStepStart(ids, 8, B, 5)).toBe(4);
    // no newline after the boundary
    expect(lastStepStart([1, 7, 3, 3, 9], 5, B, 5)).toBe(2);
    // no boundary at all: everything after the first token
    expect(lastStepStart([1, 2, 3, 4], 4, B, 5)).toBe(1);
  });

  it('scores tanh(w·h_last + a·ℓ + b), ℓ = mean log p of the last step\'s tokens under the backbone', async () => {
    const lm = new GPT({ ...cfg, seed: 12 });
    const ppm = new PPM(lm, 5, ppmOptions(tok, true));
    expect(ppm.usesLoglik).toBe(true);
    ppm.headW.assign(tf.mul(ppm.headW, 20));
    const texts = [
      promptFor('Ann has 3 cats and 4 dogs. How many pets?', 'values') + serializeStep({ comment: ['Pets.'], code: 'const r1 = n0 + n1;' }, false),
      promptFor('Ann has 3 cats.', 'values') + serializeStep({ comment: ['a'], code: 'const r1 = n0;' }, false) + serializeStep({ comment: ['b'], code: 'print(r1 * 2);' }, true),
    ];
    const seqs = texts.map((t) => tok.encode(t));
    const got = await ppm.score(seqs);
    const w = ppm.headW.dataSync();
    const [a] = ppm.headA!.dataSync();
    const [b] = ppm.headB.dataSync();
    const boundary = new Set([tok.pieceId(MARK.solution), tok.pieceId(MARK.endStep)]);
    seqs.forEach((seq, i) => {
      const n = seq.length;
      const start = lastStepStart(seq, n, boundary, tok.pieceId('\n'));
      expect(start).toBeGreaterThan(5);
      const logits = tf.tidy(() => tf.logSoftmax(lm.logits(tf.tensor2d([seq], [1, n], 'int32'))).dataSync());
      const V = cfg.vocabSize;
      let ll = 0;
      for (let t = start - 1; t < n - 1; t++) ll += logits[t * V + seq[t + 1]!]!;
      ll /= n - start;
      const h = lastHidden(lm, seq);
      let z = b! + a! * ll;
      for (let j = 0; j < h.length; j++) z += h[j]! * w[j]!;
      expect(got[i]).toBeCloseTo(Math.tanh(z), 4);
    });
    ppm.dispose();
  });

  it('a zero head and no steps (train-ppm --head-init 0 --steps 0) leaves the policy\'s own likelihood: tanh(2ℓ + 0.5)', async () => {
    // (the score's formula is the test above; here: what such a checkpoint holds)
    const policy = path.join(root, 'init-policy-zero');
    const lm = new GPT({ ...cfg, seed: 43 });
    await saveCheckpoint(policy, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
    lm.dispose();
    const trajs = Array.from({ length: 12 }, (_, i) => ({ problemId: `z${i}`, question: `Tom has ${3 + i} apples and gets 2 more. How many apples?`, steps: [serializeStep({ comment: ['Total.'], code: 'print(n0 + n1);' }, true)] }));
    const { train, dev } = splitPairs(corruptionPairs(trajs, { seed: 1, numbers: 'values' }), 0.25, 3);
    const head = async (out: string, headInitStd?: number) => {
      const r = await trainPPM(train, dev, { init: policy, out: path.join(root, out), steps: 0, seed: 2, quiet: true, headInitStd });
      const { ppm } = await loadPPM(r.bestDir);
      const h = Object.fromEntries([...ppm.headWeights()].map(([k, v]) => [k, [...v.dataSync()]]));
      ppm.dispose();
      return h;
    };
    const zero = await head('ppm-zero', 0);
    expect(zero[PPM_HEAD_W]!.every((x) => x === 0)).toBe(true);
    expect(zero[PPM_HEAD_A]).toEqual([2]);
    expect(zero[PPM_HEAD_B]).toEqual([0.5]);
    expect(zero[PPM_HEAD_V]!.every((x) => x === 0)).toBe(true);
    // the default head reads the hidden state from the start
    const def = await head('ppm-default-head');
    expect(def[PPM_HEAD_W]!.some((x) => x !== 0)).toBe(true);
  });

  it('trains by default, and its checkpoint keeps the likelihood weight; older PPMs load without it', async () => {
    const policy = await newPolicy('init-policy-ll', 41);
    const { train, dev } = additionPairs(40, 1);
    const out = path.join(root, 'ppm-train-ll');
    const r = await trainPPM(train, dev, { init: policy, out, steps: 6, evalEvery: 3, batchPairs: 8, lr: 1e-3, seed: 2, quiet: true });
    const best = await loadPPM(r.bestDir);
    expect(best.ppm.usesLoglik).toBe(true);
    const stored = JSON.parse(fs.readFileSync(path.join(r.bestDir, 'weights.json'), 'utf8'));
    expect(JSON.stringify(stored)).toContain(PPM_HEAD_A);
    const acc = await pairAccuracy(best.ppm, await encodePairsFor(best.ppm, best.tokenizer, dev));
    expect(acc.accuracy).toBeCloseTo(r.bestMetric, 6);
    best.ppm.dispose();
    // a PPM checkpoint as init is continued, head included (a policy's would get a new head, bias 0)
    const marked = path.join(root, 'ppm-marked');
    const m = await loadPPM(r.bestDir);
    m.ppm.headWeights().get(PPM_HEAD_B)!.assign(tf.tensor1d([0.7]));
    await saveCheckpoint(marked, m.ppm.backbone, { kind: 'ppm', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values', extra: m.ppm.headWeights() });
    m.ppm.dispose();
    const cont = await trainPPM(train, dev, { init: marked, out: path.join(root, 'ppm-continued'), steps: 1, evalEvery: 1, batchPairs: 8, lr: 1e-3, seed: 5, quiet: true });
    const bias = readTensorFile(path.join(path.dirname(cont.bestDir), 'last'), 'weights').get(PPM_HEAD_B)!.data[0]!;
    expect(Math.abs(bias - 0.7)).toBeLessThan(0.01);
    // a PPM saved without the likelihood weight scores from the hidden state alone
    const plainDir = path.join(root, 'plain-ppm');
    const plain = new PPM(new GPT({ ...cfg, seed: 42 }), 3);
    await saveCheckpoint(plainDir, plain.backbone, { kind: 'ppm', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values', extra: plain.headWeights() });
    const back = await loadPPM(plainDir);
    expect(back.ppm.usesLoglik).toBe(false);
    const seq = [tok.encode(promptFor('x', 'values') + serializeStep({ comment: ['c'], code: 'print(1);' }, true))[0]!];
    expect(await back.ppm.score([seq])).toEqual(await plain.score([seq]));
    back.ppm.dispose();
    plain.dispose();
  });

  it('trains several seeds in worker threads, two at a time, with the weights each seed gets alone', async () => {
    const policy = await newPolicy('init-policy-seeds', 43);
    const { train, dev } = additionPairs(24, 4);
    const job = (seed: number, dir: string) => ({ init: policy, out: path.join(root, dir), steps: 3, evalEvery: 3, batchPairs: 8, lr: 1e-3, seed, quiet: true });
    const seeds = [7, 8, 9];
    const alone = await trainPPMs(train, dev, seeds.map((s) => job(s, `alone-${s}`)), { parallel: 1 });
    const threads = await trainPPMs(train, dev, seeds.map((s) => job(s, `threads-${s}`)), { parallel: 2 });
    expect(threads.map((r) => r.bestDir)).toEqual(seeds.map((s) => path.join(root, `threads-${s}`, 'best')));
    const weights = (dir: string) => [...readTensorFile(path.join(path.dirname(dir), 'last'), 'weights')].map(([k, t]) => [k, Array.from(t.data)]);
    for (let i = 0; i < seeds.length; i++) {
      expect(threads[i]!.lastMetric).toBe(alone[i]!.lastMetric);
      expect(weights(threads[i]!.bestDir)).toEqual(weights(alone[i]!.bestDir));
    }
    // the seeds differ (the comparison above could fail)
    expect(weights(alone[0]!.bestDir)).not.toEqual(weights(alone[1]!.bestDir));
    // a failing training rejects with its folder named
    await expect(trainPPMs(train, dev, [job(1, 'bad-a'), { ...job(2, 'bad-b'), init: path.join(root, 'no-such-policy') }], { parallel: 2 })).rejects.toThrow(/bad-b/);
  });
});
