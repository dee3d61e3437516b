// Trees of training problems searched as the shipped models search at test time (16 rollouts, k 8,
// at most 10 steps, PPM-augmented) but with the answer known, so terminals score ±1 as in a training
// round; then the PPM's two kinds of pair from them:
//   sibling pairs     src/search/extract.ts buildPairs (what a round trains the PPM on)
//   trajectory pairs  a right terminal's whole path vs a wrong one's under the same question (the
//                     choice test time makes: terminals of different branches), up to --per-tree
// For measuring PPMs on the final choice (bench/ppm-select.ts), not part of the loop.
//   node --import tsx bench/train-trees.ts --dataset mawps --start 0 --count 400 --out DIR [--seed 77]
//     [--policy checkpoints/policy --ppm checkpoints/ppm] [--per-tree 6]
//   (--dataset schema: fresh schema problems, none within similarity 0.5 of a grouped dev problem;
//    --dataset mawps-distractor: grouped training problems with one irrelevant sentence added, as a run
//    trains on them with seed 1234, distractors.ts)
// Writes DIR/trees.jsonl, DIR/pairs-sibling.arrow, DIR/pairs-trajectory.arrow.
import fs from 'node:fs';
import path from 'node:path';
import { setupBackend } from '../src/model/backends/backend.ts';
import { loadPolicies, loadPPM } from '../src/model/load.ts';
import { devOf, schemaBatch, splitOf } from '../src/data/problems.ts';
import { synthesizeDistractors } from '../src/data/synth/distractors.ts';
import { writePairs, type PairRow } from '../src/data/arrow.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { mulberry32, seededOrder, shuffle } from '../src/util/rng.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { prefixOf, searchMany, type SearchTree } from '../src/search/mcts.ts';
import { buildPairs } from '../src/search/extract.ts';
import { policyProposer, PPMScorer } from '../src/search/policy.ts';
import { treeMix } from '../src/search/evaluate.ts';
import { Progress } from '../src/util/progress.ts';
import { SEARCH } from '../src/config.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
const dataset = flag('dataset', 'mawps');
const start = Number(flag('start', '0'));
const count = Number(flag('count', '400'));
const seed = Number(flag('seed', '77'));
const perTree = Number(flag('per-tree', '6'));
const out = flag('out', 'runs/train-trees');
const policy = flag('policy', 'checkpoints/policy');
const ppmDir = flag('ppm', 'checkpoints/ppm');
const round = 5;

/** A right terminal's path vs a wrong one's, as prefix = the prompt and the steps as one "step". */
function trajectoryPairs(t: SearchTree, most: number, rand: () => number): PairRow[] {
  const terms = t.nodes.filter((n) => n.terminal && n.answer !== null && n.n > 0 && n.correct !== null);
  const steps = (id: number) => prefixOf(t, t.nodes[id]!.parent).slice(t.prompt.length) + t.nodes[id]!.text;
  const combos = terms.filter((n) => n.correct).flatMap((p) => terms.filter((n) => !n.correct).map((q) => [p.id, q.id] as const));
  return shuffle(combos, rand).slice(0, most).map(([p, q]) => ({ problemId: t.problemId, question: t.question, prefix: t.prompt, positive: steps(p), negative: steps(q), qPos: 1, qNeg: -1, round }));
}

await setupBackend('wasm');
const problems = dataset === 'schema'
  ? schemaBatch({ start: 100_000 + start, count, seed, dev: devOf('mawps', 'grouped') })
  : seededOrder(dataset.endsWith('-distractor')
    ? synthesizeDistractors(splitOf(dataset.slice(0, -'-distractor'.length), true).train, 1, 1234)
    : splitOf(dataset, true).train, (p) => p.id, seed).slice(start, start + count);
const { pol, members } = await loadPolicies(policy);
const ppm = await loadPPM(ppmDir);
const sandbox = new SandboxPool({ workers: 1 });
fs.mkdirSync(out, { recursive: true });
const trees: SearchTree[] = [];
const prog = new Progress({ label: 'train trees', total: problems.length, unit: 'problem' });
try {
  await searchMany(problems.map((p) => ({ id: p.id, question: p.question, answer: p.answer })), {
    proposer: policyProposer([pol.lm, ...members], pol.tokenizer, { seed }),
    scorer: new PPMScorer(ppm.ppm, ppm.tokenizer, sandbox),
    sandbox, grade: gradeAnswer,
    onDone: (r) => { trees.push(r.tree); prog.tick(); },
  }, { ...SEARCH, mode: 'ppm', seed, promptNumbers: pol.promptNumbers });
} finally {
  prog.finish();
  await sandbox.close();
}
const rand = mulberry32(seed);
const sibling = trees.flatMap((t) => buildPairs(t, round));
const trajectory = trees.flatMap((t) => trajectoryPairs(t, perTree, rand));
fs.writeFileSync(path.join(out, 'trees.jsonl'), trees.map((t) => JSON.stringify(t) + '\n').join(''));
await writePairs(path.join(out, 'pairs-sibling.arrow'), sibling);
await writePairs(path.join(out, 'pairs-trajectory.arrow'), trajectory);
const mixed = trees.filter((t) => ['mixedPicked', 'mixedMissed'].includes(treeMix(t, t.gold ?? ''))).length;
console.log(`${trees.length} trees (${mixed} with right and wrong terminals): ${sibling.length} sibling pairs, ${trajectory.length} trajectory pairs → ${out}`);
