// Read a self-evolve run folder for the report: round metrics, wall time by stage, SFT / PPM training
// curves, per-problem dev results and saved MCTS trees. Only reads; files being written by a running
// round (a shard's torn last line) are tolerated, never repaired.
import fs from 'node:fs';
import path from 'node:path';
import { readTreeNodes, type TreeNodeRow } from '../../data/arrow.ts';
import { hash32 } from '../../util/rng.ts';
import { readWall, type RoundMetrics } from '../report.ts';
import { FLAG, type PackedNode, type PackedTree, type ProblemResult, type RoundResults } from './types.ts';

export interface CurvePoint {
  round: number;
  step: number;
  kind: 'train' | 'eval';
  /** train: the batch loss; eval: SFT dev loss or PPM held-out pair loss. */
  loss: number;
}

export interface RunMeta {
  preset?: string;
  seed?: number;
  rounds?: number;
}

export interface RunData {
  dir: string;
  meta: RunMeta;
  /** Rounds 1.. with a metrics.json, in order. */
  rounds: RoundMetrics[];
  /** Round 0 (bootstrap SFT, cross-fit) wall seconds, when recorded. */
  round0Seconds: number | null;
  sft: CurvePoint[];
  ppm: CurvePoint[];
  results: RoundResults[];
  trees: PackedTree[];
  treeNote: string;
}

export interface TreeLimits {
  /** Most dev problems whose trees (of the last round with dev trees) go into the page. */
  devTrees: number;
  /** Training problems sampled (seeded) from the last round's search trees. */
  trainTrees: number;
  /** Stop adding trees once their JSON passes this many bytes. */
  maxTreeBytes: number;
}

export const TREE_LIMITS: TreeLimits = { devTrees: 400, trainTrees: 40, maxTreeBytes: 8_000_000 };

function readJsonFile<T>(file: string): T {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: expected JSON (${(e as Error).message})`);
  }
}

/** Parsed lines of a JSONL file; lines that do not parse (a torn last line being written) are skipped. */
export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const out: T[] = [];
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l) as T);
    } catch {
      // a line still being appended
    }
  }
  return out;
}

/** round-K folders present, by K. */
function roundDirs(dir: string): number[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() && /^round-\d+$/.test(e.name) ? [Number(e.name.slice(6))] : []))
    .sort((a, b) => a - b);
}

export function loadRun(dir: string, limits: TreeLimits = TREE_LIMITS): RunData {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: expected a self-evolve run folder, found no such folder`);
  const ks = roundDirs(dir);
  const runJson = path.join(dir, 'run.json');
  if (!ks.length && !fs.existsSync(runJson)) throw new Error(`${dir}: expected a self-evolve run folder (run.json, round-K/), found neither`);
  const meta = fs.existsSync(runJson) ? readJsonFile<RunMeta>(runJson) : {};
  const rd = (k: number) => path.join(dir, `round-${k}`);
  const rounds = ks.filter((k) => k > 0 && fs.existsSync(path.join(rd(k), 'metrics.json'))).map((k) => readJsonFile<RoundMetrics>(path.join(rd(k), 'metrics.json')));
  const w0 = readWall(rd(0)).s;
  const curve = (file: string, round: number, evalLoss: (r: Record<string, unknown>) => unknown): CurvePoint[] =>
    readJsonLines<Record<string, unknown>>(file).flatMap((r) => {
      const loss = r.kind === 'train' ? r.loss : r.kind === 'eval' ? evalLoss(r) : undefined;
      return typeof r.step === 'number' && typeof loss === 'number' && Number.isFinite(loss) ? [{ round, step: r.step, kind: r.kind as CurvePoint['kind'], loss }] : [];
    });
  // SFT's eval metric is the dev loss; PPM's is pair accuracy, with the held-out pair loss beside it
  const sft = ks.flatMap((k) => curve(path.join(rd(k), 'sft-train', 'metrics.jsonl'), k, (r) => r.metric));
  const ppm = ks.flatMap((k) => curve(path.join(rd(k), 'ppm-train', 'metrics.jsonl'), k, (r) => r.devLoss));
  const results = ks.filter((k) => k > 0).map((k) => roundResults(rd(k), k)).filter((r) => r.problems.length);
  const { trees, note } = pickTrees(dir, ks.filter((k) => k > 0), limits);
  // eval lines of older runs carry no question: a saved tree's root has it
  const asked = new Map(trees.map((t) => [t.problemId, t.nodes[0]?.[1] ?? '']));
  for (const r of results) for (const p of r.problems) if (!p.question) p.question = asked.get(p.id) ?? '';
  return { dir, meta, rounds, round0Seconds: fs.existsSync(path.join(rd(0), 'wall.json')) ? w0 : null, sft, ppm, results, trees, treeNote: note };
}

interface EvalLineLike {
  problemId: string;
  predicted?: string;
  correct?: boolean;
  correctQVote?: boolean;
  question?: string;
  gold?: string;
}

function evalLines(evalDir: string): Map<string, EvalLineLike> {
  const by = new Map<string, EvalLineLike>();
  if (!fs.existsSync(evalDir)) return by;
  for (const f of fs.readdirSync(evalDir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const l of readJsonLines<EvalLineLike>(path.join(evalDir, f))) if (typeof l.problemId === 'string') by.set(l.problemId, l);
  }
  return by;
}

const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** A round's dev problems under greedy and MCTS + PPM (from the evaluations' shard lines). */
function roundResults(roundDir: string, round: number): RoundResults {
  const greedy = evalLines(path.join(roundDir, 'eval-greedy'));
  const mcts = evalLines(path.join(roundDir, 'eval-mcts'));
  const ids = [...new Set([...greedy.keys(), ...mcts.keys()])].sort(byId);
  const problems = ids.map((id): ProblemResult => {
    const g = greedy.get(id);
    const m = mcts.get(id);
    return {
      id, question: g?.question ?? m?.question ?? '', gold: g?.gold ?? m?.gold ?? '',
      ...(g ? { greedy: { predicted: g.predicted ?? '', correct: !!g.correct } } : {}),
      ...(m ? { mcts: { predicted: m.predicted ?? '', correct: !!m.correct, ...(m.correctQVote === undefined ? {} : { qVote: m.correctQVote }) } } : {}),
    };
  });
  return { round, problems };
}

/** Rows of one tree file grouped into page trees (ids made contiguous in node order). */
export function packTrees(rows: readonly TreeNodeRow[]): PackedTree[] {
  const groups = new Map<string, TreeNodeRow[]>();
  for (const r of rows) {
    const key = `${r.kind}:${r.round}:${r.problemId}:${r.tree}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  return [...groups].map(([key, g]) => {
    g.sort((a, b) => a.id - b.id);
    const index = new Map(g.map((r, i) => [r.id, i]));
    const nodes = g.map((r): PackedNode => [
      index.get(r.parent) ?? -1, r.text, r.output, round4(r.q), r.n, Number.isNaN(r.prior) ? null : round4(r.prior),
      (r.terminal ? FLAG.terminal : 0) | (r.correct ? FLAG.correct : 0) | (r.chosen ? FLAG.chosen : 0) | (r.deadEnd ? FLAG.deadEnd : 0), r.answer,
    ]);
    const pick = g.find((r) => r.terminal && r.chosen);
    const r0 = g[0]!;
    return { key, problemId: r0.problemId, round: r0.round, kind: r0.kind, tree: r0.tree, gold: r0.gold, solved: pick ? pick.correct : null, nodes };
  });
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * The trees the page carries: the dev trees of the last round that saved them (up to devTrees
 * problems) and a seeded sample of trainTrees training problems of the last round's search, within
 * maxTreeBytes of JSON. Returns them with a note saying what was included.
 */
function pickTrees(dir: string, ks: number[], limits: TreeLimits): { trees: PackedTree[]; note: string } {
  const file = (k: number, kind: 'train' | 'dev') => path.join(dir, `round-${k}`, ...(kind === 'dev' ? ['eval-mcts'] : []), 'trees.arrow');
  const last = (kind: 'train' | 'dev') => [...ks].reverse().find((k) => fs.existsSync(file(k, kind)));
  const notes: string[] = [];
  const trees: PackedTree[] = [];
  let bytes = 0;
  const add = (packed: PackedTree[], what: string) => {
    const problems = new Set(packed.map((t) => t.problemId));
    let kept = 0;
    const keptProblems = new Set<string>();
    for (const t of packed) {
      const b = JSON.stringify(t).length;
      if (bytes + b > limits.maxTreeBytes) break;
      bytes += b;
      trees.push(t);
      kept++;
      keptProblems.add(t.problemId);
    }
    notes.push(`${what}: ${keptProblems.size} problem${keptProblems.size === 1 ? '' : 's'} (${kept} tree${kept === 1 ? '' : 's'})${keptProblems.size < problems.size ? `, ${problems.size - keptProblems.size} more left out (page size limit ${(limits.maxTreeBytes / 1e6).toFixed(0)} MB)` : ''}`);
  };
  const kd = last('dev');
  if (kd !== undefined && limits.devTrees > 0) {
    const ids = [...new Set(readTreeNodes(file(kd, 'dev'), { column: 'id', keep: (v) => v === 0 }).map((r) => r.problemId))].sort(byId);
    const keep = new Set(ids.slice(0, limits.devTrees));
    const packed = packTrees(readTreeNodes(file(kd, 'dev'), { column: 'problemId', keep: (v) => keep.has(v as string) }));
    packed.sort((a, b) => byId(a.problemId, b.problemId) || a.tree - b.tree);
    add(packed, `dev trees of round ${kd} (MCTS + PPM evaluation)${ids.length > keep.size ? `, first ${keep.size} of ${ids.length} problems` : ''}`);
  } else notes.push('no dev trees saved (runs from before trees were saved have none)');
  const kt = last('train');
  if (kt !== undefined && limits.trainTrees > 0) {
    // the roots alone say which problems there are; the sample is the trainTrees smallest hashes
    const ids = [...new Set(readTreeNodes(file(kt, 'train'), { column: 'id', keep: (v) => v === 0 }).map((r) => r.problemId))];
    const sample = new Set(ids.sort((a, b) => hash32(a, 1) - hash32(b, 1) || byId(a, b)).slice(0, limits.trainTrees));
    const packed = packTrees(readTreeNodes(file(kt, 'train'), { column: 'problemId', keep: (v) => sample.has(v as string) }));
    packed.sort((a, b) => byId(a.problemId, b.problemId) || a.tree - b.tree);
    add(packed, `training trees of round ${kt}: a seeded sample of ${sample.size} of ${ids.length} searched problems`);
  } else notes.push('no training trees saved');
  return { trees, note: notes.join('; ') };
}
