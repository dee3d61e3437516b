// The contract every causal decoder implements: our GPT (gpt.ts) and the ported Hugging Face
// checkpoints (Llama, Qwen2, Phi-3). Training code, the PPM, checkpoints, generate.ts and MCTS only
// ever see this interface.
//
// KV cache layout, shared by all decoders so the bookkeeping lives here once:
//   * every layer stores keys and values as [B, Hkv, L, headDim] (Hkv < H for grouped-query attention);
//   * all rows share the same slot count L; rows with shorter prompts are LEFT-padded, and a host-side
//     validity mask says which slots hold real tokens (padding slots are never attended to);
//   * each row has its own position counter, so a real token's position id is the number of real
//     tokens before it in that row, whatever the padding.
// Tensors are immutable in tfjs, so appending is a concat; attention reads all keys each step anyway,
// so the copy costs about as much as the attention itself.
import * as tf from '@tensorflow/tfjs-core';

/** Serialisable model configuration; `arch` names the implementation ('gpt', 'llama', 'qwen2', 'phi3'). */
export interface LMConfig {
  readonly arch: string;
  readonly vocabSize: number;
}

/** Options for one incremental forward. */
/** Options of a whole-sequence forward. */
export interface ForwardOptions {
  /** Enables dropout. */
  training?: boolean;
  /** Seed of this forward's dropout masks (repeatable training steps). */
  dropoutSeed?: number;
}

export interface StepOptions {
  /**
   * Which new tokens are real, row-major [B*T] (1 real, 0 padding). Padding must come before the real
   * tokens of a row (left padding). Default: all real.
   */
  valid?: ArrayLike<number>;
  /** Return logits for the last new position only ([B,1,V]); what decoding needs. Default false. */
  last?: boolean;
}

/** What a decoder computes from the cache before one incremental forward (see `KVCache.plan`). */
export interface StepPlan {
  /** Position id of each new token, row-major [B*T] (padding gets 0). */
  positions: Int32Array;
  /** Additive attention bias [B, 1, T, L+T]: 0 where query t may attend key s, -1e9 elsewhere. */
  bias: Float32Array;
  /** Slots already in the cache before this step (L). */
  past: number;
  /** New tokens per row (T). */
  steps: number;
}

const NEG = -1e9;

/**
 * Per-layer keys/values for a batch of rows plus the host-side bookkeeping (validity, positions).
 * A cache is mutated by `CausalLM.step`; `select` returns an independent copy.
 */
export class KVCache {
  /** keys/values per layer, [B, Hkv, L, headDim]; null until the first step. */
  readonly layers: ({ k: tf.Tensor4D; v: tf.Tensor4D } | null)[];
  /** valid[b * capacity + s] = 1 when slot s of row b holds a real token. */
  readonly valid: Uint8Array;
  /** Position id the next real token of each row gets. */
  readonly nextPos: Int32Array;
  /** Slots written so far, the same for every row. */
  length = 0;

  /** `capacity` bounds the slots (padding included) the cache may hold. */
  constructor(readonly batch: number, readonly capacity: number, nLayers: number) {
    this.layers = new Array(nLayers).fill(null);
    this.valid = new Uint8Array(batch * capacity);
    this.nextPos = new Int32Array(batch);
  }

  /**
   * Book `steps` new tokens per row: returns their positions and the attention bias, and advances
   * `length`, `valid` and `nextPos`. Call once per forward, before the layers `append`.
   */
  plan(steps: number, valid?: ArrayLike<number>): StepPlan {
    const { batch: B, capacity: C } = this;
    const past = this.length;
    const L = past + steps;
    if (L > C) throw new Error(`KV cache full: ${past} + ${steps} slots > capacity ${C}`);
    if (valid && valid.length !== B * steps) throw new Error(`valid has ${valid.length} entries, want ${B * steps}`);
    const positions = new Int32Array(B * steps);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < steps; t++) {
        const real = valid ? valid[b * steps + t]! !== 0 : true;
        this.valid[b * C + past + t] = real ? 1 : 0;
        positions[b * steps + t] = real ? this.nextPos[b]++ : 0;
      }
    }
    const bias = new Float32Array(B * steps * L).fill(NEG);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < steps; t++) {
        const row = (b * steps + t) * L;
        // causal: a query sees keys up to and including its own slot
        const upto = past + t;
        let any = false;
        for (let s = 0; s <= upto; s++) {
          if (this.valid[b * C + s]) {
            bias[row + s] = 0;
            any = true;
          }
        }
        // a padding query with nothing to see attends to itself, so softmax stays finite
        if (!any) bias[row + upto] = 0;
      }
    }
    this.length = L;
    return { positions, bias, past, steps };
  }

  /**
   * Append this step's keys/values ([B, Hkv, T, headDim]) to `layer` and return the full tensors
   * ([B, Hkv, L, headDim]). The cache keeps (tf.keep) what it stores and disposes what it replaces.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const old = this.layers[layer];
    const next = old
      ? { k: tf.concat([old.k, k], 2) as tf.Tensor4D, v: tf.concat([old.v, v], 2) as tf.Tensor4D }
      : { k: tf.clone(k), v: tf.clone(v) };
    tf.keep(next.k);
    tf.keep(next.v);
    if (old) {
      old.k.dispose();
      old.v.dispose();
    }
    this.layers[layer] = next;
    return next;
  }

  /**
   * A new cache whose row i is a copy of row rows[i] of this one (reorder, drop, or duplicate rows,
   * e.g. expand one prefilled prompt into k samples). This cache is left untouched.
   */
  select(rows: number[]): KVCache {
    for (const r of rows) if (!(r >= 0 && r < this.batch)) throw new Error(`selectRows: row ${r} out of range`);
    const out = new KVCache(rows.length, this.capacity, this.layers.length);
    out.length = this.length;
    const C = this.capacity;
    rows.forEach((r, i) => {
      out.valid.set(this.valid.subarray(r * C, (r + 1) * C), i * C);
      out.nextPos[i] = this.nextPos[r]!;
    });
    const idx = tf.tensor1d(rows, 'int32');
    this.layers.forEach((l, i) => {
      if (!l) return;
      out.layers[i] = { k: tf.keep(tf.gather(l.k, idx, 0)), v: tf.keep(tf.gather(l.v, idx, 0)) };
    });
    idx.dispose();
    return out;
  }

  /** Free the per-layer tensors. */
  dispose(): void {
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i];
      if (l) {
        l.k.dispose();
        l.v.dispose();
      }
      this.layers[i] = null;
    }
  }
}

/** A causal language model over token ids. */
export interface CausalLM {
  /** Serialisable configuration (JSON), including `arch`; checkpoints store it verbatim. */
  readonly config: LMConfig;
  /** Number of token ids the model scores. */
  readonly vocabSize: number;
  /** Largest position id + 1 the model supports (context length). */
  readonly maxPositions: number;
  /** Layers (sizes the KV cache). */
  readonly nLayers: number;

  /**
   * Training/scoring forward over whole sequences: int32 ids [B,T] → final-normed hidden states
   * [B,T,D]. Positions are 0..T-1; sequences may be right-padded (causality keeps padding out of
   * earlier positions). `training` enables dropout.
   */
  hidden(ids: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  /** Output projection: hidden [B,T,D] → logits [B,T,V]. */
  head(hidden: tf.Tensor3D): tf.Tensor3D;
  /** `head(hidden(ids))`. */
  logits(ids: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;

  /** An empty KV cache for `batch` rows and at most `capacity` slots (padding included). */
  newCache(batch: number, capacity: number): KVCache;
  /**
   * Incremental forward: new int32 tokens [B,T] (left padding flagged in `opts.valid`) are attended
   * against the cache and appended to it (the cache is mutated). Returns logits [B,T,V], or [B,1,V]
   * with `opts.last`. Prefill is one call with the whole (padded) prompt batch.
   */
  step(cache: KVCache, ids: tf.Tensor2D, opts?: StepOptions): tf.Tensor3D;
  /** `cache.select(rows)`: a new cache with rows reordered/duplicated/dropped; the input stays valid. */
  selectRows(cache: KVCache, rows: number[]): KVCache;

  /** Every weight under a stable name (checkpoints key on these names). */
  namedWeights(): Map<string, tf.Variable>;
  /** Free the weights. */
  dispose(): void;
}

/**
 * Mean next-token cross-entropy over positions where mask = 1 (SFT masks the question): logits
 * [B,T,V], targets int32 [B,T], mask [B,T]. log-sum-exp keeps it stable. Shared by every decoder.
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const [B, T] = targets.shape;
  return tf.tidy(() => {
    const logp = tf.reshape(tokenLogProbs(logits, targets), [B * T]);
    const m = tf.reshape(tf.cast(mask, 'float32'), [B * T]);
    // negate the sum, not each token (same value, one scalar op)
    return tf.neg(tf.div(tf.sum(tf.mul(logp, m)), tf.maximum(tf.sum(m), 1))) as tf.Scalar;
  });
}

/** log p(targets[b,t]) under logits [B,T,V] → [B,T] (log-sum-exp keeps it stable). Also the PPM's ℓ. */
export function tokenLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [B * T, V]);
    const picked = tf.sum(tf.mul(flat, tf.oneHot(tf.reshape(targets, [B * T]), V)), -1);
    return tf.reshape(tf.sub(picked, tf.logSumExp(flat, -1)), [B, T]) as tf.Tensor2D;
  });
}
