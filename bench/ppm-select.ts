// The final choice over saved test-time trees (`rstar eval --mode mcts --trees T.jsonl --out E.arrow`):
// how many problems each answer-selection rule gets right on the same trees, and how many each PPM
// gets right when it rescores every terminal (prefix + step, as the search scored it) and the
// highest score answers. Separates "the PPM picks badly" from "the search never wrote it", and
// measures a PPM's choice without searching again (the trees' own Q is the search-time PPM's).
//   node --import tsx bench/ppm-select.ts --trees T.jsonl --eval E.arrow [--ppm a/ppm,b/ppm,...] [--policy P]
// --policy: also the policy's log-likelihood of each terminal's whole path (sum, and mean per token).
// --greedy G.arrow (`eval --mode greedy` of the same problems): each highest-score line again with the
// greedy anchor, as `eval --mode mcts` chooses by default (SEARCH.greedyAnchor; evaluate.ts chosenTerminal).
// (trees of bench/train-trees.ts carry their answers: no --eval)
// Rules over the trees' own scores: votes, path minima and means, descending by backed-up Q.
// Every line: right / problems, then the discordant counts against the trees' own best-Q choice and
// McNemar's exact p; with two or more PPMs also their score ensemble and first-vs-each pairs.
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { loadPolicies, loadPPM } from '../src/model/load.ts';
import { tokenLogProbs } from '../src/model/lm.ts';
import { readEvalRows } from '../src/data/arrow.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { prefixOf, type MCTSNode, type SearchTree } from '../src/search/mcts.ts';
import { PPMScorer } from '../src/search/policy.ts';
import { chosenTerminal, mcnemarExact, pathScoreOf, vote } from '../src/search/evaluate.ts';
import { SEARCH } from '../src/config.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

function flag(name: string, def = ''): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
const treesFile = flag('trees');
const evalFile = flag('eval');
if (!treesFile) {
  console.error('usage: bench/ppm-select.ts --trees T.jsonl [--eval E.arrow] [--ppm a,b,...]');
  process.exit(2);
}
const trees: SearchTree[] = fs.readFileSync(treesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
// test-time trees know no answer: the eval's rows give it; trees of bench/train-trees.ts carry their own
const gold = new Map(evalFile ? readEvalRows(evalFile).map((r) => [r.problemId, r.gold]) : trees.map((t) => [t.problemId, t.gold ?? '']));
const terms: MCTSNode[][] = trees.map((t) => t.nodes.filter((n) => n.terminal && n.answer !== null && n.n > 0));
const right = (i: number, a: string | null) => a !== null && gradeAnswer(a, gold.get(trees[i]!.problemId) ?? '');

/** The answer of the highest-weight terminal, or (voting) of the answer with the highest summed weight. */
function choose(i: number, w: (n: MCTSNode, j: number) => number, voting = false): string | null {
  const ts = terms[i]!;
  if (!ts.length) return null;
  if (voting) return vote(ts.map((n) => n.answer), ts.map(w)).answer;
  return ts.reduce((b, n, j) => (w(n, j) > w(b.n, b.j) ? { n, j } : b), { n: ts[0]!, j: 0 }).n.answer;
}
const greedyFile = flag('greedy');
const greedy = greedyFile ? new Map(readEvalRows(greedyFile).map((r) => [r.problemId, r.predicted || null])) : null;
/** The greedy anchor over weights in Q's range: chosenTerminal's rule with each terminal's weight as its Q. */
function anchored(i: number, w: (n: MCTSNode, j: number) => number): string | null {
  const t = trees[i]!;
  const nodes = terms[i]!.map((n, j) => ({ ...n, q: w(n, j) }));
  return chosenTerminal({ ...t, nodes }, { pathScore: 'terminal', anchor: { answer: greedy?.get(t.problemId) ?? null, delta: SEARCH.greedyAnchor } })?.answer ?? null;
}

/** The PPM scores of a terminal's non-terminal ancestors (their priors) then its own Q. */
function pathScores(t: SearchTree, n: MCTSNode): number[] {
  const out = [n.q];
  for (let p = t.nodes[n.parent]; p && p.parent >= 0; p = t.nodes[p.parent]) out.unshift(p.prior ?? p.q);
  return out;
}

const results: [string, boolean[]][] = [];
const rule = (name: string, f: (i: number) => string | null) => results.push([name, trees.map((_, i) => right(i, f(i)))]);
/** A highest-score rule, and with --greedy the same scores under the greedy anchor. */
const scored = (name: string, w: (i: number) => (n: MCTSNode, j: number) => number) => {
  rule(name, (i) => choose(i, w(i)));
  if (greedy) rule(`${name}, greedy anchor ${SEARCH.greedyAnchor}`, (i) => anchored(i, w(i)));
};
scored("trees' own best Q", () => (n) => n.q);
rule('Q-weighted vote', (i) => choose(i, (n) => (n.q + 1) / 2, true));
rule('majority vote', (i) => choose(i, () => 1, true));
/** MCTS's classic final move: from the root, the child with the best backed-up Q (the mean of the
 *  PPM's terminal scores below it), down to a terminal; with `within`, only when that terminal's own
 *  Q is within `within` of the top terminal Q (else the top one). */
function descend(t: SearchTree, within = Infinity): string | null {
  const answered = (n: MCTSNode): boolean => (n.terminal && n.answer !== null && n.n > 0) || n.children.some((c) => answered(t.nodes[c]!));
  let n = t.nodes[0]!;
  while (!n.terminal) {
    const cs = n.children.map((c) => t.nodes[c]!).filter((c) => c.n > 0 && answered(c));
    if (!cs.length) return null;
    n = cs.reduce((b, c) => (c.q > b.q ? c : b));
  }
  const top = chosenTerminal(t, { pathScore: 'terminal' });
  return top && n.q < top.q - within ? top.answer : n.answer;
}
rule('descend by backed-up Q', (i) => descend(trees[i]!));
for (const d of [0.1, 0.3]) rule(`descend by backed-up Q, its terminal within ${d} of the top Q`, (i) => descend(trees[i]!, d));
scored('lowest step score on the path (the default final choice with the anchor)', (i) => (n) => pathScoreOf(trees[i]!, n, 'min'));
rule('mean step score on the path', (i) => choose(i, (n) => { const s = pathScores(trees[i]!, n); return s.reduce((a, b) => a + b, 0) / s.length; }));

const ppms = flag('ppm').split(',').filter(Boolean);
const policy = flag('policy');
const scores: number[][][] = [];
if (ppms.length || policy) await setupBackend('wasm');
if (policy) {
  const { pol } = await loadPolicies(policy);
  const lik = trees.map((t, i) => terms[i]!.map((n) => {
    const ids = pol.tokenizer.encode(prefixOf(t, n.parent) + n.text);
    const from = pol.tokenizer.encode(t.prompt).length - 1;
    const lp = tf.tidy(() => tokenLogProbs(pol.lm.logits(tf.tensor2d([ids.slice(0, -1)], [1, ids.length - 1], 'int32')), tf.tensor2d([ids.slice(1)], [1, ids.length - 1], 'int32')).dataSync());
    const sum = Array.from(lp.slice(from)).reduce((a, b) => a + b, 0);
    return { sum, mean: sum / Math.max(1, lp.length - from) };
  }));
  rule(`policy: path log-likelihood, sum`, (i) => choose(i, (_, j) => lik[i]![j]!.sum));
  rule(`policy: path log-likelihood, mean per token`, (i) => choose(i, (_, j) => lik[i]![j]!.mean));
  pol.lm.dispose();
}
if (ppms.length) {
  const sandbox = new SandboxPool({ workers: 1 });
  try {
    for (const dir of ppms) {
      const p = await loadPPM(dir);
      const scorer = new PPMScorer(p.ppm, p.tokenizer, sandbox);
      const s: number[][] = [];
      for (let i = 0; i < trees.length; i++) {
        const t = trees[i]!;
        const texts = terms[i]!.map((n) => prefixOf(t, n.parent) + n.text);
        s.push(texts.length ? await scorer.score(texts, texts.map(() => t.question)) : []);
      }
      scores.push(s);
      scored(`PPM ${dir}`, (i) => (_, j) => s[i]![j]!);
      p.ppm.dispose();
    }
  } finally {
    await sandbox.close();
  }
  if (scores.length > 1) scored(`score ensemble of the ${scores.length} PPMs`, (i) => (_, j) => scores.reduce((a, s) => a + s[i]![j]!, 0) / scores.length);
}

const paired = (a: boolean[], b: boolean[]) => {
  const x = a.filter((v, i) => v && !b[i]).length;
  const y = b.filter((v, i) => v && !a[i]).length;
  return `${x} / ${y}, p ${mcnemarExact(x, y).toPrecision(2)}`;
};
const base = results[0]![1];
// halves (even / odd positions): choosing among PPMs on one half and reading the other's figure keeps
// the choice from grading itself
const half = (r: boolean[], h: number) => `${r.filter((v, i) => v && i % 2 === h).length}/${r.filter((_, i) => i % 2 === h).length}`;
for (const [name, r] of results) console.log(`${name}: ${r.filter(Boolean).length}/${r.length} (even ${half(r, 0)}, odd ${half(r, 1)}; vs own best Q ${paired(r, base)})`);
const firstPPM = results.findIndex(([n]) => n.startsWith('PPM ') && !n.includes('greedy anchor'));
if (firstPPM >= 0) for (const [name, r] of results.slice(firstPPM + 1)) console.log(`${results[firstPPM]![0]} vs ${name}: ${paired(results[firstPPM]![1], r)}`);
