// Problem sets: JSONL loaders with line-precise validation, and the fixed dev split.
//
// Every line is one JSON object with at least `question` and `answer`. Our four training files live in
// repo/data (see data/README.md); users can point the loader at their own JSONL in the same shape.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Problem {
  id: string;
  question: string;
  /** The graded final answer, always a string (numbers in user files are converted). */
  answer: string;
  source: 'gsm8k' | 'math' | 'mawps' | 'deepmind' | (string & {});
  /** Reference solution text when the file has one. */
  solution?: string;
  /** Every other field of the line (level, type, module, numbers, ...), untouched. */
  extra?: Record<string, unknown>;
}

/** Bad input data. The message is one line: `file:line: expected …`. */
export class DataError extends Error {
  override name = 'DataError';
}

/** repo/data, found from this module's location so it works from any working directory. */
export const DATA_DIR: string = fileURLToPath(new URL('../../data', import.meta.url));

/** Dataset name → file name inside DATA_DIR. */
export const DATASETS = {
  gsm8k: 'gsm8k-train.jsonl',
  math: 'math-train.jsonl',
  mawps: 'mawps-asdiva-train.jsonl',
  /** DeepMind Mathematics generated train lines (train-easy/medium/hard, 56 modules). */
  deepmind: 'deepmind-mathematics-train.jsonl',
  /** The official interpolation test regime, 50 per module: dev only. */
  'deepmind-interpolate': 'deepmind-mathematics-interpolate-dev.jsonl',
  /** The official extrapolation regime (6 modules): dev only. */
  'deepmind-extrapolate': 'deepmind-mathematics-extrapolate-dev.jsonl',
  /** The older fixed sample (train-easy, train-medium, interpolate): its interpolate lines are dev. */
  'deepmind-sample': 'deepmind-mathematics-sample.jsonl',
} as const;

/**
 * Datasets whose dev set is published rather than hashed out of the file: their dev is these
 * datasets (whole), and datasets listed as dev of another never train. Everything else uses splitDev.
 */
export const FIXED_DEV: Readonly<Record<string, readonly string[]>> = {
  deepmind: ['deepmind-interpolate', 'deepmind-extrapolate'],
  'deepmind-interpolate': ['deepmind-interpolate'],
  'deepmind-extrapolate': ['deepmind-extrapolate'],
};

/**
 * A dataset's training and dev problems: the fixed dev sets of FIXED_DEV where it has them (a dev-only
 * dataset has no training part; lines whose `split` is a test regime never train), else splitDev.
 */
export function datasetSplit(name: DatasetName | string, opts: SplitOptions = {}): { train: Problem[]; dev: Problem[] } {
  const all = loadDataset(name);
  const testRegime = (p: Problem): boolean => p.extra?.split === 'interpolate' || p.extra?.split === 'extrapolate';
  const fixed = FIXED_DEV[name];
  if (!fixed) {
    if (!all.some(testRegime)) return splitDev(all, opts);
    return { train: all.filter((p) => !testRegime(p)), dev: all.filter(testRegime) };
  }
  const devOnly = fixed.includes(name);
  return { train: devOnly ? [] : all.filter((p) => !testRegime(p)), dev: fixed.flatMap((d) => (d === name ? all : loadDataset(d))) };
}

export type DatasetName = keyof typeof DATASETS;

const CORE_FIELDS = new Set(['id', 'question', 'answer', 'source', 'solution']);

/** Shorten a value for an error message and keep it on one line. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The dataset name whose file this is, else the file name without extension. */
function defaultSource(file: string): string {
  const base = path.basename(file);
  for (const [name, f] of Object.entries(DATASETS)) if (f === base) return name;
  return base.replace(/\.jsonl?$/i, '');
}

/**
 * Read a JSONL problem file. Blank lines are skipped; any other bad line throws DataError naming the
 * file and 1-based line. `source` labels the problems: the argument, else the line's own string
 * `source` field, else the dataset name of a known file, else the file's base name. Lines without an
 * `id` get `<source>-<line>`; ids must be unique within the file.
 */
export function loadProblems(file: string, source?: string): Problem[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`${file}:0: expected a readable JSONL file (${oneLine((e as Error).message)})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const fallbackSource = source ?? defaultSource(file);
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const ln = i + 1;
    const fail = (what: string): never => {
      throw new DataError(`${file}:${ln}: expected ${oneLine(what)}`);
    };
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      fail(`valid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      fail(`a JSON object, got ${Array.isArray(obj) ? 'an array' : show(obj)}`);
    }
    const o = obj as Record<string, unknown>;
    const field = (name: 'question' | 'answer'): string => {
      const v = o[name];
      if (v === undefined) return fail(`a "${name}" field`);
      // User files often store numeric answers as numbers; questions must be text.
      if (name === 'answer' && typeof v === 'number') {
        if (!Number.isFinite(v)) fail(`"answer" to be a finite number or a string, got ${show(v)}`);
        return String(v);
      }
      if (typeof v !== 'string') return fail(`"${name}" to be a string, got ${show(v)}`);
      if (v.trim() === '') fail(`"${name}" to be non-empty`);
      return v;
    };
    const question = field('question');
    const answer = field('answer').trim();
    let src = fallbackSource;
    if (source === undefined && o.source !== undefined) {
      if (typeof o.source !== 'string' || o.source === '') fail(`"source" to be a non-empty string, got ${show(o.source)}`);
      src = o.source as string;
    }
    let id: string;
    if (o.id === undefined) id = `${src}-${ln}`;
    else if (typeof o.id === 'string' && o.id !== '') id = o.id;
    else if (typeof o.id === 'number' && Number.isFinite(o.id)) id = String(o.id);
    else return fail(`"id" to be a non-empty string or a number, got ${show(o.id)}`);
    const prev = seen.get(id);
    if (prev !== undefined) fail(`a unique id, but ${show(id)} was already used on line ${prev}`);
    seen.set(id, ln);
    const p: Problem = { id, question, answer, source: src };
    if (o.solution !== undefined) {
      if (typeof o.solution !== 'string') fail(`"solution" to be a string, got ${show(o.solution)}`);
      p.solution = o.solution as string;
    }
    const extra: Record<string, unknown> = {};
    let nExtra = 0;
    for (const [k, v] of Object.entries(o)) {
      if (!CORE_FIELDS.has(k)) {
        extra[k] = v;
        nExtra++;
      }
    }
    if (nExtra > 0) p.extra = extra;
    problems.push(p);
  }
  return problems;
}

/** Load one of our datasets by name (gsm8k, math, mawps, deepmind) from DATA_DIR. */
export function loadDataset(name: DatasetName | string): Problem[] {
  const file = (DATASETS as Record<string, string>)[name];
  if (file === undefined) {
    throw new DataError(`loadDataset: expected one of ${Object.keys(DATASETS).join(', ')}, got ${show(name)}`);
  }
  return loadProblems(path.join(DATA_DIR, file), name);
}

export interface SplitOptions {
  /** Fraction of problems that go to dev (0..1). */
  frac?: number;
  seed?: number;
}

/**
 * Fixed dev split. Each problem's side is decided by a hash of (seed, id) alone, so it does not depend
 * on file order, on the other problems, or on which datasets are loaded together; every dataset
 * therefore ends up with about `frac` of its problems in dev. Input order is kept within each side.
 */
export function splitDev(problems: readonly Problem[], opts: SplitOptions = {}): { train: Problem[]; dev: Problem[] } {
  const frac = opts.frac ?? 0.1;
  const seed = opts.seed ?? 1234;
  if (!(frac >= 0 && frac <= 1)) throw new RangeError(`splitDev: expected frac in [0, 1], got ${frac}`);
  const train: Problem[] = [];
  const dev: Problem[] = [];
  for (const p of problems) (isDev(p.id, frac, seed) ? dev : train).push(p);
  return { train, dev };
}

/** Whether the problem with this id is in the dev split. */
export function isDev(id: string, frac = 0.1, seed = 1234): boolean {
  // sha256 rather than a short hash: ids are sequential ("gsm8k-train-17"), and a weak mix would bias.
  const h = createHash('sha256').update(`${seed}\u0000${id}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < frac;
}
