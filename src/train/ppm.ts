// PPM training (`rstar train-ppm`): the PPM is initialised from a policy checkpoint (backbone copied,
// linear + tanh head new) and trained on preference pairs with L = -mean log sigmoid(r+ - r-), where
// r is the tanh score of prefix + step. Reports held-out pair accuracy (share of pairs with r+ > r-)
// and keeps the checkpoint with the best one.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PPM, PPM_HEAD_A, PPM_HEAD_V, valueFeatures, type ValueFeatures } from '../model/ppm.ts';
import { SandboxPool } from '../sandbox/sandbox.ts';
import { stepValues } from '../search/values.ts';
import { assignWeights, readCheckpointConfig, saveCheckpoint } from '../model/checkpoint.ts';
import { GPT } from '../model/gpt.ts';
import { loadPolicyAny, ppmOptions, type TokenizerLike } from '../model/load.ts';
import { hash32, mulberry32, shuffle } from '../util/rng.ts';
import { baseProblemId } from '../data/synth/distractors.ts';
import { runLoop, type LoopResult } from './loop.ts';
import { Progress } from '../util/progress.ts';
import type { PreferencePair } from './pairs.ts';

export interface EncodedPair {
  pos: number[];
  neg: number[];
  /** Features of each step's computed value (PPMs with the value input). */
  posV: ValueFeatures;
  negV: ValueFeatures;
}

export interface PairBatch {
  pos: tf.Tensor2D;
  posLen: number[];
  neg: tf.Tensor2D;
  negLen: number[];
  tokens: number;
  /** The padded ids on the host (the likelihood input finds each row's last step in them). */
  posHost: Int32Array;
  negHost: Int32Array;
  posValues: ValueFeatures[];
  negValues: ValueFeatures[];
}

/** Values of each pair's two steps (src/search/values.ts), computed in the sandbox. */
export async function pairValues(pairs: PreferencePair[], sandbox?: SandboxPool, quiet = true): Promise<{ pos: number | null; neg: number | null }[]> {
  const own = sandbox ? null : new SandboxPool({ workers: 1 });
  // tens of thousands of corruption pairs take minutes in the sandbox: chunks, so progress shows
  const chunk = 4096;
  const bar = quiet ? null : new Progress({ label: 'ppm step values', total: pairs.length, unit: 'pair' });
  try {
    const out: { pos: number | null; neg: number | null }[] = [];
    for (let at = 0; at < pairs.length; at += chunk) {
      const part = pairs.slice(at, at + chunk);
      const v = await stepValues((sandbox ?? own)!, part.flatMap((p) => [p.prefix + p.positive, p.prefix + p.negative]), part.flatMap((p) => [p.question, p.question]));
      part.forEach((_, i) => out.push({ pos: v[2 * i]!, neg: v[2 * i + 1]! }));
      bar?.tick(part.length);
    }
    return out;
  } finally {
    await own?.close();
  }
}

/** Token ids of each pair's two sequences (+ value features when `values` is given), dropping pairs longer than the context. */
export function encodePairs(tok: TokenizerLike, pairs: PreferencePair[], maxLen: number, values?: { pos: number | null; neg: number | null }[]): EncodedPair[] {
  const out: EncodedPair[] = [];
  pairs.forEach((p, i) => {
    const pre = tok.encode(p.prefix);
    const pos = [...pre, ...tok.encode(p.positive)];
    const neg = [...pre, ...tok.encode(p.negative)];
    const v = values?.[i];
    if (pos.length <= maxLen && neg.length <= maxLen) out.push({ pos, neg, posV: valueFeatures(v ? v.pos : null), negV: valueFeatures(v ? v.neg : null) });
  });
  return out;
}

/** encodePairs with the values a PPM needs (computed only if it reads them). */
export async function encodePairsFor(ppm: PPM, tok: TokenizerLike, pairs: PreferencePair[], sandbox?: SandboxPool, quiet = true): Promise<EncodedPair[]> {
  return encodePairs(tok, pairs, ppm.backbone.maxPositions, ppm.usesValues ? await pairValues(pairs, sandbox, quiet) : undefined);
}

function pad(seqs: number[][]): { t: tf.Tensor2D; host: Int32Array } {
  const T = Math.max(16, Math.ceil(Math.max(...seqs.map((s) => s.length)) / 16) * 16);
  const a = new Int32Array(seqs.length * T);
  seqs.forEach((s, i) => a.set(s, i * T));
  return { t: tf.tensor2d(a, [seqs.length, T], 'int32'), host: a };
}

export function makePairBatch(enc: EncodedPair[], rows: number[]): PairBatch {
  const pos = rows.map((r) => enc[r]!.pos);
  const neg = rows.map((r) => enc[r]!.neg);
  const p = pad(pos);
  const n = pad(neg);
  return {
    pos: p.t, posLen: pos.map((s) => s.length), posHost: p.host,
    neg: n.t, negLen: neg.map((s) => s.length), negHost: n.host,
    posValues: rows.map((r) => enc[r]!.posV), negValues: rows.map((r) => enc[r]!.negV),
    tokens: [...pos, ...neg].reduce((a, s) => a + s.length, 0),
  };
}

/** Held-out pair accuracy (r+ > r-) and mean loss. */
export async function pairAccuracy(ppm: PPM, enc: EncodedPair[], batch = 32): Promise<{ accuracy: number; loss: number }> {
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < enc.length; i += batch) {
    const rows = enc.slice(i, i + batch).map((_, j) => i + j);
    const b = makePairBatch(enc, rows);
    const r = ppm.pairLoss(b.pos, b.posLen, b.neg, b.negLen, { posHost: b.posHost, negHost: b.negHost, posValues: b.posValues, negValues: b.negValues });
    correct += (await r.correct.data())[0]!;
    loss += (await r.loss.data())[0]! * rows.length;
    r.loss.dispose();
    r.correct.dispose();
    b.pos.dispose();
    b.neg.dispose();
  }
  return { accuracy: enc.length ? correct / enc.length : NaN, loss: enc.length ? loss / enc.length : NaN };
}

/** Split pairs by problem (a problem's pairs are all train or all held-out): no leakage via shared prefixes. */
export function splitPairs(pairs: PreferencePair[], frac = 0.1, seed = 99): { train: PreferencePair[]; dev: PreferencePair[] } {
  const train: PreferencePair[] = [];
  const dev: PreferencePair[] = [];
  // a distractor variant (synth.ts) goes with its original: held out together or not at all
  for (const p of pairs) ((hash32(baseProblemId(p.problemId), seed) / 2 ** 32) < frac ? dev : train).push(p);
  return { train, dev };
}

export interface TrainPPMOptions {
  /** Policy checkpoint (or hf:<folder>) the PPM's backbone is copied from; a PPM checkpoint is
   *  continued, its head too. */
  init: string;
  out: string;
  steps: number;
  batchPairs?: number;
  lr?: number;
  evalEvery?: number;
  seed?: number;
  resume?: boolean;
  quiet?: boolean;
  meta?: Record<string, unknown>;
  /** Tokenizer for an hf: folder that has none. */
  tokenizer?: string;
  /** Train the linear head only; the backbone keeps the policy's weights (default false). */
  freezeBackbone?: boolean;
  /** Std of the head's N(0, std) init (default 0.02, the PPM's own); 0 = zeros. */
  headInitStd?: number;
  /** Dropout of a GPT backbone while training (default: the checkpoint's, 0 for ours). */
  dropout?: number;
  /** AdamW decoupled weight decay (default 0.01). */
  weightDecay?: number;
  /** Floor of the cosine schedule (default lr / 10). */
  minLr?: number;
  /** The step log-likelihood input (src/model/ppm.ts; default true). */
  loglik?: boolean;
  /** The step-value input (src/search/values.ts; default true). */
  values?: boolean;
  /** Peak learning rate of the value weights (default VALUE_LR), on the same schedule. */
  valueLr?: number;
}

/** Three scalars learned from a few hundred pairs: at the backbone's lr (1.5e-4 over 100 steps) they
 * could move by about 0.015 in all (Adam's step is about lr per step), so they have their own. */
export const VALUE_LR = 0.15;

export interface TrainPPMResult extends LoopResult {
  bestDir: string;
  train: number;
  dev: number;
}

export async function trainPPM(train: PreferencePair[], dev: PreferencePair[], o: TrainPPMOptions): Promise<TrainPPMResult> {
  const seed = o.seed ?? 1234;
  const p = await loadPolicyAny(o.init, { allowPPM: true, tokenizer: o.tokenizer });
  const ppm = new PPM(p.lm, seed, ppmOptions(p.tokenizer, o.loglik ?? true, o.values ?? true));
  if (!o.init.startsWith('hf:') && readCheckpointConfig(o.init).kind === 'ppm') {
    // a PPM from before an input existed leaves that input's weight at its init
    assignWeights(o.init, ppm.headWeights(), undefined, [PPM_HEAD_A, PPM_HEAD_V]);
  } else if (o.headInitStd !== undefined && o.headInitStd !== 0.02) {
    const std = o.headInitStd;
    tf.tidy(() => ppm.headW.assign(std > 0 ? tf.randomNormal([ppm.hiddenSize, 1], 0, std, 'float32', seed) : tf.zeros([ppm.hiddenSize, 1])));
  }
  // no dropout unless asked: a policy checkpoint carries its SFT rate, which is not the PPM's
  if (p.lm instanceof GPT) p.lm.setDropout(o.dropout ?? 0);
  else if (o.dropout) throw new Error(`train-ppm: dropout is not supported for ${p.lm.config.arch} backbones`);
  // one sandbox for the values of both splits
  const sandbox = ppm.usesValues ? new SandboxPool({ workers: 1 }) : undefined;
  let tr: EncodedPair[];
  let dv: EncodedPair[];
  try {
    tr = await encodePairsFor(ppm, p.tokenizer, train, sandbox, o.quiet);
    dv = await encodePairsFor(ppm, p.tokenizer, dev, sandbox, o.quiet);
  } finally {
    await sandbox?.close();
  }
  if (!tr.length) throw new Error('train-ppm: no training pair fits the context');
  const B = o.batchPairs ?? 16;
  const perEpoch = Math.ceil(tr.length / B);
  const params = o.freezeBackbone ? ppm.headWeights() : ppm.namedWeights();
  const batchRows = (step: number) => {
    const e = Math.floor(step / perEpoch);
    const order = shuffle(tr.map((_, i) => i), mulberry32(hash32(`ppm-epoch${e}`, seed)));
    const k = step % perEpoch;
    return order.slice(k * B, k * B + B);
  };
  const res = await runLoop<PairBatch>(
    {
      out: o.out, steps: o.steps, lr: o.lr ?? 5e-4, evalEvery: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)),
      resume: o.resume, label: 'train-ppm', higherIsBetter: true, quiet: o.quiet, weightDecay: o.weightDecay ?? 0.01, minLr: o.minLr,
      lrScale: { [PPM_HEAD_V]: (o.valueLr ?? VALUE_LR) / (o.lr ?? 5e-4) },
    },
    {
      params,
      batch: (step) => makePairBatch(tr, batchRows(step)),
      tokens: (b) => b.tokens,
      dispose: (b) => { b.pos.dispose(); b.neg.dispose(); },
      loss: (b) => {
        const r = ppm.pairLoss(b.pos, b.posLen, b.neg, b.negLen, { training: true, posHost: b.posHost, negHost: b.negHost, posValues: b.posValues, negValues: b.negValues });
        r.correct.dispose();
        return r.loss;
      },
      evaluate: async () => {
        const r = await pairAccuracy(ppm, dv);
        return { metric: r.accuracy, devLoss: r.loss };
      },
      save: (dir, meta, optimizer) =>
        saveCheckpoint(dir, p.lm, {
          kind: 'ppm', tokenizerFile: p.tokenizerFile, tokenizerSha256: p.tokenizer.sha256, promptNumbers: p.promptNumbers,
          extra: ppm.headWeights(), meta: { init: o.init, ...o.meta, ...meta }, optimizer,
        }),
      restore: async (dir) => assignWeights(dir, params),
    },
  );
  ppm.dispose();
  return { ...res, bestDir: path.join(o.out, 'best'), train: tr.length, dev: dv.length };
}
