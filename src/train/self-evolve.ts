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
// Layout: <out>/round-K/{trajectories,sft,pairs,trees}.arrow, policy/, ppm/, ppm-trained/, metrics.json,
// eval-mcts/trees.arrow; <out>/rounds.md; <out>/report/index.html (report/index.ts, after every round).
// Resuming: every stage's output is written atomically and marks the stage done; the search writes one
// JSON line per finished problem per shard (shards.ts; a torn last line is dropped on resume), so a
// killed run searches no finished problem again and loses or duplicates no trajectory. Training resumes
// from its `last` checkpoint. Both cores: the search and the dev evaluation run as one process per core;
// with `queue` (--queue redis://…) they run as BullMQ jobs for `rstar worker`s anywhere (queue/).
// Your data and model: `data`/`dev` replace the datasets (problems.ts loadProblemFiles), `policy`
// (a checkpoint or hf:<folder>) is what round 0 fine-tunes into policy-r0.
// Presets: presets.ts. Cross-fitted pairs: cross-fit.ts. Dev evaluation: dev-eval.ts. Tables: report.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../data/datasets.ts';
import { dedupe, dedupePairs, readPairs, readTrajectories, writePairs, writeTrajectories, type PairRow, type TrajectoryRow } from '../data/arrow.ts';
import { bootstrapSplits } from '../data/bootstrap/index.ts';
import { loadProblemsFor, schemaBatch, searchDraw } from '../data/problems.ts';
import { baseProblemId } from '../data/synth/distractors.ts';
import { parseStep } from '../data/steps.ts';
import { averageCheckpoints, copyCheckpoint, saveCheckpoint } from '../model/checkpoint.ts';
import { loadPolicyAny, promptNumbersAt } from '../model/load.ts';
import type { SearchOptions } from '../search/mcts.ts';
import { selectSFT } from '../search/extract.ts';
import { fmtTime } from '../util/progress.ts';
import { readJson, replaceDir, writeFileAtomic, writeJsonAtomic } from '../util/fsx.ts';
import { capPerSource, charShareBySource, mixBySource, trainPolicy, examplesFromTrajectories, type SFTExample, type TrainPolicyOptions } from './sft.ts';
import { splitPairs } from './ppm.ts';
import { trainPPMs } from './ppm-seeds.ts';
import { corruptionPairs } from './pairs.ts';
import { PRESETS, type Preset, type RoundPlan } from './presets.ts';
import { mergeShards, runSharded, toJobProblems, type SearchLine, type SearchQueue } from './shards.ts';
import { crossFitPairs } from './cross-fit.ts';
import { devAccuracy, devPairAccuracy, ppmPairAccuracy, type DevEval } from './dev-eval.ts';
import { addWall, fmtPct, pairedCounts, readWall, roundsTable, type RoundMetrics, type Stage } from './report.ts';
import { writeTrees } from './report/trees.ts';

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
  /** Search stages (search, dev evaluation, cross-fit) as queue jobs for `rstar worker`s (queue/coordinator.ts). */
  queue?: SearchQueue;
  /** Your own training problems (JSONL files) instead of the preset's datasets; `dev` your dev problems. */
  data?: string[];
  dev?: string;
  /** policy-r0 is this policy (a checkpoint or hf:<folder>) fine-tuned on the bootstrap data; the PPM takes its backbone. */
  policy?: string;
  /** Tokenizer file for an hf: `policy` folder without one. */
  tokenizer?: string;
  /** A trained PPM that PPM-r1 continues (head and backbone), and PPM-rK continues PPM-r(K-1) as
   *  trained; default: each PPM-rK starts from policy-rK's backbone and a new head. */
  ppm?: string;
}

/** Where a run keeps each round's models. */
class Layout {
  constructor(readonly out: string, private readonly policies: number, private readonly r0Member = false) {}
  round(k: number): string {
    return path.join(this.out, `round-${k}`);
  }
  policy(k: number): string {
    return path.join(this.round(k), 'policy');
  }
  /** The other policies of the ensemble (preset.policies), trained beside policy-rK with their own seeds. */
  trainedMembers(k: number): string[] {
    return Array.from({ length: this.policies - 1 }, (_, j) => path.join(this.round(k), `policy-m${j + 1}`));
  }
  /** Every policy proposing with policy-rK: the trained members, then policy-r0 as it is (preset.r0Member). */
  members(k: number): string[] {
    return [...this.trainedMembers(k), ...(this.r0Member && k >= 1 ? [this.policy(0)] : [])];
  }
  /** PPM-rK as searched and evaluated with: as trained, or the average (preset.ppmAverage). */
  ppm(k: number): string {
    return path.join(this.round(k), 'ppm');
  }
  /** What round K's PPM training produced when ppm/ holds the average. */
  ppmTrained(k: number): string {
    return path.join(this.round(k), 'ppm-trained');
  }
  /** Runs from before averaging have only ppm/, which is then what was trained. */
  trainedPPM(k: number): string {
    return fs.existsSync(path.join(this.ppmTrained(k), 'config.json')) ? this.ppmTrained(k) : this.ppm(k);
  }
}

/** Everything the stages of a run share. */
interface Run {
  o: SelfEvolveOptions;
  preset: Preset;
  at: Layout;
  log: (s: string) => void;
  /** Round k's training problems (a seeded order, the first preset.searchProblems, or with
   *  preset.freshDraw the next ones). */
  searchSetOf: (k: number) => Problem[];
  dev: Problem[];
  /** Every dev problem (dev may be the first N): no synthesised problem may be near one. */
  allDev: Problem[];
  /** Dev problems with an irrelevant sentence added. */
  devD: Problem[];
  bootTrain: TrajectoryRow[];
  bootDev: SFTExample[];
  /** The chance-hit check's reference programs (preset.chanceCheck): word-problem id → step codes. */
  references: ReadonlyMap<string, string[]>;
  /** Test-time search of the dev evaluation over config.ts SEARCH (the preset's testSearch). */
  testSearch: Partial<SearchOptions>;
}

const hasCheckpoint = (dir: string) => fs.existsSync(path.join(dir, 'config.json'));

export async function selfEvolve(given: SelfEvolveOptions): Promise<{ table: string; rows: RoundMetrics[] }> {
  const preset = { ...PRESETS[given.preset], ...given.override };
  // the preset's starting models unless the caller gave a policy (its own PPM, or none, goes with it)
  const o = !given.policy && preset.start ? { ...given, policy: preset.start.policy, ppm: given.ppm ?? preset.start.ppm } : given;
  fixRunConfig(o);
  const run = await prepareRun(o, preset);
  await trainRoundZero(run);
  const priorPairs = [...await crossFitStage(run), ...seedPairs(run)];
  const rows: RoundMetrics[] = [];
  for (let k = 1; k <= o.rounds; k++) {
    const { metrics, fresh } = await runRound(run, k, priorPairs);
    rows.push(metrics);
    if (fresh) run.log(roundsTable(rows));
    // the page shows every finished round: one finished by an earlier process needs no page of its own
    if (fresh || k === o.rounds) await reportRound(run, k);
  }
  const table = roundsTable(rows);
  writeRoundsFile(run, table, rows);
  if (o.ship && rows.length) ship(run, rows[rows.length - 1]!.round, o.ship);
  return { table, rows };
}

/** The run's configuration is fixed at its start: resuming with other flags would mix two runs. */
function fixRunConfig(o: SelfEvolveOptions): void {
  fs.mkdirSync(o.out, { recursive: true });
  const cfgFile = path.join(o.out, 'run.json');
  const runCfg = {
    preset: o.preset, seed: o.seed, rounds: o.rounds, override: o.override ?? null,
    // only when given: runs started before these options resume as before
    ...(o.data ? { data: o.data.map((f) => path.resolve(f)), dev: o.dev ? path.resolve(o.dev) : null } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.ppm ? { ppm: o.ppm } : {}),
  };
  if (fs.existsSync(cfgFile)) {
    const prev = readJson<typeof runCfg>(cfgFile);
    if (JSON.stringify({ ...prev, rounds: 0 }) !== JSON.stringify({ ...runCfg, rounds: 0 })) {
      throw new Error(`${cfgFile}: this run was started with ${JSON.stringify(prev)}; use another --out or the same flags`);
    }
  }
  writeJsonAtomic(cfgFile, runCfg);
}

/** Problems, dev sets and round-0 bootstrap data. */
async function prepareRun(o: SelfEvolveOptions, preset: Preset): Promise<Run> {
  const log = (s: string) => { if (!o.quiet) console.error(s); };
  const { train: allTrain, synthetic, dev: allDev, devDistractor: allDevD } = loadProblemsFor({ datasets: preset.datasets, distractors: preset.distractors, seed: o.seed, files: o.data ? { data: o.data, dev: o.dev } : undefined, schemas: preset.schemas?.round0 ?? 0, devSet: preset.devSet });
  const searchSetOf = (k: number): Problem[] => searchDraw(allTrain, preset.searchProblems, { k, seed: o.seed, freshDraw: preset.freshDraw });
  // the first N of each dataset's dev problems (with --data, of the user's dev file)
  const devPerSource = new Map<string, Problem[]>();
  for (const p of allDev) devPerSource.set(p.source, [...(devPerSource.get(p.source) ?? []), p]);
  const dev = preset.devProblems ? [...devPerSource.values()].flatMap((ps) => ps.slice(0, preset.devProblems)) : allDev;
  const devIds = new Set(dev.map((p) => p.id));
  // the robustness distractor training is meant to buy (none when the preset trains without distractors)
  const devD = allDevD.filter((p) => devIds.has(baseProblemId(p.id)));
  const at = new Layout(o.out, preset.policies ?? 1, preset.r0Member ?? false);
  // --data: the user's lines bootstrap where they carry a reference solution a converter reads
  const boot = o.data
    ? await bootstrapSplits({ dir: at.round(0), datasets: [], quiet: o.quiet, extraTrain: allTrain, extraDev: allDev })
    : await bootstrapSplits({ dir: at.round(0), datasets: preset.datasets, quiet: o.quiet, extraTrain: synthetic, grouped: preset.devSet === 'grouped' });
  const bootTrain = bootstrapKept(boot.train, preset.bootstrapLimit, o.seed);
  const references = new Map(preset.chanceCheck ? boot.train.filter((t) => /^(mawps|gsm8k)/.test(t.source)).map((t) => [t.problemId, t.steps.map((x) => parseStep(x)?.code ?? '')]) : []);
  return {
    // SFT dev loss is a diagnostic (rounds keep their last weights): 400 problems a source measure it, where
    // DeepMind's and GSM8K's whole dev bootstraps (4,724 trajectories) made it most of a round's SFT time
    o, preset, at, log, searchSetOf, dev, allDev, devD, bootTrain, references, bootDev: examplesFromTrajectories(capPerSource(boot.dev, SFT_DEV_PER_SOURCE, o.seed)),
    testSearch: preset.testSearch,
  };
}

/** SFT options of round k's policy (m = 0) or ensemble member m: its own output folder and seed. */
function sftOptions(run: Run, k: number, m = 0, init?: string): TrainPolicyOptions {
  const { o, preset } = run;
  const steps = k === 0 ? preset.sft0Steps : preset.sftSteps;
  const b: TrainPolicyOptions = {
    out: path.join(run.at.round(k), 'sft-train'), init, steps,
    lr: k === 0 ? 2e-3 : preset.sftLr, batchTokens: preset.batchTokens, seed: o.seed + k, resume: true,
    evalEvery: Math.max(1, Math.floor(steps / 5)), model: preset.model, quiet: o.quiet,
    meta: { round: k, ...(k === 0 && o.policy ? { from: o.policy } : {}) }, workers: o.workers, dropout: preset.model.dropout,
    // an hf: folder shipped without a tokenizer (later rounds start from checkpoints, which carry theirs)
    ...(init?.startsWith('hf:') && o.tokenizer ? { tokenizer: o.tokenizer } : {}),
  };
  return m === 0 ? b : { ...b, out: `${b.out}-m${m}`, seed: b.seed! + 1000 * m, meta: { ...b.meta, member: m } };
}

const memberOf = (dir: string) => Number(/policy-m(\d+)$/.exec(dir)?.[1] ?? 0);

/** Round 0: (optionally) a pretraining SFT, then policy-r0 and its ensemble members on the bootstrap data. */
async function trainRoundZero(run: Run): Promise<void> {
  const { o, preset, at, log, bootTrain, bootDev } = run;
  const r0 = at.round(0);
  // --pretrain: SFT on other datasets' verified trajectories, the nearest thing here to the paper's
  // pretrained LM. Measured (README): policy-r0 +1.9 to +5.7 points, gone by round 1
  const pretrainDir = path.join(r0, 'pretrain');
  const pretrained = path.join(pretrainDir, 'policy');
  if (preset.pretrain && !hasCheckpoint(at.policy(0)) && !hasCheckpoint(pretrained)) {
    const t0 = Date.now();
    const pb = await bootstrapSplits({ dir: pretrainDir, datasets: preset.pretrain.datasets, quiet: o.quiet, grouped: preset.devSet === 'grouped' });
    log(`round 0: pretraining SFT on ${pb.train.length} bootstrap trajectories of ${preset.pretrain.datasets.join(', ')}`);
    const r = await trainPolicy(examplesFromTrajectories(pb.train), examplesFromTrajectories(pb.dev), {
      ...sftOptions(run, 0), out: path.join(pretrainDir, 'sft-train'), steps: preset.pretrain.steps,
      evalEvery: Math.max(1, Math.floor(preset.pretrain.steps / 5)), meta: { round: 0, pretrain: preset.pretrain.datasets },
    });
    copyCheckpoint(path.join(path.dirname(r.bestDir), 'last'), pretrained);
    addWall(r0, (Date.now() - t0) / 1000);
  }
  // older runs (no pretraining stage) keep what they started with
  const init = o.policy ?? (hasCheckpoint(pretrained) ? pretrained : undefined);
  if (!hasCheckpoint(at.policy(0)) && (!bootTrain.length || preset.sft0Steps === 0)) {
    if (!o.policy && preset.sft0Steps === 0) throw new Error('round 0: --sft0-steps 0 keeps policy-r0 as given: give --policy');
    if (!o.policy) throw new Error(`round 0: no bootstrap trajectories to train policy-r0 on (the bootstrap converts reference solutions: a "solution" field on lines whose source names gsm8k, mawps or deepmind); give --policy to start from a pretrained policy`);
    // nothing to fine-tune on, or told not to: policy-r0 is the given policy as it is
    log(`round 0: ${bootTrain.length ? 'no round-0 SFT (--sft0-steps 0)' : 'no bootstrap trajectories'}; policy-r0 = ${o.policy} unchanged`);
    const p = await loadPolicyAny(o.policy, { tokenizer: o.tokenizer });
    await saveCheckpoint(at.policy(0), p.lm, { kind: 'policy', tokenizerFile: p.tokenizerFile, tokenizerSha256: p.tokenizer.sha256, promptNumbers: p.promptNumbers, meta: { round: 0, from: o.policy } });
    p.lm.dispose();
  }
  // the round-0 SFT set, mixed once for policy-r0 and its members (only when one is trained)
  let examples0: SFTExample[] | undefined;
  const bootExamples = () => (examples0 ??= examplesFromTrajectories(mixed(run, bootTrain, 0)));
  if (!hasCheckpoint(at.policy(0))) {
    log(`round 0: SFT policy-r0 on ${bootTrain.length} bootstrap trajectories${o.policy ? ` (from ${o.policy})` : init ? ' (from the pretrained policy)' : ''}`);
    const t0 = Date.now();
    const r = await trainPolicy(bootExamples(), bootDev, sftOptions(run, 0, 0, init));
    copyCheckpoint(r.bestDir, at.policy(0));
    addWall(r0, (Date.now() - t0) / 1000);
  }
  for (const dir of at.trainedMembers(0)) {
    if (hasCheckpoint(dir)) continue;
    const m = memberOf(dir);
    log(`round 0: SFT policy-r0 member ${m} (seed ${sftOptions(run, 0, m).seed})`);
    const t0 = Date.now();
    // the prompt style of policy-r0: the members' prompts must be the ones MCTS builds for it
    const r = await trainPolicy(bootExamples(), bootDev, { ...sftOptions(run, 0, m, init), promptNumbers: promptNumbersAt(at.policy(0)) });
    copyCheckpoint(r.bestDir, dir);
    addWall(r0, (Date.now() - t0) / 1000);
  }
}

/** The preset's pairs from earlier runs, for every round's PPM; never a dev problem's. */
function seedPairs(run: Run): PairRow[] {
  const dev = new Set(run.allDev.map((p) => baseProblemId(p.id)));
  return run.preset.seedPairs.flatMap((file) => {
    const all = readPairs(file);
    const kept = all.filter((p) => !dev.has(baseProblemId(p.problemId)));
    run.log(`${file}: ${kept.length} earlier pairs join every round's PPM training${kept.length < all.length ? ` (${all.length - kept.length} of dev problems dropped)` : ''}`);
    return kept;
  });
}

/** Cross-fitted pairs for every round's PPM (part of round 0's wall time). */
async function crossFitStage(run: Run): Promise<PairRow[]> {
  const { o, preset, at } = run;
  if (!preset.crossFit) return [];
  const t0 = Date.now();
  const init = o.policy ?? (hasCheckpoint(path.join(at.round(0), 'pretrain', 'policy')) ? path.join(at.round(0), 'pretrain', 'policy') : undefined);
  const cf = preset.crossFit;
  const pairs = await crossFitPairs({
    dir: path.join(at.round(0), 'cross-fit'), crossFit: cf, bootTrain: run.bootTrain, bootDev: run.bootDev, problems: run.searchSetOf(1),
    sft: (f, out) => ({ ...sftOptions(run, 0, 0, init), out, steps: cf.sftSteps, seed: o.seed + 100 + f, evalEvery: Math.max(1, Math.floor(cf.sftSteps / 5)) }),
    search: preset, seed: o.seed, workers: o.workers, backend: o.backend, quiet: o.quiet, queue: o.queue,
  });
  addWall(at.round(0), (Date.now() - t0) / 1000);
  return pairs;
}

/** Round k: MCTS with the previous round's models → SFT policy-rK → PPM-rK → dev evaluation.
 *  fresh: false when an earlier process finished the round (its metrics.json is read back). */
async function runRound(run: Run, k: number, priorPairs: PairRow[]): Promise<{ metrics: RoundMetrics; fresh: boolean }> {
  const { preset, at } = run;
  const dir = at.round(k);
  const metricsFile = path.join(dir, 'metrics.json');
  if (fs.existsSync(metricsFile)) return { metrics: readJson<RoundMetrics>(metricsFile), fresh: false };
  let last = Date.now();
  const stamp = (stage: Stage) => {
    const now = Date.now();
    const total = addWall(dir, (now - last) / 1000, stage);
    last = now;
    return total;
  };
  const plan = preset.rounds[Math.min(k, preset.rounds.length) - 1]!;
  if (plan.mode === 'ppm' && !hasCheckpoint(at.ppm(k - 1))) throw new Error(`${at.ppm(k - 1)}: round ${k} needs PPM-r${k - 1}`);

  await searchStage(run, k, plan);
  stamp('search');
  const summary = readJson<{ searched: number; solved: number; synthesis?: RoundMetrics['synthesis'] }>(path.join(dir, 'search-summary.json'));
  const sft = readTrajectories(path.join(dir, 'sft.arrow'));
  const pairs = readPairs(path.join(dir, 'pairs.arrow'));
  await sftStage(run, k, sft);
  stamp('sft');
  await ppmStage(run, k, sft, priorPairs);
  stamp('ppm');
  const ev = await devStage(run, k);
  const m: RoundMetrics = {
    round: k, problemsSearched: summary.searched, solved: summary.solved, ...(summary.synthesis ? { synthesis: summary.synthesis } : {}),
    trainCoverage: summary.searched ? summary.solved / summary.searched : 0,
    sftTrajectories: sft.length, pairs: pairs.length, ...ev, devN: run.dev.length,
    ppmAccuracy: fs.existsSync(path.join(dir, 'ppm-summary.json')) ? ((s) => s.averageAccuracy ?? s.finalAccuracy ?? s.bestAccuracy)(readJson<{ bestAccuracy: number; finalAccuracy?: number; averageAccuracy?: number }>(path.join(dir, 'ppm-summary.json'))) : undefined,
    wallSeconds: stamp('eval'), stageSeconds: readWall(dir).stages,
  };
  writeJsonAtomic(metricsFile, m);
  return { metrics: m, fresh: true };
}

/** MCTS over the training problems → trajectories.arrow, pairs.arrow, sft.arrow (written last: the stage is done). */
async function searchStage(run: Run, k: number, plan: RoundPlan): Promise<void> {
  const { o, preset, at } = run;
  const dir = at.round(k);
  const sftFile = path.join(dir, 'sft.arrow');
  if (fs.existsSync(sftFile)) return;
  // synthesised problems known only by their answers (the paper's, kept when MCTS solves them): new
  // ones every round with preset.freshDraw, else the same ones, whose coverage then rises as the
  // policy learns from the ones it solved
  const fresh = preset.schemas ? schemaBatch({ start: preset.schemas.round0 + (preset.freshDraw ? k - 1 : 0) * preset.schemas.perRound, count: preset.schemas.perRound, seed: o.seed, dev: run.allDev }) : [];
  const searchSet = [...run.searchSetOf(k), ...fresh];
  const job = { kind: 'search' as const, policy: at.policy(k - 1), members: at.members(k - 1), ppm: plan.mode === 'ppm' ? at.ppm(k - 1) : undefined, round: k, trees: true, variants: preset.chanceCheck };
  // the reuse check is a test-time rule: a full run with it in the rounds' searches too answered fewer
  // grouped-dev problems (README, thirty-fourth session)
  const search: Partial<SearchOptions> = { rollouts: plan.rollouts, k: preset.k, maxDepth: preset.maxDepth, mode: plan.mode, checkReuse: false };
  const files = await runSharded({
    dir: path.join(dir, 'search'), job: { ...job, seed: o.seed * 1000 + k, search },
    problems: toJobProblems(searchSet, run.references), workers: o.workers, label: `round ${k} MCTS (${plan.mode})`, backend: o.backend, quiet: o.quiet, queue: o.queue,
  });
  let lines = mergeShards<SearchLine>(files, searchSet);
  if (plan.extraRollouts) {
    // round 4: unsolved problems get fresh trees with other seeds until extraRollouts in all
    const extraTrees = Math.max(0, Math.floor((plan.extraRollouts - plan.rollouts) / Math.max(plan.rollouts * 2, 1)));
    for (let t = 1; t <= extraTrees; t++) {
      const unsolved = searchSet.filter((p) => !lines.find((l) => l.problemId === p.id)?.solved);
      if (!unsolved.length) break;
      const f2 = await runSharded({
        dir: path.join(dir, `search-extra-${t}`), job: { ...job, seed: o.seed * 1000 + k + 7919 * t, search: { ...search, rollouts: plan.rollouts * 2 } },
        problems: toJobProblems(unsolved, run.references), workers: o.workers, label: `round ${k} extra trees ${t}/${extraTrees}`, backend: o.backend, quiet: o.quiet, queue: o.queue,
      });
      const extra = new Map(mergeShards<SearchLine>(f2, unsolved).map((l) => [l.problemId, l]));
      lines = lines.map((l) => {
        const e = extra.get(l.problemId);
        if (!e) return l;
        return { ...l, solved: l.solved || e.solved, trajectories: [...l.trajectories, ...e.trajectories], sft: selectSFT([...l.sft, ...e.sft]), pairs: [...l.pairs, ...e.pairs], rollouts: l.rollouts + e.rollouts, ...(preset.chanceCheck ? { chanceHits: (l.chanceHits ?? 0) + (e.chanceHits ?? 0) } : {}), trees: [...(l.trees ?? []), ...(e.trees ?? [])] };
      });
    }
  }
  await writeTrajectories(path.join(dir, 'trajectories.arrow'), lines.flatMap((l) => l.trajectories));
  await writePairs(path.join(dir, 'pairs.arrow'), lines.flatMap((l) => l.pairs));
  await writeTrees(path.join(dir, 'trees.arrow'), lines, { round: k, kind: 'train' });
  const solved = lines.filter((l) => l.solved).length;
  const freshIds = new Set(fresh.map((p) => p.id));
  const synthesis = preset.schemas ? { added: fresh.length, kept: lines.filter((l) => l.solved && freshIds.has(l.problemId)).length } : undefined;
  const chanceHits = preset.chanceCheck ? { chanceHits: lines.reduce((a, l) => a + (l.chanceHits ?? 0), 0) } : {};
  writeJsonAtomic(path.join(dir, 'search-summary.json'), { searched: lines.length, solved, ...chanceHits, generatedTokens: lines.reduce((a, l) => a + (l.generatedTokens ?? 0), 0), ...(synthesis ? { synthesis } : {}) });
  await writeTrajectories(sftFile, lines.flatMap((l) => l.sft));
}

/** Dev trajectories per source an SFT's dev loss runs on (a seeded choice of problems). */
export const SFT_DEV_PER_SOURCE = 400;

/** Round k's SFT rows resampled to the preset's source mix (mixBySource), or as they are; each
 *  source's share of the characters before and after goes to round-k/sft-mix.json. */
function mixed(run: Run, rows: TrajectoryRow[], k: number): TrajectoryRow[] {
  const mix = run.preset.sftMix;
  if (!mix) return rows;
  const out = mixBySource(rows, mix, run.o.seed + k);
  writeJsonAtomic(path.join(run.at.round(k), 'sft-mix.json'), { mix, trajectories: { before: rows.length, after: out.length }, charShare: { before: charShareBySource(rows), after: charShareBySource(out) } });
  return out;
}

/** SFT policy-rK (and each member) on MCTS top-2 per problem plus the bootstrap data (keeps the reference style). */
async function sftStage(run: Run, k: number, sft: TrajectoryRow[]): Promise<void> {
  const { preset, at, log, bootTrain, bootDev } = run;
  const todo = [...[at.policy(k), ...at.trainedMembers(k)].entries()].filter(([, to]) => !hasCheckpoint(to));
  const trainSet = todo.length ? mixed(run, dedupe([...sft, ...bootTrain]), k) : [];
  for (const [m, to] of todo) {
    log(`round ${k}: SFT policy-r${k}${m ? ` member ${m}` : ''} on ${trainSet.length} trajectories (${sft.length} from MCTS${preset.sftMix ? `; resampled to the mix ${JSON.stringify(preset.sftMix)}` : ''})`);
    const from = m === 0 ? at.policy(k - 1) : at.trainedMembers(k - 1)[m - 1]!;
    const r = await trainPolicy(examplesFromTrajectories(trainSet), bootDev, sftOptions(run, k, m, from));
    // the final weights, not the lowest dev loss: dev loss is measured on the reference solutions,
    // which self-generated data moves away from, so "best" would keep returning the initial policy
    copyCheckpoint(path.join(path.dirname(r.bestDir), 'last'), to);
  }
}

/**
 * PPM-rK from policy-rK on the MCTS pairs of rounds 1..K. Corrupted-step pairs (a correct step vs the
 * same step with one number or operator changed) only top up a round with fewer than 200 MCTS pairs:
 * mixed in 1:1 they pulled held-out MCTS accuracy down (README: 66 % vs 69 % without). Held-out
 * accuracy is measured on MCTS pairs of held-out problems only; no problem is on both sides.
 */
async function ppmStage(run: Run, k: number, sft: TrajectoryRow[], priorPairs: PairRow[]): Promise<void> {
  const { o, preset, at, log, bootTrain } = run;
  const dir = at.round(k);
  if (hasCheckpoint(at.ppm(k))) return;
  const trainedTo = preset.ppmAverage ? at.ppmTrained(k) : at.ppm(k);
  // pairs of every round so far: a small PPM is data-starved, and older pairs stay valid preferences
  const allPairs = dedupePairs([...priorPairs, ...Array.from({ length: k }, (_, j) => readPairs(path.join(at.round(j + 1), 'pairs.arrow'))).flat()]);
  const { train: mctsTrain, dev: held } = splitPairs(allPairs);
  if (!hasCheckpoint(trainedTo)) {
    const heldIds = new Set(held.map((p) => p.problemId));
    const extra = corruptionPairs(dedupe([...sft, ...bootTrain]).filter((t) => !heldIds.has(t.problemId)), { seed: o.seed + k, round: k, numbers: promptNumbersAt(at.policy(k)) });
    const train = [...mctsTrain, ...extra.slice(0, Math.max(0, 200 - mctsTrain.length))];
    log(`round ${k}: PPM-r${k} on ${train.length} pairs (${mctsTrain.length} from MCTS rounds 1-${k}${priorPairs.length ? ' and earlier or cross-fitted trees' : ''}), ${held.length} held-out MCTS pairs`);
    const init = o.ppm ? (k === 1 ? o.ppm : at.trainedPPM(k - 1)) : at.policy(k);
    // one training per seed (seed s in ppm-train-s, each resumable), o.workers at a time (one thread
    // each: a PPM trains on one core), then their weight average
    const seeds = Array.from({ length: Math.max(1, preset.ppmSeeds ?? 1) }, (_, s) => o.seed + k + 1000 * s);
    const parallel = Math.max(1, Math.min(o.workers, seeds.length));
    if (seeds.length > 1) log(`round ${k}: PPM-r${k} seeds ${seeds.join(', ')}, ${parallel} at a time`);
    const runs = await trainPPMs(train, held, seeds.map((seed, s) => ({
      init, out: path.join(dir, s ? `ppm-train-${s}` : 'ppm-train'), steps: preset.ppmSteps, batchPairs: preset.ppmBatchPairs, lr: preset.ppmLr,
      evalEvery: Math.max(1, Math.floor(preset.ppmSteps / 4)), seed, resume: true, meta: { round: k },
      // one progress line: the first seed of each parallel batch
      quiet: o.quiet || s % parallel !== 0,
    })), { parallel });
    // the final weights: with the likelihood input the PPM starts at the policy's own ranking, and
    // training lowers the held-out pair loss (better-scaled Q) while accuracy moves within noise;
    // picking the best accuracy would mostly pick step 0
    const lasts = runs.map((r) => path.join(path.dirname(r.bestDir), 'last'));
    // staged, summarised, then renamed into place: the PPM's folder existing means its summary does
    const staged = path.join(dir, 'ppm-staged');
    let seedAverage: { seeds: number[]; finalAccuracies: number[]; averageAccuracy: number } | undefined;
    if (lasts.length === 1) copyCheckpoint(lasts[0]!, staged);
    else {
      seedAverage = { seeds, finalAccuracies: runs.map((r) => r.lastMetric), averageAccuracy: await averagePPMs(lasts, staged, held, { round: k, seeds }) };
      log(`round ${k}: PPM-r${k} = weight average of ${seeds.length} seeds' PPMs: held-out pair accuracy ${fmtPct(seedAverage.averageAccuracy)} (each: ${seedAverage.finalAccuracies.map(fmtPct).join(', ')})`);
    }
    const r = runs[0]!;
    writeJsonAtomic(path.join(dir, 'ppm-summary.json'), { trainPairs: train.length, mctsTrainPairs: mctsTrain.length, heldOutMctsPairs: held.length, firstAccuracy: r.firstMetric, bestAccuracy: r.bestMetric, bestStep: r.bestStep, finalAccuracy: seedAverage?.averageAccuracy ?? r.lastMetric, ...(seedAverage ? { seedAverage } : {}) });
    replaceDir(staged, trainedTo);
  }
  if (preset.ppmAverage) {
    // PPM training is noisy: the same pairs and another seed moved test-time MCTS + PPM by up to
    // 1.9 points (README), and PPM-r1..r3 served policy-r4 better than PPM-r4 did. The weight
    // average of every round's PPM (all descend from policy-r0) scores like their ensemble at one
    // model's cost; older rounds' preferences stay valid.
    const members = Array.from({ length: k }, (_, j) => at.trainedPPM(j + 1));
    const staged = path.join(dir, 'ppm-average');
    const acc = await averagePPMs(members, staged, held, { round: k });
    const s = readJson<{ finalAccuracy: number }>(path.join(dir, 'ppm-summary.json'));
    writeJsonAtomic(path.join(dir, 'ppm-summary.json'), { ...s, averageOf: members.length, averageAccuracy: acc });
    replaceDir(staged, at.ppm(k));
    log(`round ${k}: PPM-r${k} = weight average of the PPMs of rounds 1-${k}: held-out pair accuracy ${fmtPct(acc)} (as trained ${fmtPct(s.finalAccuracy)})`);
  }
}

/** The weight average of `dirs`, written to `staged` (the caller renames it into place last, so a run
 *  killed before that averages again on resume); returns its held-out pair accuracy. */
async function averagePPMs(dirs: string[], staged: string, held: PairRow[], meta: Record<string, unknown>): Promise<number> {
  averageCheckpoints(dirs, staged, meta);
  return ppmPairAccuracy(staged, held);
}

/** Dev accuracy of round k's models: greedy (the first policy alone) and MCTS + PPM, with the test-time search. */
async function devStage(run: Run, k: number): Promise<Pick<RoundMetrics, 'devGreedy' | 'devGreedyDistractor' | 'devMcts' | 'devMctsQVote' | 'ppmDevPairAccuracy' | 'devPairs' | 'mctsVsGreedy' | 'devBySource'>> {
  const { o, at, dev, devD } = run;
  const dir = at.round(k);
  const base: Omit<DevEval, 'dir' | 'dev'> = { policy: at.policy(k), seed: o.seed, search: run.testSearch, workers: o.workers, backend: o.backend, quiet: o.quiet, queue: o.queue };
  const greedy = await devAccuracy({ ...base, dir: path.join(dir, 'eval-greedy'), dev, mode: 'greedy' });
  const devGreedyDistractor = devD.length ? (await devAccuracy({ ...base, dir: path.join(dir, 'eval-greedy-distractor'), dev: devD, mode: 'greedy' })).acc : null;
  const mcts = await devAccuracy({ ...base, dir: path.join(dir, 'eval-mcts'), dev, mode: 'mcts', ppm: at.ppm(k), members: at.members(k) });
  await writeTrees(path.join(dir, 'eval-mcts', 'trees.arrow'), mcts.lines, { round: k, kind: 'dev' });
  const dp = run.preset.devPairs ? await devPairAccuracy({ ...base, dir: path.join(dir, 'dev-pairs'), dev, ppm: at.ppm(k), members: at.members(k), seed: o.seed + 17 * k }) : undefined;
  return {
    devGreedy: greedy.acc, devGreedyDistractor, devMcts: mcts.acc, devMctsQVote: mcts.accQVote,
    ...(dp ? { ppmDevPairAccuracy: dp.acc, devPairs: dp.pairs } : {}), mctsVsGreedy: pairedCounts(greedy.correct, mcts.correct),
    devBySource: bySource(dev, greedy.correct, mcts.correct),
  };
}

/** The run report (report/index.ts), rewritten after every round; it is a view, so a failure only logs. */
async function reportRound(run: Run, k: number): Promise<void> {
  try {
    // loaded here, not at the top: vega and esbuild are needed only once a round has finished
    const { writeReport } = await import('./report/index.ts');
    const r = await writeReport({ run: run.o.out });
    run.log(`round ${k}: report ${r.file}`);
  } catch (e) {
    run.log(`round ${k}: report not written: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Greedy and MCTS + PPM accuracy per source of the dev problems, each with its paired comparison. */
function bySource(dev: Problem[], greedy: Map<string, boolean>, mcts: Map<string, boolean>): NonNullable<RoundMetrics['devBySource']> {
  const out: NonNullable<RoundMetrics['devBySource']> = {};
  for (const source of new Set(dev.map((p) => p.source))) {
    const ids = dev.filter((p) => p.source === source).map((p) => p.id);
    const pick = (m: Map<string, boolean>) => new Map(ids.map((id) => [id, m.get(id) ?? false]));
    const share = (m: Map<string, boolean>) => ids.filter((id) => m.get(id)).length / ids.length;
    out[source] = { n: ids.length, greedy: share(greedy), mcts: share(mcts), ...pairedCounts(pick(greedy), pick(mcts)) };
  }
  return out;
}

function writeRoundsFile(run: Run, table: string, rows: RoundMetrics[]): void {
  const { o, at, dev } = run;
  const r0 = at.round(0);
  const r0Wall = fs.existsSync(path.join(r0, 'wall.json')) ? readJson<{ s: number }>(path.join(r0, 'wall.json')).s : 0;
  const total = r0Wall + rows.reduce((a, r) => a + r.wallSeconds, 0);
  writeFileAtomic(path.join(o.out, 'rounds.md'), `# Self-evolution rounds (preset ${o.preset}, seed ${o.seed})\n\nDev = ${o.dev ? `${o.dev} (${dev.length} problems)` : o.data ? `a fixed 10 % of ${o.data.join(', ')} (${dev.length} problems)` : devLabel(dev, run.preset.devSet)}.${o.policy ? ` policy-r0 from ${o.policy}.` : ''} Round 0 (bootstrap SFT of policy-r0): ${fmtTime(r0Wall)}. Total: ${fmtTime(total)}.\n\n${table}\n`);
}

/** The dev problems of a run on the datasets, by source (problems.ts devOf). */
function devLabel(dev: Problem[], set: Preset['devSet']): string {
  const part = set === 'unseen' ? ', the part with no similar training problem (masked-word Jaccard < 0.5)' : set === 'grouped' ? ' (grouped: no training problem with masked-word Jaccard ≥ 0.5)' : '';
  const name: Record<string, string> = { mawps: `the MAWPS/ASDiv-A dev split${part}`, gsm8k: `GSM8K's dev split${part}`, 'deepmind-interpolate': 'DeepMind interpolation regime, modules interleaved' };
  const sources = [...new Set(dev.map((p) => p.source))];
  return sources.map((s) => `${name[s] ?? s} (${dev.filter((p) => p.source === s).length} problems)`).join('; ');
}

/** Copy round `last`'s policies, PPM and rounds.md to `to` (e.g. checkpoints). */
function ship(run: Run, last: number, to: string): void {
  const { o, at } = run;
  copyCheckpoint(at.policy(last), path.join(to, 'policy'));
  // numbered in proposing order (policy-r0, when a member, ships as the last one); an earlier ship's
  // extra members would otherwise join the shipped ensemble
  const members = at.members(last);
  members.forEach((m, j) => copyCheckpoint(m, path.join(to, `policy-m${j + 1}`)));
  for (const d of fs.readdirSync(to)) if (/^policy-m\d+$/.test(d) && memberOf(d) > members.length) fs.rmSync(path.join(to, d), { recursive: true });
  copyCheckpoint(at.ppm(last), path.join(to, 'ppm'));
  fs.copyFileSync(path.join(o.out, 'rounds.md'), path.join(to, 'rounds.md'));
}

/**
 * The bootstrap trajectories every round's SFT keeps beside MCTS's: a number keeps each source's first N
 * (0: all); per source (`--bootstrap-per-source deepmind=6000,*=all`) a seeded choice of each source's
 * problems (capPerSource), so DeepMind's 50 k do not drown the word problems in an all-source run.
 */
export function bootstrapKept(rows: TrajectoryRow[], limit: Preset['bootstrapLimit'], seed: number): TrajectoryRow[] {
  if (typeof limit === 'object') return capPerSource(rows, limit, seed);
  if (!limit) return rows;
  const seen = new Map<string, number>();
  return rows.filter((r) => {
    const c = seen.get(r.source) ?? 0;
    seen.set(r.source, c + 1);
    return c < limit;
  });
}
