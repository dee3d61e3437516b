// The PPM's value input: the value a step computes (src/search/values.ts), its features, the head's
// u·φ term, per-parameter learning-rate scale, and PPM training that learns the weights from pairs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, type GPTConfig } from '../src/model/gpt.ts';
import { DEFAULT_MODEL, Tokenizer } from '../src/model/tokenizer.ts';
import { saveCheckpoint } from '../src/model/checkpoint.ts';
import { PPM, PPM_HEAD_V, valueFeatures } from '../src/model/ppm.ts';
import { numberPrelude, programOf, promptFor, serializeStep } from '../src/data/steps.ts';
import { loadDataset } from '../src/data/datasets.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { stepValues, valueProgram } from '../src/search/values.ts';
import { PPMScorer } from '../src/search/policy.ts';
import { AdamW } from '../src/train/optim.ts';
import { splitPairs, trainPPM } from '../src/train/ppm.ts';
import { loadPPM, ppmOptions } from '../src/model/load.ts';
import type { PreferencePair } from '../src/train/pairs.ts';

let tok: Tokenizer;
let cfg: GPTConfig;
let root: string;
let sandbox: SandboxPool;

beforeAll(async () => {
  await setupBackend('wasm');
  tok = await Tokenizer.load();
  cfg = { vocabSize: tok.vocabSize, blockSize: 128, nLayer: 1, nHead: 2, nEmbd: 32 };
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-values-'));
  sandbox = new SandboxPool({ workers: 1 });
});

afterAll(async () => {
  await sandbox?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const step = (code: string, terminal = /print\(/.test(code)) => serializeStep({ comment: ['c'], code }, terminal);

describe('step values', () => {
  it('features: negative, not an integer, none', () => {
    expect(valueFeatures(12)).toEqual([0, 0, 0]);
    expect(valueFeatures(-3)).toEqual([1, 0, 0]);
    expect(valueFeatures(-0.5)).toEqual([1, 1, 0]);
    expect(valueFeatures(2.25)).toEqual([0, 1, 0]);
    expect(valueFeatures(0.1 + 0.2 - 0.3)).toEqual([0, 0, 0]);
    expect(valueFeatures(null)).toEqual([0, 0, 1]);
    expect(valueFeatures(Infinity)).toEqual([0, 0, 1]);
  });

  it('the program from prompt text has the same prelude MCTS runs, for every MAWPS/ASDiv-A question', () => {
    let withNumbers = 0;
    for (const p of loadDataset('mawps')) {
      const prog = valueProgram(promptFor(p.question, 'values') + step('print(1);'));
      expect(prog).toEqual(programOf(p.question, ['print(1);']));
      if (numberPrelude(p.question)) withNumbers++;
    }
    expect(withNumbers).toBeGreaterThan(3000);
  });

  it('runs the trajectory: a terminal step\'s printed number, another step\'s last binding; null otherwise', async () => {
    const q = promptFor('Ann has 15 pears and gives 9 away. Later she buys 2.5 more.', 'values');
    const one = q + step('const r1 = n1 - n0;');
    const texts = [
      one,
      one + step('let big = r1 * 2;\nconst r2 = r1 + n2;'), // the last binding of the step, not the first
      one + step('print(-r1 / 4);'),
      q + step('function f(x) { return x; }'), // binds nothing
      q + step('const s = "abc";'), // not a number
      q + step('const r1 = missing + 1;'), // fails
      q + step('print("done");'),
      q + step('// const fake = 3;\nconst real = n0 * 2;'),
      'no markers at all',
    ];
    expect(await stepValues(sandbox, texts)).toEqual([-6, -3.5, 1.5, null, null, null, null, 30, null]);
  });

  it('takes the numbers\' values from the question when given, so a prompt need not spell them', async () => {
    const question = 'Ann has 15 pears and gives 9 away.';
    // a prompt naming the numbers without their values (`n0`, not `n0=15`)
    const masked = promptFor(question, 'values').replace(/(?<![\w.])(n\d+)=\d+/g, '$1');
    expect(masked).not.toMatch(/15|9/);
    const texts = [masked + step('const r1 = n0 - n1;'), promptFor(question, 'values') + step('print(n1 * 2);')];
    expect(valueProgram(texts[0]!)).toEqual(['const r1 = n0 - n1;', 'print(r1);']); // no prelude: n0 undefined
    expect(valueProgram(texts[0]!, question)).toEqual(programOf(question, ['const r1 = n0 - n1;', 'print(r1);']));
    expect(await stepValues(sandbox, texts)).toEqual([null, 18]);
    expect(await stepValues(sandbox, texts, [question, question])).toEqual([6, 18]);
    await expect(stepValues(sandbox, texts, [question])).rejects.toThrow(/2 texts but 1 questions/);
  });
});

describe('PPM value input', () => {
  it('scores tanh(w·h + u·φ + b) and insists on values', async () => {
    const ppm = new PPM(new GPT({ ...cfg, seed: 3 }), 1, ppmOptions(tok, false, true));
    expect(ppm.usesValues).toBe(true);
    expect(ppm.usesLoglik).toBe(false);
    ppm.headW.assign(tf.zeros(ppm.headW.shape));
    ppm.headB.assign(tf.tensor1d([0.25]));
    ppm.headV!.assign(tf.tensor2d([[-2], [0.5], [1]]));
    const seq = tok.encode(promptFor('x 1', 'values') + step('print(n0);'));
    const got = await ppm.score([seq, seq, seq], { values: [[0, 0, 0], [1, 1, 0], [0, 1, 1]] });
    expect(got[0]).toBeCloseTo(Math.tanh(0.25), 6);
    expect(got[1]).toBeCloseTo(Math.tanh(0.25 - 2 + 0.5), 6);
    expect(got[2]).toBeCloseTo(Math.tanh(0.25 + 0.5 + 1), 6);
    await expect(ppm.score([seq])).rejects.toThrow(/values/);
    // the scorer computes the values itself, from the same text, in the sandbox
    expect(() => new PPMScorer(ppm, tok)).toThrow(/sandbox/);
    const scorer = new PPMScorer(ppm, tok, sandbox);
    const texts = [promptFor('Ann has 4 cats and 9 dogs.', 'values') + step('print(n0 - n1);'), promptFor('Ann has 4 cats and 9 dogs.', 'values') + step('print(n0 + n1);')];
    const s = await scorer.score(texts);
    expect(s[0]).toBeCloseTo(Math.tanh(0.25 - 2), 6);
    expect(s[1]).toBeCloseTo(Math.tanh(0.25), 6);
    // with the question beside it, a prompt without the values scores the same
    const unspelled = texts.map((t) => t.replace(/(?<![\w.])(n\d+)=\d+/g, '$1'));
    const s2 = await scorer.score(unspelled, unspelled.map(() => 'Ann has 4 cats and 9 dogs.'));
    expect(s2[0]).toBeCloseTo(Math.tanh(0.25 - 2), 6);
    expect(s2[1]).toBeCloseTo(Math.tanh(0.25), 6);
    ppm.dispose();
  });

  it('AdamW lrScale moves a parameter that many times further', () => {
    const a = tf.variable(tf.tensor1d([1]));
    const b = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW(new Map([['a', a], ['b', b]]), { lr: 0.01, weightDecay: 0, clip: 0, lrScale: { b: 50 } });
    opt.apply(new Map([['a', tf.tensor1d([3])], ['b', tf.tensor1d([3])]]));
    // first Adam step: exactly lr·sign(g) (up to eps)
    expect(1 - a.dataSync()[0]!).toBeCloseTo(0.01, 5);
    expect(1 - b.dataSync()[0]!).toBeCloseTo(0.5, 4);
    opt.dispose();
  });

  it('training learns the value weights from pairs that differ only in their values; the checkpoint keeps them', async () => {
    const policy = path.join(root, 'policy');
    const lm = new GPT({ ...cfg, seed: 8 });
    await saveCheckpoint(policy, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values' });
    lm.dispose();
    // the same two texts win and lose: only the sandbox values tell the winner (the positive number),
    // and the texts do not spell the numbers
    const pairs: PreferencePair[] = Array.from({ length: 48 }, (_, i) => {
      const big = 20 + i;
      const small = 3 + (i % 7);
      const swap = i % 2 === 0;
      const [x, y] = swap ? [small, big] : [big, small];
      const question = `Ann has ${x} pens and Bob has ${y}. How many more?`;
      return {
        problemId: `p${i}`,
        question,
        // the prompt names the numbers without their values: those come from the question column
        prefix: promptFor(question, 'values').replace(/(?<![\w.])(n\d+)=\d+/g, '$1'),
        positive: step(swap ? 'print(n1 - n0);' : 'print(n0 - n1);'),
        negative: step(swap ? 'print(n0 - n1);' : 'print(n1 - n0);'),
        qPos: 1, qNeg: -1, round: 1,
      };
    });
    const { train, dev } = splitPairs(pairs, 0.25, 5);
    const r = await trainPPM(train, dev, { init: policy, out: path.join(root, 'ppm'), steps: 12, evalEvery: 6, batchPairs: 8, lr: 1e-4, seed: 1, quiet: true, loglik: false });
    expect(r.bestMetric).toBe(1);
    const best = await loadPPM(r.bestDir);
    expect(best.ppm.usesValues).toBe(true);
    expect(JSON.stringify(JSON.parse(fs.readFileSync(path.join(r.bestDir, 'weights.json'), 'utf8')))).toContain(PPM_HEAD_V);
    const [uNeg] = best.ppm.headV!.dataSync();
    expect(uNeg).toBeLessThan(-0.3);
    best.ppm.dispose();
  });
});
