// Paired comparison of two dev evaluations of a self-evolve run on the same problems: per problem,
// right/wrong under A and under B; the discordant counts and McNemar's exact two-sided p-value (a
// binomial test on the discordant problems, src/search/evaluate.ts).
//   node --import tsx bench/paired.ts --run runs/default --a round-4/eval-greedy --b round-4/eval-mcts
// --a / --b may also be `rstar eval --out` files (.arrow), e.g. the same policy with two PPMs:
//   node --import tsx bench/paired.ts --run . --a x.arrow --b y.arrow
import fs from 'node:fs';
import path from 'node:path';
import { pairedCounts } from '../src/train/report.ts';
import { readShardLines, type EvalLine } from '../src/train/shards.ts';
import { readEvalRows } from '../src/data/arrow.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}

function correctness(dir: string): Map<string, boolean> {
  const m = new Map<string, boolean>();
  if (dir.endsWith('.arrow')) {
    for (const r of readEvalRows(dir)) m.set(r.problemId, r.correct);
    return m;
  }
  for (const f of fs.readdirSync(dir).filter((f) => /^shard-\d+\.jsonl$/.test(f))) {
    for (const l of readShardLines<EvalLine>(path.join(dir, f))) m.set(l.problemId, l.correct);
  }
  return m;
}

const run = flag('run', 'runs/default');
const a = flag('a', 'round-4/eval-greedy');
const b = flag('b', 'round-4/eval-mcts');
const A = correctness(path.join(run, a));
const B = correctness(path.join(run, b));
const ids = [...A.keys()].filter((id) => B.has(id));
// the round table's own paired comparison, with A in greedy's place
const { onlyGreedy: onlyA, onlyMcts: onlyB, p } = pairedCounts(A, B);
const both = ids.filter((id) => A.get(id) && B.get(id)).length;
const n = ids.length;
const neither = n - both - onlyA - onlyB;
const pct = (k: number) => `${((100 * k) / n).toFixed(1)}%`;
console.log(`${run}: ${n} problems; ${a} ${pct(both + onlyA)}, ${b} ${pct(both + onlyB)}; right under both ${both}, only ${a} ${onlyA}, only ${b} ${onlyB}, neither ${neither}; McNemar exact p = ${p.toPrecision(3)}`);
console.log(`RESULT ${JSON.stringify({ run, a, b, n, accA: (both + onlyA) / n, accB: (both + onlyB) / n, both, onlyA, onlyB, neither, p })}`);
