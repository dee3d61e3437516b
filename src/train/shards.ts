// Search shards: self-evolve's search and dev evaluation run as one child process per core
// (shard-main.ts), each over its share of the problems, writing one JSON line per finished problem.
// A killed shard resumes from its file: a torn last line is dropped, finished problems are skipped.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../data/datasets.ts';
import type { PairRow, TrajectoryRow } from '../data/arrow.ts';
import { gradeAnswer } from '../data/grade.ts';
import { SandboxPool } from '../sandbox/sandbox.ts';
import { checkPromptNumbers, loadPolicies, loadPPM } from '../model/load.ts';
import { searchMany, type SearchOptions } from '../search/mcts.ts';
import { extractTrajectories, selectSFT, buildPairs } from '../search/extract.ts';
import { EnsembleProposer, PolicyProposer, PPMScorer, policyProposer } from '../search/policy.ts';
import { evaluate, type EvalMode } from '../search/evaluate.ts';
import { Progress } from '../util/progress.ts';
import { readJson, writeJsonAtomic } from '../util/fsx.ts';

export interface ShardJob {
  kind: 'search' | 'eval';
  policy: string;
  /** More policies proposing MCTS steps with `policy` (EnsembleProposer); greedy uses `policy` alone. */
  members?: string[];
  ppm?: string;
  problems: { id: string; question: string; answer: string; source: string }[];
  out: string;
  seed: number;
  round: number;
  search: Partial<SearchOptions>;
  evalMode?: EvalMode;
}

export interface SearchLine {
  problemId: string;
  solved: boolean;
  trajectories: TrajectoryRow[];
  sft: TrajectoryRow[];
  pairs: PairRow[];
  rollouts: number;
  /** Nodes expanded (policy calls for this tree). */
  expanded?: number;
  generatedTokens?: number;
}

export interface EvalLine {
  problemId: string;
  predicted: string;
  correct: boolean;
  /** mcts: the Q-weighted vote's answer is correct. */
  correctQVote?: boolean;
}

/** Lines of a shard file that parsed; a torn last line (killed mid-write) is cut off the file. */
export function readShardLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const out: T[] = [];
  let good = 0;
  for (const l of lines) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l) as T);
      good += Buffer.byteLength(l) + 1;
    } catch {
      break;
    }
  }
  if (good !== Buffer.byteLength(text)) fs.truncateSync(file, good);
  return out;
}

const strip = (t: TrajectoryRow): TrajectoryRow => ({
  problemId: t.problemId, question: t.question, steps: t.steps, q: t.q, visits: t.visits,
  correct: t.correct, finalAnswer: t.finalAnswer, round: t.round, source: t.source,
});

/** Runs in a child process: search or evaluate the job's problems not yet in its output file. */
export async function runSearchShard(jobFile: string): Promise<void> {
  const job = readJson<ShardJob>(jobFile);
  const done = new Set(readShardLines<{ problemId: string }>(job.out).map((l) => l.problemId));
  const todo = job.problems.filter((p) => !done.has(p.id));
  if (!todo.length) return;
  const { pol, members } = await loadPolicies([job.policy, ...(job.members ?? [])].join(','));
  const ppm = job.ppm ? await loadPPM(job.ppm) : null;
  checkPromptNumbers(pol, ppm);
  const sandbox = new SandboxPool({ workers: 1 });
  const append = (o: unknown) => fs.appendFileSync(job.out, JSON.stringify(o) + '\n');
  const source = new Map(job.problems.map((p) => [p.id, p.source]));
  try {
    if (job.kind === 'eval') {
      for (let i = 0; i < todo.length; i += 16) {
        const chunk = todo.slice(i, i + 16);
        const s = await evaluate(chunk, { lm: pol.lm, tok: pol.tokenizer, sandbox, ppm: ppm ? { ppm: ppm.ppm, tok: ppm.tokenizer } : undefined, promptNumbers: pol.promptNumbers, members }, {
          mode: job.evalMode ?? 'greedy', seed: job.seed + i, quiet: true, search: job.search,
        });
        s.rows.forEach((r, j) => append({ problemId: r.problemId, predicted: r.predicted, correct: r.correct, correctQVote: s.correctQVote?.[j] } satisfies EvalLine));
      }
      return;
    }
    const proposer = policyProposer([pol.lm, ...members], pol.tokenizer, { seed: job.seed });
    const scorer = ppm ? new PPMScorer(ppm.ppm, ppm.tokenizer, sandbox) : undefined;
    let tokensBefore = 0;
    const generated = () => (proposer instanceof EnsembleProposer ? proposer.members : [proposer]).reduce((a, p) => a + (p as PolicyProposer).generatedTokens, 0);
    await searchMany(todo, {
      proposer, scorer, sandbox, grade: gradeAnswer,
      onDone: (res) => {
        const trajs = extractTrajectories(res.tree, { round: job.round, source: source.get(res.problemId) ?? '' });
        const line: SearchLine = {
          problemId: res.problemId,
          solved: trajs.some((t) => t.correct),
          trajectories: trajs.map(strip),
          sft: selectSFT(trajs).map(strip),
          pairs: buildPairs(res.tree, job.round),
          rollouts: res.stats.rollouts,
          expanded: res.stats.expanded,
          generatedTokens: generated() - tokensBefore,
        };
        tokensBefore = generated();
        append(line);
      },
    }, { ...job.search, seed: job.seed, promptNumbers: pol.promptNumbers });
  } finally {
    await sandbox.close();
    pol.lm.dispose();
    members.forEach((lm) => lm.dispose());
    ppm?.ppm.dispose();
  }
}

const SHARD_MAIN = fileURLToPath(new URL('./shard-main.ts', import.meta.url));

export interface ShardedRun {
  /** Folder of the shard job and result files. */
  dir: string;
  /** What every shard does (its problems and output file are added per shard). */
  job: Omit<ShardJob, 'out' | 'problems'>;
  problems: ShardJob['problems'];
  /** Processes (cores). */
  workers: number;
  /** Progress label. */
  label: string;
  backend: string;
  quiet?: boolean;
}

/** Split the job's problems over `workers` child processes (shard-main.ts) and wait; progress from the shard files. */
export async function runSharded({ dir, job: base, problems, workers, label, backend, quiet = false }: ShardedRun): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const children: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    const mine = problems.filter((_, i) => i % workers === w);
    const out = path.join(dir, `shard-${w}.jsonl`);
    files.push(out);
    const jobFile = path.join(dir, `shard-${w}.job.json`);
    writeJsonAtomic(jobFile, { ...base, problems: mine, out } satisfies ShardJob);
    if (!mine.length) continue;
    children.push(new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', SHARD_MAIN, jobFile, backend], {
        stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RSTAR_QUIET: '1' },
      });
      c.on('exit', (code, sig) => (code === 0 ? resolve() : reject(new Error(`${label}: shard ${w} exited with ${code ?? sig} (job ${jobFile})`))));
      c.on('error', reject);
    }));
  }
  const count = () => files.reduce((a, f) => a + (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0), 0);
  const prog = quiet ? null : new Progress({ label, total: problems.length, unit: 'problem', start: count() });
  let last = count();
  const timer = setInterval(() => {
    const n = count();
    if (n > last) prog?.tick(n - last);
    last = n;
  }, 2000);
  try {
    await Promise.all(children);
  } finally {
    clearInterval(timer);
  }
  const n = count();
  if (n > last) prog?.tick(n - last);
  prog?.finish();
  return files;
}

/** Merge shard lines in the problems' order (deterministic whatever the shard timing). */
export function mergeShards<T extends { problemId: string }>(files: string[], problems: { id: string }[]): T[] {
  const by = new Map<string, T>();
  for (const f of files) for (const l of readShardLines<T>(f)) by.set(l.problemId, l);
  return problems.flatMap((p) => (by.has(p.id) ? [by.get(p.id)!] : []));
}

export function toJobProblems(ps: Problem[]): ShardJob['problems'] {
  return ps.map((p) => ({ id: p.id, question: p.question, answer: p.answer, source: p.source }));
}
