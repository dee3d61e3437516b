// The problems a self-evolution run works on: the datasets' training splits plus synthesised variants,
// and the dev problems it reports on.
import fs from 'node:fs';
import { DataError, datasetSplit, loadDataset, loadProblems, splitDev, type Problem } from './datasets.ts';
import { donorSentences, synthesizeDistractors, withDistractor } from './synth/distractors.ts';
import { schemaProblem } from './synth/schemas.ts';
import { dropSimilar, evaluableDev, groupedSplit } from './groups.ts';
import { seededOrder } from '../util/rng.ts';

/**
 * Training problems (plus their distractor variants for a seeded share `distractors` of the word
 * problems), the dev problems of every dataset (devOf), and, when it trains with distractors, the
 * word-problem dev problems with a distractor added (the robustness that training is meant to buy;
 * their donors are training problems).
 */
export function loadProblemsFor({ datasets, distractors = 0, seed = 1234, files, schemas = 0, devSet = 'fixed' }: {
  datasets: string[];
  /** Which of a word-problem dataset's dev problems (devOf). */
  devSet?: DevSet;
  distractors?: number;
  seed?: number;
  /** Schema problems added to the training problems (the first of the run's stream, schemaBatch). */
  schemas?: number;
  /** Your own problems instead of the datasets' (loadProblemFiles). */
  files?: { data: string[]; dev?: string };
}): {
  train: Problem[];
  synthetic: Problem[];
  dev: Problem[];
  devDistractor: Problem[];
} {
  const own = files ? loadProblemFiles(files) : null;
  const train: Problem[] = own ? own.train : [];
  if (!own) for (const d of datasets) train.push(...splitOf(d, devSet === 'grouped').train);
  const dev = own ? own.dev : datasets.flatMap((d) => devOf(d, devSet));
  // an irrelevant sentence is a word-problem variation: "Let x = 3." gains nothing from one
  const words = (p: Problem) => !p.source.startsWith('deepmind');
  const donors = donorSentences(train.filter(words));
  const synthetic = [
    ...(distractors > 0 ? synthesizeDistractors(train.filter(words), distractors, seed, donors) : []),
    ...schemaBatch({ start: 0, count: schemas, seed, dev: dev.filter(words) }),
  ];
  // a dataset's dev with distractors is eval --distractor's (donors: that dataset's own training problems)
  const devDistractor = !distractors ? []
    : own ? own.dev.filter(words).flatMap((p) => withDistractor(p, donors, seed + 1) ?? [])
    : datasets.filter((d) => !d.startsWith('deepmind')).flatMap((d) => devWithDistractors(d, devSet, seed + 1));
  return { train: [...train, ...synthetic], synthetic, dev, devDistractor };
}

/**
 * Which dev problems of a word-problem dataset: 'fixed', the seeded 10 % split (the shipped models
 * trained beside it); 'unseen', those of it with no training problem of masked-word similarity ≥ 0.5
 * (groups.ts evaluableDev: what cannot be recalled); 'grouped', the dev part of a split that keeps
 * near-duplicate groups whole (groups.ts groupedSplit).
 */
export type DevSet = 'fixed' | 'unseen' | 'grouped';

/**
 * A dataset's dev problems (datasets.ts datasetSplit; DeepMind's are its official test regimes), with
 * DeepMind's modules interleaved (problem i of every module before problem i + 1 of any), so that
 * the first N dev problems cover every module.
 */
export function devOf(dataset: string, set: DevSet = 'fixed'): Problem[] {
  if (set === 'unseen' && !dataset.startsWith('deepmind')) return evaluableDev(loadDataset(dataset));
  return interleaveModules(splitOf(dataset, set === 'grouped').dev);
}

/**
 * A word-problem dataset's dev problems, each with one irrelevant sentence from a training problem
 * added (distractors.ts; those with no fitting donor are left out): what a policy that uses every
 * number, in order, fails.
 */
export function devWithDistractors(dataset: string, set: DevSet, seed: number): Problem[] {
  if (dataset.startsWith('deepmind')) throw new Error(`distractors: ${dataset} is not a word-problem dataset`);
  const donors = donorSentences(splitOf(dataset, set === 'grouped').train);
  return devOf(dataset, set).flatMap((p) => withDistractor(p, donors, seed) ?? []);
}

/**
 * The problems `eval` scores: your own file, or a dataset's dev problems (with `distractor`, their
 * distractor version, donors drawn with seed + 1), the first `limit` of them. Bad input throws its
 * one line before any model loads.
 */
export function evalProblems(o: { data?: string; dataset?: string; dev?: DevSet; distractor?: boolean; seed: number; limit?: number }): Problem[] {
  if (o.distractor && o.data) throw new Error('eval: --distractor varies a dataset\'s dev problems; --data is your own');
  const problems = o.data ? loadProblems(o.data) : o.distractor ? devWithDistractors(o.dataset ?? 'mawps', o.dev ?? 'fixed', o.seed + 1) : devOf(o.dataset ?? 'mawps', o.dev);
  return o.limit === undefined ? problems : problems.slice(0, o.limit);
}

const groupedCache = new Map<string, { train: Problem[]; dev: Problem[] }>();

/**
 * A dataset's training and dev problems: datasetSplit's, or with `grouped` (word-problem datasets;
 * DeepMind's dev is its official test regimes either way) the split that keeps near-duplicate groups
 * whole (groups.ts groupedSplit), so no dev problem has a training problem of masked-word similarity
 * ≥ 0.5. Bootstrap, training and dev of a grouped run all come from here.
 */
export function splitOf(dataset: string, grouped = false): { train: Problem[]; dev: Problem[] } {
  if (!grouped || dataset.startsWith('deepmind')) return datasetSplit(dataset);
  let s = groupedCache.get(dataset);
  if (!s) {
    const g = groupedSplit(loadDataset(dataset));
    s = { train: g.train, dev: g.dev };
    groupedCache.set(dataset, s);
  }
  return s;
}

/** Problem i of every module, then problem i + 1 of every module, …; modules in first-seen order. */
export function interleaveModules(problems: readonly Problem[]): Problem[] {
  const byModule = new Map<string, Problem[]>();
  for (const p of problems) {
    const m = String(p.extra?.module ?? '');
    if (!byModule.has(m)) byModule.set(m, []);
    byModule.get(m)!.push(p);
  }
  const groups = [...byModule.values()];
  const out: Problem[] = [];
  for (let i = 0; out.length < problems.length; i++) for (const g of groups) if (i < g.length) out.push(g[i]!);
  return out;
}

/**
 * Problems [start, start + count) of the run's schema-problem stream (data/synth/schemas.ts, seeded by
 * the run's seed), less those near a dev problem (masked-word similarity ≥ 0.5): a round draws the
 * next batch, so no problem is drawn twice and none is derived from dev.
 */
export function schemaBatch({ start, count, seed, dev }: { start: number; count: number; seed: number; dev: Problem[] }): Problem[] {
  if (count <= 0) return [];
  return dropSimilar(Array.from({ length: count }, (_, i) => schemaProblem(start + i, { seed })), dev);
}

/**
 * Your own problems (`self-evolve --data a.jsonl,b.jsonl --dev dev.jsonl`): every line of the data
 * files trains, the dev file's lines are the dev set; without a dev file, the fixed seeded 10 % of
 * the data (splitDev) is. Bad lines fail with loadProblems' `file:line: expected …`; an id used in two
 * files fails naming both, so no problem is trained on and reported on at once.
 */
export function loadProblemFiles({ data, dev }: { data: string[]; dev?: string }): { train: Problem[]; dev: Problem[] } {
  if (!data.length) throw new DataError('--data: expected one or more JSONL files, comma-separated');
  const seen = new Map<string, string>();
  const read = (file: string): Problem[] => {
    const ps = loadProblems(file);
    for (const p of ps) {
      const other = seen.get(p.id);
      if (other !== undefined) throw new DataError(`${file}:${lineOf(file, p.id)}: expected an id not used before, but ${JSON.stringify(p.id)} is also in ${other}`);
      seen.set(p.id, file);
    }
    return ps;
  };
  const train = data.flatMap(read);
  if (dev === undefined) return splitDev(train);
  const devProblems = read(dev);
  if (!devProblems.length) throw new DataError(`${dev}:1: expected at least one dev problem`);
  if (!train.length) throw new DataError(`${data[0]}:1: expected at least one training problem`);
  return { train, dev: devProblems };
}

/** The line of a file's problem with this id (its own "id", or the line number loadProblems put in the id). */
function lineOf(file: string, id: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`"id":${JSON.stringify(id)}`) || l.includes(`"id": ${JSON.stringify(id)}`));
  if (i >= 0) return i + 1;
  return Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
}

/** How many training problems a round searches: a count, 'all', or per source (`'*'`: every source
 *  not named; a source neither names is searched whole). */
export type SearchQuota = number | 'all' | Readonly<Record<string, number | 'all'>>;

/** `300`, `all`, or `deepmind=300,gsm8k=200,*=all` (a flag's text) as a quota; null when malformed. */
export function parseSearchQuota(text: string): SearchQuota | null {
  const one = (v: string): number | 'all' | null => (v === 'all' ? 'all' : /^\d+$/.test(v) ? Number(v) : null);
  const t = text.trim();
  if (!t.includes('=')) return one(t);
  const rec: Record<string, number | 'all'> = {};
  for (const part of t.split(',')) {
    const m = /^\s*([\w*-]+)\s*=\s*(\S+)\s*$/.exec(part);
    const v = m ? one(m[2]!) : null;
    if (!m || v === null || Object.hasOwn(rec, m[1]!)) return null;
    rec[m[1]!] = v;
  }
  return rec;
}

/**
 * Round k's search set: per source (or over all problems for a plain quota) a seeded order of the
 * problems, whichever order the files are in, of which round k takes the first n, or with `freshDraw`
 * problems (k-1)·n … k·n - 1 (wrapping past the end: a problem is searched again only once every one
 * of its source has been). n = 0 takes none.
 */
export function searchDraw(problems: readonly Problem[], quota: SearchQuota, { k, seed, freshDraw }: { k: number; seed: number; freshDraw: boolean }): Problem[] {
  const ordered = (ps: readonly Problem[]) => seededOrder(ps, (p) => p.id, seed);
  const take = (order: Problem[], n: number | 'all'): Problem[] => {
    if (n === 'all') return order;
    if (!n || !freshDraw) return order.slice(0, n);
    const start = ((k - 1) * n) % Math.max(1, order.length);
    const s = order.slice(start, start + n);
    return s.length < n ? [...s, ...order.slice(0, Math.min(n - s.length, start))] : s;
  };
  if (typeof quota !== 'object') return take(ordered(problems), quota);
  const sources = [...new Set(problems.map((p) => p.source))];
  return ordered(sources.flatMap((src) => take(ordered(problems.filter((p) => p.source === src)), quota[src] ?? quota['*'] ?? 'all')));
}
