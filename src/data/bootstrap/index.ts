// Round-0 bootstrap: turn the datasets' reference solutions into verified code-augmented step
// trajectories (rStar's first round used a large LLM for this; we have none, so we convert the
// human-written solutions by rule). Every trajectory is executed in the sandbox and kept only when
// it runs and its printed answer grades equal to the gold answer.
//
//   GSM8K     calculator annotations `<<48/2=24>>` → one `const` per annotation, one step per line
//   MAWPS     infix equation over the question's numbers → one step per binary operation
//   DeepMind  arithmetic and linear-equation modules → templates
// One file per dataset (gsm8k.ts, mawps.ts, deepmind.ts) over a shared expression parser (expr.ts).

import fs from 'node:fs';
import path from 'node:path';
import { maskNumbers, programOf, questionNumbers, serializeStep, type Step } from '../steps.ts';
import { loadDataset, type DatasetName, type Problem } from '../datasets.ts';
import { splitOf } from '../problems.ts';
import { readTrajectories, writeTrajectories, type TrajectoryRow } from '../arrow.ts';
import { gradeAnswer } from '../grade.ts';
import { SandboxPool } from '../../sandbox/sandbox.ts';
import { Progress } from '../../util/progress.ts';
import { convertGsm8k, gsm8kAsOperations } from './gsm8k.ts';
import { convertMawps } from './mawps.ts';
import { convertDeepMind, deepMindModule } from './deepmind.ts';


export interface SandboxLike {
  runMany(batch: string[][]): Promise<{ ok: boolean; answer?: string; error?: string; timedOut?: boolean }[]>;
}

export type Grader = (pred: string, gold: string) => boolean;

export interface YieldStat {
  tried: number;
  /** Converted to steps (before verification). */
  converted: number;
  kept: number;
}

export interface BootstrapResult {
  trajectories: TrajectoryRow[];
  yieldBy: Record<string, YieldStat>;
  /** DeepMind per module. */
  yieldByModule: Record<string, YieldStat>;
}

export interface BootstrapOptions {
  onProgress?: (done: number, total: number) => void;
  /** Problems sent to the sandbox at once. */
  batchSize?: number;
  grade?: Grader;
}

/** The converter for a problem's source, or null when the source has none (e.g. MATH). */
export function convertProblem(p: Problem): Step[] | null {
  // DeepMind's converter masks its own steps (it keeps the literals it writes itself)
  if (p.source.toLowerCase().includes('deepmind')) return convertDeepMind(p);
  const steps = convertRaw(p);
  // the question's numbers become their names (n0, n1, …): see questionNumbers in steps.ts
  const nums = questionNumbers(p.question);
  return steps ? steps.map((s) => maskNumbers(s, nums)) : null;
}

function convertRaw(p: Problem): Step[] | null {
  const src = p.source.toLowerCase();
  if (src.includes('gsm8k')) {
    const steps = convertGsm8k(p);
    return steps && gsm8kAsOperations(steps);
  }
  if (src.includes('mawps') || src.includes('asdiv') || src.includes('svamp')) return convertMawps(p);
  if (src.includes('deepmind')) return convertDeepMind(p);
  return null;
}

/** Convert, run in the sandbox, grade; keep the trajectories that reach the gold answer. */
export async function bootstrap(
  problems: Problem[],
  sandbox: SandboxLike,
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const grade = opts.grade ?? gradeAnswer;
  const batchSize = opts.batchSize ?? 64;
  const yieldBy: Record<string, YieldStat> = {};
  const yieldByModule: Record<string, YieldStat> = {};
  const stat = (tbl: Record<string, YieldStat>, k: string): YieldStat =>
    (tbl[k] ??= { tried: 0, converted: 0, kept: 0 });
  const trajectories: TrajectoryRow[] = [];
  const isDm = (p: Problem): boolean => p.source.toLowerCase().includes('deepmind');

  const converted: { p: Problem; steps: Step[] }[] = [];
  for (const p of problems) {
    const stats = [stat(yieldBy, p.source)];
    if (isDm(p)) stats.push(stat(yieldByModule, deepMindModule(p)));
    let steps: Step[] | null = null;
    try {
      steps = convertProblem(p);
    } catch {
      steps = null; // a converter bug on odd data costs one problem, not the run
    }
    for (const s of stats) s.tried++;
    if (!steps || steps.length === 0) continue;
    for (const s of stats) s.converted++;
    converted.push({ p, steps });
  }

  let done = 0;
  for (let i = 0; i < converted.length; i += batchSize) {
    const chunk = converted.slice(i, i + batchSize);
    const results = await sandbox.runMany(chunk.map((c) => programOf(c.p.question, c.steps.map((s) => s.code))));
    // A timeout says more about a loaded machine than about a three-line program: run those again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const again = results.flatMap((r, j) => (r?.timedOut ? [j] : []));
      if (again.length === 0) break;
      const rerun = await sandbox.runMany(again.map((j) => programOf(chunk[j]!.p.question, chunk[j]!.steps.map((s) => s.code))));
      again.forEach((j, k) => (results[j] = rerun[k]!));
    }
    chunk.forEach(({ p, steps }, j) => {
      const r = results[j]!;
      if (!r.ok || r.answer === undefined || !grade(String(r.answer), p.answer)) return;
      stat(yieldBy, p.source).kept++;
      if (isDm(p)) stat(yieldByModule, deepMindModule(p)).kept++;
      trajectories.push({
        problemId: p.id,
        question: p.question,
        steps: steps.map((s, k) => serializeStep(s, k === steps.length - 1)),
        q: steps.map(() => 1),
        visits: steps.map(() => 0),
        correct: true,
        finalAnswer: String(r.answer),
        round: 0,
        source: p.source,
      });
    });
    done += chunk.length;
    opts.onProgress?.(done, converted.length);
  }
  return { trajectories, yieldBy, yieldByModule };
}

/** Yield as a printable table. */
export function formatYield(r: Pick<BootstrapResult, 'yieldBy' | 'yieldByModule'>): string {
  const row = (k: string, s: YieldStat): string =>
    `${k.padEnd(40)} ${String(s.tried).padStart(6)} ${String(s.converted).padStart(9)} ${String(s.kept).padStart(6)} ${
      s.tried ? ((100 * s.kept) / s.tried).toFixed(1).padStart(6) : '     -'
    }%`;
  const lines = [`${'source'.padEnd(40)} ${'tried'.padStart(6)} converted ${'kept'.padStart(6)}  yield`];
  for (const [k, s] of Object.entries(r.yieldBy)) lines.push(row(k, s));
  const mods = Object.entries(r.yieldByModule).filter(([, s]) => s.converted > 0);
  for (const [k, s] of mods.sort()) lines.push(row(`  ${k}`, s));
  return lines.join('\n');
}

/**
 * Load the datasets' training splits (dev problems are left out so evaluation stays clean), convert,
 * verify in a fresh sandbox pool, write the kept trajectories as Arrow, and return the yield.
 */
export async function runBootstrap(
  opts: BootstrapOptions & {
    out: string;
    datasets: DatasetName[];
    includeDev?: boolean;
    /** The grouped split's training part of word-problem datasets (problems.ts splitOf). */
    grouped?: boolean;
    /** First n problems per dataset (tests, smoke runs). */
    limit?: number;
  },
): Promise<BootstrapResult> {
  const { out: outPath, datasets } = opts;
  const problems: Problem[] = [];
  for (const d of datasets) {
    const use = opts.includeDev ? loadDataset(d) : splitOf(d, opts.grouped).train;
    problems.push(...(opts.limit === undefined ? use : use.slice(0, opts.limit)));
  }
  const pool = new SandboxPool();
  try {
    const res = await bootstrap(problems, pool, opts);
    await writeTrajectories(outPath, res.trajectories);
    return res;
  } finally {
    await pool.close();
  }
}

/** Round-0 data: bootstrap trajectories of the train and dev splits, cached as Arrow in `dir`. */
export async function bootstrapSplits({ dir, datasets, quiet = false, extraTrain = [], extraDev = [], grouped = false }: {
  dir: string;
  datasets: string[];
  quiet?: boolean;
  /** Word-problem datasets' grouped split (problems.ts splitOf) instead of the fixed one. */
  grouped?: boolean;
  /** Training problems beyond the datasets' (synthesised ones, or a user's own). */
  extraTrain?: Problem[];
  /** Dev problems beyond the datasets' (a user's own). */
  extraDev?: Problem[];
}): Promise<{ train: TrajectoryRow[]; dev: TrajectoryRow[] }> {
  const trFile = path.join(dir, 'bootstrap-train.arrow');
  const dvFile = path.join(dir, 'bootstrap-dev.arrow');
  if (fs.existsSync(trFile) && fs.existsSync(dvFile)) return { train: readTrajectories(trFile), dev: readTrajectories(dvFile) };
  const train: Problem[] = [];
  const dev: Problem[] = [];
  for (const d of datasets) {
    const s = splitOf(d, grouped);
    train.push(...s.train);
    dev.push(...s.dev);
  }
  train.push(...extraTrain);
  dev.push(...extraDev);
  const pool = new SandboxPool();
  try {
    const prog = quiet ? null : new Progress({ label: 'bootstrap', total: train.length + dev.length, unit: 'problem' });
    const tr = await bootstrap(train, pool, { onProgress: (d) => prog?.set(`${d}`) });
    prog?.tick(train.length);
    const dv = await bootstrap(dev, pool);
    prog?.tick(dev.length);
    prog?.finish();
    fs.mkdirSync(dir, { recursive: true });
    await writeTrajectories(trFile, tr.trajectories);
    await writeTrajectories(dvFile, dv.trajectories);
    return { train: tr.trajectories, dev: dv.trajectories };
  } finally {
    await pool.close();
  }
}
