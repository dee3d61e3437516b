// Near-duplicate groups and a grouped dev split.
//
// MAWPS/ASDiv-A (SVAMP's training pool) holds many rewordings of one problem with other numbers, and
// the fixed hash split (`splitDev`) sends one of them to dev and its twins to train: about half of the
// old dev problems have a training problem that differs only in its numbers (masked-word Jaccard ≥
// 0.9), so dev accuracy measures recall as much as reasoning. Here problems joined by near-duplicate
// similarity (and, optionally, by equation template plus a weaker similarity) form groups
// (union-find), and whole groups go to dev or train, so no dev problem has a near-duplicate in train.
//
// Similarity is Jaccard over the set of lowercased words of the question, every number replaced by
// one mask token ('#'): two problems that differ only in their numbers have similarity 1. All pairs
// above a threshold come from prefix filtering (Bayardo et al., "Scaling up all pairs similarity
// search", 2007), exact and fast enough for GSM8K's 7.5 k questions.
import type { Problem } from './datasets.ts';
import { splitDev } from './datasets.ts';
import { hash32 } from '../util/rng.ts';

/** The mask every number of a question becomes. */
export const NUMBER_MASK = '#';

/**
 * Grouping threshold. Pairs at 0.5–0.6 in MAWPS are still one sentence frame with other names and
 * objects ("Mary picked 122 oranges and Jason picked 105 …" / "Sara picked 6 pears and Tim picked 5
 * …"), which a small policy can answer from memory; below 0.5 they mostly share only the question
 * frame ("How many … in all?") with another situation. Grouping at 0.5 also makes the new dev set meet
 * the definition of the old split's evaluable subset ("no training problem ≥ 0.5") by construction.
 * Chaining at 0.5 makes one group of 271 MAWPS problems (0.4: 1,333); groups above maxGroupFrac stay
 * in train (scripts/dev-groups.ts prints the profile).
 */
export const GROUP_THRESHOLD = 0.5;

/** Lowercased words of a question with every number masked, as a set. */
export function maskedWords(question: string): Set<string> {
  const masked = question.toLowerCase().replace(/\d+(?:[.,]\d+)*|\.\d+/g, ` ${NUMBER_MASK} `);
  return new Set(masked.match(/[a-z]+|#/g) ?? []);
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const w of small) if (large.has(w)) inter++;
  return inter / (a.size + b.size - inter);
}

export interface SimilarPair {
  /** Index into the first list (the only list, for pairs within one list; then i < j). */
  i: number;
  /** Index into the second list (or the same list). */
  j: number;
  sim: number;
}

/** Words as integer ids ordered rarest first (ties by word), each set sorted by that order. */
function orderedTokens(sets: readonly ReadonlySet<string>[]): Int32Array[] {
  const df = new Map<string, number>();
  for (const s of sets) for (const w of s) df.set(w, (df.get(w) ?? 0) + 1);
  const words = [...df.keys()].sort((x, y) => df.get(x)! - df.get(y)! || (x < y ? -1 : x > y ? 1 : 0));
  const rank = new Map(words.map((w, r) => [w, r]));
  return sets.map((s) => Int32Array.from([...s].map((w) => rank.get(w)!)).sort());
}

/** |x ∩ y| of two sorted id arrays. */
function overlap(x: Int32Array, y: Int32Array): number {
  let n = 0;
  for (let a = 0, c = 0; a < x.length && c < y.length; ) {
    if (x[a]! === y[c]!) {
      n++;
      a++;
      c++;
    } else if (x[a]! < y[c]!) a++;
    else c++;
  }
  return n;
}

/**
 * Every pair with Jaccard ≥ threshold: within `a` (i < j) when `b` is omitted, else between `a` and
 * `b`. Exact, by prefix filtering: if J(x, y) ≥ t then |x ∩ y| ≥ α = ⌈t/(1+t)·(|x| + |y|)⌉, and then the
 * rarest |x| − α + 1 tokens of x and the rarest |y| − α + 1 of y share one; candidates sharing a prefix
 * token are verified. threshold in (0, 1].
 */
export function similarPairs(
  a: readonly ReadonlySet<string>[],
  b?: readonly ReadonlySet<string>[],
  threshold = GROUP_THRESHOLD,
): SimilarPair[] {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`similarPairs: expected threshold in (0, 1], got ${threshold}`);
  const toks = orderedTokens(b ? [...a, ...b] : a);
  const nA = a.length;
  const t = threshold;
  // Visit sets smallest first and index each after probing: every indexed partner y is then no larger
  // than the probe x, so α ≥ ⌈t|x|⌉ bounds x's probe prefix and α ≥ ⌈2t/(1+t)·|y|⌉ y's (shorter) index prefix.
  const order = toks.map((_, k) => k).sort((x, y) => toks[x]!.length - toks[y]!.length || x - y);
  const index = new Map<number, number[]>();
  const seen = new Int32Array(toks.length).fill(-1);
  const out: SimilarPair[] = [];
  const sideA = (k: number): boolean => k < nA;
  for (const x of order) {
    const tx = toks[x]!;
    const minSize = t * tx.length - 1e-9;
    const probe = tx.length - Math.ceil(t * tx.length - 1e-9) + 1;
    for (let p = 0; p < Math.min(probe, tx.length); p++) {
      for (const y of index.get(tx[p]!) ?? []) {
        if (seen[y] === x) continue;
        seen[y] = x;
        if (b && sideA(x) === sideA(y)) continue; // across the two lists only
        const ty = toks[y]!;
        if (ty.length < minSize) continue;
        const inter = overlap(tx, ty);
        const sim = inter / (tx.length + ty.length - inter);
        if (sim < t) continue;
        if (b) out.push(sideA(x) ? { i: x, j: y - nA, sim } : { i: y, j: x - nA, sim });
        else out.push({ i: Math.min(x, y), j: Math.max(x, y), sim });
      }
    }
    const keep = tx.length - Math.ceil(((2 * t) / (1 + t)) * tx.length - 1e-9) + 1;
    for (let p = 0; p < Math.min(keep, tx.length); p++) {
      const list = index.get(tx[p]!);
      if (list) list.push(x);
      else index.set(tx[p]!, [x]);
    }
  }
  return out.sort((x, y) => x.i - y.i || x.j - y.j);
}

// ---- The old split, measured -------------------------------------------------------------------

export interface SimilarityBands {
  /** Band lower edges, descending (default [0.9, 0.5]); the last band is "below the last edge". */
  edges: number[];
  /** Dev problems per band: counts[k] has best similarity in [edges[k], edges[k-1]); counts[edges.length] below all. */
  counts: number[];
  /** Per dev problem: the best similarity to any training problem, or 0 when below the lowest edge. */
  best: number[];
  /** Per dev problem: the index of that training problem, or -1. */
  nearest: number[];
}

/** For each dev problem, its most similar training problem, counted in similarity bands. */
export function similarityBands(dev: readonly Problem[], train: readonly Problem[], edges: number[] = [0.9, 0.5]): SimilarityBands {
  const sorted = [...edges].sort((x, y) => y - x);
  const best = new Array<number>(dev.length).fill(0);
  const nearest = new Array<number>(dev.length).fill(-1);
  const floor = sorted[sorted.length - 1]!;
  for (const { i, j, sim } of similarPairs(dev.map((p) => maskedWords(p.question)), train.map((p) => maskedWords(p.question)), floor)) {
    if (sim > best[i]!) [best[i], nearest[i]] = [sim, j];
  }
  const counts = new Array<number>(sorted.length + 1).fill(0);
  for (const s of best) {
    const k = sorted.findIndex((e) => s >= e);
    counts[k < 0 ? sorted.length : k]!++;
  }
  return { edges: sorted, counts, best, nearest };
}

export interface EvaluableOptions {
  /** Old-dev problems with a training problem this similar or more are left out (default 0.5). */
  threshold?: number;
  /** The old split's options (splitDev defaults: 10 %, seed 1234). */
  frac?: number;
  seed?: number;
}

/**
 * The old dev problems that checkpoints trained on the old split (`splitDev(...).train`) can be
 * evaluated on honestly: those with no old-train problem of similarity ≥ threshold.
 */
export function evaluableDev(problems: readonly Problem[], opts: EvaluableOptions = {}): Problem[] {
  const { train, dev } = splitDev(problems, { frac: opts.frac ?? 0.1, seed: opts.seed ?? 1234 });
  const bands = similarityBands(dev, train, [opts.threshold ?? GROUP_THRESHOLD]);
  return dev.filter((_, k) => bands.nearest[k] === -1);
}

// ---- Groups --------------------------------------------------------------------------------------

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }
  union(x: number, y: number): void {
    const rx = this.find(x);
    const ry = this.find(y);
    // the smaller index is the root, so a group's root is its first member
    if (rx !== ry) this.parent[Math.max(rx, ry)] = Math.min(rx, ry);
  }
}

export interface GroupOptions {
  /** Masked-word Jaccard at or above which two problems are one group (default GROUP_THRESHOLD). */
  threshold?: number;
  /**
   * Also join problems with the same equation template (`extra.equation_template`, numbers masked)
   * whose similarity is at least this (default: off). A template alone would join every "n0 + n1"
   * problem (572 in MAWPS); even with similarity ≥ 0.4 it chains 922 of 3,138 problems into one group
   * (0.3: 1,824), so by default groups come from similarity alone.
   */
  templateThreshold?: number;
}

/** The equation with its numbers masked (`extra.equation_template`, as MAWPS lines and schema problems carry it). */
export function equationTemplate(p: Problem): string | undefined {
  const t = p.extra?.equation_template;
  if (typeof t === 'string') return t.replace(/\s+/g, ' ').trim();
  return undefined;
}

/** Group id (the index of the group's first problem) per problem: union-find over similar pairs. */
export function nearDuplicateGroups(problems: readonly Problem[], opts: GroupOptions = {}): number[] {
  const threshold = opts.threshold ?? GROUP_THRESHOLD;
  const sets = problems.map((p) => maskedWords(p.question));
  const uf = new UnionFind(problems.length);
  const low = opts.templateThreshold !== undefined ? Math.min(threshold, opts.templateThreshold) : threshold;
  for (const { i, j, sim } of similarPairs(sets, undefined, low)) {
    if (sim >= threshold) uf.union(i, j);
    else if (equationTemplate(problems[i]!) !== undefined && equationTemplate(problems[i]!) === equationTemplate(problems[j]!)) uf.union(i, j);
  }
  return problems.map((_, i) => uf.find(i));
}

export interface GroupedSplitOptions extends GroupOptions {
  /** Fraction of problems for dev (default 0.1). */
  frac?: number;
  seed?: number;
  /**
   * Groups larger than this fraction of the dev target stay in train (default 0.05): one big family
   * of rewordings would otherwise fill dev with a single situation.
   */
  maxGroupFrac?: number;
}

export interface GroupedSplit {
  train: Problem[];
  dev: Problem[];
  /** Group id per problem of the input (see nearDuplicateGroups). */
  group: number[];
  /** Number of groups, and the size of the largest. */
  groups: number;
  largest: number;
}

/**
 * Dev split by whole near-duplicate groups. Groups are visited in a seeded order (a hash of the seed
 * and the group's first problem id, so the order does not depend on file order) and go to dev while
 * they fit in round(frac · n). Input order is kept within each side.
 */
export function groupedSplit(problems: readonly Problem[], opts: GroupedSplitOptions = {}): GroupedSplit {
  const frac = opts.frac ?? 0.1;
  const seed = opts.seed ?? 1234;
  if (!(frac >= 0 && frac <= 1)) throw new RangeError(`groupedSplit: expected frac in [0, 1], got ${frac}`);
  const group = nearDuplicateGroups(problems, opts);
  const members = new Map<number, number[]>();
  group.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const target = Math.round(frac * problems.length);
  const maxGroup = Math.max(1, Math.floor((opts.maxGroupFrac ?? 0.05) * target));
  const key = (g: number): string => [...members.get(g)!].map((i) => problems[i]!.id).sort()[0]!;
  const order = [...members.keys()].map((g) => ({ g, h: hash32(key(g), seed), k: key(g) }));
  order.sort((x, y) => x.h - y.h || (x.k < y.k ? -1 : 1));
  const inDev = new Uint8Array(problems.length);
  let size = 0;
  for (const { g } of order) {
    const m = members.get(g)!;
    if (m.length > maxGroup || size + m.length > target) continue;
    for (const i of m) inDev[i] = 1;
    size += m.length;
    if (size === target) break;
  }
  const train: Problem[] = [];
  const dev: Problem[] = [];
  problems.forEach((p, i) => (inDev[i] ? dev : train).push(p));
  let largest = 0;
  for (const m of members.values()) largest = Math.max(largest, m.length);
  return { train, dev, group, groups: members.size, largest };
}

/**
 * GSM8K's grouped dev split: the same grouping without templates (GSM8K has no equation field).
 * GSM8K has few near-duplicates, so this is close to a plain seeded split.
 */
export function gsm8kGroupedSplit(problems: readonly Problem[], opts: Omit<GroupedSplitOptions, 'templateThreshold'> = {}): GroupedSplit {
  return groupedSplit(problems, { ...opts, templateThreshold: undefined });
}

/**
 * The candidates with no held-out problem of similarity ≥ threshold: synthesised or borrowed training
 * problems must not bring a dev problem's twin into training.
 */
export function dropSimilar<T extends Pick<Problem, 'question'>>(candidates: readonly T[], heldOut: readonly Pick<Problem, 'question'>[], threshold = GROUP_THRESHOLD): T[] {
  const near = new Set(similarPairs(candidates.map((p) => maskedWords(p.question)), heldOut.map((p) => maskedWords(p.question)), threshold).map((x) => x.i));
  return candidates.filter((_, i) => !near.has(i));
}
