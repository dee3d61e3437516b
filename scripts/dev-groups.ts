// Print how much of each dev split is memory: dev problems per band of similarity to their nearest
// training problem (masked-word Jaccard, src/data/groups.ts), for the old hash split and the grouped
// split, plus the group-size profile per threshold and the evaluable subset of the old dev split.
//
//   node --import tsx scripts/dev-groups.ts [--seed 1234]
import { loadDataset, splitDev, type Problem } from '../src/data/datasets.ts';
import { GROUP_THRESHOLD, evaluableDev, groupedSplit, nearDuplicateGroups, similarPairs, similarityBands, maskedWords } from '../src/data/groups.ts';

const seedArg = process.argv.indexOf('--seed');
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 1234;
const EDGES = [0.9, 0.7, 0.5, 0.3];

function bandRow(label: string, dev: Problem[], train: Problem[]): string {
  const { counts } = similarityBands(dev, train, EDGES);
  const cells = counts.map((c) => `${String(c).padStart(5)} ${((100 * c) / dev.length).toFixed(0).padStart(3)}%`);
  return `${label.padEnd(34)} ${String(dev.length).padStart(5)} ${cells.join(' ')}`;
}

function header(): string {
  const bands = EDGES.map((e, k) => (k === 0 ? `≥${e}` : `${e}–${EDGES[k - 1]}`)).concat(`<${EDGES[EDGES.length - 1]}`);
  return `${'split'.padEnd(34)} ${'dev'.padStart(5)} ${bands.map((b) => b.padStart(10)).join(' ')}`;
}

function groupProfile(problems: Problem[]): string[] {
  const lines = ['threshold  groups  singletons  largest  5 largest'];
  for (const t of [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
    const sizes = new Map<number, number>();
    for (const g of nearDuplicateGroups(problems, { threshold: t })) sizes.set(g, (sizes.get(g) ?? 0) + 1);
    const s = [...sizes.values()].sort((x, y) => y - x);
    lines.push(`${t.toFixed(1).padStart(9)} ${String(s.length).padStart(7)} ${String(s.filter((x) => x === 1).length).padStart(11)} ${String(s[0]).padStart(8)}  ${s.slice(0, 5).join(', ')}`);
  }
  return lines;
}

for (const name of ['mawps', 'gsm8k'] as const) {
  const t0 = Date.now();
  const all = loadDataset(name);
  const old = splitDev(all);
  const grouped = groupedSplit(all, { seed });
  console.log(`\n== ${name}: ${all.length} problems (dev = nearest training problem's similarity, masked-word Jaccard)`);
  console.log(header());
  console.log(bandRow('old hash split (splitDev)', old.dev, old.train));
  console.log(bandRow(`grouped split (t=${GROUP_THRESHOLD}, seed ${seed})`, grouped.dev, grouped.train));
  const ev = evaluableDev(all);
  console.log(bandRow('old dev, evaluable subset', ev, old.train));
  const pairs = similarPairs(all.map((p) => maskedWords(p.question)), undefined, 0.5);
  console.log(`pairs ≥ 0.5: ${pairs.length}, ≥ 0.9: ${pairs.filter((p) => p.sim >= 0.9).length}; grouped split: ${grouped.train.length} train / ${grouped.dev.length} dev, ${grouped.groups} groups, largest ${grouped.largest}`);
  console.log(groupProfile(all).join('\n'));
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
