// Cross-fitted PPM pairs: trees grown by policies that never trained on the problems they search.
import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../data/datasets.ts';
import { readPairs, writePairs, type PairRow, type TrajectoryRow } from '../data/arrow.ts';
import { baseProblemId } from '../data/synth/distractors.ts';
import { copyCheckpoint } from '../model/checkpoint.ts';
import type { SearchOptions } from '../search/mcts.ts';
import { hash32 } from '../util/rng.ts';
import { trainPolicy, examplesFromTrajectories, type SFTExample, type TrainPolicyOptions } from './sft.ts';
import type { Preset } from './presets.ts';
import { mergeShards, runSharded, toJobProblems, type SearchLine, type SearchQueue } from './shards.ts';

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
export interface CrossFitOptions {
  dir: string;
  crossFit: NonNullable<Preset['crossFit']>;
  bootTrain: TrajectoryRow[];
  bootDev: SFTExample[];
  problems: Problem[];
  /** SFT options of fold f's policy, written to `out`. */
  sft: (fold: number, out: string) => TrainPolicyOptions;
  /** Training search: candidates per expansion and most steps (the preset's). */
  search: Pick<Preset, 'k' | 'maxDepth'>;
  seed: number;
  workers: number;
  backend: string;
  quiet?: boolean;
  /** Run the searches as queue jobs (queue/coordinator.ts) instead of local shards. */
  queue?: SearchQueue;
}

export async function crossFitPairs({ dir, crossFit: cf, bootTrain, bootDev, problems, sft, search: s, ...o }: CrossFitOptions): Promise<PairRow[]> {
  const file = path.join(dir, 'pairs.arrow');
  if (fs.existsSync(file)) return readPairs(file);
  const policy = (f: number) => path.join(dir, `fold-${f}`, 'policy');
  for (const f of [0, 1]) {
    if (fs.existsSync(path.join(policy(f), 'config.json'))) continue;
    const mine = bootTrain.filter((t) => foldOf(t.problemId, o.seed) === f);
    if (!o.quiet) console.error(`cross-fit: SFT fold-${f} policy on ${mine.length} bootstrap trajectories`);
    const r = await trainPolicy(examplesFromTrajectories(mine), bootDev, sft(f, path.join(dir, `fold-${f}`, 'sft-train')));
    copyCheckpoint(path.join(path.dirname(r.bestDir), 'last'), policy(f));
  }
  const pairs: PairRow[] = [];
  for (const f of [0, 1]) {
    const other = problems.filter((p) => foldOf(p.id, o.seed) !== f);
    const search: Partial<SearchOptions> = { rollouts: cf.rollouts, k: s.k, maxDepth: s.maxDepth, mode: 'terminal', checkReuse: false };
    const files = await runSharded({
      dir: path.join(dir, `search-${f}`), job: { kind: 'search', policy: policy(f), seed: o.seed * 1000 + 500 + f, round: 0, search },
      problems: toJobProblems(other), workers: o.workers, label: `cross-fit: fold-${f} policy searches fold ${1 - f}`, backend: o.backend, quiet: o.quiet, queue: o.queue,
    });
    pairs.push(...mergeShards<SearchLine>(files, other).flatMap((l) => l.pairs));
  }
  await writePairs(file, pairs);
  return pairs;
}
