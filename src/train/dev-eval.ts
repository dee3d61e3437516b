// Self-evolve's dev evaluation: greedy and MCTS + PPM accuracy of a round's models on dev problems,
// and the PPM's pair accuracy on dev trees, each run as search shards over the cores.
import type { Problem } from '../data/datasets.ts';
import type { PairRow } from '../data/arrow.ts';
import { loadPPM } from '../model/load.ts';
import type { SearchOptions } from '../search/mcts.ts';
import type { EvalMode } from '../search/evaluate.ts';
import { encodePairsFor, pairAccuracy } from './ppm.ts';
import { mergeShards, runSharded, toJobProblems, type EvalLine, type SearchLine, type SearchQueue } from './shards.ts';

export interface DevEval {
  /** Folder of the shard files. */
  dir: string;
  policy: string;
  /** Ensemble members proposing MCTS steps with `policy`. */
  members?: string[];
  dev: Problem[];
  seed: number;
  /** Test-time search settings (config.ts SEARCH with the preset's testSearch over it). */
  search: Partial<SearchOptions>;
  workers: number;
  backend: string;
  quiet?: boolean;
  /** Run as queue jobs (queue/coordinator.ts) instead of local shards. */
  queue?: SearchQueue;
}

export async function devAccuracy(o: DevEval & { mode: EvalMode; ppm?: string }): Promise<{ acc: number; accQVote: number | null; correct: Map<string, boolean>; lines: EvalLine[] }> {
  const { dir, policy, members = [], ppm, dev, mode, seed } = o;
  const files = await runSharded({
    dir, job: { kind: 'eval', policy, members, ppm, seed, round: 0, evalMode: mode, search: o.search },
    problems: toJobProblems(dev), workers: o.workers, label: `dev ${mode}`, backend: o.backend, quiet: o.quiet, queue: o.queue,
  });
  const lines = mergeShards<EvalLine & { problemId: string }>(files, dev);
  const n = Math.max(1, lines.length);
  return {
    acc: lines.filter((l) => l.correct).length / n,
    accQVote: lines.some((l) => l.correctQVote !== undefined) ? lines.filter((l) => l.correctQVote).length / n : null,
    correct: new Map(lines.map((l) => [l.problemId, l.correct])),
    lines,
  };
}

/**
 * PPM-rK on problems no model trained on: terminal-guided MCTS with policy-rK over the dev problems
 * (their answers label the terminals, as in a training round) builds pairs exactly as a round does;
 * the share PPM-rK ranks right. The held-out split of PPM training keeps problems out of the PPM's
 * data but not out of the policy's SFT data, whose solutions the PPM's backbone has memorised.
 */
export async function devPairAccuracy(o: DevEval & { ppm: string }): Promise<{ acc: number | null; pairs: number }> {
  const { dir, policy, members = [], ppm, dev, seed } = o;
  const files = await runSharded({
    dir, job: { kind: 'search', policy, members, seed, round: 0, search: { ...o.search, mode: 'terminal' } },
    problems: toJobProblems(dev), workers: o.workers, label: 'dev pairs (terminal-guided MCTS)', backend: o.backend, quiet: o.quiet, queue: o.queue,
  });
  const pairs = mergeShards<SearchLine>(files, dev).flatMap((l) => l.pairs);
  const acc = await ppmPairAccuracy(ppm, pairs);
  return { acc: pairs.length ? acc : null, pairs: pairs.length };
}

/** Share of `pairs` the PPM checkpoint in `dir` ranks right (NaN for none). */
export async function ppmPairAccuracy(dir: string, pairs: PairRow[]): Promise<number> {
  const p = await loadPPM(dir);
  try {
    return (await pairAccuracy(p.ppm, await encodePairsFor(p.ppm, p.tokenizer, pairs))).accuracy;
  } finally {
    p.ppm.dispose();
  }
}
