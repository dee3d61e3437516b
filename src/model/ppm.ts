// The process preference model (PPM): the policy's backbone with the next-token head replaced by
// linear -> tanh on the hidden state of the last token. One score in (-1, 1) per "question + steps so
// far". Initialised from a policy (backbone copied, head new) and trained with the pairwise loss
// -log sigmoid(r(x, y+) - r(x, y-)) (src/train/ppm.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from './lm.ts';

export const PPM_HEAD_W = 'ppm.head.weight';
export const PPM_HEAD_B = 'ppm.head.bias';

/** Pad token id for right padding: causality keeps it out of every real position. */
const PAD = 0;

export class PPM {
  readonly hiddenSize: number;
  readonly headW: tf.Variable;
  readonly headB: tf.Variable;

  constructor(readonly backbone: CausalLM, seed = 4242) {
    // the hidden width is whatever the backbone produces (GPT nEmbd, HF hidden_size)
    this.hiddenSize = tf.tidy(() => backbone.hidden(tf.zeros([1, 1], 'int32') as tf.Tensor2D).shape[2]);
    // small init: scores start near 0, so tanh is in its linear range and gradients flow
    this.headW = tf.variable(tf.randomNormal([this.hiddenSize, 1], 0, 0.02, 'float32', seed), true);
    this.headB = tf.variable(tf.zeros([1]), true);
  }

  /** Backbone weights + head, under stable names (checkpoints). */
  namedWeights(): Map<string, tf.Variable> {
    const m = new Map(this.backbone.namedWeights());
    m.set(PPM_HEAD_W, this.headW);
    m.set(PPM_HEAD_B, this.headB);
    return m;
  }

  headWeights(): Map<string, tf.Variable> {
    return new Map([[PPM_HEAD_W, this.headW], [PPM_HEAD_B, this.headB]]);
  }

  /**
   * Scores for right-padded ids [B,T] whose real lengths are `lengths`: tanh(w · h[b, len_b - 1] + b).
   * Differentiable (used by training).
   */
  scores(ids: tf.Tensor2D, lengths: number[], opts: { training?: boolean } = {}): tf.Tensor1D {
    const [B, T] = ids.shape;
    return tf.tidy(() => {
      const h = this.backbone.hidden(ids, opts);
      const flat = tf.reshape(h, [B * T, this.hiddenSize]) as tf.Tensor2D;
      const idx = tf.tensor1d(lengths.map((n, b) => b * T + Math.max(0, Math.min(T, n) - 1)), 'int32');
      const last = tf.gather(flat, idx);
      return tf.reshape(tf.tanh(tf.add(tf.matMul(last, this.headW), this.headB)), [B]) as tf.Tensor1D;
    });
  }

  /**
   * Score many token sequences of different lengths. Sequences are sorted by length and scored in
   * batches of similar length (little padding). A sequence longer than the context is an error: the
   * question is at its start, so truncating would score something else.
   */
  async score(seqs: number[][], batchTokens = 4096): Promise<number[]> {
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
      const s = this.scores(idsT, rows.map((r) => Math.max(1, seqs[r]!.length)));
      const vals = await s.data();
      idsT.dispose();
      s.dispose();
      rows.forEach((r, b) => (out[r] = vals[b]!));
      i = j;
    }
    return out;
  }

  /** -mean log sigmoid(r+ - r-) over a batch of pairs, plus the r+ > r- count (accuracy). */
  pairLoss(pos: tf.Tensor2D, posLen: number[], neg: tf.Tensor2D, negLen: number[], opts: { training?: boolean } = {}): { loss: tf.Scalar; correct: tf.Scalar } {
    return tf.tidy(() => {
      const rp = this.scores(pos, posLen, opts);
      const rn = this.scores(neg, negLen, opts);
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
  }
}
