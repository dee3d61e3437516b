// `rstar solve` and `rstar eval`: load policy (+ PPM), run the chosen mode, print / write results.
import { breakdown } from './breakdown.ts';
import fs from 'node:fs';
import { checkPromptNumbers, loadPolicies, loadPPM } from '../model/load.ts';
import { evalProblems, type DevSet } from '../data/problems.ts';
import { writeEvalRows } from '../data/arrow.ts';
import { writeFileAtomic } from '../util/fsx.ts';
import { gradeAnswer } from '../data/grade.ts';
import { numberPrelude } from '../data/steps.ts';
import { SandboxPool } from '../sandbox/sandbox.ts';
import { searchMany } from './mcts.ts';
import { SEARCH } from '../config.ts';
import { policyProposer, PPMScorer } from './policy.ts';
import { anchorFor, anchorNote, evaluate, scoreLabel, searchOrWiden, treeSolution, widerK, type EvalMode, type EvalSummary, type PathScore } from './evaluate.ts';

export interface SolveOptions {
  policy: string;
  ppm: string;
  rollouts: number;
  k: number;
  maxDepth: number;
  seed: number;
  /** Tokenizer for an hf: policy folder that has none. */
  tokenizer?: string;
  /** The final choice's greedy anchor (default SEARCH.greedyAnchor; 0 = the top-scoring terminal). */
  greedyAnchor?: number;
  /** What the final choice ranks terminals by (default SEARCH.pathScore). */
  pathScore?: PathScore;
  /** Search again with this many times k where the answer differs from greedy's (default SEARCH.widen; ≤ 1 = off). */
  widen?: number;
  print?: (line: string) => void;
}

/** PPM-guided MCTS on one question; prints the chosen solution step by step. Returns the answer. */
export async function solveOne(question: string, o: SolveOptions): Promise<string | null> {
  const print = o.print ?? ((l: string) => console.log(l));
  const { pol, members } = await loadPolicies(o.policy, o.tokenizer);
  const ppm = await loadPPM(o.ppm);
  checkPromptNumbers(pol, ppm);
  const sandbox = new SandboxPool({ workers: 1 });
  try {
    const proposer = policyProposer([pol.lm, ...members], pol.tokenizer, { seed: o.seed });
    const scorer = new PPMScorer(ppm.ppm, ppm.tokenizer, sandbox);
    const delta = o.greedyAnchor ?? SEARCH.greedyAnchor;
    const anchor = await anchorFor({ lm: pol.lm, tok: pol.tokenizer, sandbox, promptNumbers: pol.promptNumbers }, question, delta, delta > 0 || widerK(o.k, o.widen) > 0);
    const choice = { anchor, pathScore: o.pathScore };
    const search = async (k: number) => (await searchMany([{ id: 'q', question }], { proposer, scorer, sandbox, grade: gradeAnswer }, { mode: 'ppm', rollouts: o.rollouts, k, maxDepth: o.maxDepth, seed: o.seed, concurrency: 1, promptNumbers: pol.promptNumbers }))[0]!;
    const { result: res, note } = await searchOrWiden(search, o.k, choice, o.widen);
    const sol = treeSolution(res.tree, choice);
    print(`Question: ${question}`);
    // the sandbox defines the question's numbers before the steps (steps.ts questionNumbers)
    const given = numberPrelude(question);
    if (given) print(`Given: ${given.replace(/^const /, '').replace(/;$/, '')}`);
    if (!sol) {
      print('No solution found (every trajectory failed to run or reach an answer).');
      return null;
    }
    // PPM score of every prefix of the chosen trajectory
    let prefix = res.tree.prompt;
    const texts = res.tree.nodes.length ? sol.steps.map((_, i) => (prefix += textOf(sol.text, i))) : [];
    const scores = await scorer.score(texts, texts.map(() => question));
    sol.steps.forEach((s, i) => {
      print(`\nStep ${i + 1}  (PPM ${scores[i]!.toFixed(3)})`);
      for (const c of s.comment) print(`  // ${c}`);
      for (const line of s.code.split('\n')) print(`  ${line}`);
      const out = sol.outputs?.[i] ?? '';
      if (out) print(`  → ${out.split('\n').join('\n    ')}`);
    });
    print(`\nAnswer: ${sol.answer}   (${scoreLabel(o.pathScore)} ${sol.score?.toFixed(3)}, ${res.stats.rollouts} rollouts${anchorNote(res.tree, choice)}${note})`);
    return sol.answer;
  } finally {
    await sandbox.close();
    pol.lm.dispose();
    members.forEach((lm) => lm.dispose());
    ppm.ppm.dispose();
  }
}

/** The i-th serialized step of a solution text (steps end with a marker). */
function textOf(text: string, i: number): string {
  const parts = text.split(/(?<=<end_of_step>\n|<end_of_solution>\n)/);
  return parts[i] ?? '';
}

export interface RunEvalOptions {
  data?: string;
  /** A dataset's dev split (gsm8k, math, mawps, deepmind) when no --data is given. */
  dataset?: string;
  /** Which dev problems of `dataset` (default 'fixed'). */
  dev?: DevSet;
  /** Each dev problem with one irrelevant sentence added (problems.ts devWithDistractors). */
  distractor?: boolean;
  mode: EvalMode;
  policy: string;
  ppm: string;
  n: number;
  runs: number;
  /** MCTS settings; absent: config.ts SEARCH. */
  rollouts?: number;
  k?: number;
  maxDepth?: number;
  limit?: number;
  out?: string;
  seed: number;
  quiet?: boolean;
  tokenizer?: string;
  /** Sampling temperature (maj, best-of-n, MCTS expansions); default DEFAULT_EVAL's. */
  temperature?: number;
  /** MCTS: drop steps whose code contradicts their comment (default true, mcts.ts checkComments). */
  checkComments?: boolean;
  /** MCTS: drop steps that undo an earlier step (default true, mcts.ts checkUndo). */
  checkUndo?: boolean;
  /** MCTS: drop bootstrap-grammar steps that use a question number twice (mcts.ts checkReuse). */
  checkReuse?: boolean;
  /** Logit bonus for continuing a copy of the question (default SEARCH.copyBias; 0 = off). */
  copyBias?: number;
  /** End a decode caught in a loop after this many repeats (default SEARCH.loopRepeats; 0 = off). */
  loopRepeats?: number;
  /** mcts: write every searched tree here, one JSON line per problem and run (for offline analysis). */
  trees?: string;
  /** mcts: the final choice's greedy anchor (default SEARCH.greedyAnchor; 0 = off). */
  greedyAnchor?: number;
  /** mcts: what the final choice ranks terminals by (default SEARCH.pathScore). */
  pathScore?: PathScore;
  /** mcts: search again with this many times k where the answer differs from greedy's (default SEARCH.widen; ≤ 1 = off). */
  widen?: number;
}

export async function runEval(o: RunEvalOptions): Promise<EvalSummary> {
  const problems = evalProblems(o);
  const { pol, members } = await loadPolicies(o.policy, o.tokenizer);
  const needPPM = o.mode === 'best-of-n' || o.mode === 'mcts';
  if (needPPM && !fs.existsSync(o.ppm)) throw new Error(`${o.ppm}: no PPM checkpoint (eval --mode ${o.mode} needs --ppm)`);
  const ppm = needPPM ? await loadPPM(o.ppm) : null;
  checkPromptNumbers(pol, ppm);
  const sandbox = new SandboxPool({ workers: 1 });
  try {
    const s = await evaluate(problems, { lm: pol.lm, tok: pol.tokenizer, sandbox, ppm: ppm ? { ppm: ppm.ppm, tok: ppm.tokenizer } : undefined, promptNumbers: pol.promptNumbers, members }, {
      mode: o.mode, n: o.n, runs: o.runs, seed: o.seed, quiet: o.quiet,
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
      ...(o.copyBias !== undefined ? { copyBias: o.copyBias } : {}),
      ...(o.loopRepeats !== undefined ? { loopRepeats: o.loopRepeats } : {}),
      ...(o.greedyAnchor !== undefined ? { greedyAnchor: o.greedyAnchor } : {}),
      ...(o.pathScore !== undefined ? { pathScore: o.pathScore } : {}),
      ...(o.widen !== undefined ? { widen: o.widen } : {}),
      ...(o.trees ? { keepTrees: true } : {}),
      search: Object.fromEntries(Object.entries({ rollouts: o.rollouts, k: o.k, maxDepth: o.maxDepth, checkComments: o.checkComments, checkUndo: o.checkUndo, checkReuse: o.checkReuse }).filter(([, v]) => v !== undefined)),
    });
    if (o.out) await writeEvalRows(o.out, s.rows);
    if (o.trees && s.searchTrees) writeFileAtomic(o.trees, s.searchTrees.flat().map((t) => JSON.stringify(t) + '\n').join(''));
    const b = breakdown(problems, s.rows);
    if (b) s.breakdown = b;
    return s;
  } finally {
    await sandbox.close();
    pol.lm.dispose();
    members.forEach((lm) => lm.dispose());
    ppm?.ppm.dispose();
  }
}
