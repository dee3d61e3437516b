// `rstar self-evolve --rounds 4`: rStar-Math's self-evolution, resumable.
//
//   round 0  reference solutions → verified step trajectories (bootstrap) → SFT → policy-r0
//            (--pretrain gsm8k: first a pretraining SFT on GSM8K's verified trajectories, which
//            policy-r0 and the cross-fit policies are fine-tuned from)
//   round 1  MCTS (policy-r0, terminal-guided Q)            → SFT set + pairs → policy-r1, PPM-r1
//   round 2  MCTS (policy-r1, terminal-guided Q)            → policy-r2, PPM-r2
//   round 3  MCTS (policy-r2, PPM-r2 initialises Q)         → policy-r3, PPM-r3
//   round 4  as round 3 + unsolved problems get fresh trees (up to 128 rollouts) → policy-r4, PPM-r4
// PPM-rK, as searched and evaluated with, is the weight average of the PPMs trained in rounds 1..K
// (each round's own in round-K/ppm-trained; preset ppmAverage).
//
// Training problems: the datasets' training splits plus, for a seeded half of them, the same problem
// with an irrelevant sentence added (synth.ts: our stand-in for rStar-Math's synthesised problems).
//
// Layout: <out>/round-K/{trajectories,sft,pairs}.arrow, policy/, ppm/, ppm-trained/, metrics.json; <out>/rounds.md.
// Resuming: every stage's output is written atomically and marks the stage done; the search writes one
// JSON line per finished problem per shard (a torn last line is dropped on resume), so a killed run
// searches no finished problem again and loses or duplicates no trajectory. Training resumes from its
// `last` checkpoint. Both cores: the search and the dev evaluation run as one process per core.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDataset, splitDev, type Problem } from '../data/datasets.ts';
import { readPairs, readTrajectories, writePairs, writeTrajectories, type PairRow, type TrajectoryRow } from '../data/arrow.ts';
import { gradeAnswer } from '../data/grade.ts';
import { bootstrap } from '../data/bootstrap.ts';
import { baseProblemId, donorSentences, synthesizeDistractors, withDistractor } from '../data/synth.ts';
import { SandboxPool } from '../search/sandbox.ts';
import { searchMany, type SearchOptions } from '../search/mcts.ts';
import { extractTrajectories, selectSFT, buildPairs } from '../search/extract.ts';
import { EnsembleProposer, PolicyProposer, PPMScorer, policyProposer } from '../search/policy.ts';
import { loadPolicies } from '../search/solve.ts';
import { evaluate, mcnemarExact, type EvalMode } from '../search/evaluate.ts';
import { promptNumbersAt } from '../model/load.ts';
import { trainPolicy, examplesFromTrajectories, type TrainPolicyOptions } from './sft.ts';
import { trainPPM, splitPairs, loadPPM, checkPromptNumbers, pairAccuracy, encodePairsFor } from './ppm.ts';
import { corruptionPairs } from './pairs.ts';
import type { GPTConfig } from '../model/gpt.ts';
import { hash32 } from '../util/rng.ts';
import { Progress, fmtTime } from '../util/progress.ts';
import { readJson, replaceDir, writeFileAtomic, writeJsonAtomic } from '../util/fsx.ts';
import { averageCheckpoints } from '../model/checkpoint.ts';

// ------------------------------------------------------------------------------------------------
// Configuration

export interface RoundPlan {
  /** Rollouts per problem. */
  rollouts: number;
  mode: 'terminal' | 'ppm';
  /** Round 4: extra fresh trees for unsolved problems until this many rollouts in all. */
  extraRollouts?: number;
}

export interface Preset {
  /** Datasets searched and trained on; dev accuracy is reported on MAWPS/ASDiv-A's dev split. */
  datasets: string[];
  /** Training problems searched per round (first N of a seeded order); 0 = all. */
  searchProblems: number;
  /** Dev problems evaluated (first N of the MAWPS dev split); 0 = all. */
  devProblems: number;
  model: Partial<GPTConfig>;
  sft0Steps: number;
  sftSteps: number;
  sftLr: number;
  ppmSteps: number;
  /** PPM learning rate (5e-4 let held-out accuracy fall after the first evaluations). */
  ppmLr: number;
  batchTokens: number;
  k: number;
  maxDepth: number;
  rounds: RoundPlan[];
  evalRollouts: number;
  evalK: number;
  /** Bootstrap trajectories per source kept in round-0 SFT (0 = all). */
  bootstrapLimit: number;
  /** Cross-fitted PPM pairs (see crossFitPairs): SFT steps of each half-data policy and rollouts of
   *  its terminal-guided search over the other half; null = none. */
  crossFit: { sftSteps: number; rollouts: number } | null;
  /** Share of training problems that also appear with an irrelevant sentence added (src/data/synth.ts):
   *  bootstrapped, searched and trained on like the others. 0 = none. */
  distractors: number;
  /** Round 0 starts with a pretraining SFT on other datasets' verified bootstrap trajectories (their
   *  training splits; never a dev problem), and policy-r0 and the cross-fit policies are fine-tuned
   *  from it; null = none. */
  pretrain: { datasets: string[]; steps: number } | null;
  /** PPM-rK used by search and evaluation = uniform weight average of the PPMs trained in rounds 1..K
   *  (each kept in round-J/ppm-trained); false = PPM-rK as trained. */
  ppmAverage: boolean;
  /** Policies trained side by side (different seeds, the same data each round); MCTS expansions split
   *  their k candidates among them (EnsembleProposer). 1 = one policy. */
  policies: number;
}

const ROUNDS: RoundPlan[] = [
  { rollouts: 8, mode: 'terminal' },
  { rollouts: 16, mode: 'terminal' },
  { rollouts: 16, mode: 'ppm' },
  { rollouts: 16, mode: 'ppm', extraRollouts: 128 },
];

export const PRESETS: Record<'default' | 'demo' | 'tiny', Preset> = {
  default: {
    datasets: ['mawps'], searchProblems: 0, devProblems: 0,
    model: { blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 1000, sftSteps: 300, sftLr: 1e-3, ppmSteps: 100, ppmLr: 1.5e-4, batchTokens: 4096,
    k: 8, maxDepth: 8, rounds: ROUNDS, evalRollouts: 16, evalK: 8, bootstrapLimit: 0,
    crossFit: { sftSteps: 500, rollouts: 16 }, distractors: 0.5, pretrain: null, ppmAverage: true,
    policies: 2,
  },
  demo: {
    datasets: ['mawps'], searchProblems: 300, devProblems: 100,
    model: { blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 200, sftSteps: 60, sftLr: 1e-3, ppmSteps: 20, ppmLr: 1.5e-4, batchTokens: 4096,
    k: 4, maxDepth: 6, rounds: ROUNDS.map((r) => ({ ...r, rollouts: Math.min(r.rollouts, 8), extraRollouts: r.extraRollouts ? 16 : undefined })),
    evalRollouts: 8, evalK: 4, bootstrapLimit: 0, crossFit: null, distractors: 0.5, pretrain: null, ppmAverage: true,
    policies: 1,
  },
  // for tests: seconds, not minutes
  tiny: {
    datasets: ['mawps'], searchProblems: 6, devProblems: 4,
    model: { blockSize: 192, nLayer: 1, nHead: 2, nEmbd: 32 },
    sft0Steps: 6, sftSteps: 3, sftLr: 3e-3, ppmSteps: 3, ppmLr: 1.5e-4, batchTokens: 1024,
    k: 2, maxDepth: 3, rounds: ROUNDS.map((r) => ({ ...r, rollouts: 2, extraRollouts: r.extraRollouts ? 4 : undefined })),
    evalRollouts: 2, evalK: 2, bootstrapLimit: 40, crossFit: null, distractors: 0, pretrain: null, ppmAverage: true,
    policies: 1,
  },
};

export interface SelfEvolveOptions {
  out: string;
  rounds: number;
  preset: keyof typeof PRESETS;
  seed: number;
  backend: string;
  workers: number;
  /** Copy the last round's policy, PPM and rounds.md here (e.g. checkpoints). */
  ship?: string;
  quiet?: boolean;
  /** Override preset fields (tests). */
  override?: Partial<Preset>;
}

export interface RoundMetrics {
  round: number;
  problemsSearched: number;
  solved: number;
  trainCoverage: number;
  sftTrajectories: number;
  pairs: number;
  devGreedy: number;
  /** Greedy on the dev problems with an irrelevant sentence added (synth.ts; donors from training problems). */
  devGreedyDistractor?: number | null;
  devMcts: number | null;
  /** Dev accuracy of the same searches when terminals vote weighted by Q (evaluate.ts qVote). */
  devMctsQVote?: number | null;
  devN: number;
  /** Held-out MCTS pair accuracy of PPM-rK (pairs of training problems kept out of PPM training). */
  ppmAccuracy?: number;
  /** PPM-rK's accuracy on MCTS pairs of dev problems, which neither policy nor PPM trained on. */
  ppmDevPairAccuracy?: number | null;
  devPairs?: number;
  /** Dev problems right only under MCTS + PPM / only under greedy, and McNemar's exact p. */
  mctsVsGreedy?: { onlyMcts: number; onlyGreedy: number; p: number };
  wallSeconds: number;
}

// ------------------------------------------------------------------------------------------------
// Data

/**
 * Training problems (plus their distractor variants for a seeded share `distractors`), the MAWPS dev
 * split, and the dev problems with a distractor added (robustness; their donors are training problems).
 */
export function loadProblemsFor(datasets: string[], distractors = 0, seed = 1234): { train: Problem[]; synthetic: Problem[]; dev: Problem[]; devDistractor: Problem[] } {
  const train: Problem[] = [];
  for (const d of datasets) train.push(...splitDev(loadDataset(d)).train);
  const dev = splitDev(loadDataset('mawps')).dev;
  const donors = donorSentences(train);
  const synthetic = distractors > 0 ? synthesizeDistractors(train, distractors, seed, donors) : [];
  const devDistractor = dev.flatMap((p) => withDistractor(p, donors, seed + 1) ?? []);
  return { train: [...train, ...synthetic], synthetic, dev, devDistractor };
}

/** Round-0 data: bootstrap trajectories of the train and dev splits, cached as Arrow in `dir`. */
export async function bootstrapSplits(dir: string, datasets: string[], quiet = false, extraTrain: Problem[] = []): Promise<{ train: TrajectoryRow[]; dev: TrajectoryRow[] }> {
  const trFile = path.join(dir, 'bootstrap-train.arrow');
  const dvFile = path.join(dir, 'bootstrap-dev.arrow');
  if (fs.existsSync(trFile) && fs.existsSync(dvFile)) return { train: readTrajectories(trFile), dev: readTrajectories(dvFile) };
  const train: Problem[] = [];
  const dev: Problem[] = [];
  for (const d of datasets) {
    const s = splitDev(loadDataset(d));
    train.push(...s.train);
    dev.push(...s.dev);
  }
  train.push(...extraTrain);
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

// ------------------------------------------------------------------------------------------------
// Search shards: one process per core, one JSON line per finished problem

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

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** Split the job's problems over `workers` child processes and wait; progress from the shard files. */
export async function runSharded(dir: string, base: Omit<ShardJob, 'out' | 'problems'>, problems: ShardJob['problems'], workers: number, label: string, backend: string, quiet = false): Promise<string[]> {
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
      const c = spawn(process.execPath, ['--import', 'tsx', CLI, 'search-shard', '--job', jobFile, '--backend', backend], {
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
function mergeShards<T extends { problemId: string }>(files: string[], problems: { id: string }[]): T[] {
  const by = new Map<string, T>();
  for (const f of files) for (const l of readShardLines<T>(f)) by.set(l.problemId, l);
  return problems.flatMap((p) => (by.has(p.id) ? [by.get(p.id)!] : []));
}

// ------------------------------------------------------------------------------------------------
// The loop

function fmtPct(x: number | null): string {
  return x === null || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

export function roundsTable(rows: RoundMetrics[]): string {
  const head = '| round | problems searched | solved (train coverage) | SFT trajectories | pairs | PPM held-out pair acc. | PPM pair acc., unseen dev problems | dev greedy | dev greedy, one irrelevant sentence added | dev MCTS + PPM | dev MCTS + PPM, Q-weighted vote | right only under MCTS + PPM / only greedy (McNemar p) | wall time |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const body = rows.map((r) =>
    `| ${r.round} | ${r.problemsSearched} | ${r.solved} (${fmtPct(r.trainCoverage)}) | ${r.sftTrajectories} | ${r.pairs} | ${fmtPct(r.ppmAccuracy ?? null)} | ${r.ppmDevPairAccuracy === undefined ? '–' : `${fmtPct(r.ppmDevPairAccuracy)} (${r.devPairs})`} | ${fmtPct(r.devGreedy)} | ${fmtPct(r.devGreedyDistractor ?? null)} | ${fmtPct(r.devMcts)} | ${fmtPct(r.devMctsQVote ?? null)} | ${r.mctsVsGreedy ? `${r.mctsVsGreedy.onlyMcts} / ${r.mctsVsGreedy.onlyGreedy} (${r.mctsVsGreedy.p.toPrecision(2)})` : '–'} | ${fmtTime(r.wallSeconds)} |`);
  return [head, ...body].join('\n');
}

/** Paired comparison of two evaluations of the same problems (greedy vs MCTS + PPM). */
export function pairedCounts(greedy: Map<string, boolean>, mcts: Map<string, boolean>): { onlyMcts: number; onlyGreedy: number; p: number } {
  let onlyMcts = 0;
  let onlyGreedy = 0;
  for (const [id, g] of greedy) {
    const m = mcts.get(id);
    if (m === undefined || m === g) continue;
    if (m) onlyMcts++;
    else onlyGreedy++;
  }
  return { onlyMcts, onlyGreedy, p: mcnemarExact(onlyMcts, onlyGreedy) };
}

function toJobProblems(ps: Problem[]): ShardJob['problems'] {
  return ps.map((p) => ({ id: p.id, question: p.question, answer: p.answer, source: p.source }));
}

async function devAccuracy(dir: string, policy: string, ppm: string | undefined, dev: Problem[], mode: EvalMode, o: SelfEvolveOptions, preset: Preset, seed: number, members: string[] = []): Promise<{ acc: number; accQVote: number | null; correct: Map<string, boolean> }> {
  const files = await runSharded(dir, {
    kind: 'eval', policy, members, ppm, seed, round: 0, evalMode: mode,
    search: { rollouts: preset.evalRollouts, k: preset.evalK, maxDepth: preset.maxDepth, concurrency: 16 },
  }, toJobProblems(dev), o.workers, `dev ${mode}`, o.backend, o.quiet);
  const lines = mergeShards<EvalLine & { problemId: string }>(files, dev);
  const n = Math.max(1, lines.length);
  return {
    acc: lines.filter((l) => l.correct).length / n,
    accQVote: lines.some((l) => l.correctQVote !== undefined) ? lines.filter((l) => l.correctQVote).length / n : null,
    correct: new Map(lines.map((l) => [l.problemId, l.correct])),
  };
}

/**
 * PPM-rK on problems no model trained on: terminal-guided MCTS with policy-rK over the dev problems
 * (their answers label the terminals, as in a training round) builds pairs exactly as a round does;
 * the share PPM-rK ranks right. The held-out split of PPM training keeps problems out of the PPM's
 * data but not out of the policy's SFT data, whose solutions the PPM's backbone has memorised.
 */
async function devPairAccuracy(dir: string, policy: string, ppm: string, dev: Problem[], o: SelfEvolveOptions, preset: Preset, seed: number, members: string[] = []): Promise<{ acc: number | null; pairs: number }> {
  const files = await runSharded(dir, {
    kind: 'search', policy, members, seed, round: 0,
    search: { rollouts: preset.evalRollouts, k: preset.evalK, maxDepth: preset.maxDepth, mode: 'terminal', concurrency: 16 },
  }, toJobProblems(dev), o.workers, 'dev pairs (terminal-guided MCTS)', o.backend, o.quiet);
  const pairs = mergeShards<SearchLine>(files, dev).flatMap((l) => l.pairs);
  const acc = await ppmPairAccuracy(ppm, pairs);
  return { acc: pairs.length ? acc : null, pairs: pairs.length };
}

/** Share of `pairs` the PPM checkpoint in `dir` ranks right (NaN for none). */
async function ppmPairAccuracy(dir: string, pairs: PairRow[]): Promise<number> {
  const p = await loadPPM(dir);
  try {
    return (await pairAccuracy(p.ppm, await encodePairsFor(p.ppm, p.tokenizer, pairs))).accuracy;
  } finally {
    p.ppm.dispose();
  }
}

/** Fold (0 or 1) of a training problem for cross-fitting, fixed by the run's seed. */
export function foldOf(problemId: string, seed: number): 0 | 1 {
  // a distractor variant goes with its original: a fold policy must not have trained on either
  return (hash32(`fold:${baseProblemId(problemId)}`, seed) & 1) as 0 | 1;
}

/**
 * Cross-fitted PPM pairs. A round's trees grow on problems its policy was fine-tuned on, so the wrong
 * branches there are not the mistakes the policy makes on a new problem, which are what the PPM must
 * rank at test time. Here two half-data policies, each fine-tuned on one fold's bootstrap
 * trajectories, search the other fold's problems (terminal-guided, answers known as in a round); the
 * pairs of those trees join every round's PPM training. Resumable: each fold's SFT resumes, the
 * search shards skip finished problems, and `pairs.arrow` (written last) marks the stage done.
 */
export async function crossFitPairs(
  dir: string, cf: NonNullable<Preset['crossFit']>, bootTrain: TrajectoryRow[], bootDev: ReturnType<typeof examplesFromTrajectories>,
  problems: Problem[], sft: (fold: number, out: string) => TrainPolicyOptions, o: SelfEvolveOptions, preset: Preset,
): Promise<PairRow[]> {
  const file = path.join(dir, 'pairs.arrow');
  if (fs.existsSync(file)) return readPairs(file);
  const policy = (f: number) => path.join(dir, `fold-${f}`, 'policy');
  for (const f of [0, 1]) {
    if (fs.existsSync(path.join(policy(f), 'config.json'))) continue;
    const mine = bootTrain.filter((t) => foldOf(t.problemId, o.seed) === f);
    if (!o.quiet) console.error(`cross-fit: SFT fold-${f} policy on ${mine.length} bootstrap trajectories`);
    const r = await trainPolicy(examplesFromTrajectories(mine), bootDev, sft(f, path.join(dir, `fold-${f}`, 'sft-train')));
    copyDir(path.join(path.dirname(r.bestDir), 'last'), policy(f));
  }
  const pairs: PairRow[] = [];
  for (const f of [0, 1]) {
    const other = problems.filter((p) => foldOf(p.id, o.seed) !== f);
    const search: Partial<SearchOptions> = { rollouts: cf.rollouts, k: preset.k, maxDepth: preset.maxDepth, mode: 'terminal', concurrency: 16 };
    const files = await runSharded(path.join(dir, `search-${f}`), { kind: 'search', policy: policy(f), seed: o.seed * 1000 + 500 + f, round: 0, search }, toJobProblems(other), o.workers, `cross-fit: fold-${f} policy searches fold ${1 - f}`, o.backend, o.quiet);
    pairs.push(...mergeShards<SearchLine>(files, other).flatMap((l) => l.pairs));
  }
  await writePairs(file, pairs);
  return pairs;
}

export async function selfEvolve(o: SelfEvolveOptions): Promise<{ table: string; rows: RoundMetrics[] }> {
  const preset = { ...PRESETS[o.preset], ...o.override };
  fs.mkdirSync(o.out, { recursive: true });
  // the run's configuration is fixed at its start: resuming with other flags would mix two runs
  const cfgFile = path.join(o.out, 'run.json');
  const runCfg = { preset: o.preset, seed: o.seed, rounds: o.rounds, override: o.override ?? null };
  if (fs.existsSync(cfgFile)) {
    const prev = readJson<typeof runCfg>(cfgFile);
    if (JSON.stringify({ ...prev, rounds: 0 }) !== JSON.stringify({ ...runCfg, rounds: 0 })) {
      throw new Error(`${cfgFile}: this run was started with ${JSON.stringify(prev)}; use another --out or the same flags`);
    }
  }
  writeJsonAtomic(cfgFile, runCfg);
  const log = (s: string) => { if (!o.quiet) console.error(s); };
  const { train: allTrain, synthetic, dev: allDev, devDistractor: allDevD } = loadProblemsFor(preset.datasets, preset.distractors, o.seed);
  // a seeded order: round K searches the same first-N problems, whichever order the files are in
  const order = [...allTrain].sort((a, b) => hash32(a.id, o.seed) - hash32(b.id, o.seed) || (a.id < b.id ? -1 : 1));
  const searchSet = preset.searchProblems ? order.slice(0, preset.searchProblems) : order;
  const dev = preset.devProblems ? allDev.slice(0, preset.devProblems) : allDev;
  const devIds = new Set(dev.map((p) => p.id));
  const devD = allDevD.filter((p) => devIds.has(baseProblemId(p.id)));

  // ---- round 0: bootstrap + policy-r0
  const r0 = path.join(o.out, 'round-0');
  const boot = await bootstrapSplits(r0, preset.datasets, o.quiet, synthetic);
  const bootTrain = preset.bootstrapLimit ? limitPerSource(boot.train, preset.bootstrapLimit) : boot.train;
  const policyDir = (k: number) => path.join(o.out, `round-${k}`, 'policy');
  // the other policies of the ensemble (preset.policies), trained beside policy-rK with their own seeds
  const memberDirs = (k: number) => Array.from({ length: (preset.policies ?? 1) - 1 }, (_, j) => path.join(o.out, `round-${k}`, `policy-m${j + 1}`));
  const memberOf = (dir: string) => Number(/policy-m(\d+)$/.exec(dir)?.[1] ?? 0);
  // member m's SFT: its own output folder and seed (m = 0 is policy-rK itself)
  const memberSft = (k: number, m: number, init?: string): TrainPolicyOptions => {
    const b = sftOpts(k, init);
    return m === 0 ? b : { ...b, out: `${b.out}-m${m}`, seed: b.seed! + 1000 * m, meta: { ...b.meta, member: m } };
  };
  const ppmDir = (k: number) => path.join(o.out, `round-${k}`, 'ppm');
  // what round K's PPM training produced; ppmDir(K) is it or the average (preset.ppmAverage). Runs
  // from before averaging have only ppmDir, which is then what was trained.
  const ppmTrainedDir = (k: number) => path.join(o.out, `round-${k}`, 'ppm-trained');
  const trainedPPM = (k: number) => (fs.existsSync(path.join(ppmTrainedDir(k), 'config.json')) ? ppmTrainedDir(k) : ppmDir(k));
  const sftOpts = (k: number, init?: string): TrainPolicyOptions => ({
    out: path.join(o.out, `round-${k}`, 'sft-train'), init, steps: k === 0 ? preset.sft0Steps : preset.sftSteps,
    lr: k === 0 ? 2e-3 : preset.sftLr, batchTokens: preset.batchTokens, seed: o.seed + k, resume: true,
    evalEvery: Math.max(1, Math.floor((k === 0 ? preset.sft0Steps : preset.sftSteps) / 5)), model: preset.model, quiet: o.quiet,
    meta: { round: k }, workers: o.workers, dropout: preset.model.dropout,
  });
  // ---- round 0, first (--pretrain): SFT on other datasets' verified trajectories, the nearest thing
  // here to the paper's pretrained LM. Measured (README): policy-r0 +1.9 to +5.7 points, gone by round 1
  const pretrainDir = path.join(r0, 'pretrain');
  const pretrained = path.join(pretrainDir, 'policy');
  if (preset.pretrain && !fs.existsSync(path.join(policyDir(0), 'config.json')) && !fs.existsSync(path.join(pretrained, 'config.json'))) {
    const t0 = Date.now();
    const pb = await bootstrapSplits(pretrainDir, preset.pretrain.datasets, o.quiet);
    log(`round 0: pretraining SFT on ${pb.train.length} bootstrap trajectories of ${preset.pretrain.datasets.join(', ')}`);
    const r = await trainPolicy(examplesFromTrajectories(pb.train), examplesFromTrajectories(pb.dev), {
      ...sftOpts(0), out: path.join(pretrainDir, 'sft-train'), steps: preset.pretrain.steps,
      evalEvery: Math.max(1, Math.floor(preset.pretrain.steps / 5)), meta: { round: 0, pretrain: preset.pretrain.datasets },
    });
    copyDir(path.join(path.dirname(r.bestDir), 'last'), pretrained);
    addWall(r0, (Date.now() - t0) / 1000);
  }
  // older runs (no pretraining stage) keep what they started with
  const r0Init = fs.existsSync(path.join(pretrained, 'config.json')) ? pretrained : undefined;
  if (!fs.existsSync(path.join(policyDir(0), 'config.json'))) {
    log(`round 0: SFT policy-r0 on ${bootTrain.length} bootstrap trajectories${r0Init ? ' (from the pretrained policy)' : ''}`);
    const t0 = Date.now();
    const r = await trainPolicy(examplesFromTrajectories(bootTrain), examplesFromTrajectories(boot.dev), sftOpts(0, r0Init));
    copyDir(r.bestDir, policyDir(0));
    addWall(r0, (Date.now() - t0) / 1000);
  }
  for (const dir of memberDirs(0)) {
    if (fs.existsSync(path.join(dir, 'config.json'))) continue;
    const m = memberOf(dir);
    log(`round 0: SFT policy-r0 member ${m} (seed ${memberSft(0, m).seed})`);
    const t0 = Date.now();
    // the prompt style of policy-r0: the members' prompts must be the ones MCTS builds for it
    const r = await trainPolicy(examplesFromTrajectories(bootTrain), examplesFromTrajectories(boot.dev), { ...memberSft(0, m, r0Init), promptNumbers: promptNumbersAt(policyDir(0)) });
    copyDir(r.bestDir, dir);
    addWall(r0, (Date.now() - t0) / 1000);
  }

  // ---- cross-fitted pairs for every round's PPM (part of round 0's wall time)
  let crossPairs: PairRow[] = [];
  if (preset.crossFit) {
    const t0 = Date.now();
    crossPairs = await crossFitPairs(path.join(r0, 'cross-fit'), preset.crossFit, bootTrain, examplesFromTrajectories(boot.dev), searchSet, (f, out) => ({ ...sftOpts(0, r0Init), out, steps: preset.crossFit!.sftSteps, seed: o.seed + 100 + f, evalEvery: Math.max(1, Math.floor(preset.crossFit!.sftSteps / 5)) }), o, preset);
    addWall(r0, (Date.now() - t0) / 1000);
  }

  const rows: RoundMetrics[] = [];
  for (let k = 1; k <= o.rounds; k++) {
    const dir = path.join(o.out, `round-${k}`);
    const metricsFile = path.join(dir, 'metrics.json');
    if (fs.existsSync(metricsFile)) {
      rows.push(readJson<RoundMetrics>(metricsFile));
      continue;
    }
    let last = Date.now();
    const stamp = () => {
      const now = Date.now();
      const total = addWall(dir, (now - last) / 1000);
      last = now;
      return total;
    };
    const plan = preset.rounds[Math.min(k, preset.rounds.length) - 1]!;
    const prevPolicy = policyDir(k - 1);
    const prevPPM = plan.mode === 'ppm' ? ppmDir(k - 1) : undefined;
    if (prevPPM && !fs.existsSync(path.join(prevPPM, 'config.json'))) throw new Error(`${prevPPM}: round ${k} needs PPM-r${k - 1}`);

    // ---- MCTS over the training problems
    const trajFile = path.join(dir, 'trajectories.arrow');
    const pairsFile = path.join(dir, 'pairs.arrow');
    const sftFile = path.join(dir, 'sft.arrow');
    if (!fs.existsSync(sftFile)) {
      const search: Partial<SearchOptions> = { rollouts: plan.rollouts, k: preset.k, maxDepth: preset.maxDepth, mode: plan.mode, concurrency: 16 };
      const files = await runSharded(path.join(dir, 'search'), { kind: 'search', policy: prevPolicy, members: memberDirs(k - 1), ppm: prevPPM, seed: o.seed * 1000 + k, round: k, search }, toJobProblems(searchSet), o.workers, `round ${k} MCTS (${plan.mode})`, o.backend, o.quiet);
      let lines = mergeShards<SearchLine>(files, searchSet);
      if (plan.extraRollouts) {
        // round 4: unsolved problems get fresh trees with other seeds until extraRollouts in all
        const extraTrees = Math.max(0, Math.floor((plan.extraRollouts - plan.rollouts) / Math.max(plan.rollouts * 2, 1)));
        for (let t = 1; t <= extraTrees; t++) {
          const unsolved = searchSet.filter((p) => !lines.find((l) => l.problemId === p.id)?.solved);
          if (!unsolved.length) break;
          const f2 = await runSharded(path.join(dir, `search-extra-${t}`), { kind: 'search', policy: prevPolicy, members: memberDirs(k - 1), ppm: prevPPM, seed: o.seed * 1000 + k + 7919 * t, round: k, search: { ...search, rollouts: plan.rollouts * 2 } }, toJobProblems(unsolved), o.workers, `round ${k} extra trees ${t}/${extraTrees}`, o.backend, o.quiet);
          const extra = new Map(mergeShards<SearchLine>(f2, unsolved).map((l) => [l.problemId, l]));
          lines = lines.map((l) => {
            const e = extra.get(l.problemId);
            if (!e) return l;
            return { ...l, solved: l.solved || e.solved, trajectories: [...l.trajectories, ...e.trajectories], sft: selectSFT([...l.sft, ...e.sft]), pairs: [...l.pairs, ...e.pairs], rollouts: l.rollouts + e.rollouts };
          });
        }
      }
      await writeTrajectories(trajFile, lines.flatMap((l) => l.trajectories));
      await writePairs(pairsFile, lines.flatMap((l) => l.pairs));
      const solvedIds = lines.filter((l) => l.solved).map((l) => l.problemId);
      writeJsonAtomic(path.join(dir, 'search-summary.json'), { searched: lines.length, solved: solvedIds.length, generatedTokens: lines.reduce((a, l) => a + (l.generatedTokens ?? 0), 0) });
      // last: its existence marks the search stage done
      await writeTrajectories(sftFile, lines.flatMap((l) => l.sft));
    }
    stamp();
    const summary = readJson<{ searched: number; solved: number }>(path.join(dir, 'search-summary.json'));
    const sft = readTrajectories(sftFile);
    const pairs = readPairs(pairsFile);

    // ---- SFT policy-rK: MCTS top-2 per problem, plus the bootstrap data (keeps the reference style)
    for (const [m, to] of [policyDir(k), ...memberDirs(k)].entries()) {
      if (fs.existsSync(path.join(to, 'config.json'))) continue;
      const trainSet = dedupe([...sft, ...bootTrain]);
      log(`round ${k}: SFT policy-r${k}${m ? ` member ${m}` : ''} on ${trainSet.length} trajectories (${sft.length} from MCTS)`);
      const from = m === 0 ? prevPolicy : memberDirs(k - 1)[m - 1]!;
      const r = await trainPolicy(examplesFromTrajectories(trainSet), examplesFromTrajectories(boot.dev), memberSft(k, m, from));
      // the final weights, not the lowest dev loss: dev loss is measured on the reference solutions,
      // which self-generated data moves away from, so "best" would keep returning the initial policy
      copyDir(path.join(path.dirname(r.bestDir), 'last'), to);
    }
    stamp();

    // ---- PPM-rK from policy-rK on the MCTS pairs of rounds 1..K. Corrupted-step pairs (a correct step
    // vs the same step with one number or operator changed) only top up a round with fewer than 200
    // MCTS pairs: mixed in 1:1 they pulled held-out MCTS accuracy down (bench/ppm-sweep.ts: 66 % vs 69 %
    // without). Held-out accuracy is measured on MCTS pairs of held-out problems only; no problem is
    // on both sides.
    if (!fs.existsSync(path.join(ppmDir(k), 'config.json'))) {
      const trainedTo = preset.ppmAverage ? ppmTrainedDir(k) : ppmDir(k);
      // pairs of every round so far: a small PPM is data-starved, and older pairs stay valid preferences
      const allPairs = dedupePairs([...crossPairs, ...Array.from({ length: k }, (_, j) => readPairs(path.join(o.out, `round-${j + 1}`, 'pairs.arrow'))).flat()]);
      const { train: mctsTrain, dev: held } = splitPairs(allPairs);
      if (!fs.existsSync(path.join(trainedTo, 'config.json'))) {
        const heldIds = new Set(held.map((p) => p.problemId));
        const extra = corruptionPairs(dedupe([...sft, ...bootTrain]).filter((t) => !heldIds.has(t.problemId)), o.seed + k, k, promptNumbersAt(policyDir(k)));
        const train = [...mctsTrain, ...extra.slice(0, Math.max(0, 200 - mctsTrain.length))];
        log(`round ${k}: PPM-r${k} on ${train.length} pairs (${mctsTrain.length} from MCTS rounds 1-${k}${crossPairs.length ? ' and cross-fitted trees' : ''}), ${held.length} held-out MCTS pairs`);
        const r = await trainPPM(train, held, { init: policyDir(k), out: path.join(dir, 'ppm-train'), steps: preset.ppmSteps, lr: preset.ppmLr, evalEvery: Math.max(1, Math.floor(preset.ppmSteps / 4)), seed: o.seed + k, resume: true, quiet: o.quiet, meta: { round: k } });
        // the final weights: with the likelihood input the PPM starts at the policy's own ranking, and
        // training lowers the held-out pair loss (better-scaled Q) while accuracy moves within noise;
        // picking the best accuracy would mostly pick step 0
        copyDir(path.join(path.dirname(r.bestDir), 'last'), trainedTo);
        writeJsonAtomic(path.join(dir, 'ppm-summary.json'), { trainPairs: train.length, mctsTrainPairs: mctsTrain.length, heldOutMctsPairs: held.length, firstAccuracy: r.firstMetric, bestAccuracy: r.bestMetric, bestStep: r.bestStep, finalAccuracy: r.lastMetric });
      }
      if (preset.ppmAverage) {
        // PPM training is noisy: the same pairs and another seed moved test-time MCTS + PPM by up to
        // 1.9 points (runs/d1, README), and PPM-r1..r3 served policy-r4 better than PPM-r4 did. The
        // weight average of every round's PPM (all descend from policy-r0) scores like their ensemble
        // at one model's cost; older rounds' preferences stay valid.
        const members = Array.from({ length: k }, (_, j) => trainedPPM(j + 1));
        // staged beside ppmDir and renamed last: a run killed before that averages again on resume
        const staged = path.join(dir, 'ppm-average');
        averageCheckpoints(members, staged, { round: k });
        const acc = await ppmPairAccuracy(staged, held);
        const s = readJson<{ finalAccuracy: number }>(path.join(dir, 'ppm-summary.json'));
        writeJsonAtomic(path.join(dir, 'ppm-summary.json'), { ...s, averageOf: members.length, averageAccuracy: acc });
        replaceDir(staged, ppmDir(k));
        log(`round ${k}: PPM-r${k} = weight average of the PPMs of rounds 1-${k}: held-out pair accuracy ${fmtPct(acc)} (as trained ${fmtPct(s.finalAccuracy)})`);
      }
    }

    stamp();
    // ---- dev accuracy: greedy (policy alone) and MCTS + PPM
    const greedy = await devAccuracy(path.join(dir, 'eval-greedy'), policyDir(k), undefined, dev, 'greedy', o, preset, o.seed);
    const devGreedy = greedy.acc;
    const devGreedyDistractor = devD.length ? (await devAccuracy(path.join(dir, 'eval-greedy-distractor'), policyDir(k), undefined, devD, 'greedy', o, preset, o.seed)).acc : null;
    const mcts = await devAccuracy(path.join(dir, 'eval-mcts'), policyDir(k), ppmDir(k), dev, 'mcts', o, preset, o.seed, memberDirs(k));
    const devMcts = mcts.acc;
    const paired = pairedCounts(greedy.correct, mcts.correct);
    const dp = await devPairAccuracy(path.join(dir, 'dev-pairs'), policyDir(k), ppmDir(k), dev, o, preset, o.seed + 17 * k, memberDirs(k));
    const m: RoundMetrics = {
      round: k, problemsSearched: summary.searched, solved: summary.solved,
      trainCoverage: summary.searched ? summary.solved / summary.searched : 0,
      sftTrajectories: sft.length, pairs: pairs.length, devGreedy, devGreedyDistractor, devMcts, devMctsQVote: mcts.accQVote, devN: dev.length,
      ppmDevPairAccuracy: dp.acc, devPairs: dp.pairs, mctsVsGreedy: paired,
      ppmAccuracy: fs.existsSync(path.join(dir, 'ppm-summary.json')) ? ((s) => s.averageAccuracy ?? s.finalAccuracy ?? s.bestAccuracy)(readJson<{ bestAccuracy: number; finalAccuracy?: number; averageAccuracy?: number }>(path.join(dir, 'ppm-summary.json'))) : undefined,
      wallSeconds: stamp(),
    };
    writeJsonAtomic(metricsFile, m);
    rows.push(m);
    log(roundsTable(rows));
  }
  const table = roundsTable(rows);
  const r0Wall = fs.existsSync(path.join(r0, 'wall.json')) ? readJson<{ s: number }>(path.join(r0, 'wall.json')).s : 0;
  const total = r0Wall + rows.reduce((a, r) => a + r.wallSeconds, 0);
  writeFileAtomic(path.join(o.out, 'rounds.md'), `# Self-evolution rounds (preset ${o.preset}, seed ${o.seed})\n\nDev = MAWPS/ASDiv-A dev split (${dev.length} problems). Round 0 (bootstrap SFT of policy-r0): ${fmtTime(r0Wall)}. Total: ${fmtTime(total)}.\n\n${table}\n`);
  if (o.ship && rows.length) {
    const last = rows[rows.length - 1]!.round;
    copyDir(policyDir(last), path.join(o.ship, 'policy'));
    for (const m of memberDirs(last)) copyDir(m, path.join(o.ship, path.basename(m)));
    copyDir(ppmDir(last), path.join(o.ship, 'ppm'));
    fs.copyFileSync(path.join(o.out, 'rounds.md'), path.join(o.ship, 'rounds.md'));
  }
  return { table, rows };
}

/** Wall time of a round accumulates over processes (a resumed run adds to it); time of a stage that
 *  was killed before it finished is not counted. */
function addWall(dir: string, secs: number): number {
  const f = path.join(dir, 'wall.json');
  const s = (fs.existsSync(f) ? readJson<{ s: number }>(f).s : 0) + secs;
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(f, { s });
  return s;
}

function limitPerSource(rows: TrajectoryRow[], n: number): TrajectoryRow[] {
  const seen = new Map<string, number>();
  return rows.filter((r) => {
    const c = seen.get(r.source) ?? 0;
    seen.set(r.source, c + 1);
    return c < n;
  });
}

export function dedupePairs(rows: PairRow[]): PairRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = [r.prefix, r.positive, r.negative].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function dedupe(rows: TrajectoryRow[]): TrajectoryRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = r.problemId + '\u0000' + r.steps.join('');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Copy a checkpoint folder atomically (temp + rename). */
function copyDir(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(from, tmp, { recursive: true });
  // the copy is for inference: optimizer state stays with the training folder
  for (const f of ['optimizer.bin', 'optimizer.json', 'optimizer-step.json', 'loop-state.json']) fs.rmSync(path.join(tmp, f), { force: true });
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.renameSync(tmp, to);
}
