// The process preference model (PPM): the policy's backbone with the next-token head replaced by
// linear -> tanh on the hidden state of the last token. One score in (-1, 1) per "question + steps so
// far". Initialised from a policy (backbone copied, head new) and trained with the pairwise loss
// -log sigmoid(r(x, y+) - r(x, y-)) (src/train/ppm.ts).
//
// Likelihood input: the linear layer also reads ℓ, the mean log-probability of the last step's tokens
// under the backbone's own (tied) next-token head:
//   r = tanh(w · h_last + a · ℓ + b).
// Why: with the hidden state alone a 1 M-parameter PPM reached 63-69 % held-out accuracy on MCTS
// pairs, while ℓ computed by the same weights ranks 89 % of those pairs right (bench/ppm-sweep.ts):
// the correctness signal is in the backbone's token probabilities, which a last-token readout does
// not expose. Still one backbone and one linear + tanh head, no second model; DPO's implicit reward
// (a log-likelihood ratio) is the same idea. Checkpoints without `ppm.head.loglik` score as before.
//
// Value input: the head also reads three features of the value the newest step computed in the
// sandbox (src/search/values.ts: negative, not an integer, none):
//   r = tanh(w · h_last + a · ℓ + u · φ(value) + b).
// Checkpoints without `ppm.head.value` score without it.
import * as tf from '@tensorflow/tfjs-core';
import { tokenLogProbs, type CausalLM } from './lm.ts';

export const PPM_HEAD_W = 'ppm.head.weight';
export const PPM_HEAD_B = 'ppm.head.bias';
export const PPM_HEAD_A = 'ppm.head.loglik';
export const PPM_HEAD_V = 'ppm.head.value';

/** Features of the value a step computed (src/search/values.ts): [negative, not an integer, no numeric value]. */
export type ValueFeatures = [number, number, number];
export const VALUE_FEATURES = 3;

export function valueFeatures(v: number | null): ValueFeatures {
  if (v === null || !Number.isFinite(v)) return [0, 0, 1];
  return [v < 0 ? 1 : 0, Math.abs(v - Math.round(v)) > 1e-9 ? 1 : 0, 0];
}


export interface PPMOptions {
  /** Read the step log-likelihood too (see above). */
  loglik?: boolean;
  /** Read features of the step's computed value too (see above). */
  values?: boolean;
  /** Token ids after which a step starts (`<solution>`, `<end_of_step>`); the newline after one is skipped too. */
  boundaryIds?: number[];
  /** Id of "\n" (skipped after a boundary). */
  newlineId?: number;
}

/** Where the last step of `ids` (length n) begins: after the last step boundary before its end. */
export function lastStepStart(ids: ArrayLike<number>, n: number, boundary: ReadonlySet<number>, newline = -1): number {
  // the final token is the step's own end marker (or its newline): look before it
  for (let i = n - 3; i >= 0; i--) {
    if (boundary.has(ids[i]!)) return Math.min(n - 1, i + 1 + (ids[i + 1] === newline ? 1 : 0));
  }
  return Math.min(1, n - 1);
}

/** Pad token id for right padding: causality keeps it out of every real position. */
const PAD = 0;

export class PPM {
  readonly hiddenSize: number;
  readonly headW: tf.Variable;
  readonly headB: tf.Variable;
  /** Weight of the step log-likelihood (null: a hidden-state-only PPM). */
  readonly headA: tf.Variable | null;
  /** Weights of the value features (null: a PPM that reads text only). */
  readonly headV: tf.Variable | null;
  private readonly boundary: Set<number>;
  private readonly newline: number;

  constructor(readonly backbone: CausalLM, seed = 4242, o: PPMOptions = {}) {
    // the hidden width is whatever the backbone produces (GPT nEmbd, HF hidden_size)
    this.hiddenSize = tf.tidy(() => backbone.hidden(tf.zeros([1, 1], 'int32') as tf.Tensor2D).shape[2]);
    // small init: scores start near 0, so tanh is in its linear range and gradients flow
    this.headW = tf.variable(tf.randomNormal([this.hiddenSize, 1], 0, 0.02, 'float32', seed), true);
    // with ℓ: start at r = tanh(2ℓ + 0.5), i.e. the policy's own ranking, spread over (-1, 1)
    // (ℓ ≈ -0.05 for a step it is sure of → 0.38; ℓ = -1 → -0.9)
    this.headB = tf.variable(o.loglik ? tf.tensor1d([0.5]) : tf.zeros([1]), true);
    this.headA = o.loglik ? tf.variable(tf.tensor1d([2]), true) : null;
    // zero: no opinion about values until the pairs give one
    this.headV = o.values ? tf.variable(tf.zeros([VALUE_FEATURES, 1]), true) : null;
    this.boundary = new Set((o.boundaryIds ?? []).filter((i) => i >= 0));
    this.newline = o.newlineId ?? -1;
  }

  get usesLoglik(): boolean {
    return this.headA !== null;
  }

  get usesValues(): boolean {
    return this.headV !== null;
  }

  /** Backbone weights + head, under stable names (checkpoints). */
  namedWeights(): Map<string, tf.Variable> {
    return new Map([...this.backbone.namedWeights(), ...this.headWeights()]);
  }

  headWeights(): Map<string, tf.Variable> {
    const m = new Map([[PPM_HEAD_W, this.headW], [PPM_HEAD_B, this.headB]]);
    if (this.headA) m.set(PPM_HEAD_A, this.headA);
    if (this.headV) m.set(PPM_HEAD_V, this.headV);
    return m;
  }

  /**
   * Scores for right-padded ids [B,T] whose real lengths are `lengths`: tanh(w · h[b, len_b - 1] + b),
   * plus a · ℓ_b with the likelihood input (`hostIds`: the same ids on the host, to find each row's
   * last step), plus u · φ with the value input (`values`: one feature row per sequence). Differentiable
   * (used by training).
   */
  scores(ids: tf.Tensor2D, lengths: number[], opts: { training?: boolean; hostIds?: ArrayLike<number>; values?: ValueFeatures[] } = {}): tf.Tensor1D {
    const [B, T] = ids.shape;
    const host = this.headA ? (opts.hostIds ?? ids.dataSync()) : null;
    if (this.headV && opts.values?.length !== B) throw new Error(`PPM.scores: this PPM reads step values; got ${opts.values?.length ?? 0} feature rows for ${B} sequences`);
    return tf.tidy(() => {
      const h = this.backbone.hidden(ids, opts);
      const flat = tf.reshape(h, [B * T, this.hiddenSize]) as tf.Tensor2D;
      const idx = tf.tensor1d(lengths.map((n, b) => b * T + Math.max(0, Math.min(T, n) - 1)), 'int32');
      const last = tf.gather(flat, idx);
      let z = tf.add(tf.matMul(last, this.headW), this.headB);
      if (this.headA && host) z = tf.add(z, tf.mul(tf.reshape(this.stepLoglik(h, host, lengths, B, T), [B, 1]), this.headA));
      if (this.headV) z = tf.add(z, tf.matMul(tf.tensor2d(opts.values!.flat(), [B, VALUE_FEATURES]), this.headV));
      return tf.reshape(tf.tanh(z), [B]) as tf.Tensor1D;
    });
  }

  /** ℓ per row: mean log p(token | earlier tokens) over the last step's tokens. */
  private stepLoglik(h: tf.Tensor3D, ids: ArrayLike<number>, lengths: number[], B: number, T: number): tf.Tensor1D {
    // position t predicts token t + 1; the last step's tokens are [start, n)
    const targets = new Int32Array(B * T);
    const mask = new Float32Array(B * T);
    const count = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      const n = Math.max(1, Math.min(T, lengths[b]!));
      const row = Array.prototype.slice.call(ids, b * T, b * T + n) as number[];
      const start = Math.max(1, lastStepStart(row, n, this.boundary, this.newline));
      for (let t = start - 1; t < n - 1; t++) {
        targets[b * T + t] = row[t + 1]!;
        mask[b * T + t] = 1;
        count[b]!++;
      }
      count[b] = Math.max(1, count[b]!);
    }
    const logp = tokenLogProbs(this.backbone.head(h), tf.tensor2d(targets, [B, T], 'int32'));
    const lp = tf.mul(logp, tf.tensor2d(mask, [B, T]));
    return tf.div(tf.sum(lp, 1), tf.tensor1d(count)) as tf.Tensor1D;
  }

  /**
   * Score many token sequences of different lengths. Sequences are sorted by length and scored in
   * batches of similar length (little padding). A sequence longer than the context is an error: the
   * question is at its start, so truncating would score something else.
   */
  async score(seqs: number[][], o: { batchTokens?: number; values?: ValueFeatures[] } = {}): Promise<number[]> {
    const batchTokens = o.batchTokens ?? 4096;
    const out = new Array<number>(seqs.length).fill(0);
    const order = seqs.map((s, i) => i).sort((a, b) => seqs[a]!.length - seqs[b]!.length);
    let i = 0;
    while (i < order.length) {
      // batch rows until the padded batch would exceed the token budget
      let j = i;
      let T = 0;
      while (j < order.length) {
        const len = Math.max(1, seqs[order[j]!]!.length);
        const t = Math.max(T, len);
        if (j > i && t * (j - i + 1) > batchTokens) break;
        T = t;
        j++;
      }
      if (T > this.backbone.maxPositions) throw new Error(`PPM.score: sequence of ${T} tokens > context ${this.backbone.maxPositions}`);
      const rows = order.slice(i, j);
      const ids = new Int32Array(rows.length * T).fill(PAD);
      rows.forEach((r, b) => ids.set(seqs[r]!, b * T));
      const idsT = tf.tensor2d(ids, [rows.length, T], 'int32');
      const s = this.scores(idsT, rows.map((r) => Math.max(1, seqs[r]!.length)), { hostIds: ids, values: o.values && rows.map((r) => o.values![r]!) });
      const vals = await s.data();
      idsT.dispose();
      s.dispose();
      rows.forEach((r, b) => (out[r] = vals[b]!));
      i = j;
    }
    return out;
  }

  /** -mean log sigmoid(r+ - r-) over a batch of pairs, plus the r+ > r- count (accuracy). */
  pairLoss(
    pos: tf.Tensor2D, posLen: number[], neg: tf.Tensor2D, negLen: number[],
    opts: { training?: boolean; posHost?: ArrayLike<number>; negHost?: ArrayLike<number>; posValues?: ValueFeatures[]; negValues?: ValueFeatures[] } = {},
  ): { loss: tf.Scalar; correct: tf.Scalar } {
    return tf.tidy(() => {
      const rp = this.scores(pos, posLen, { training: opts.training, hostIds: opts.posHost, values: opts.posValues });
      const rn = this.scores(neg, negLen, { training: opts.training, hostIds: opts.negHost, values: opts.negValues });
      const d = tf.sub(rp, rn);
      // -log sigmoid(d) = softplus(-d), stable for large |d|
      const loss = tf.mean(tf.softplus(tf.neg(d))) as tf.Scalar;
      const correct = tf.sum(tf.cast(tf.greater(d, 0), 'float32')) as tf.Scalar;
      return { loss, correct };
    });
  }

  dispose(): void {
    this.backbone.dispose();
    this.headW.dispose();
    this.headB.dispose();
    this.headA?.dispose();
    this.headV?.dispose();
  }
}
