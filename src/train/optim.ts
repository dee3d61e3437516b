// AdamW with global-norm gradient clipping and a warm-up + cosine learning-rate schedule.
// Written out (not tf.train.adam) because we need decoupled weight decay and the moment estimates
// saved in checkpoints so `--resume` continues exactly.
import * as tf from '@tensorflow/tfjs-core';
import { adamwApplyFused } from '../model/backends/webgpu.ts';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Max global gradient norm; 0 disables clipping. */
  clip: number;
  /** On webgpu, one fused kernel per parameter (default true); false = the op-by-op update. */
  fused?: boolean;
  /** Per-parameter learning-rate multipliers by name (default 1): a few scalars that must move far in
   * few steps (the PPM's value weights) next to a backbone that must not. */
  lrScale?: Record<string, number>;
}

export const ADAMW_DEFAULTS: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

/** Warm-up to `lr` over `warmup` steps, then cosine decay to `minLr` at `total`. */
export function lrAt(step: number, o: { lr: number; minLr: number; warmup: number; total: number }): number {
  if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
  if (step >= o.total) return o.minLr;
  const t = (step - o.warmup) / Math.max(1, o.total - o.warmup);
  return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * t));
}

export class AdamW {
  readonly cfg: AdamWConfig;
  step = 0;
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();

  constructor(private readonly params: Map<string, tf.Variable>, cfg: Partial<AdamWConfig> = {}) {
    this.cfg = { ...ADAMW_DEFAULTS, ...cfg };
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /**
   * One update. `grads` maps parameter name → gradient. Decay applies to matrices only (ndim ≥ 2),
   * not to biases and LayerNorm gains, as in GPT-2/nanoGPT. Returns the pre-clip global norm.
   */
  apply(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>, lr = this.cfg.lr): tf.Scalar {
    const g = grads instanceof Map ? grads : new Map(Object.entries(grads));
    if (tf.getBackend() === 'webgpu' && this.cfg.fused !== false) {
      // one fused WGSL kernel per parameter instead of ~17 dispatches (src/model/webgpu.ts)
      this.step += 1;
      return adamwApplyFused(this.params, this.m, this.v, g, this.cfg, this.step, lr, this.cfg.lrScale);
    }
    const { beta1, beta2, eps, weightDecay, clip } = this.cfg;
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    return tf.tidy(() => {
      const sq = [...g.values()].map((x) => tf.sum(tf.mul(x, x)));
      const norm = tf.sqrt(tf.addN(sq.length ? sq : [tf.scalar(0)]));
      const scale = clip > 0 ? tf.minimum(tf.scalar(1), tf.div(tf.scalar(clip), tf.add(norm, 1e-6))) : tf.scalar(1);
      for (const [name, p] of this.params) {
        const gr = g.get(name);
        if (!gr) continue;
        const gc = tf.mul(gr, scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m2 = tf.add(tf.mul(m, beta1), tf.mul(gc, 1 - beta1));
        const v2 = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(gc, gc), 1 - beta2));
        m.assign(m2);
        v.assign(v2);
        const upd = tf.div(tf.div(m2, bc1), tf.add(tf.sqrt(tf.div(v2, bc2)), eps));
        const lrP = lr * (this.cfg.lrScale?.[name] ?? 1);
        const decayed = p.shape.length >= 2 && weightDecay > 0 ? tf.mul(p, 1 - lrP * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(upd, lrP)));
      }
      return tf.keep(norm) as tf.Scalar;
    });
  }

  /** Moments + step as plain arrays, for checkpoints. */
  async state(): Promise<{ step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [k, x] of this.m) m[k] = (await x.data()) as Float32Array;
    for (const [k, x] of this.v) v[k] = (await x.data()) as Float32Array;
    return { step: this.step, m, v };
  }

  load(s: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }): void {
    this.step = s.step;
    for (const [k, x] of this.m) if (s.m[k]) x.assign(tf.tensor(s.m[k]!, x.shape));
    for (const [k, x] of this.v) if (s.v[k]) x.assign(tf.tensor(s.v[k]!, x.shape));
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}
