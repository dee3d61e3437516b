// The problems a self-evolution run works on: the datasets' training splits plus synthesised variants,
// and the dev problems it reports on.
import fs from 'node:fs';
import { DataError, datasetSplit, loadDataset, loadProblems, splitDev, type Problem } from './datasets.ts';
import { donorSentences, synthesizeDistractors, withDistractor } from './synth/distractors.ts';
import { schemaProblem } from './synth/schemas.ts';
import { dropSimilar } from './groups.ts';

/**
 * Training problems (plus their distractor variants for a seeded share `distractors`), the MAWPS dev
 * split, and the dev problems with a distractor added (robustness; their donors are training problems).
 */
export function loadProblemsFor({ datasets, distractors = 0, seed = 1234, files, schemas = 0 }: {
  datasets: string[];
  distractors?: number;
  seed?: number;
  /** Schema problems added to the training problems (the first of the run's stream, schemaBatch). */
  schemas?: number;
  /** Your own problems instead of the datasets' (loadProblemFiles). */
  files?: { data: string[]; dev?: string };
}): {
  train: Problem[];
  synthetic: Problem[];
  dev: Problem[];
  devDistractor: Problem[];
} {
  const own = files ? loadProblemFiles(files) : null;
  const train: Problem[] = own ? own.train : [];
  if (!own) for (const d of datasets) train.push(...datasetSplit(d).train);
  const dev = own ? own.dev : splitDev(loadDataset('mawps')).dev;
  const donors = donorSentences(train);
  const synthetic = [
    ...(distractors > 0 ? synthesizeDistractors(train, distractors, seed, donors) : []),
    ...schemaBatch({ start: 0, count: schemas, seed, dev }),
  ];
  const devDistractor = dev.flatMap((p) => withDistractor(p, donors, seed + 1) ?? []);
  return { train: [...train, ...synthetic], synthetic, dev, devDistractor };
}

/**
 * Problems [start, start + count) of the run's schema-problem stream (data/synth/schemas.ts, seeded by
 * the run's seed), less those near a dev problem (masked-word similarity ≥ 0.5): a round draws the
 * next batch, so no problem is drawn twice and none is derived from dev.
 */
export function schemaBatch({ start, count, seed, dev }: { start: number; count: number; seed: number; dev: Problem[] }): Problem[] {
  if (count <= 0) return [];
  return dropSimilar(Array.from({ length: count }, (_, i) => schemaProblem(start + i, { seed })), dev);
}

/**
 * Your own problems (`self-evolve --data a.jsonl,b.jsonl --dev dev.jsonl`): every line of the data
 * files trains, the dev file's lines are the dev set; without a dev file, the fixed seeded 10 % of
 * the data (splitDev) is. Bad lines fail with loadProblems' `file:line: expected …`; an id used in two
 * files fails naming both, so no problem is trained on and reported on at once.
 */
export function loadProblemFiles({ data, dev }: { data: string[]; dev?: string }): { train: Problem[]; dev: Problem[] } {
  if (!data.length) throw new DataError('--data: expected one or more JSONL files, comma-separated');
  const seen = new Map<string, string>();
  const read = (file: string): Problem[] => {
    const ps = loadProblems(file);
    for (const p of ps) {
      const other = seen.get(p.id);
      if (other !== undefined) throw new DataError(`${file}:${lineOf(file, p.id)}: expected an id not used before, but ${JSON.stringify(p.id)} is also in ${other}`);
      seen.set(p.id, file);
    }
    return ps;
  };
  const train = data.flatMap(read);
  if (dev === undefined) return splitDev(train);
  const devProblems = read(dev);
  if (!devProblems.length) throw new DataError(`${dev}:1: expected at least one dev problem`);
  if (!train.length) throw new DataError(`${data[0]}:1: expected at least one training problem`);
  return { train, dev: devProblems };
}

/** The line of a file's problem with this id (its own "id", or the line number loadProblems put in the id). */
function lineOf(file: string, id: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`"id":${JSON.stringify(id)}`) || l.includes(`"id": ${JSON.stringify(id)}`));
  if (i >= 0) return i + 1;
  return Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
}
