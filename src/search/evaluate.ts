// Test-time modes (`rstar eval`, `rstar solve`):
//   System 1 — greedy: one greedy solution; maj: majority vote over N samples;
//              best-of-n: N samples, the PPM scores each full solution, the best wins.
//   System 2 — mcts: PPM-guided MCTS (no known answer), the answer of the final choice (chosenTerminal),
//              searched again wider where it differs from greedy's (needsWiderSearch);
//              --runs R independent searches vote over their top answers.
import type { Breakdown } from './breakdown.ts';
import type { CausalLM } from '../model/lm.ts';
import type { TokenizerLike } from '../model/load.ts';
import type { PPM } from '../model/ppm.ts';
import { generate, sampleMany } from '../model/generate.ts';
import { parseSolution, programOf, promptFor, promptQuestion, serializeStep, type PromptNumbers, type Step } from '../data/steps.ts';
import { answerKey, gradeAnswer } from '../data/grade.ts';
import type { SandboxPool } from '../sandbox/sandbox.ts';
import type { EvalRow } from '../data/arrow.ts';
import { pathTo, searchMany, type MCTSNode, type SandboxLike, type SearchOptions, type SearchResult, type SearchTree } from './mcts.ts';
import { loopOption, policyProposer, PPMScorer, stopSequences } from './policy.ts';
import { copyBiasHook } from './copy-bias.ts';
import { Progress } from '../util/progress.ts';
import { EVAL, SEARCH } from '../config.ts';

export type EvalMode = 'greedy' | 'maj' | 'best-of-n' | 'mcts';

export interface Solution {
  steps: Step[];
  text: string;
  ok: boolean;
  answer: string | null;
  error?: string;
  /** Per-step output when known. */
  outputs?: string[];
  score?: number;
}

export interface EvalProblem {
  id: string;
  question: string;
  answer: string;
  /** Dataset label, where known (the search's reuse check depends on it: steps.ts reuseCheckApplies). */
  source?: string;
}

export type EvalRowOut = EvalRow;

export interface EvalSummary {
  mode: EvalMode;
  n: number;
  correct: number;
  accuracy: number;
  ci95: [number, number];
  rows: EvalRowOut[];
  /** Problems with at least one correct candidate (coverage, pass@N) where meaningful. */
  coverage?: number;
  /** Share of written solutions that parsed as steps and ran without error to a printed answer (System 1 modes). */
  runRate?: number;
  /** mcts: accuracy when the tree's terminals vote, each weighted by its Q mapped to [0, 1] (see qVote). */
  accuracyQVote?: number;
  /** mcts: per problem, whether the Q-weighted vote is correct (same order as rows). */
  correctQVote?: boolean[];
  /** Problems whose prompt leaves the policy no room to write (longer than its context): counted wrong. */
  tooLong?: number;
  /** mcts with greedyAnchor: searches (problems × runs) whose answer greedy's changed from the top-scoring terminal's. */
  anchored?: number;
  /** mcts with widen: searches done again wider (their answer differed from greedy's), and of them how
   *  many the wider search answers right where the first did not (gained) and the reverse (lost). */
  widened?: { k: number; searches: number; gained: number; lost: number };
  /** mcts: the searched trees by what their terminals hold (over problems × runs; see treeMix). */
  trees?: Record<TreeMix, number>;
  /** mcts with keepTrees: each problem's trees, one per run (same order as rows; none for a too-long question). */
  searchTrees?: SearchTree[][];
  /** Problems with a `module` field (DeepMind): accuracy per module and per regime (breakdown.ts). */
  breakdown?: Breakdown;
}

/**
 * What a tree offers the final choice: no terminal with an answer, only right ones, only wrong ones,
 * or both — then whether the chosen terminal (treeSolution) is a right one. Separates "the policy
 * never wrote it" from "the PPM did not pick it".
 */
export type TreeMix = 'none' | 'onlyRight' | 'onlyWrong' | 'mixedPicked' | 'mixedMissed';
export function treeMix(tree: SearchTree, gold: string, c: FinalChoice = {}): TreeMix {
  const terms = tree.nodes.filter((n) => n.terminal && n.answer !== null && n.n > 0);
  if (!terms.length) return 'none';
  const right = terms.filter((n) => gradeAnswer(n.answer!, gold)).length;
  if (right === terms.length) return 'onlyRight';
  if (right === 0) return 'onlyWrong';
  const best = treeSolution(tree, c);
  return best?.answer != null && gradeAnswer(best.answer, gold) ? 'mixedPicked' : 'mixedMissed';
}

export interface EvalDeps {
  lm: CausalLM;
  tok: TokenizerLike;
  sandbox: SandboxPool;
  ppm?: { ppm: PPM; tok: TokenizerLike };
  /** The policy's prompt style (its checkpoint's: model/load.ts). */
  promptNumbers: PromptNumbers;
  /** More policies (same tokenizer and prompt style) proposing MCTS candidates with `lm` (EnsembleProposer). */
  members?: CausalLM[];
}

export interface EvalOptions {
  mode: EvalMode;
  /** Samples for maj / best-of-n. */
  n: number;
  /** Independent searches for mcts. */
  runs: number;
  temperature: number;
  maxTokens: number;
  batch: number;
  seed: number;
  search: Partial<SearchOptions>;
  quiet?: boolean;
  /** mcts: return the searched trees (EvalSummary.searchTrees), e.g. for the run report. */
  keepTrees?: boolean;
  /** Logit bonus for continuing a copy of the question, every mode (copy-bias.ts); 0 = off. */
  copyBias: number;
  /** End a decode caught in a loop after this many repeats, every mode (generate.ts loop); 0 = off. */
  loopRepeats: number;
  /** mcts: answer greedy's answer when a terminal giving it scores within this of the top score (chosenTerminal); 0 = off. */
  greedyAnchor: number;
  /** mcts: what the final choice ranks terminals by (pathScoreOf). */
  pathScore: PathScore;
  /** mcts: search again with this many times k where the answer differs from greedy's (needsWiderSearch); ≤ 1 = off. */
  widen: number;
}

export const DEFAULT_EVAL: EvalOptions = { ...EVAL, mode: 'greedy', seed: 0, search: {}, quiet: false, copyBias: SEARCH.copyBias, loopRepeats: SEARCH.loopRepeats, greedyAnchor: SEARCH.greedyAnchor, pathScore: SEARCH.pathScore, widen: SEARCH.widen };

/** Wilson score interval: well-behaved at small n and near 0 / 1. */
export function wilson(correct: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 0];
  const p = correct / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** log C(n, k) */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * McNemar's exact test for two evaluations of the same problems: b problems right only under the
 * first, c only under the second; the two-sided p of a split at least this lopsided under Bin(b + c, 1/2).
 * On 314 problems a 2-point gap can be 6 vs 0 or 20 vs 14 discordant problems: only this tells which.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  let tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) tail += Math.exp(logChoose(n, k) - n * Math.log(2));
  return Math.min(1, 2 * tail);
}

/** Run a whole written solution in the sandbox: ok + printed answer. */
export async function executeSolution(sandbox: SandboxLike, question: string, text: string): Promise<Solution> {
  const { steps } = parseSolution(text);
  if (!steps.length) return { steps, text, ok: false, answer: null, error: 'no steps' };
  const r = await sandbox.run(programOf(question, steps.map((s) => s.code)));
  return { steps, text, ok: r.ok, answer: r.ok && r.answer !== undefined ? r.answer : null, error: r.error };
}

/** Sample (or greedily decode) whole solutions for many questions at once. */
export async function writeSolutions(d: Pick<EvalDeps, 'lm' | 'tok' | 'promptNumbers'>, questions: string[], k: number, o: { temperature: number; maxTokens: number; seed: number; copyBias: number; loopRepeats: number }): Promise<string[][]> {
  const texts = questions.map((q) => promptFor(q, d.promptNumbers));
  const prompts = texts.map((t) => d.tok.encode(t));
  const endSol = stopSequences(d.tok)[1]!;
  // generate.ts bounds each row by what its own prompt leaves of the context, so no question's
  // budget depends on the others in its batch
  const logitsHook = copyBiasHook(d.tok, texts.map(promptQuestion), o.copyBias);
  const opts = { maxNewTokens: o.maxTokens, temperature: o.temperature, topP: 1, stop: [endSol], seed: o.seed, logitsHook, loop: loopOption(o.loopRepeats) };
  const res = k === 1 && o.temperature === 0 ? await generate(d.lm, prompts, opts) : await sampleMany(d.lm, prompts, k, opts);
  return questions.map((_, p) => Array.from({ length: k }, (_, j) => d.tok.decode(res.tokens[p * k + j]!)));
}

/** The policy's greedy answer to each question (null when its solution does not run to one), `batch` decodes at a time. */
export async function greedyAnswers(d: Pick<EvalDeps, 'lm' | 'tok' | 'promptNumbers'> & { sandbox: SandboxLike }, questions: string[], o: { maxTokens: number; batch: number; copyBias: number; loopRepeats: number; onDone?: () => void }): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < questions.length; i += o.batch) {
    const chunk = questions.slice(i, i + o.batch);
    const texts = await writeSolutions(d, chunk, 1, { temperature: 0, maxTokens: o.maxTokens, seed: i, copyBias: o.copyBias, loopRepeats: o.loopRepeats });
    for (let j = 0; j < chunk.length; j++) {
      out.push((await executeSolution(d.sandbox, chunk[j]!, texts[j]![0]!)).answer);
      o.onDone?.();
    }
  }
  return out;
}

/** Majority vote over answers (bucketed by answerKey); ties: first seen. Returns the winner + its votes. */
export function vote(answers: (string | null)[], weights?: number[]): { answer: string | null; votes: number } {
  const tally = new Map<string, { answer: string; votes: number; first: number }>();
  answers.forEach((a, i) => {
    if (a === null) return;
    const k = answerKey(a);
    const t = tally.get(k) ?? { answer: a, votes: 0, first: i };
    t.votes += weights?.[i] ?? 1;
    tally.set(k, t);
  });
  let best: { answer: string; votes: number; first: number } | null = null;
  for (const t of tally.values()) if (!best || t.votes > best.votes || (t.votes === best.votes && t.first < best.first)) best = t;
  return best ? { answer: best.answer, votes: best.votes } : { answer: null, votes: 0 };
}

/** Greedy's answer for MCTS's final choice: the answer and how far below the top score it may score. */
export interface GreedyAnchor {
  answer: string | null;
  delta: number;
}

/** What the final choice ranks a terminal by (SEARCH.pathScore). */
export type PathScore = 'min' | 'terminal';

/** How MCTS picks the terminal it answers with; each field defaults to SEARCH's. */
export interface FinalChoice {
  pathScore?: PathScore;
  anchor?: GreedyAnchor;
}

/**
 * A terminal's score for the final choice. 'terminal': its Q (rStar-Math: the PPM's score of the last
 * step, which reads the whole trajectory). 'min': the lowest PPM score along its path, each step's as it
 * entered the tree (its prior; its Q where it has none) and the terminal's Q: a trajectory is as good as
 * its weakest step, and one misread step early on no longer hides behind a confident last one
 * (README "The path's weakest step").
 */
export function pathScoreOf(tree: SearchTree, node: MCTSNode, rule: PathScore): number {
  let s = node.q;
  if (rule === 'min') for (let p = tree.nodes[node.parent]; p && p.parent >= 0; p = tree.nodes[p.parent]) s = Math.min(s, p.prior ?? p.q);
  return s;
}

/**
 * The terminal MCTS answers with: the best by path score (ties: more visits), unless a terminal giving
 * the policy's greedy answer scores within `anchor.delta` of it; then the best such terminal. Where
 * the PPM barely separates right from wrong terminals the policy's first guess breaks the near-tie
 * (SEARCH.greedyAnchor; README "The greedy anchor"); anchor.delta 0 turns it off.
 */
export function chosenTerminal(tree: SearchTree, c: FinalChoice = {}): MCTSNode | null {
  const rule = c.pathScore ?? SEARCH.pathScore;
  const anchor = c.anchor && c.anchor.answer !== null && c.anchor.delta > 0 ? c.anchor : null;
  const key = anchor ? answerKey(anchor.answer!) : null;
  const score = new Map<MCTSNode, number>();
  const better = (x: MCTSNode, y: MCTSNode | null) => !y || score.get(x)! > score.get(y)! || (score.get(x) === score.get(y) && x.n > y.n);
  let best: MCTSNode | null = null;
  let pick: MCTSNode | null = null;
  for (const x of tree.nodes) {
    if (!x.terminal || x.answer === null || x.n === 0) continue;
    score.set(x, pathScoreOf(tree, x, rule));
    if (better(x, best)) best = x;
    if (key !== null && answerKey(x.answer) === key && better(x, pick)) pick = x;
  }
  return pick && score.get(best!)! - score.get(pick)! <= anchor!.delta ? pick : best;
}

/** The wider search's k (SEARCH.widen times k), or 0 when widening is off. */
export function widerK(k: number, widen: number = SEARCH.widen): number {
  return widen > 1 ? Math.round(k * widen) : 0;
}

/**
 * Whether a search's answer calls for a wider one (SEARCH.widen): the final choice and the policy's
 * greedy answer differ, or either is missing. Where they agree the policy is sure and width mostly adds
 * wrong terminals; where they do not, more candidates per expansion find right answers the first tree
 * lacked (README "Wider search where the search and greedy disagree").
 */
export function needsWiderSearch(tree: SearchTree, c: FinalChoice & { anchor: GreedyAnchor }): boolean {
  const t = chosenTerminal(tree, c);
  return !t || c.anchor.answer === null || answerKey(t.answer!) !== answerKey(c.anchor.answer);
}

/**
 * One question's search as `solve` and the browser page run it: with k, then, where needsWiderSearch,
 * again with widerK(k, widen). `note` is what they add to the answer line ('' when searched once).
 */
export async function searchOrWiden(search: (k: number) => Promise<SearchResult>, k: number, choice: FinalChoice & { anchor: GreedyAnchor }, widen: number = SEARCH.widen): Promise<{ result: SearchResult; note: string }> {
  const wideK = widerK(k, widen);
  const result = await search(k);
  if (!wideK || !needsWiderSearch(result.tree, choice)) return { result, note: '' };
  const first = treeSolution(result.tree, choice)?.answer ?? null;
  return { result: await search(wideK), note: `; searched again with k ${wideK}: k ${k} answered ${first ?? 'nothing'}, greedy ${choice.anchor.answer ?? 'nothing'}` };
}

/** How `solve` and the browser page name a chosen terminal's score. */
export const scoreLabel = (rule: PathScore = SEARCH.pathScore) => (rule === 'min' ? 'lowest step score' : 'Q');

/** One question's anchor as `solve` and the browser page take it: the greedy decode with the System-1
 *  defaults (`decode`: also when delta is 0, as needsWiderSearch needs greedy's answer). */
export async function anchorFor(d: Parameters<typeof greedyAnswers>[0], question: string, delta: number = SEARCH.greedyAnchor, decode = delta > 0): Promise<GreedyAnchor> {
  const [answer] = decode ? await greedyAnswers(d, [question], { maxTokens: EVAL.maxTokens, batch: 1, copyBias: SEARCH.copyBias, loopRepeats: SEARCH.loopRepeats }) : [null];
  return { answer: answer ?? null, delta };
}

/** What `solve` and the browser page add to the answer line when the anchor chose it: '' when the top-scoring terminal did. */
export function anchorNote(tree: SearchTree, c: FinalChoice & { anchor: GreedyAnchor }): string {
  const rule = c.pathScore ?? SEARCH.pathScore;
  const top = chosenTerminal(tree, { pathScore: rule });
  return top && chosenTerminal(tree, c) !== top ? `; greedy's answer, within ${c.anchor.delta} of the top ${pathScoreOf(tree, top, rule).toFixed(3)} (answer ${top.answer})` : '';
}

/** The solution of the terminal MCTS answers with (chosenTerminal), with its step outputs and its path score. */
export function treeSolution(tree: SearchTree, c: FinalChoice = {}): Solution | null {
  const t = chosenTerminal(tree, c);
  if (!t) return null;
  const nodes = pathTo(tree, t.id).map((id) => tree.nodes[id]!).filter((n) => n.step);
  return {
    steps: nodes.map((n) => n.step!),
    text: nodes.map((n) => n.text).join(''),
    ok: true,
    answer: t.answer,
    outputs: nodes.map((n) => n.output),
    score: pathScoreOf(tree, t, c.pathScore ?? SEARCH.pathScore),
  };
}

/**
 * Q-weighted vote over a tree's terminals: every terminal with an answer votes (Q + 1) / 2 for it.
 * rStar-Math answers with the single highest-Q terminal (bestTerminal); the vote is reported beside
 * it because it degrades to majority voting when the PPM is weak instead of to a coin flip.
 */
export function qVote(tree: SearchTree): string | null {
  const terms = tree.nodes.filter((n) => n.terminal && n.answer !== null);
  return vote(terms.map((n) => n.answer), terms.map((n) => (n.q + 1) / 2)).answer;
}

/**
 * Answer each problem in the chosen mode. A question longer than the policy's context cannot be
 * answered: it is scored wrong and counted in `tooLong`; the rest are evaluated.
 */
export async function evaluate(problems: EvalProblem[], d: EvalDeps, options: Partial<EvalOptions> = {}): Promise<EvalSummary> {
  const room = d.lm.maxPositions - 16;
  const fits = problems.map((p) => d.tok.encode(promptFor(p.question, d.promptNumbers)).length <= room);
  if (fits.every(Boolean)) return evaluateFitting(problems, d, options);
  const s = await evaluateFitting(problems.filter((_, i) => fits[i]), d, options);
  const rows: EvalRowOut[] = [];
  const qv: boolean[] = [];
  const kept: SearchTree[][] = [];
  let j = 0;
  problems.forEach((p, i) => {
    if (fits[i]) {
      rows.push(s.rows[j]!);
      if (s.correctQVote) qv.push(s.correctQVote[j]!);
      if (s.searchTrees) kept.push(s.searchTrees[j]!);
      j++;
    } else {
      rows.push({ problemId: p.id, question: p.question, gold: p.answer, predicted: '', correct: false, mode: s.mode, score: -1 });
      qv.push(false);
      kept.push([]);
    }
  });
  const n = problems.length;
  return {
    ...s, n, rows, accuracy: s.correct / n, ci95: wilson(s.correct, n), tooLong: n - s.n,
    coverage: s.coverage === undefined ? undefined : (s.coverage * s.n) / n,
    correctQVote: s.correctQVote ? qv : undefined,
    accuracyQVote: s.correctQVote ? qv.filter(Boolean).length / n : undefined,
    searchTrees: s.searchTrees ? kept : undefined,
  };
}

async function evaluateFitting(problems: EvalProblem[], d: EvalDeps, options: Partial<EvalOptions>): Promise<EvalSummary> {
  const o: EvalOptions = { ...DEFAULT_EVAL, ...options, search: { ...DEFAULT_EVAL.search, ...options.search } };
  if ((o.mode === 'best-of-n' || o.mode === 'mcts') && !d.ppm) throw new Error(`eval --mode ${o.mode} needs a PPM (--ppm)`);
  const rows: EvalRowOut[] = [];
  let covered = 0;
  let written = 0;
  let ran = 0;
  let qVoteCorrect: boolean[] | undefined;
  let trees: Record<TreeMix, number> | undefined;
  let anchored: number | undefined;
  let widened: EvalSummary['widened'];
  const searchTrees: SearchTree[][] | undefined = o.mode === 'mcts' && o.keepTrees ? problems.map(() => []) : undefined;
  const prog = o.quiet ? null : new Progress({ label: `eval ${o.mode}`, total: problems.length, unit: 'problem' });
  const push = (p: EvalProblem, predicted: string | null, score: number) => {
    const correct = predicted !== null && gradeAnswer(predicted, p.answer);
    rows.push({ problemId: p.id, question: p.question, gold: p.answer, predicted: predicted ?? '', correct, mode: o.mode, score });
  };

  if (o.mode === 'mcts') {
    const proposer = policyProposer([d.lm, ...(d.members ?? [])], d.tok, { temperature: o.temperature, seed: o.seed, copyBias: o.copyBias, loopRepeats: o.loopRepeats });
    const scorer = new PPMScorer(d.ppm!.ppm, d.ppm!.tok, d.sandbox);
    const perRun: (string | null)[][] = problems.map(() => []);
    const perRunVote: (string | null)[][] = problems.map(() => []);
    const perRunQ: number[][] = problems.map(() => []);
    trees = { none: 0, onlyRight: 0, onlyWrong: 0, mixedPicked: 0, mixedMissed: 0 };
    // the greedy decode is policy-rK's alone, as in greedy mode: the same answers
    let choices: FinalChoice[] = problems.map(() => ({ pathScore: o.pathScore }));
    const wideK = widerK(o.search.k ?? SEARCH.k, o.widen);
    const widen = wideK > 0;
    if (o.greedyAnchor > 0 || widen) {
      const g = o.quiet ? null : new Progress({ label: 'eval mcts: greedy anchor', total: problems.length, unit: 'problem' });
      const answers = await greedyAnswers(d, problems.map((p) => p.question), { ...o, onDone: () => g?.tick() });
      g?.finish();
      choices = answers.map((answer) => ({ pathScore: o.pathScore, anchor: { answer, delta: o.greedyAnchor } }));
      if (o.greedyAnchor > 0) anchored = 0;
    }
    if (widen) widened = { k: wideK, searches: 0, gained: 0, lost: 0 };
    for (let r = 0; r < o.runs; r++) {
      const res = await searchMany(
        problems.map((p) => ({ id: p.id, question: p.question, source: p.source })),
        { proposer, scorer, sandbox: d.sandbox, grade: gradeAnswer, onDone: () => prog?.tick(1 / o.runs) },
        { ...o.search, mode: 'ppm', seed: o.seed + r, promptNumbers: d.promptNumbers },
      );
      const wd = widened;
      if (wd) {
        const again = res.flatMap((x, i) => (needsWiderSearch(x.tree, choices[i] as FinalChoice & { anchor: GreedyAnchor }) ? [i] : []));
        const w = o.quiet || !again.length ? null : new Progress({ label: `eval mcts: k ${wideK} where greedy disagrees`, total: again.length, unit: 'problem' });
        const wide = again.length ? await searchMany(
          again.map((i) => ({ id: problems[i]!.id, question: problems[i]!.question, source: problems[i]!.source })),
          { proposer, scorer, sandbox: d.sandbox, grade: gradeAnswer, onDone: () => w?.tick() },
          { ...o.search, k: wideK, mode: 'ppm', seed: o.seed + r, promptNumbers: d.promptNumbers },
        ) : [];
        w?.finish();
        again.forEach((i, j) => {
          const ok = (t: SearchTree) => { const a = treeSolution(t, choices[i])?.answer; return a != null && gradeAnswer(a, problems[i]!.answer); };
          const before = ok(res[i]!.tree), after = ok(wide[j]!.tree);
          wd.searches++;
          if (after && !before) wd.gained++;
          if (before && !after) wd.lost++;
          res[i] = wide[j]!;
        });
      }
      res.forEach((x, i) => {
        const s = treeSolution(x.tree, choices[i]);
        if (anchored !== undefined && s && answerKey(s.answer!) !== answerKey(chosenTerminal(x.tree, { pathScore: o.pathScore })!.answer!)) anchored++;
        perRun[i]!.push(s?.answer ?? null);
        perRunVote[i]!.push(qVote(x.tree));
        perRunQ[i]!.push(s?.score ?? -1);
        searchTrees?.[i]!.push(x.tree);
        const mix = treeMix(x.tree, problems[i]!.answer, choices[i]);
        trees![mix] += 1;
        if (mix === 'onlyRight' || mix === 'mixedPicked' || mix === 'mixedMissed') covered += 1 / o.runs;
      });
    }
    problems.forEach((p, i) => {
      const v = vote(perRun[i]!);
      push(p, v.answer, Math.max(...perRunQ[i]!));
      const qv = vote(perRunVote[i]!).answer;
      (qVoteCorrect ??= []).push(qv !== null && gradeAnswer(qv, p.answer));
    });
  } else {
    const k = o.mode === 'greedy' ? 1 : o.n;
    const temperature = o.mode === 'greedy' ? 0 : o.temperature;
    const per = Math.max(1, Math.floor(o.batch / k));
    for (let i = 0; i < problems.length; i += per) {
      const chunk = problems.slice(i, i + per);
      const texts = await writeSolutions(d, chunk.map((p) => p.question), k, { temperature, maxTokens: o.maxTokens, seed: o.seed + i, copyBias: o.copyBias, loopRepeats: o.loopRepeats });
      for (let j = 0; j < chunk.length; j++) {
        const p = chunk[j]!;
        const sols = await Promise.all(texts[j]!.map((t) => executeSolution(d.sandbox, p.question, t)));
        written += sols.length;
        ran += sols.filter((s) => s.ok && s.answer !== null).length;
        if (sols.some((s) => s.answer !== null && gradeAnswer(s.answer, p.answer))) covered++;
        if (o.mode === 'best-of-n') {
          const full = sols.map((s) => promptFor(p.question, d.promptNumbers) + s.steps.map((st, si) => serializeStep(st, si === s.steps.length - 1)).join(''));
          const scores = await new PPMScorer(d.ppm!.ppm, d.ppm!.tok, d.sandbox).score(full, full.map(() => p.question));
          let best = -1;
          sols.forEach((s, si) => {
            if (s.answer !== null && (best < 0 || scores[si]! > scores[best]!)) best = si;
          });
          push(p, best >= 0 ? sols[best]!.answer : null, best >= 0 ? scores[best]! : -1);
        } else {
          const v = vote(sols.map((s) => s.answer));
          push(p, v.answer, v.votes / k);
        }
        prog?.tick();
      }
    }
  }
  prog?.finish();
  const correct = rows.filter((r) => r.correct).length;
  return { mode: o.mode, n: rows.length, correct, accuracy: rows.length ? correct / rows.length : 0, ci95: wilson(correct, rows.length), rows, coverage: rows.length ? covered / rows.length : 0, runRate: written ? ran / written : undefined,
    correctQVote: qVoteCorrect, accuracyQVote: qVoteCorrect ? qVoteCorrect.filter(Boolean).length / Math.max(1, qVoteCorrect.length) : undefined, trees, anchored, widened, searchTrees };
}

