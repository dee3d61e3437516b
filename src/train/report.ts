// What a round reports: its metrics, the round table (rounds.md), paired comparisons, wall time.
import fs from 'node:fs';
import path from 'node:path';
import { mcnemarExact } from '../search/evaluate.ts';
import { fmtTime } from '../util/progress.ts';
import { readJson, writeJsonAtomic } from '../util/fsx.ts';

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
  /** Dev accuracy and the paired comparison per source of the dev problems. */
  devBySource?: Record<string, { n: number; greedy: number; mcts: number | null; onlyMcts: number; onlyGreedy: number; p: number }>;
  /** Schema problems new in this round's search, and how many of them MCTS solved (kept for SFT). */
  synthesis?: { added: number; kept: number };
  wallSeconds: number;
  /** wallSeconds by stage (runs from before it was recorded have only the total). */
  stageSeconds?: Partial<Record<Stage, number>>;
}

/** The stages of a round, as its wall time is split. */
export type Stage = 'search' | 'sft' | 'ppm' | 'eval';

export function fmtPct(x: number | null): string {
  return x === null || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`;
}

/** The dev sources of a run that reports on more than one (a table column and a plot series each); [] otherwise. */
export function devSources(rows: RoundMetrics[]): string[] {
  const sources = [...new Set(rows.flatMap((r) => Object.keys(r.devBySource ?? {})))];
  return sources.length > 1 ? sources : [];
}

/** The round table's header and cells, one row per round: rounds.md renders them as markdown, the report as HTML. */
export function roundsTableCells(rows: RoundMetrics[]): { head: string[]; body: string[][] } {
  // the synthesis column only for runs that synthesise problems every round
  const synth = rows.some((r) => r.synthesis);
  const perSource = devSources(rows);
  const head = [
    'round', 'problems searched', 'solved (train coverage)', 'SFT trajectories', 'pairs', 'PPM held-out pair acc.', 'PPM pair acc., unseen dev problems',
    'dev greedy', 'dev greedy, one irrelevant sentence added', 'dev MCTS + PPM', 'dev MCTS + PPM, Q-weighted vote', 'right only under MCTS + PPM / only greedy (McNemar p)',
    ...perSource.map((s) => `${s} dev: greedy → MCTS + PPM (McNemar p)`), ...(synth ? ['new schema problems searched / solved'] : []), 'wall time',
  ];
  const body = rows.map((r) => [
    String(r.round), String(r.problemsSearched), `${r.solved} (${fmtPct(r.trainCoverage)})`, String(r.sftTrajectories), String(r.pairs), fmtPct(r.ppmAccuracy ?? null),
    r.ppmDevPairAccuracy === undefined ? '–' : `${fmtPct(r.ppmDevPairAccuracy)} (${r.devPairs})`, fmtPct(r.devGreedy), fmtPct(r.devGreedyDistractor ?? null), fmtPct(r.devMcts), fmtPct(r.devMctsQVote ?? null),
    r.mctsVsGreedy ? `${r.mctsVsGreedy.onlyMcts} / ${r.mctsVsGreedy.onlyGreedy} (${r.mctsVsGreedy.p.toPrecision(2)})` : '–',
    ...perSource.map((s) => {
      const d = r.devBySource?.[s];
      return d ? `${fmtPct(d.greedy)} → ${fmtPct(d.mcts)} (${d.p.toPrecision(2)})` : '–';
    }),
    ...(synth ? [r.synthesis ? `${r.synthesis.added} / ${r.synthesis.kept}` : '–'] : []),
    fmtTime(r.wallSeconds),
  ]);
  return { head, body };
}

export function roundsTable(rows: RoundMetrics[]): string {
  const { head, body } = roundsTableCells(rows);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), `|${'---|'.repeat(head.length)}`, ...body.map(line)].join('\n');
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

interface Wall {
  s: number;
  stages?: Partial<Record<Stage, number>>;
}

/** Wall time of a round accumulates over processes (a resumed run adds to it); time of a stage that
 *  was killed before it finished is not counted. With `stage`, the seconds are also added to its share. */
export function addWall(dir: string, secs: number, stage?: Stage): number {
  const w = readWall(dir);
  const s = w.s + secs;
  const stages = stage ? { ...w.stages, [stage]: (w.stages?.[stage] ?? 0) + secs } : w.stages;
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, 'wall.json'), stages ? { s, stages } : { s });
  return s;
}

/** A round folder's wall time so far (0 when none is recorded). */
export function readWall(dir: string): Wall {
  const f = path.join(dir, 'wall.json');
  return fs.existsSync(f) ? readJson<Wall>(f) : { s: 0 };
}
