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
import { checkPromptNumbers, loadPolicies, loadPPM, type LoadedPPM, type PolicyHandle } from '../model/load.ts';
import type { CausalLM } from '../model/lm.ts';
import { searchMany, type SearchOptions } from '../search/mcts.ts';
import { extractTrajectories, selectSFT, buildPairs } from '../search/extract.ts';
import { EnsembleProposer, PolicyProposer, PPMScorer, policyProposer } from '../search/policy.ts';
import { chosenTerminal, evaluate, type EvalMode } from '../search/evaluate.ts';
import { numberVariants } from '../search/variants.ts';
import { hash32 } from '../util/rng.ts';
import { Progress } from '../util/progress.ts';
import { compactTree, type SavedTree } from './report/trees.ts';
import { readJson, writeJsonAtomic } from '../util/fsx.ts';

export interface ShardJob {
  kind: 'search' | 'eval';
  policy: string;
  /** More policies proposing MCTS steps with `policy` (EnsembleProposer); greedy uses `policy` alone. */
  members?: string[];
  ppm?: string;
  /** seedOffset (eval): the chunk seed's offset, fixed when the stage is planned (evalSeedOffsets);
   *  reference (search): the reference program's step codes, for the chance-hit check. */
  problems: { id: string; question: string; answer: string; source: string; seedOffset?: number; reference?: string[] }[];
  out: string;
  seed: number;
  round: number;
  search: Partial<SearchOptions>;
  evalMode?: EvalMode;
  /** search: keep each problem's tree in its line (SearchLine.trees: the run report's trees.arrow). */
  trees?: boolean;
  /** search: number variants a problem with a reference gets (the chance-hit check, search/variants.ts); 0 or absent: none. */
  variants?: number;
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
  /** The searched trees, compacted (report/trees.ts), when the job asked for them. */
  trees?: SavedTree[];
  /** Terminals with the known answer that the chance-hit check marked wrong. */
  chanceHits?: number;
}

export interface EvalLine {
  problemId: string;
  predicted: string;
  correct: boolean;
  /** mcts: the Q-weighted vote's answer is correct. */
  correctQVote?: boolean;
  question?: string;
  gold?: string;
  /** mcts: the problem's trees (one per run), compacted, terminals graded against the gold answer. */
  trees?: SavedTree[];
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

/** The models and sandbox a shard process or a queue worker searches with: loaded once, used for many problems. */
export interface ShardModels {
  pol: PolicyHandle;
  members: CausalLM[];
  ppm: LoadedPPM | null;
  sandbox: SandboxPool;
}

export async function loadShardModels(spec: Pick<ShardJob, 'policy' | 'members' | 'ppm'>): Promise<ShardModels> {
  const { pol, members } = await loadPolicies([spec.policy, ...(spec.members ?? [])].join(','));
  const ppm = spec.ppm ? await loadPPM(spec.ppm) : null;
  checkPromptNumbers(pol, ppm);
  return { pol, members, ppm, sandbox: new SandboxPool({ workers: 1 }) };
}

export async function closeShardModels(m: ShardModels): Promise<void> {
  await m.sandbox.close();
  m.pol.lm.dispose();
  m.members.forEach((lm) => lm.dispose());
  m.ppm?.ppm.dispose();
}

/** What a stage does to each of its problems: a ShardJob without its problems and output file. */
export type ShardWork = Omit<ShardJob, 'out' | 'problems'>;

/**
 * Search or evaluate `todo` with loaded models, calling `append` with one SearchLine / EvalLine per
 * problem as it finishes. The one per-problem code path: the local shard process (runSearchShard) and
 * the queue worker (queue/worker.ts) both call it, so their lines are the same.
 */
export async function runShardProblems(m: ShardModels, job: ShardWork, todo: ShardJob['problems'], append: (line: SearchLine | EvalLine) => void): Promise<void> {
  const { pol, members, ppm, sandbox } = m;
  const source = new Map(todo.map((p) => [p.id, p.source]));
  if (job.kind === 'eval') {
    for (const { at: i, chunk } of evalChunks(todo)) {
      const s = await evaluate(chunk, { lm: pol.lm, tok: pol.tokenizer, sandbox, ppm: ppm ? { ppm: ppm.ppm, tok: ppm.tokenizer } : undefined, promptNumbers: pol.promptNumbers, members }, {
        mode: job.evalMode ?? 'greedy', seed: job.seed + (chunk[0]!.seedOffset ?? i), quiet: true, search: job.search, keepTrees: true,
        // a round's dev evaluation searches once (k 8): searching again wider where greedy disagrees would
        // widen nearly every GSM8K problem, more than the 2 h budget has (README "Wider search where …")
        widen: 0,
      });
      s.rows.forEach((r, j) => append({
        problemId: r.problemId, predicted: r.predicted, correct: r.correct, correctQVote: s.correctQVote?.[j], question: r.question, gold: r.gold,
        // the chosen path ends at the terminal that answered: the best one giving the row's answer (the greedy anchor's, or the top score's)
        ...(s.searchTrees ? { trees: s.searchTrees[j]!.map((t) => compactTree(t, r.gold, chosenTerminal(t, { anchor: { answer: r.predicted || null, delta: Infinity } }))) } : {}),
      } satisfies EvalLine));
    }
    return;
  }
  const proposer = policyProposer([pol.lm, ...members], pol.tokenizer, { seed: job.seed });
  const scorer = ppm ? new PPMScorer(ppm.ppm, ppm.tokenizer, sandbox) : undefined;
  let tokensBefore = 0;
  const problems = [];
  for (const p of todo) {
    const variants = job.variants && p.reference ? await numberVariants({ question: p.question, reference: p.reference, sandbox, count: job.variants, seed: hash32(p.id, job.seed) }) : [];
    problems.push(variants.length ? { ...p, variants } : p);
  }
  const generated = () => (proposer instanceof EnsembleProposer ? proposer.members : [proposer]).reduce((a, p) => a + (p as PolicyProposer).generatedTokens, 0);
  await searchMany(problems, {
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
        ...(job.variants ? { chanceHits: res.stats.chanceHits } : {}),
        expanded: res.stats.expanded,
        generatedTokens: generated() - tokensBefore,
        ...(job.trees ? { trees: [compactTree(res.tree)] } : {}),
      };
      tokensBefore = generated();
      append(line);
    },
  }, { ...job.search, seed: job.seed, promptNumbers: pol.promptNumbers });
}

/** Evaluation chunks of up to EVAL_CHUNK problems; problems carrying seedOffset are chunked by it. */
function evalChunks(todo: ShardJob['problems']): { at: number; chunk: ShardJob['problems'] }[] {
  const out: { at: number; chunk: ShardJob['problems'] }[] = [];
  for (let i = 0; i < todo.length;) {
    let j = i + 1;
    while (j < todo.length && j - i < EVAL_CHUNK && todo[j]!.seedOffset === todo[i]!.seedOffset) j++;
    out.push({ at: i, chunk: todo.slice(i, j) });
    i = j;
  }
  return out;
}

/** Problems evaluated in one call (one seed: job.seed + the chunk's offset in its shard). */
export const EVAL_CHUNK = 16;

/**
 * The eval seed offset of each problem as a fresh local run over `workers` shards gives it: problem g
 * goes to shard g mod workers at place ⌊g / workers⌋, and each chunk of EVAL_CHUNK in a shard is seeded
 * job.seed + its offset. Carried on the problem, the seed no longer depends on which process, queue
 * job or resumed run evaluates it.
 */
export function evalSeedOffsets(n: number, workers: number): { shard: number; seedOffset: number }[] {
  return Array.from({ length: n }, (_, g) => {
    const place = Math.floor(g / workers);
    return { shard: g % workers, seedOffset: EVAL_CHUNK * Math.floor(place / EVAL_CHUNK) };
  });
}

/** Runs in a child process: search or evaluate the job's problems not yet in its output file. */
export async function runSearchShard(jobFile: string): Promise<void> {
  const job = readJson<ShardJob>(jobFile);
  const done = new Set(readShardLines<{ problemId: string }>(job.out).map((l) => l.problemId));
  const todo = job.problems.filter((p) => !done.has(p.id));
  if (!todo.length) return;
  const m = await loadShardModels(job);
  try {
    await runShardProblems(m, job, todo, (o) => fs.appendFileSync(job.out, JSON.stringify(o) + '\n'));
  } finally {
    await closeShardModels(m);
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
  /** Run the stage as jobs on a queue (queue/coordinator.ts) instead of local child processes. */
  queue?: SearchQueue;
}

/** Somewhere else to run a stage's problems: returns the result files, for mergeShards as the shards' are. */
export interface SearchQueue {
  runStage(run: ShardedRun): Promise<string[]>;
}

/** Split the job's problems over `workers` child processes (shard-main.ts) and wait; progress from the shard files. */
export async function runSharded(run: ShardedRun): Promise<string[]> {
  if (run.queue) return run.queue.runStage(run);
  const { dir, job: base, problems, workers, label, backend, quiet = false } = run;
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const children: Promise<void>[] = [];
  // eval chunks are seeded by their place in a fresh run's shard, whatever resumes or runs them
  const at = evalSeedOffsets(problems.length, workers);
  const planned = base.kind === 'eval' ? problems.map((p, g) => ({ ...p, seedOffset: at[g]!.seedOffset })) : problems;
  for (let w = 0; w < workers; w++) {
    const mine = planned.filter((_, i) => i % workers === w);
    const out = path.join(dir, `shard-${w}.jsonl`);
    files.push(out);
    const jobFile = path.join(dir, `shard-${w}.job.json`);
    writeJsonAtomic(jobFile, { ...base, problems: mine, out } satisfies ShardJob);
    if (!mine.length) continue;
    children.push(new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', SHARD_MAIN, jobFile, backend], {
        // the IPC channel closes when this process dies, however it dies: the shard then exits too
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, RSTAR_QUIET: '1' },
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

/** A stage's problems as a job carries them; `references` (problem id → reference step codes) gives
 *  the search's chance-hit check its programs. */
export function toJobProblems(ps: Problem[], references?: ReadonlyMap<string, string[]>): ShardJob['problems'] {
  return ps.map((p) => {
    const reference = references?.get(p.id);
    return { id: p.id, question: p.question, answer: p.answer, source: p.source, ...(reference ? { reference } : {}) };
  });
}
