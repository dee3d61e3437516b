// Batched KV-cached sampling for any CausalLM.
//
// One forward prefills all prompts (left-padded to the longest, padding masked out, per-row positions),
// then each step feeds one token per live row. Sampling happens on the host from one [B,V] read per
// step, with a seeded PRNG per row: a row's samples depend only on (seed, row index), not on which
// other rows share the batch or when the batch is compacted. Rows that stopped are dropped from the
// cache once at most half of its rows are still live (one gather, amortised).
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, KVCache } from './lm.ts';
import { mulberry32 } from '../util/rng.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax, lowest id on ties). Default 1. */
  temperature?: number;
  /** Nucleus sampling: keep the most likely tokens up to this mass. Default 1 (off). */
  topP?: number;
  /** Token sequences; a row stops right after emitting any of them (kept in its output). */
  stop?: number[][];
  /** End-of-sequence id; a row stops after emitting it (kept in its output). */
  eosId?: number;
  /** PRNG seed; the same seed and inputs give the same samples. Default 0. */
  seed?: number;
  /**
   * One seed per prompt (overrides `seed`): sample j of prompt p then depends only on (seeds[p], j),
   * not on the prompt's place in the batch or on the other prompts (MCTS batches many trees' requests).
   */
  seeds?: number[];
  /** Adjusts a row's next-token logits in place before it samples (search/copy-bias.ts). */
  logitsHook?: LogitsHook;
  /** A row ends unfinished (stopped: false) once its output ends in one block of at least
   *  `minTokens` tokens written `repeats` times running: a decode caught in a loop would otherwise
   *  hold its whole batch until the context runs out. */
  loop?: { repeats: number; minTokens: number };
}

/** Called once per live row and step with the row, its prompt's index, the row's tokens so far and
 *  the logits (`logits[off .. off+V)`). */
export type LogitsHook = (row: number, prompt: number, tokens: readonly number[], logits: Float32Array, off: number) => void;

export interface GenerateResult {
  /** New tokens per row, including the stop sequence / eos that ended it. */
  tokens: number[][];
  /** Whether the row ended on a stop sequence or eos (false: it ran out of tokens or context). */
  stopped: boolean[];
}

export { mulberry32 };

/** Independent stream per (seed, row): mix both through a 32-bit hash. */
function rowRng(seed: number, row: number): () => number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(row + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return mulberry32(h ^ (h >>> 16));
}

/**
 * Pick a token from one row of logits (`logits[off .. off+V)`).
 * temperature 0 → argmax; otherwise softmax(logits / temperature), restricted to the top-p nucleus.
 */
export function sampleToken(
  logits: ArrayLike<number>, off: number, V: number, temperature: number, topP: number, rand: () => number,
): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < V; i++) {
    const l = logits[off + i]!;
    if (l > max) {
      max = l;
      best = i;
    }
  }
  if (temperature <= 0) return best;
  const p = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) z += p[i] = Math.exp((logits[off + i]! - max) / temperature);
  for (let i = 0; i < V; i++) p[i]! /= z;
  if (!(topP < 1)) return pick(p, null, 1, rand);
  // The nucleus is a prefix of the tokens sorted by probability. Any set {p_i >= t} is also such a
  // prefix, so when its mass reaches topP the nucleus lies inside it: sort only those few tokens.
  let ids: number[] = [];
  for (let t = 1e-3; ; t /= 100) {
    ids = [];
    let mass = 0;
    for (let i = 0; i < V; i++) if (p[i]! >= t || t < 1e-9) ids.push(i), (mass += p[i]!);
    if (mass >= topP || t < 1e-9) break;
  }
  ids.sort((a, b) => p[b]! - p[a]! || a - b);
  let mass = 0;
  let k = 0;
  while (k < ids.length && mass < topP) mass += p[ids[k++]!]!;
  return pick(p, ids.slice(0, Math.max(k, 1)), mass, rand);
}

function pick(p: Float64Array, ids: number[] | null, mass: number, rand: () => number): number {
  let u = rand() * mass;
  if (!ids) {
    for (let i = 0; i < p.length; i++) if ((u -= p[i]!) < 0) return i;
    // rounding left u marginally positive: take the last token with mass
    for (let i = p.length - 1; i >= 0; i--) if (p[i]! > 0) return i;
    return 0;
  }
  for (const i of ids) if ((u -= p[i]!) < 0) return i;
  return ids[ids.length - 1]!;
}

function endsWith(seq: number[], suffix: number[]): boolean {
  if (suffix.length === 0 || suffix.length > seq.length) return false;
  const o = seq.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (seq[o + i] !== suffix[i]) return false;
  return true;
}

/** Decode continuations of `prompts` (ragged lengths are fine) in one batch. */
export async function generate(lm: CausalLM, prompts: number[][], opts: GenerateOptions): Promise<GenerateResult> {
  return decode(lm, prompts, prompts.map((_, i) => i), opts);
}

/**
 * k sampled continuations of each prompt: the prompts are prefilled once, then each prefilled row is
 * copied into k cache rows. Result rows are prompt-major: row p*k + j is sample j of prompt p.
 */
export async function sampleMany(lm: CausalLM, prompts: number[][], k: number, opts: GenerateOptions): Promise<GenerateResult> {
  const of: number[] = [];
  for (let p = 0; p < prompts.length; p++) for (let j = 0; j < k; j++) of.push(p);
  return decode(lm, prompts, of, opts);
}

/** k sampled continuations of ONE prompt (prefill once, expand the cache to k rows). */
export async function sampleK(lm: CausalLM, prompt: number[], k: number, opts: GenerateOptions): Promise<GenerateResult> {
  return sampleMany(lm, [prompt], k, opts);
}

/** Whether `seq` ends in one block of L ≥ minTokens tokens written `repeats` times running, i.e. its
 *  last repeats·L tokens have period L. */
export function endsInLoop(seq: readonly number[], repeats: number, minTokens: number): boolean {
  const n = seq.length;
  for (let L = Math.max(1, minTokens); L * repeats <= n; L++) {
    let i = 1;
    while (i <= L * (repeats - 1) && seq[n - i] === seq[n - i - L]) i++;
    if (i > L * (repeats - 1)) return true;
  }
  return false;
}

/** Prefill the prompts, expand to the rows in `of` (row → prompt index) and decode. */
async function decode(lm: CausalLM, prompts: number[][], of: number[], opts: GenerateOptions): Promise<GenerateResult> {
  const temperature = opts.temperature ?? 1;
  const topP = opts.topP ?? 1;
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const loop = opts.loop && opts.loop.repeats > 1 ? opts.loop : undefined;
  const V = lm.vocabSize;
  const N = of.length;
  const out: GenerateResult = { tokens: of.map(() => []), stopped: of.map(() => false) };
  if (N === 0 || opts.maxNewTokens <= 0) return out;
  for (const p of prompts) {
    if (p.length === 0) throw new Error('generate: empty prompt');
    if (p.length > lm.maxPositions) throw new Error(`generate: prompt of ${p.length} tokens > context ${lm.maxPositions}`);
  }
  // a row may emit tokens until its last emitted token would need a position past the context
  const budget = of.map((p) => Math.min(opts.maxNewTokens, lm.maxPositions - prompts[p]!.length + 1));
  let rngs: (() => number)[];
  if (opts.seeds) {
    if (opts.seeds.length !== prompts.length) throw new Error(`generate: ${opts.seeds.length} seeds for ${prompts.length} prompts`);
    const nth = new Array<number>(prompts.length).fill(0);
    rngs = of.map((p) => rowRng(opts.seeds![p]!, nth[p]!++));
  } else rngs = of.map((_, r) => rowRng(opts.seed ?? 0, r));

  // prefill: one forward over the left-padded prompts
  const P = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(P * T);
  const valid = new Uint8Array(P * T);
  prompts.forEach((p, i) => {
    ids.set(p, i * T + T - p.length);
    valid.fill(1, i * T + T - p.length, (i + 1) * T);
  });
  const capacity = T + Math.max(...budget);
  let cache: KVCache = lm.newCache(P, capacity);
  let logits: Float32Array;
  try {
    const x = tf.tensor2d(ids, [P, T], 'int32');
    const l = lm.step(cache, x, { valid, last: true });
    x.dispose();
    const prefill = (await l.data()) as Float32Array;
    l.dispose();
    // expand prompts into rows: the cache by selectRows, the first logits by copying
    const identity = of.length === P && of.every((p, i) => p === i);
    if (!identity) {
      const expanded = lm.selectRows(cache, of);
      cache.dispose();
      cache = expanded;
    }
    logits = new Float32Array(N * V);
    of.forEach((p, r) => logits.set(prefill.subarray(p * V, (p + 1) * V), r * V));

    // live[i]: the output row cache row i decodes, or -1 once it finished (it rides along, fed a
    // padding token, until compaction drops it)
    let live = of.map((_, r) => r);
    for (;;) {
      let alive = 0;
      live.forEach((r, i) => {
        if (r < 0) return;
        const seq = out.tokens[r]!;
        opts.logitsHook?.(r, of[r]!, seq, logits, i * V);
        const tok = sampleToken(logits, i * V, V, temperature, topP, rngs[r]!);
        seq.push(tok);
        if (tok === opts.eosId || stops.some((s) => endsWith(seq, s))) out.stopped[r] = true;
        if (out.stopped[r] || seq.length >= budget[r]! || (loop && endsInLoop(seq, loop.repeats, loop.minTokens))) live[i] = -1;
        else alive++;
      });
      if (alive === 0) break;
      if (alive < live.length && alive * 2 <= live.length) {
        const keep = live.flatMap((r, i) => (r >= 0 ? [i] : []));
        const compact = lm.selectRows(cache, keep);
        cache.dispose();
        cache = compact;
        live = keep.map((i) => live[i]!);
      }
      const next = Int32Array.from(live, (r) => (r >= 0 ? out.tokens[r]!.at(-1)! : 0));
      const x = tf.tensor2d(next, [next.length, 1], 'int32');
      // finished rows' dummy tokens are flagged padding: never attended to, no position consumed
      const l = lm.step(cache, x, { last: true, valid: alive < live.length ? live.map((r) => (r >= 0 ? 1 : 0)) : undefined });
      x.dispose();
      logits = (await l.data()) as Float32Array;
      l.dispose();
    }
  } finally {
    cache.dispose();
  }
  return out;
}
