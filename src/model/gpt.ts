// Our GPT policy, the whole model in one file (nanoGPT style): token + learned position embeddings,
// pre-LayerNorm blocks (causal multi-head attention, GELU MLP 4x), final LayerNorm, output projection
// tied to the token embedding. Implements CausalLM (lm.ts), including KV-cached batched decoding.
//
// Written for the tfjs wasm backend: 2-D fused matmuls with bias, separate q/k/v projections (SplitV on
// the last axis is slow there), only 4-D transposes, GELU without `pow`, and the causal mask as one
// cached additive constant per sequence length.
import * as tf from '@tensorflow/tfjs-core';
import { KVCache, maskedCrossEntropy, type CausalLM, type ForwardOptions, type LMConfig, type StepOptions } from './lm.ts';
import { hash32 } from '../util/rng.ts';

export interface GPTConfig {
  vocabSize: number;
  /** Context length: number of learned positions. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Dropout on embeddings and residual branches while training (default 0). */
  dropout?: number;
  /** Seed of the weight initialisation (default 1337). */
  seed?: number;
}

export const GPT_PRESETS = {
  S: { vocabSize: 512, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 128 },
  M: { vocabSize: 2048, blockSize: 256, nLayer: 6, nHead: 8, nEmbd: 256 },
  // the GPU bench's large model (29.7 M parameters)
  L: { vocabSize: 8192, blockSize: 512, nLayer: 8, nHead: 8, nEmbd: 512 },
} as const satisfies Record<string, GPTConfig>;

export type GPTModelConfig = GPTConfig & LMConfig & { arch: 'gpt' };

const LN_EPS = 1e-5;
const NEG = -1e9;
// GELU (tanh form) = x * sigmoid(2 * sqrt(2/pi) * (x + 0.044715 x^3)); written with x*x, no pow
const GELU_A = 2 * Math.sqrt(2 / Math.PI);
const GELU_B = GELU_A * 0.044715;

interface Block {
  ln1g: tf.Variable; ln1b: tf.Variable;
  wq: tf.Variable; bq: tf.Variable;
  wk: tf.Variable; bk: tf.Variable;
  wv: tf.Variable; bv: tf.Variable;
  wo: tf.Variable; bo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable;
  wfc: tf.Variable; bfc: tf.Variable;
  wproj: tf.Variable; bproj: tf.Variable;
}

/** Per-layer weights of the inference path: matmul weights [1, K, N], biases [N]. */
interface InferLayer {
  wq: tf.Tensor3D; bq: tf.Tensor1D; wk: tf.Tensor3D; bk: tf.Tensor1D; wv: tf.Tensor3D; bv: tf.Tensor1D;
  wo: tf.Tensor3D; bo: tf.Tensor1D; wfc: tf.Tensor3D; bfc: tf.Tensor1D; wproj: tf.Tensor3D; bproj: tf.Tensor1D;
}
interface InferWeights {
  key: tf.DataId[];
  tensors: tf.Tensor[];
  layers: InferLayer[];
  head: tf.Tensor3D;
  headBias: tf.Tensor1D;
}

export class GPT implements CausalLM {
  readonly config: GPTModelConfig;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly nLayers: number;
  readonly headDim: number;
  private readonly weights = new Map<string, tf.Variable>();
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly blocks: Block[] = [];
  private readonly lnfg: tf.Variable;
  private readonly lnfb: tf.Variable;
  /** additive causal masks [T,T], one per sequence length seen */
  private readonly causal = new Map<number, tf.Tensor2D>();
  /** folded inference weights, keyed by the variables' storage (see inferenceWeights) */
  private infer: InferWeights | null = null;
  private dropoutCalls = 0;

  constructor(config: GPTConfig) {
    const { vocabSize: V, blockSize: P, nLayer: N, nHead: H, nEmbd: D } = config;
    if (D % H !== 0) throw new Error(`nEmbd ${D} is not divisible by nHead ${H}`);
    this.config = { arch: 'gpt', dropout: 0, seed: 1337, ...config };
    this.vocabSize = V;
    this.maxPositions = P;
    this.nLayers = N;
    this.headDim = D / H;
    let seed = this.config.seed!;
    // GPT-2 init: N(0, 0.02); projections into the residual stream scaled by 1/sqrt(2*nLayer)
    const normal = (name: string, shape: number[], std = 0.02) =>
      this.add(name, tf.randomNormal(shape, 0, std, 'float32', seed++));
    const fill = (name: string, shape: number[], v: number) => this.add(name, tf.fill(shape, v));
    const resid = 0.02 / Math.sqrt(2 * N);
    this.wte = normal('wte', [V, D]);
    this.wpe = normal('wpe', [P, D]);
    for (let i = 0; i < N; i++) {
      const p = `h.${i}.`;
      this.blocks.push({
        ln1g: fill(p + 'ln_1.weight', [D], 1), ln1b: fill(p + 'ln_1.bias', [D], 0),
        wq: normal(p + 'attn.q.weight', [D, D]), bq: fill(p + 'attn.q.bias', [D], 0),
        wk: normal(p + 'attn.k.weight', [D, D]), bk: fill(p + 'attn.k.bias', [D], 0),
        wv: normal(p + 'attn.v.weight', [D, D]), bv: fill(p + 'attn.v.bias', [D], 0),
        wo: normal(p + 'attn.proj.weight', [D, D], resid), bo: fill(p + 'attn.proj.bias', [D], 0),
        ln2g: fill(p + 'ln_2.weight', [D], 1), ln2b: fill(p + 'ln_2.bias', [D], 0),
        wfc: normal(p + 'mlp.fc.weight', [D, 4 * D]), bfc: fill(p + 'mlp.fc.bias', [4 * D], 0),
        wproj: normal(p + 'mlp.proj.weight', [4 * D, D], resid), bproj: fill(p + 'mlp.proj.bias', [D], 0),
      });
    }
    this.lnfg = fill('ln_f.weight', [D], 1);
    this.lnfb = fill('ln_f.bias', [D], 0);
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    // unnamed: tfjs variable names are global, and several models may coexist
    const v = tf.variable(init, true);
    init.dispose();
    this.weights.set(name, v);
    return v;
  }

  namedWeights(): Map<string, tf.Variable> {
    return new Map(this.weights);
  }

  // ---- building blocks -------------------------------------------------------------------------

  private layerNorm(x: tf.Tensor2D, g: tf.Variable, b: tf.Variable): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), g), b);
  }

  private linear(x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D;
  }

  private gelu(x: tf.Tensor2D): tf.Tensor2D {
    const z = tf.mul(x, tf.add(tf.mul(tf.mul(x, x), GELU_B), GELU_A));
    return tf.mul(x, tf.sigmoid(z)) as tf.Tensor2D;
  }

  /**
   * Dropout for one forward pass, or the identity when not training. Masks are drawn from
   * `dropoutSeed` + call index, so a training step is the same after --resume and in every worker
   * replica (which is given its own seed); without a seed they continue a per-model counter.
   */
  private dropper(opts: ForwardOptions): (x: tf.Tensor2D) => tf.Tensor2D {
    const p = this.config.dropout ?? 0;
    if (!opts.training || p <= 0) return (x) => x;
    const base = opts.dropoutSeed ?? hash32(`dropout${this.dropoutCalls++}`, this.config.seed ?? 0);
    let call = 0;
    return (x) => tf.dropout(x, p, undefined, hash32(`call${call++}`, base)) as tf.Tensor2D;
  }

  /** Change the dropout rate (training a loaded checkpoint with regularisation); saved with the config. */
  setDropout(p: number): void {
    if (!(p >= 0 && p < 1)) throw new Error(`dropout must be in [0, 1), got ${p}`);
    this.config.dropout = p;
  }

  /** [B*T, D] → [B, H, T, hd] */
  private heads(x: tf.Tensor2D, B: number, T: number): tf.Tensor4D {
    const { nHead: H } = this.config;
    const r = tf.reshape(x, [B, T, H, this.headDim]);
    // with one token the transpose only moves a size-1 axis: a reshape is free
    return (T === 1 ? tf.reshape(r, [B, H, 1, this.headDim]) : tf.transpose(r, [0, 2, 1, 3])) as tf.Tensor4D;
  }

  /** [B, H, T, hd] → [B*T, D] */
  private merge(y: tf.Tensor4D, B: number, T: number): tf.Tensor2D {
    const t = T === 1 ? y : tf.transpose(y, [0, 2, 1, 3]);
    return tf.reshape(t, [B * T, this.config.nEmbd]);
  }

  private causalMask(T: number): tf.Tensor2D {
    let m = this.causal.get(T);
    if (!m) {
      const a = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) a[i * T + j] = NEG;
      m = tf.keep(tf.tensor2d(a, [T, T]));
      this.causal.set(T, m);
    }
    return m;
  }


  /** One block on the residual stream x [B*T, D] (training / full-sequence forward). */
  private block(blk: Block, x: tf.Tensor2D, B: number, T: number, mask: tf.Tensor, drop: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const h = this.layerNorm(x, blk.ln1g, blk.ln1b);
    // 1/sqrt(hd) applied to q: the smallest tensor of the product
    const q = tf.mul(this.heads(this.linear(h, blk.wq, blk.bq), B, T), 1 / Math.sqrt(this.headDim));
    const k = this.heads(this.linear(h, blk.wk, blk.bk), B, T);
    const v = this.heads(this.linear(h, blk.wv, blk.bv), B, T);
    const att = tf.softmax(tf.add(tf.matMul(q, k, false, true), mask));
    const y = this.merge(tf.matMul(att, v) as tf.Tensor4D, B, T);
    x = tf.add(x, drop(this.linear(y, blk.wo, blk.bo)));
    const m = this.gelu(this.linear(this.layerNorm(x, blk.ln2g, blk.ln2b), blk.wfc, blk.bfc));
    return tf.add(x, drop(this.linear(m, blk.wproj, blk.bproj)));
  }

  // ---- inference fast path (KV-cached step) ----------------------------------------------------
  // Decoding runs a few rows at a time, so per-op overhead dominates. The step folds each LayerNorm's
  // gain/bias and the 1/sqrt(hd) scale into the following matmul, keeps the tied head transposed,
  // and calls the matmul kernels directly on 3-D operands (the op wrappers add reshapes). The folded
  // weights are rebuilt whenever a variable's storage changes (Variable.assign swaps its dataId).

  private inferenceWeights(): InferWeights {
    const vars = [...this.weights.values()];
    const cur = this.infer;
    if (cur && cur.key.length === vars.length && cur.key.every((d, i) => d === vars[i]!.dataId)) return cur;
    cur?.tensors.forEach((t) => t.dispose());
    const scale = 1 / Math.sqrt(this.headDim);
    const built = tf.tidy(() => {
      // (xn*g + b)·W + c = xn·(g∘W) + (b·W + c)
      const fold = (g: tf.Tensor, b: tf.Tensor, w: tf.Tensor, c: tf.Tensor | null, s = 1): [tf.Tensor3D, tf.Tensor1D] => {
        const wf = tf.mul(tf.reshape(g, [-1, 1]), w);
        let bf = tf.reshape(tf.matMul(tf.reshape(b, [1, -1]), w as tf.Tensor2D), [-1]);
        if (c) bf = tf.add(bf, c);
        return [tf.reshape(tf.mul(wf, s), [1, w.shape[0]!, w.shape[1]!]), tf.mul(bf, s) as tf.Tensor1D];
      };
      const as3 = (w: tf.Tensor): tf.Tensor3D => tf.reshape(w, [1, w.shape[0]!, w.shape[1]!]);
      const copy = (b: tf.Tensor): tf.Tensor1D => tf.clone(b) as tf.Tensor1D;
      const layers = this.blocks.map((blk) => {
        const [wq, bq] = fold(blk.ln1g, blk.ln1b, blk.wq, blk.bq, scale);
        const [wk, bk] = fold(blk.ln1g, blk.ln1b, blk.wk, blk.bk);
        const [wv, bv] = fold(blk.ln1g, blk.ln1b, blk.wv, blk.bv);
        const [wfc, bfc] = fold(blk.ln2g, blk.ln2b, blk.wfc, blk.bfc);
        return { wq, bq, wk, bk, wv, bv, wo: as3(blk.wo), bo: copy(blk.bo), wfc, bfc, wproj: as3(blk.wproj), bproj: copy(blk.bproj) };
      });
      const [head, headBias] = fold(this.lnfg, this.lnfb, tf.transpose(this.wte), null);
      return { layers, head, headBias };
    });
    const tensors: tf.Tensor[] = [built.head, built.headBias];
    for (const l of built.layers) tensors.push(...Object.values(l));
    tensors.forEach((t) => tf.keep(t));
    const next: InferWeights = { key: vars.map((v) => v.dataId), tensors, ...built };
    this.infer = next;
    return next;
  }

  /** x [1, N, K] · w [1, K, M] + b, straight to the kernel. */
  private mm(x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D): tf.Tensor3D {
    return tf.engine().runKernel('_FusedMatMul', { a: x, b: w, bias: b }, {
      transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0,
    }) as tf.Tensor3D;
  }

  /** Batched product over the leading axes; the kernels take any rank, the op would add reshapes. */
  private bmm(a: tf.Tensor4D, b: tf.Tensor4D, transposeB: boolean): tf.Tensor4D {
    return tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB }) as tf.Tensor4D;
  }

  /** LayerNorm without gain/bias (folded into the next matmul), over the last axis. */
  private normalise(x: tf.Tensor3D): tf.Tensor3D {
    const xc = tf.sub(x, tf.mean(x, -1, true));
    return tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.mul(xc, xc), -1, true), LN_EPS)));
  }

  /** [1, B*T, D] → [B, H, T, hd] */
  private inferHeads(x: tf.Tensor3D, B: number, T: number): tf.Tensor4D {
    const { nHead: H } = this.config;
    if (T === 1) return tf.reshape(x, [B, H, 1, this.headDim]);
    return tf.transpose(tf.reshape(x, [B, T, H, this.headDim]), [0, 2, 1, 3]);
  }

  private inferBlock(
    w: InferLayer, x: tf.Tensor3D, B: number, T: number, bias: tf.Tensor4D, cache: KVCache, layer: number,
  ): tf.Tensor3D {
    const D = this.config.nEmbd;
    const h = this.normalise(x);
    const q = this.inferHeads(this.mm(h, w.wq, w.bq), B, T);
    const kv = cache.append(layer, this.inferHeads(this.mm(h, w.wk, w.bk), B, T), this.inferHeads(this.mm(h, w.wv, w.bv), B, T));
    const att = tf.softmax(tf.add(this.bmm(q, kv.k, true), bias)) as tf.Tensor4D;
    const y4 = this.bmm(att, kv.v, false); // [B, H, T, hd]
    const y = tf.reshape(T > 1 ? tf.transpose(y4, [0, 2, 1, 3]) : y4, [1, B * T, D]) as tf.Tensor3D;
    x = tf.add(x, this.mm(y, w.wo, w.bo));
    const m = this.mm(this.normalise(x), w.wfc, w.bfc);
    const z = tf.mul(m, tf.add(tf.mul(tf.mul(m, m), GELU_B), GELU_A));
    return tf.add(x, this.mm(tf.mul(m, tf.sigmoid(z)), w.wproj, w.bproj));
  }

  // ---- CausalLM --------------------------------------------------------------------------------

  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const { nEmbd: D } = this.config;
    if (T > this.maxPositions) throw new Error(`sequence length ${T} > blockSize ${this.maxPositions}`);
    const drop = this.dropper(opts);
    return tf.tidy(() => {
      const tok = tf.gather(this.wte, tf.reshape(ids, [B * T]));
      const pos = tf.tile(tf.slice(this.wpe, [0, 0], [T, D]), [B, 1]);
      let x = drop(tf.add(tok, pos) as tf.Tensor2D);
      const mask = this.causalMask(T);
      for (const blk of this.blocks) x = this.block(blk, x, B, T, mask, drop);
      return tf.reshape(this.layerNorm(x, this.lnfg, this.lnfb), [B, T, D]);
    });
  }

  head(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, D] = hidden.shape;
    return tf.tidy(() =>
      tf.reshape(tf.matMul(tf.reshape(hidden, [B * T, D]), this.wte, false, true), [B, T, this.vocabSize]),
    );
  }

  logits(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.head(this.hidden(ids, opts)));
  }

  /**
   * Mean next-token cross-entropy over positions where mask = 1 (SFT masks the question).
   * ids, targets: int32 [B,T]; mask: float32 [B,T]. log-sum-exp keeps it stable.
   */
  lmLoss(ids: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => maskedCrossEntropy(this.logits(ids, opts), targets, mask));
  }

  newCache(batch: number, capacity: number): KVCache {
    return new KVCache(batch, capacity, this.nLayers);
  }

  step(cache: KVCache, ids: tf.Tensor2D, opts: StepOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const D = this.config.nEmbd;
    if (B !== cache.batch) throw new Error(`step: ids have ${B} rows, cache ${cache.batch}`);
    const w = this.inferenceWeights();
    const plan = cache.plan(T, opts.valid);
    for (const p of plan.positions) if (p >= this.maxPositions) throw new Error(`position ${p} >= blockSize ${this.maxPositions}`);
    const L = plan.past + T;
    return tf.tidy(() => {
      const tok = tf.gather(this.wte, tf.reshape(ids, [B * T]));
      const pos = tf.gather(this.wpe, tf.tensor1d(plan.positions, 'int32'));
      let x = tf.reshape(tf.add(tok, pos), [1, B * T, D]) as tf.Tensor3D;
      const biasT = tf.tensor4d(plan.bias, [B, 1, T, L]);
      w.layers.forEach((lw, i) => {
        x = this.inferBlock(lw, x, B, T, biasT, cache, i);
      });
      let Tout = T;
      if (opts.last && T > 1) {
        // only the last position is needed: skip the final norm and head for the rest
        x = tf.reshape(tf.slice(tf.reshape(x, [B, T, D]), [0, T - 1, 0], [B, 1, D]), [1, B, D]);
        Tout = 1;
      }
      return tf.reshape(this.mm(this.normalise(x), w.head, w.headBias), [B, Tout, this.vocabSize]);
    });
  }

  selectRows(cache: KVCache, rows: number[]): KVCache {
    return cache.select(rows);
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
    for (const m of this.causal.values()) m.dispose();
    this.causal.clear();
    this.infer?.tensors.forEach((t) => t.dispose());
    this.infer = null;
  }
}
