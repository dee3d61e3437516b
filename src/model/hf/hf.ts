// Pretrained Hugging Face decoders (LlamaForCausalLM, Qwen2ForCausalLM, Phi3ForCausalLM) on tfjs,
// implementing CausalLM (lm.ts) so generate.ts, the PPM, training and MCTS use them like our GPT.
//
// One block, as in HF's modeling_llama: x += o(attn(rope(q), rope(k), v)) on RMSNorm(x);
// x += down(silu(gate(h)) * up(h)) on RMSNorm(x). Qwen2 adds q/k/v biases; Phi-3 stores q/k/v and
// gate/up fused, which we split once at load time (SplitV on the last axis is slow on wasm).
//
// Layout choices, all for the wasm backend:
//   * linear weights are kept transposed, [in, out]: an un-transposed 2-D matmul is what XNNPACK runs
//     fast (a transposeB product of the same size measured ~8x slower);
//   * a tied lm_head is stored once as [D, V] and the embedding lookup gathers its columns, so the
//     largest matrix (151936 x 896 for Qwen2.5-0.5B) is neither duplicated nor multiplied transposed;
//   * rotate_half is a matmul with a fixed signed permutation [hd, hd] (exact: one ±1 per column),
//     which also covers partial rotary (pass-through dims get cos 1, sin 0) without any slicing;
//   * grouped-query attention folds the G query heads of a kv head into the row axis
//     ([B, Hkv, G*T, hd] x [B, Hkv, hd, L]), so keys/values are never repeated.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { KVCache, maskedCrossEntropy, type CausalLM, type ForwardOptions, type LMConfig, type StepOptions } from '../lm.ts';
import { WeightStore } from './safetensors.ts';

export type HFArch = 'llama' | 'qwen2' | 'phi3';

export interface RopeScaling {
  type: 'default' | 'linear' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

/** Everything needed to rebuild the model (JSON; checkpoints store it verbatim). */
export interface HFConfig extends LMConfig {
  arch: HFArch;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  nLayers: number;
  nHeads: number;
  nKVHeads: number;
  headDim: number;
  rmsEps: number;
  ropeTheta: number;
  /** Dims of each head that get rotary embedding (head_dim * partial_rotary_factor). */
  rotaryDim: number;
  rope: RopeScaling;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama attention_bias). */
  oBias: boolean;
  /** Biases on gate/up/down (Llama mlp_bias). */
  mlpBias: boolean;
  /** Attention window when the checkpoint uses one (null: full attention). */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export class HFConfigError extends Error {
  override name = 'HFConfigError';
}

const ARCHS: Record<string, HFArch> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Phi3ForCausalLM: 'phi3',
};
const MODEL_TYPES: Record<string, HFArch> = { llama: 'llama', qwen2: 'qwen2', phi3: 'phi3' };

/** Translate a Hugging Face config.json object into HFConfig; `file` names the source in errors. */
export function parseHFConfig(raw: Record<string, unknown>, file = 'config.json'): HFConfig {
  const fail = (what: string): never => {
    throw new HFConfigError(`${file}: ${what}`);
  };
  const archName = Array.isArray(raw.architectures) ? String(raw.architectures[0]) : undefined;
  const arch = (archName && ARCHS[archName]) || MODEL_TYPES[String(raw.model_type)];
  if (!arch)
    fail(`expected architectures[0] in ${Object.keys(ARCHS).join('|')} (or model_type llama|qwen2|phi3), got ${archName ?? raw.model_type}`);
  const int = (key: string, def?: number): number => {
    const v = raw[key] ?? def;
    if (!Number.isInteger(v) || (v as number) <= 0) fail(`expected ${key} to be a positive integer, got ${JSON.stringify(raw[key])}`);
    return v as number;
  };
  const hiddenSize = int('hidden_size');
  const nHeads = int('num_attention_heads');
  const nKVHeads = int('num_key_value_heads', nHeads);
  if (nHeads % nKVHeads !== 0) fail(`expected num_attention_heads (${nHeads}) divisible by num_key_value_heads (${nKVHeads})`);
  const headDim = raw.head_dim == null ? hiddenSize / nHeads : int('head_dim');
  if (!Number.isInteger(headDim)) fail(`expected hidden_size (${hiddenSize}) divisible by num_attention_heads (${nHeads})`);
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') fail(`expected hidden_act "silu", got ${JSON.stringify(act)}`);

  // transformers >= 5 nests rope settings in rope_parameters; older configs use rope_theta/rope_scaling
  const rp = (raw.rope_parameters ?? {}) as Record<string, unknown>;
  const rs = (raw.rope_scaling ?? {}) as Record<string, unknown>;
  const ropeTheta = Number(rp.rope_theta ?? raw.rope_theta ?? 10000);
  if (!(ropeTheta > 0)) fail(`expected rope_theta > 0, got ${ropeTheta}`);
  const partial = Number(rp.partial_rotary_factor ?? raw.partial_rotary_factor ?? 1);
  const rotaryDim = Math.floor(headDim * partial);
  if (!(rotaryDim > 0 && rotaryDim % 2 === 0 && rotaryDim <= headDim)) fail(`expected an even rotary dim in (0, ${headDim}], got ${rotaryDim}`);
  const ropeType = String(rs.rope_type ?? rs.type ?? rp.rope_type ?? 'default');
  const scale = { ...rp, ...rs };
  let rope: RopeScaling;
  if (ropeType === 'default') rope = { type: 'default' };
  else if (ropeType === 'linear') rope = { type: 'linear', factor: Number(scale.factor) };
  else if (ropeType === 'llama3')
    rope = {
      type: 'llama3',
      factor: Number(scale.factor),
      lowFreqFactor: Number(scale.low_freq_factor),
      highFreqFactor: Number(scale.high_freq_factor),
      originalMaxPositions: Number(scale.original_max_position_embeddings),
    };
  else return fail(`rope type ${JSON.stringify(ropeType)} is not supported (expected default, linear or llama3)`);
  for (const [k, v] of Object.entries(rope)) if (k !== 'type' && !(typeof v === 'number' && v > 0)) fail(`rope ${ropeType}: expected ${k} > 0`);

  const eos = raw.eos_token_id;
  const eosTokenIds = Array.isArray(eos) ? eos.map(Number) : eos == null ? [] : [Number(eos)];
  const useWindow = arch === 'phi3' ? true : Boolean(raw.use_sliding_window);
  const win = raw.sliding_window;
  return {
    arch,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKVHeads,
    headDim,
    rmsEps: Number(raw.rms_norm_eps ?? 1e-6),
    ropeTheta,
    rotaryDim,
    rope,
    maxPositions: int('max_position_embeddings'),
    tieWordEmbeddings: Boolean(raw.tie_word_embeddings ?? false),
    qkvBias: arch === 'qwen2' || Boolean(raw.attention_bias),
    oBias: arch === 'llama' && Boolean(raw.attention_bias),
    mlpBias: arch === 'llama' && Boolean(raw.mlp_bias),
    slidingWindow: useWindow && typeof win === 'number' ? win : null,
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : null,
    eosTokenIds,
  };
}

/** Float32 inverse frequencies as HF computes them (float32 pow and division), then rope scaling. */
export function ropeInvFreq(c: Pick<HFConfig, 'rotaryDim' | 'ropeTheta' | 'rope'>): Float32Array {
  const dim = c.rotaryDim;
  const f = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) f[i] = Math.fround(1 / Math.fround(Math.pow(c.ropeTheta, Math.fround((2 * i) / dim))));
  const r = c.rope;
  if (r.type === 'linear') for (let i = 0; i < f.length; i++) f[i] = f[i]! / r.factor!;
  if (r.type === 'llama3') {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = r as Required<RopeScaling>;
    const lowWave = old / lo;
    const highWave = old / hi;
    for (let i = 0; i < f.length; i++) {
      const inv = f[i]!;
      const wave = (2 * Math.PI) / inv;
      if (wave > lowWave) f[i] = inv / factor; // long wavelengths: fully interpolated
      else if (wave >= highWave) {
        const s = (old / wave - lo) / (hi - lo); // medium: blend
        f[i] = (1 - s) * (inv / factor) + s * inv;
      }
    }
  }
  return f;
}

const NEG = -1e9;

interface Layer {
  inNorm: tf.Variable;
  postNorm: tf.Variable;
  wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable;
  bq?: tf.Variable; bk?: tf.Variable; bv?: tf.Variable; bo?: tf.Variable;
  wg: tf.Variable; wu: tf.Variable; wd: tf.Variable;
  bg?: tf.Variable; bu?: tf.Variable; bd?: tf.Variable;
}

/** Where weights come from: float32 data in Hugging Face layout (torch Linear [out, in]). */
export interface WeightSource {
  has(name: string): boolean;
  /** The tensor's data; throws (naming the file) when absent or of another shape. */
  get(name: string, shape: number[]): Float32Array;
}

/** [rows, cols] row-major → [cols, rows]; blocked so big matrices stay cache-friendly. */
function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const BS = 64;
  for (let r0 = 0; r0 < rows; r0 += BS)
    for (let c0 = 0; c0 < cols; c0 += BS) {
      const r1 = Math.min(rows, r0 + BS);
      const c1 = Math.min(cols, c0 + BS);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
    }
  return out;
}

/** A Hugging Face Llama/Qwen2/Phi-3 decoder. */
export class HFModel implements CausalLM {
  readonly config: HFConfig;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly nLayers: number;
  private readonly weights = new Map<string, tf.Variable>();
  /** tied: [D, V] (lm_head and, by column, the embedding); untied: embedding [V, D] */
  private readonly embed: tf.Variable;
  /** [D, V] */
  private readonly lmHead: tf.Variable;
  private readonly finalNorm: tf.Variable;
  private readonly layers: Layer[] = [];
  private readonly invFreq: Float32Array;
  /** rotate_half as a matrix: x @ R == rotate_half(x) on the rotary dims, 0 elsewhere */
  private readonly rot: tf.Tensor2D;
  /** per sequence length: causal bias [T,T] and rope tables [T,hd] for the full-sequence forward */
  private readonly seqConsts = new Map<number, { mask: tf.Tensor2D; cos: tf.Tensor2D; sin: tf.Tensor2D }>();

  /**
   * Build from `config`; `source` supplies the weights (HF names and layouts). Without a source the
   * weights are random (std 0.02, norms 1; for benchmarks and tests), or zeros with `init` 'zeros'
   * (a shell that a checkpoint then fills through namedWeights).
   */
  constructor(config: HFConfig, source?: WeightSource, init: number | 'zeros' = 1234) {
    const c = (this.config = { ...config });
    this.vocabSize = c.vocabSize;
    this.maxPositions = c.maxPositions;
    this.nLayers = c.nLayers;
    const { hiddenSize: D, intermediateSize: I, nHeads: H, nKVHeads: KV, headDim: hd, vocabSize: V } = c;
    let s = init === 'zeros' ? 0 : init;
    const rand = (n: number): Float32Array => {
      // seeded uniform init with std 0.02 (mulberry32); quality is irrelevant for random checkpoints
      const out = new Float32Array(n);
      if (init === 'zeros') return out;
      let a = (s++ * 0x9e3779b9) >>> 0;
      const amp = 0.02 * Math.sqrt(3) * 2;
      for (let i = 0; i < n; i++) {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = Math.imul(a ^ (a >>> 15), a | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5) * amp;
      }
      return out;
    };
    const fetch = (name: string, shape: number[], kind: 'w' | 'norm' | 'bias'): Float32Array => {
      if (!source) return kind === 'w' ? rand(shape.reduce((a, d) => a * d, 1)) : new Float32Array(shape[0]!).fill(kind === 'norm' ? 1 : 0);
      if (!source.has(name)) throw new HFConfigError(`${c.arch} checkpoint: expected a tensor named ${name} with shape [${shape}]`);
      return source.get(name, shape);
    };
    /** Linear weight [out, in] → variable [in, out]; `data` given when split from a fused tensor. */
    const linear = (name: string, out: number, inp: number, data?: Float32Array): tf.Variable =>
      // random weights need no transpose: generate them in the [in, out] layout directly
      source || data ? this.add(name, transpose2d(data ?? fetch(name, [out, inp], 'w'), out, inp), [inp, out]) : this.add(name, rand(out * inp), [inp, out]);
    const vec = (name: string, n: number, kind: 'norm' | 'bias') => this.add(name, fetch(name, [n], kind), [n]);

    if (c.tieWordEmbeddings) {
      this.embed = this.lmHead = linear('model.embed_tokens.weight', V, D);
    } else {
      this.embed = this.add('model.embed_tokens.weight', fetch('model.embed_tokens.weight', [V, D], 'w'), [V, D]);
      this.lmHead = linear('lm_head.weight', V, D);
    }
    // Phi-3 keeps q/k/v and gate/up fused; a checkpoint of ours has them split under Llama names.
    const fused = (name: string, rows: number, parts: number[]): Float32Array[] | null => {
      if (!source || c.arch !== 'phi3' || !source.has(name)) return null;
      const all = source.get(name, [rows, D]);
      const outs: Float32Array[] = [];
      let off = 0;
      for (const p of parts) {
        outs.push(all.subarray(off * D, (off + p) * D));
        off += p;
      }
      return outs;
    };
    for (let i = 0; i < c.nLayers; i++) {
      const p = `model.layers.${i}.`;
      const qkv = fused(p + 'self_attn.qkv_proj.weight', (H + 2 * KV) * hd, [H * hd, KV * hd, KV * hd]);
      const gu = fused(p + 'mlp.gate_up_proj.weight', 2 * I, [I, I]);
      const L: Layer = {
        inNorm: vec(p + 'input_layernorm.weight', D, 'norm'),
        postNorm: vec(p + 'post_attention_layernorm.weight', D, 'norm'),
        wq: linear(p + 'self_attn.q_proj.weight', H * hd, D, qkv?.[0]),
        wk: linear(p + 'self_attn.k_proj.weight', KV * hd, D, qkv?.[1]),
        wv: linear(p + 'self_attn.v_proj.weight', KV * hd, D, qkv?.[2]),
        wo: linear(p + 'self_attn.o_proj.weight', D, H * hd),
        wg: linear(p + 'mlp.gate_proj.weight', I, D, gu?.[0]),
        wu: linear(p + 'mlp.up_proj.weight', I, D, gu?.[1]),
        wd: linear(p + 'mlp.down_proj.weight', D, I),
      };
      if (c.qkvBias) {
        L.bq = vec(p + 'self_attn.q_proj.bias', H * hd, 'bias');
        L.bk = vec(p + 'self_attn.k_proj.bias', KV * hd, 'bias');
        L.bv = vec(p + 'self_attn.v_proj.bias', KV * hd, 'bias');
      }
      if (c.oBias) L.bo = vec(p + 'self_attn.o_proj.bias', D, 'bias');
      if (c.mlpBias) {
        L.bg = vec(p + 'mlp.gate_proj.bias', I, 'bias');
        L.bu = vec(p + 'mlp.up_proj.bias', I, 'bias');
        L.bd = vec(p + 'mlp.down_proj.bias', D, 'bias');
      }
      this.layers.push(L);
    }
    this.finalNorm = vec('model.norm.weight', D, 'norm');

    this.invFreq = ropeInvFreq(c);
    const R = new Float32Array(hd * hd);
    const half = c.rotaryDim / 2;
    // rotate_half(x)[j] = -x[j+half] for j < half, x[j-half] for half <= j < rotaryDim
    for (let j = 0; j < half; j++) {
      R[(j + half) * hd + j] = -1;
      R[j * hd + j + half] = 1;
    }
    this.rot = tf.keep(tf.tensor2d(R, [hd, hd]));
  }

  private add(name: string, data: Float32Array, shape: number[]): tf.Variable {
    const t = tf.tensor(data, shape, 'float32');
    // unnamed: tfjs variable names are global and several models may coexist
    const v = tf.variable(t, true);
    t.dispose();
    this.weights.set(name, v);
    return v;
  }

  /**
   * Every weight under its Hugging Face name. Linear weights (and a tied embedding) are stored
   * transposed, [in, out]; an untied `model.embed_tokens.weight` is [V, D] as in HF. Phi-3's fused
   * qkv_proj / gate_up_proj appear split, under the Llama names (q_proj, k_proj, v_proj, gate_proj, up_proj).
   */
  namedWeights(): Map<string, tf.Variable> {
    return new Map(this.weights);
  }

  /** Weights in Hugging Face layout ([out, in]), e.g. to write a safetensors checkpoint HF can load. */
  hfLayout(name: string): { shape: number[]; data: Float32Array } {
    const v = this.weights.get(name);
    if (!v) throw new Error(`no weight named ${name}`);
    const data = v.dataSync() as Float32Array;
    const transposed = name.endsWith('.weight') && v.shape.length === 2 && !(name === 'model.embed_tokens.weight' && !this.config.tieWordEmbeddings);
    if (!transposed) return { shape: [...v.shape], data: data.slice() };
    const [inp, out] = v.shape as [number, number];
    return { shape: [out, inp], data: transpose2d(data, inp, out) };
  }

  // ---- building blocks -------------------------------------------------------------------------

  private rmsNorm(x: tf.Tensor2D, w: tf.Variable): tf.Tensor2D {
    const ms = tf.mean(tf.mul(x, x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.config.rmsEps))), w);
  }

  private linear(x: tf.Tensor2D, w: tf.Variable, b?: tf.Variable): tf.Tensor2D {
    return (b ? tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b }) : tf.matMul(x, w)) as tf.Tensor2D;
  }

  /** [B*T, nh*hd] → [B, nh, T, hd] */
  private heads(x: tf.Tensor2D, B: number, T: number, nh: number): tf.Tensor4D {
    const hd = this.config.headDim;
    const r = tf.reshape(x, [B, T, nh, hd]);
    return (T === 1 ? tf.reshape(r, [B, nh, 1, hd]) : tf.transpose(r, [0, 2, 1, 3])) as tf.Tensor4D;
  }

  /** x * cos + rotate_half(x) * sin; x [B, nh, T, hd], cos/sin broadcast against it. */
  private rope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
    const [B, nh, T, hd] = x.shape;
    const rx = tf.reshape(tf.matMul(tf.reshape(x, [B * nh * T, hd]), this.rot), x.shape);
    return tf.add(tf.mul(x, cos), tf.mul(rx, sin)) as tf.Tensor4D;
  }

  /** Rotary embedding of x [B, nh, T, hd] at `positions` (one per t, shared by all rows and heads). */
  rotary(x: tf.Tensor4D, positions: number[]): tf.Tensor4D {
    const T = x.shape[2];
    if (positions.length !== T) throw new Error(`rotary: ${positions.length} positions for ${T} steps`);
    const { cos, sin } = this.ropeTables(positions);
    const hd = this.config.headDim;
    return tf.tidy(() => this.rope(x, tf.tensor2d(cos, [T, hd]), tf.tensor2d(sin, [T, hd])));
  }

  /** cos/sin tables [n, hd] for the given positions (pass-through dims: cos 1, sin 0). */
  private ropeTables(positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
    const { headDim: hd, rotaryDim } = this.config;
    const half = rotaryDim / 2;
    const n = positions.length;
    const cos = new Float32Array(n * hd).fill(1);
    const sin = new Float32Array(n * hd);
    for (let t = 0; t < n; t++) {
      const p = positions[t]!;
      for (let j = 0; j < half; j++) {
        const f = Math.fround(p * this.invFreq[j]!); // float32 product, as HF's float32 matmul
        const cj = Math.fround(Math.cos(f));
        const sj = Math.fround(Math.sin(f));
        cos[t * hd + j] = cos[t * hd + j + half] = cj;
        sin[t * hd + j] = sin[t * hd + j + half] = sj;
      }
    }
    return { cos, sin };
  }

  /**
   * One decoder layer on the residual stream x [B*T, D]. `attendTo` maps this step's keys/values
   * ([B, Hkv, T, hd]) to those to attend over; `bias` broadcasts against [B, H, T, L].
   */
  private layer(
    Lw: Layer, x: tf.Tensor2D, B: number, T: number, cos: tf.Tensor, sin: tf.Tensor, bias: tf.Tensor,
    attendTo: (k: tf.Tensor4D, v: tf.Tensor4D) => { k: tf.Tensor4D; v: tf.Tensor4D },
  ): tf.Tensor2D {
    const { nHeads: H, nKVHeads: KV, headDim: hd, hiddenSize: D } = this.config;
    const G = H / KV;
    const h = this.rmsNorm(x, Lw.inNorm);
    const q = tf.mul(this.rope(this.heads(this.linear(h, Lw.wq, Lw.bq), B, T, H), cos, sin), 1 / Math.sqrt(hd)) as tf.Tensor4D;
    const k = this.rope(this.heads(this.linear(h, Lw.wk, Lw.bk), B, T, KV), cos, sin);
    const kv = attendTo(k, this.heads(this.linear(h, Lw.wv, Lw.bv), B, T, KV));
    const Lk = kv.k.shape[2];
    // heads h = kv*G + g share kv head `kv` (HF repeat_kv order): fold g into the query rows
    const scores = tf.matMul(tf.reshape(q, [B, KV, G * T, hd]), kv.k, false, true);
    const att = tf.softmax(tf.add(tf.reshape(scores, [B, H, T, Lk]), bias));
    const y = tf.reshape(tf.matMul(tf.reshape(att, [B, KV, G * T, Lk]), kv.v), [B, H, T, hd]);
    const merged = tf.reshape(T === 1 ? y : tf.transpose(y, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
    x = tf.add(x, this.linear(merged, Lw.wo, Lw.bo)) as tf.Tensor2D;
    const m = this.rmsNorm(x, Lw.postNorm);
    const g = this.linear(m, Lw.wg, Lw.bg);
    const act = tf.mul(tf.mul(g, tf.sigmoid(g)), this.linear(m, Lw.wu, Lw.bu)) as tf.Tensor2D;
    return tf.reshape(tf.add(x, this.linear(act, Lw.wd, Lw.bd)), [B * T, D]);
  }

  private embedTokens(ids: tf.Tensor1D): tf.Tensor2D {
    // tied: columns of the [D, V] matrix; untied: rows of [V, D]
    const e = this.embed as tf.Tensor2D;
    return this.config.tieWordEmbeddings ? tf.transpose(tf.gather(e, ids, 1)) : tf.gather(e, ids, 0);
  }

  private checkWindow(L: number): void {
    const w = this.config.slidingWindow;
    if (w !== null && L > w) throw new Error(`${this.config.arch}: ${L} tokens exceed the sliding window ${w}, which this port does not implement`);
  }

  // ---- CausalLM --------------------------------------------------------------------------------

  hidden(ids: tf.Tensor2D, _opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const D = this.config.hiddenSize;
    if (T > this.maxPositions) throw new Error(`sequence length ${T} > max_position_embeddings ${this.maxPositions}`);
    this.checkWindow(T);
    let sc = this.seqConsts.get(T);
    if (!sc) {
      const hd = this.config.headDim;
      const m = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = NEG;
      const { cos, sin } = this.ropeTables(Int32Array.from({ length: T }, (_, i) => i));
      sc = { mask: tf.keep(tf.tensor2d(m, [T, T])), cos: tf.keep(tf.tensor2d(cos, [T, hd])), sin: tf.keep(tf.tensor2d(sin, [T, hd])) };
      this.seqConsts.set(T, sc);
    }
    const { mask, cos, sin } = sc;
    return tf.tidy(() => {
      let x = this.embedTokens(tf.reshape(ids, [B * T]));
      for (const L of this.layers) x = this.layer(L, x, B, T, cos, sin, mask, (k, v) => ({ k, v }));
      return tf.reshape(this.rmsNorm(x, this.finalNorm), [B, T, D]);
    });
  }

  head(hidden: tf.Tensor3D): tf.Tensor3D {
    const [B, T, D] = hidden.shape;
    return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(hidden, [B * T, D]), this.lmHead), [B, T, this.vocabSize]));
  }

  logits(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.head(this.hidden(ids, opts)));
  }

  /** Mean next-token cross-entropy where mask = 1 (same contract as GPT.lmLoss). */
  lmLoss(ids: tf.Tensor2D, targets: tf.Tensor2D, mask: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    return tf.tidy(() => maskedCrossEntropy(this.logits(ids, opts), targets, mask));
  }

  newCache(batch: number, capacity: number): KVCache {
    return new KVCache(batch, capacity, this.nLayers);
  }

  step(cache: KVCache, ids: tf.Tensor2D, opts: StepOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const { hiddenSize: D, headDim: hd } = this.config;
    if (B !== cache.batch) throw new Error(`step: ids have ${B} rows, cache ${cache.batch}`);
    if (cache.layers.length !== this.nLayers) throw new Error(`step: cache has ${cache.layers.length} layers, model ${this.nLayers}`);
    this.checkWindow(cache.length + T);
    const plan = cache.plan(T, opts.valid);
    for (const p of plan.positions) if (p >= this.maxPositions) throw new Error(`position ${p} >= max_position_embeddings ${this.maxPositions}`);
    const Lk = plan.past + T;
    const { cos, sin } = this.ropeTables(plan.positions);
    return tf.tidy(() => {
      let x = this.embedTokens(tf.reshape(ids, [B * T]));
      const cosT = tf.tensor4d(cos, [B, 1, T, hd]);
      const sinT = tf.tensor4d(sin, [B, 1, T, hd]);
      const bias = tf.tensor4d(plan.bias, [B, 1, T, Lk]);
      this.layers.forEach((L, i) => {
        x = this.layer(L, x, B, T, cosT, sinT, bias, (k, v) => cache.append(i, k, v));
      });
      if (opts.last && T > 1) x = tf.reshape(tf.slice(tf.reshape(x, [B, T, D]), [0, T - 1, 0], [B, 1, D]), [B, D]);
      return this.head(tf.reshape(this.rmsNorm(x, this.finalNorm), [B, opts.last ? 1 : T, D]));
    });
  }

  selectRows(cache: KVCache, rows: number[]): KVCache {
    return cache.select(rows);
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
    for (const s of this.seqConsts.values()) {
      s.mask.dispose();
      s.cos.dispose();
      s.sin.dispose();
    }
    this.seqConsts.clear();
    this.rot.dispose();
  }
}

/** An HFModel shell (zero weights) from a stored HFConfig; checkpoint.ts fills it via namedWeights. */
export function buildHFFromConfig(config: unknown): HFModel {
  const c = config as Partial<HFConfig>;
  const need = ['arch', 'vocabSize', 'hiddenSize', 'intermediateSize', 'nLayers', 'nHeads', 'nKVHeads', 'headDim', 'rotaryDim', 'rope', 'maxPositions'] as const;
  for (const k of need) if (c[k] === undefined) throw new HFConfigError(`stored model config: expected field ${k} of an HFConfig`);
  if (!['llama', 'qwen2', 'phi3'].includes(c.arch!)) throw new HFConfigError(`stored model config: expected arch llama|qwen2|phi3, got ${c.arch}`);
  return new HFModel(c as HFConfig, undefined, 'zeros');
}

/** Read `folder/config.json` into an HFConfig. */
export function readHFConfig(folder: string): HFConfig {
  const file = path.join(folder, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HFConfigError(`${file}: expected a readable JSON config: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HFConfigError(`${file}: expected a JSON object`);
  const c = parseHFConfig(raw as Record<string, unknown>, file);
  // generation_config.json may list more end-of-turn ids (e.g. <|im_end|> for Qwen2 chat models)
  const gen = path.join(folder, 'generation_config.json');
  if (fs.existsSync(gen)) {
    try {
      const g = JSON.parse(fs.readFileSync(gen, 'utf8')) as { eos_token_id?: number | number[] };
      const extra = Array.isArray(g.eos_token_id) ? g.eos_token_id : g.eos_token_id == null ? [] : [g.eos_token_id];
      c.eosTokenIds = [...new Set([...c.eosTokenIds, ...extra.map(Number)])];
    } catch {
      /* generation_config.json is advisory */
    }
  }
  return c;
}

/** Load a Hugging Face model folder (config.json + model.safetensors or a sharded index). */
export async function loadHF(folder: string): Promise<HFModel> {
  const config = readHFConfig(folder);
  const store = WeightStore.open(folder);
  const source: WeightSource = { has: (name) => store.has(name), get: (name, shape) => store.get(name, shape).data };
  // tied checkpoints may still carry an lm_head copy: the embedding is authoritative, as in HF
  if (!config.tieWordEmbeddings && !store.has('lm_head.weight'))
    throw new HFConfigError(`${folder}: expected lm_head.weight (tie_word_embeddings is false)`);
  return new HFModel(config, source);
}

/** `hf:<folder>` names a Hugging Face model folder. */
export function isHFSpec(spec: string): boolean {
  return spec.startsWith('hf:') && spec.length > 3;
}

export type ModelSpec = { kind: 'hf'; folder: string } | { kind: 'checkpoint'; dir: string };

/** `hf:<folder>` → a Hugging Face folder; anything else → one of our checkpoint directories. */
export function parseModelSpec(spec: string): ModelSpec {
  if (spec.startsWith('hf:')) {
    const folder = spec.slice(3);
    if (!folder) throw new HFConfigError(`model spec "${spec}": expected hf:<folder>`);
    return { kind: 'hf', folder };
  }
  if (!spec) throw new HFConfigError('model spec is empty: expected hf:<folder> or a checkpoint directory');
  return { kind: 'checkpoint', dir: spec };
}
