// PPM training (`rstar train-ppm`): the PPM is initialised from a policy checkpoint (backbone copied,
// linear + tanh head new) and trained on preference pairs with L = -mean log sigmoid(r+ - r-), where
// r is the tanh score of prefix + step. Reports held-out pair accuracy (share of pairs with r+ > r-)
// and keeps the checkpoint with the best one.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PPM } from '../model/ppm.ts';
import { assignWeights, readCheckpointConfig, readTensorFile, saveCheckpoint, buildLM, CheckpointError } from '../model/checkpoint.ts';
import { loadPolicyAny, loadTokenizer, type TokenizerLike } from '../model/load.ts';
import { hash32, mulberry32, shuffle } from '../util/rng.ts';
import { runLoop, type LoopResult } from './loop.ts';
import type { PreferencePair } from './pairs.ts';

export interface EncodedPair {
  pos: number[];
  neg: number[];
}

export interface PairBatch {
  pos: tf.Tensor2D;
  posLen: number[];
  neg: tf.Tensor2D;
  negLen: number[];
  tokens: number;
}

export function encodePairs(tok: TokenizerLike, pairs: PreferencePair[], maxLen: number): EncodedPair[] {
  const out: EncodedPair[] = [];
  for (const p of pairs) {
    const pre = tok.encode(p.prefix);
    const pos = [...pre, ...tok.encode(p.positive)];
    const neg = [...pre, ...tok.encode(p.negative)];
    if (pos.length <= maxLen && neg.length <= maxLen) out.push({ pos, neg });
  }
  return out;
}

function pad(seqs: number[][]): tf.Tensor2D {
  const T = Math.max(16, Math.ceil(Math.max(...seqs.map((s) => s.length)) / 16) * 16);
  const a = new Int32Array(seqs.length * T);
  seqs.forEach((s, i) => a.set(s, i * T));
  return tf.tensor2d(a, [seqs.length, T], 'int32');
}

export function makePairBatch(enc: EncodedPair[], rows: number[]): PairBatch {
  const pos = rows.map((r) => enc[r]!.pos);
  const neg = rows.map((r) => enc[r]!.neg);
  return {
    pos: pad(pos), posLen: pos.map((s) => s.length),
    neg: pad(neg), negLen: neg.map((s) => s.length),
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
    const r = ppm.pairLoss(b.pos, b.posLen, b.neg, b.negLen);
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
  for (const p of pairs) ((hash32(p.problemId, seed) / 2 ** 32) < frac ? dev : train).push(p);
  return { train, dev };
}

export interface TrainPPMOptions {
  /** Policy checkpoint (or hf:<folder>) the PPM's backbone is copied from. */
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
}

export interface TrainPPMResult extends LoopResult {
  bestDir: string;
  train: number;
  dev: number;
}

export async function trainPPM(train: PreferencePair[], dev: PreferencePair[], o: TrainPPMOptions): Promise<TrainPPMResult> {
  const seed = o.seed ?? 1234;
  const p = await loadPolicyAny(o.init, { allowPPM: true, tokenizer: o.tokenizer });
  const ppm = new PPM(p.lm, seed);
  const maxLen = p.lm.maxPositions;
  const tr = encodePairs(p.tokenizer, train, maxLen);
  const dv = encodePairs(p.tokenizer, dev, maxLen);
  if (!tr.length) throw new Error('train-ppm: no training pair fits the context');
  const B = o.batchPairs ?? 16;
  const perEpoch = Math.ceil(tr.length / B);
  const params = ppm.namedWeights();
  const batchRows = (step: number) => {
    const e = Math.floor(step / perEpoch);
    const order = shuffle(tr.map((_, i) => i), mulberry32(hash32(`ppm-epoch${e}`, seed)));
    const k = step % perEpoch;
    return order.slice(k * B, k * B + B);
  };
  const res = await runLoop<PairBatch>(
    {
      out: o.out, steps: o.steps, lr: o.lr ?? 5e-4, evalEvery: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)),
      resume: o.resume, label: 'train-ppm', higherIsBetter: true, quiet: o.quiet, weightDecay: 0.01,
    },
    {
      params,
      batch: (step) => makePairBatch(tr, batchRows(step)),
      tokens: (b) => b.tokens,
      dispose: (b) => { b.pos.dispose(); b.neg.dispose(); },
      loss: (b) => {
        const r = ppm.pairLoss(b.pos, b.posLen, b.neg, b.negLen, { training: true });
        r.correct.dispose();
        return r.loss;
      },
      evaluate: async () => {
        const r = await pairAccuracy(ppm, dv);
        return { metric: r.accuracy, devLoss: r.loss };
      },
      save: (dir, meta, optimizer) =>
        saveCheckpoint(dir, p.lm, {
          kind: 'ppm', tokenizerFile: p.tokenizerFile, tokenizerSha256: p.tokenizer.sha256,
          extra: ppm.headWeights(), meta: { init: o.init, ...o.meta, ...meta }, optimizer,
        }),
      restore: async (dir) => assignWeights(dir, params),
    },
  );
  ppm.dispose();
  return { ...res, bestDir: path.join(o.out, 'best'), train: tr.length, dev: dv.length };
}

export interface LoadedPPM {
  ppm: PPM;
  tokenizer: TokenizerLike;
  dir: string;
}

/** Load a PPM checkpoint (kind 'ppm'). */
export async function loadPPM(dir: string): Promise<LoadedPPM> {
  const cfg = readCheckpointConfig(dir);
  const file = path.join(dir, 'config.json');
  if (cfg.kind !== 'ppm') throw new CheckpointError(`${file}: kind is ${cfg.kind}, expected ppm`);
  const lm = await buildLM(cfg.model, file);
  const ppm = new PPM(lm);
  assignWeights(dir, ppm.namedWeights(), readTensorFile(dir, 'weights'));
  const tokenizer = await loadTokenizer(path.join(dir, cfg.tokenizer.file));
  if (tokenizer.sha256 !== cfg.tokenizer.sha256) throw new CheckpointError(`${path.join(dir, cfg.tokenizer.file)}: tokenizer file does not match the sha256 in config.json`);
  return { ppm, tokenizer, dir };
}
