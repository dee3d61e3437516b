// Supervised fine-tuning of the policy on step trajectories (`rstar train-policy`).
// Loss only on solution tokens (the question is context), length-bucketed batches, AdamW with
// warm-up + cosine decay and clipping, dev loss every N steps with the best checkpoint kept, and
// `--resume` from the last checkpoint (src/train/loop.ts).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { GPT, type GPTConfig } from '../model/gpt.ts';
import { maskedCrossEntropy, type CausalLM } from '../model/lm.ts';
import { DEFAULT_MODEL } from '../model/tokenizer.ts';
import { saveCheckpoint, assignWeights } from '../model/checkpoint.ts';
import { loadPolicyAny, loadTokenizer, type TokenizerLike } from '../model/load.ts';
import { MARK, promptFor, PROMPT_NUMBERS_NEW, type PromptNumbers } from '../data/steps.ts';
import { readTrajectories, type TrajectoryRow } from '../data/arrow.ts';
import { hash32, mulberry32, seededOrder, shuffle } from '../util/rng.ts';
import { runLoop, type LoopResult } from './loop.ts';

/** One SFT example: question + solution text (serialized steps, markers included). */
export interface SFTExample {
  id: string;
  question: string;
  solution: string;
}

export interface Encoded {
  ids: number[];
  /** Number of prompt tokens: the loss starts at the first solution token. */
  promptLen: number;
}

export interface SFTBatch {
  ids: tf.Tensor2D;
  targets: tf.Tensor2D;
  mask: tf.Tensor2D;
  tokens: number;
  /** Dropout seed of row 0 (row r: + r, so data-parallel shards draw their own masks). */
  dropoutSeed?: number;
}

export const DEFAULT_POLICY: Omit<GPTConfig, 'vocabSize'> = { blockSize: 384, nLayer: 4, nHead: 4, nEmbd: 128 };

export function examplesFromTrajectories(rows: TrajectoryRow[]): SFTExample[] {
  return rows.map((r) => ({ id: r.problemId, question: r.question, solution: r.steps.join('') }));
}

/**
 * At most `cap` trajectories of each source (a number for every source, or per source with `'*'` for
 * the rest; a source neither names keeps all): a seeded choice of problems, whichever order the file is
 * in, so one big source (DeepMind's 50 k) does not drown the others; a problem's trajectories stay or
 * go together. Input order is kept.
 */
export function capPerSource<T extends Pick<TrajectoryRow, 'source' | 'problemId'>>(rows: T[], cap: number | 'all' | Readonly<Record<string, number | 'all'>>, seed: number): T[] {
  const limit = (src: string): number | 'all' => (typeof cap === 'object' ? cap[src] ?? cap['*'] ?? 'all' : cap);
  const keep = new Set<string>();
  for (const src of new Set(rows.map((r) => r.source))) {
    const n = limit(src);
    const ids = seededOrder([...new Set(rows.filter((r) => r.source === src).map((r) => r.problemId))], (x) => x, seed);
    for (const id of n === 'all' ? ids : ids.slice(0, n)) keep.add(`${src}\u0000${id}`);
  }
  return rows.filter((r) => keep.has(`${r.source}\u0000${r.problemId}`));
}

/** A trajectory's characters (question and steps): the tokens' proxy the mix is measured in. */
export const trajectoryChars = (r: Pick<TrajectoryRow, 'question' | 'steps'>): number => r.question.length + r.steps.reduce((a, s) => a + s.length, 0);

/** Each source's share of the rows' characters, by source name. */
export function charShareBySource(rows: readonly Pick<TrajectoryRow, 'source' | 'question' | 'steps'>[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const r of rows) by[r.source] = (by[r.source] ?? 0) + trajectoryChars(r);
  const total = Object.values(by).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(by).sort().map(([src, c]) => [src, Number((c / total).toFixed(4))]));
}

/** SFT mixture weights by source family (`--mix mawps=0.3,mawps-synth=0.2,deepmind=0.45,gsm8k=0.05`). */
export type SourceMix = Readonly<Record<string, number>>;

/** The key of `mix` a source falls under: itself, else its longest family prefix (`mawps-synth` for
 *  `mawps-synth-rate`, then `mawps`), else `*`; undefined when none. */
export function mixKey(source: string, mix: SourceMix): string | undefined {
  let best: string | undefined;
  for (const k of Object.keys(mix)) if (k !== '*' && (source === k || source.startsWith(`${k}-`)) && (!best || k.length > best.length)) best = k;
  return best ?? (Object.hasOwn(mix, '*') ? '*' : undefined);
}

/**
 * The rows resampled so that each key of `mix` holds its weight's share of the characters (question
 * and steps: the tokens' proxy; batches are token-budgeted, so this is each source's share of the
 * gradient) while the total stays that of `rows`: per key a seeded order of its problems, cycled
 * whole (a problem's trajectories together) until its share is filled. Weights are relative over the
 * keys that have rows; 0 drops a key. Without it a source's share is its size: GSM8K's long
 * trajectories took 44 % of the joint policy's batches and MAWPS/ASDiv-A 7 % (README).
 */
export function mixBySource<T extends Pick<TrajectoryRow, 'source' | 'problemId' | 'question' | 'steps'>>(rows: T[], mix: SourceMix, seed: number): T[] {
  for (const [k, w] of Object.entries(mix)) if (!(Number.isFinite(w) && w >= 0)) throw new Error(`mix: the weight of ${k} must be a number ≥ 0, got ${w}`);
  const byKey = new Map<string, Map<string, T[]>>();
  let total = 0;
  for (const r of rows) {
    const k = mixKey(r.source, mix);
    if (k === undefined) throw new Error(`mix: source ${r.source} falls under no key of ${JSON.stringify(mix)} (name it, a family prefix of it, or *)`);
    if (!byKey.has(k)) byKey.set(k, new Map());
    const problems = byKey.get(k)!;
    if (!problems.has(r.problemId)) problems.set(r.problemId, []);
    problems.get(r.problemId)!.push(r);
    total += trajectoryChars(r);
  }
  const wsum = [...byKey.keys()].reduce((a, k) => a + mix[k]!, 0);
  if (!(wsum > 0)) throw new Error(`mix: every source present has weight 0 (${JSON.stringify(mix)})`);
  const out: T[] = [];
  for (const [k, problems] of byKey) {
    const target = (mix[k]! / wsum) * total;
    const ids = seededOrder([...problems.keys()], (x) => x, seed);
    let got = 0;
    for (let i = 0; got < target; i = (i + 1) % ids.length) {
      for (const r of problems.get(ids[i]!)!) {
        out.push(r);
        got += trajectoryChars(r);
      }
    }
  }
  return out;
}

/** `--mix` text: key=weight pairs (weights ≥ 0, relative); null when malformed. */
export function parseMix(text: string): SourceMix | null {
  const rec: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([\w*-]+)\s*=\s*(\d+(?:\.\d*)?|\.\d+)\s*$/.exec(part);
    if (!m || Object.hasOwn(rec, m[1]!)) return null;
    rec[m[1]!] = Number(m[2]);
  }
  return Object.values(rec).some((w) => w > 0) ? rec : null;
}

/**
 * Examples whose problem id has a path segment named in `times` (`measurement__conversion`, as in
 * `dmtrain/train-easy/measurement__conversion/12`) repeated that many times in all: more of the modules
 * whose step format just changed, the rest as they were. Input order is kept; repeats follow.
 */
export function repeatMatching<T extends { id: string }>(rows: T[], times: Readonly<Record<string, number>>): T[] {
  const out = [...rows];
  for (const [segment, n] of Object.entries(times)) {
    const hit = rows.filter((r) => r.id.split('/').includes(segment));
    for (let i = 1; i < n; i++) out.push(...hit);
  }
  return out;
}

/** Read SFT examples from an Arrow trajectories file or JSONL ({question, steps[]} or {question, solution}). */
export async function readSFTFile(file: string): Promise<SFTExample[]> {
  if (file.endsWith('.arrow')) return examplesFromTrajectories(await readTrajectories(file));
  const out: SFTExample[] = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: { id?: string; question?: unknown; steps?: unknown; solution?: unknown };
    try {
      o = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: expected a JSON object`);
    }
    const sol = Array.isArray(o.steps) ? (o.steps as string[]).join('') : o.solution;
    if (typeof o.question !== 'string' || typeof sol !== 'string') {
      throw new Error(`${file}:${i + 1}: expected "question" and "steps" (string[]) or "solution" (string)`);
    }
    out.push({ id: o.id ?? `line-${i + 1}`, question: o.question, solution: sol });
  });
  return out;
}

export function encodeExamples(tok: TokenizerLike, xs: SFTExample[], maxLen: number, numbers: PromptNumbers): { enc: Encoded[]; dropped: number } {
  const enc: Encoded[] = [];
  let dropped = 0;
  for (const x of xs) {
    const p = tok.encode(promptFor(x.question, numbers));
    const s = tok.encode(x.solution);
    // a truncated solution would teach the policy to stop mid-step: drop over-long examples
    if (p.length + s.length > maxLen + 1) {
      dropped++;
      continue;
    }
    enc.push({ ids: [...p, ...s], promptLen: p.length });
  }
  return { enc, dropped };
}

/**
 * Length-bucketed batches: sort by length, cut into batches of at most `batchTokens` padded tokens.
 * Returns index lists; the order of batches is shuffled per epoch by `batchAt`.
 */
export function bucketBatches(enc: Encoded[], batchTokens: number, seed: number): number[][] {
  const order = enc.map((_, i) => i);
  // a seeded tie-break so equal lengths don't always batch together in file order
  order.sort((a, b) => enc[a]!.ids.length - enc[b]!.ids.length || hash32(String(a), seed) - hash32(String(b), seed));
  const batches: number[][] = [];
  let cur: number[] = [];
  let maxT = 0;
  for (const i of order) {
    const T = padLen(enc[i]!.ids.length - 1);
    if (cur.length && Math.max(maxT, T) * (cur.length + 1) > batchTokens) {
      batches.push(cur);
      cur = [];
      maxT = 0;
    }
    cur.push(i);
    maxT = Math.max(maxT, T);
  }
  if (cur.length) batches.push(cur);
  return batches;
}

/** Pad lengths to a multiple of 16: fewer distinct shapes for the backend. */
function padLen(n: number): number {
  return Math.max(16, Math.ceil(n / 16) * 16);
}

/** Batch `step` of the run: epoch e uses the batches in a seeded order of its own. */
export function batchAt(batches: number[][], step: number, seed: number): number[] {
  const e = Math.floor(step / batches.length);
  const order = shuffle(batches.map((_, i) => i), mulberry32(hash32(`epoch${e}`, seed)));
  return batches[order[step % batches.length]!]!;
}

export function makeBatch(enc: Encoded[], rows: number[], maxT?: number, dropoutSeed?: number): SFTBatch {
  const T = maxT ?? padLen(Math.max(...rows.map((r) => enc[r]!.ids.length - 1)));
  const B = rows.length;
  const ids = new Int32Array(B * T);
  const tg = new Int32Array(B * T);
  const mask = new Float32Array(B * T);
  let tokens = 0;
  rows.forEach((r, b) => {
    const e = enc[r]!;
    const n = e.ids.length - 1;
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = e.ids[t]!;
      tg[b * T + t] = e.ids[t + 1]!;
      // target t+1 is a solution token
      if (t + 1 >= e.promptLen) mask[b * T + t] = 1;
    }
    tokens += n;
  });
  return {
    ids: tf.tensor2d(ids, [B, T], 'int32'),
    targets: tf.tensor2d(tg, [B, T], 'int32'),
    mask: tf.tensor2d(mask, [B, T], 'float32'),
    tokens,
    dropoutSeed,
  };
}

export function disposeBatch(b: SFTBatch): void {
  b.ids.dispose();
  b.targets.dispose();
  b.mask.dispose();
}

/** Mean masked cross-entropy of `lm` on a batch (every decoder: lm.ts maskedCrossEntropy). */
export function lmLoss(lm: CausalLM, b: SFTBatch, training = false): tf.Scalar {
  return tf.tidy(() => maskedCrossEntropy(lm.logits(b.ids, { training, dropoutSeed: b.dropoutSeed }), b.targets, b.mask));
}

/** Dev loss over all dev examples (token-weighted mean). */
export async function devLoss(lm: CausalLM, enc: Encoded[], batchTokens: number): Promise<number> {
  const batches = bucketBatches(enc, batchTokens, 0);
  let sum = 0;
  let n = 0;
  for (const rows of batches) {
    const b = makeBatch(enc, rows);
    const w = (await b.mask.sum().data())[0]!;
    const l = lmLoss(lm, b);
    sum += (await l.data())[0]! * w;
    n += w;
    l.dispose();
    disposeBatch(b);
  }
  return n > 0 ? sum / n : NaN;
}

export interface TrainPolicyOptions {
  out: string;
  /** Checkpoint dir or `hf:<folder>` to start from; default: a new GPT. */
  init?: string;
  model?: Partial<GPTConfig>;
  steps: number;
  batchTokens?: number;
  lr?: number;
  minLr?: number;
  warmup?: number;
  evalEvery?: number;
  seed?: number;
  resume?: boolean;
  quiet?: boolean;
  /** Tokenizer model file (default: the shipped one, or the init checkpoint's; overrides an hf: folder's). */
  tokenizer?: string;
  meta?: Record<string, unknown>;
  /** How a new policy's prompts show the question's numbers (default 'names'); a fine-tuned one keeps its own. */
  promptNumbers?: PromptNumbers;
  /** Data-parallel gradient workers (2 = both cores). */
  workers?: number;
  /** Dropout rate while training (GPT only; also changes a loaded checkpoint's). */
  dropout?: number;
}

export interface TrainPolicyResult extends LoopResult {
  bestDir: string;
  train: number;
  dev: number;
  dropped: number;
}

export async function trainPolicy(train: SFTExample[], dev: SFTExample[], o: TrainPolicyOptions): Promise<TrainPolicyResult> {
  const seed = o.seed ?? 1234;
  let lm: CausalLM;
  let tokFile: string;
  let tok: TokenizerLike;
  // a fine-tuned policy keeps the prompt style it was trained with; a new one gets o.promptNumbers
  let numbers: PromptNumbers = o.promptNumbers ?? PROMPT_NUMBERS_NEW;
  if (o.init) {
    const p = await loadPolicyAny(o.init, { tokenizer: o.tokenizer });
    lm = p.lm;
    tokFile = p.tokenizerFile;
    tok = p.tokenizer;
    if (o.promptNumbers && o.promptNumbers !== p.promptNumbers) {
      lm.dispose();
      throw new Error(`train-policy: ${o.init} was trained with prompt numbers "${p.promptNumbers}", not "${o.promptNumbers}"`);
    }
    numbers = p.promptNumbers;
  } else {
    tokFile = o.tokenizer ?? DEFAULT_MODEL;
    tok = await loadTokenizer(tokFile);
    lm = new GPT({ ...DEFAULT_POLICY, vocabSize: tok.vocabSize, seed, ...o.model });
  }
  if (o.dropout !== undefined) {
    if (!(lm instanceof GPT)) throw new Error('train-policy: --dropout needs a GPT policy');
    lm.setDropout(o.dropout);
  }
  const maxLen = lm.maxPositions;
  const tr = encodeExamples(tok, train, maxLen, numbers);
  const dv = encodeExamples(tok, dev, maxLen, numbers);
  if (tr.enc.length === 0) throw new Error('train-policy: no training example fits the context');
  const batchTokens = o.batchTokens ?? 4096;
  const batches = bucketBatches(tr.enc, batchTokens, seed);
  const params = lm.namedWeights();
  // both cores: a worker replica computes half of each batch's gradient (GPT only)
  const dp = (o.workers ?? 1) > 1 && lm instanceof GPT
    ? await (await import('./data-parallel.ts')).DataParallel.create(lm, { loss: 'lm', config: lm.config, replicas: o.workers })
    : null;
  const res = await runLoop<SFTBatch>(
    {
      out: o.out, steps: o.steps, lr: o.lr ?? 2e-3, minLr: o.minLr, warmup: o.warmup,
      evalEvery: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)), resume: o.resume,
      label: 'train-policy', quiet: o.quiet,
    },
    {
      params,
      batch: (step) => makeBatch(tr.enc, batchAt(batches, step, seed), undefined, hash32(`dropout${step}`, seed)),
      tokens: (b) => b.tokens,
      dispose: disposeBatch,
      loss: (b) => lmLoss(lm, b, true),
      grads: dp
        ? (b) => dp.grads({
            ids: { data: b.ids.dataSync() as Int32Array, shape: b.ids.shape, dtype: 'int32' },
            targets: { data: b.targets.dataSync() as Int32Array, shape: b.targets.shape, dtype: 'int32' },
            mask: { data: b.mask.dataSync() as Float32Array, shape: b.mask.shape, dtype: 'float32' },
            dropoutSeed: { data: Int32Array.from({ length: b.ids.shape[0] }, (_, r) => (b.dropoutSeed ?? 0) + r), shape: [b.ids.shape[0]], dtype: 'int32' },
          })
        : undefined,
      evaluate: async () => ({ metric: dv.enc.length ? await devLoss(lm, dv.enc, batchTokens) : NaN }),
      save: (dir, meta, optimizer) =>
        saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: tokFile, tokenizerSha256: tok.sha256, promptNumbers: numbers, meta: { ...o.meta, ...meta }, optimizer }),
      restore: async (dir) => assignWeights(dir, params),
    },
  );
  await dp?.close();
  lm.dispose();
  return { ...res, bestDir: path.join(o.out, 'best'), train: tr.enc.length, dev: dv.enc.length, dropped: tr.dropped + dv.dropped };
}
