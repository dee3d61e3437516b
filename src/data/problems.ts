// The problems a self-evolution run works on: the datasets' training splits plus synthesised variants,
// and the dev problems it reports on.
import { loadDataset, splitDev, type Problem } from './datasets.ts';
import { donorSentences, synthesizeDistractors, withDistractor } from './synth/distractors.ts';

/**
 * Training problems (plus their distractor variants for a seeded share `distractors`), the MAWPS dev
 * split, and the dev problems with a distractor added (robustness; their donors are training problems).
 */
export function loadProblemsFor({ datasets, distractors = 0, seed = 1234 }: { datasets: string[]; distractors?: number; seed?: number }): {
  train: Problem[];
  synthetic: Problem[];
  dev: Problem[];
  devDistractor: Problem[];
} {
  const train: Problem[] = [];
  for (const d of datasets) train.push(...splitDev(loadDataset(d)).train);
  const dev = splitDev(loadDataset('mawps')).dev;
  const donors = donorSentences(train);
  const synthetic = distractors > 0 ? synthesizeDistractors(train, distractors, seed, donors) : [];
  const devDistractor = dev.flatMap((p) => withDistractor(p, donors, seed + 1) ?? []);
  return { train: [...train, ...synthetic], synthetic, dev, devDistractor };
}
