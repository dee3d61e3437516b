// Monte Carlo tree search over code-augmented CoT steps, as rStar-Math does it.
//
// A node is one step (root = the question). A rollout walks down from the root:
//   - at a node not yet expanded, the policy proposes k candidate next steps; unparseable ones,
//     duplicates (normalised comment + code) and steps whose code contradicts their operation comment
//     (checkComments) are dropped, the rest run in the sandbox together with the code of their
//     ancestors, and failing ones are dropped. No survivor → the node is a dead end,
//     scored −1 and backed up.
//   - new children are evaluated at once (rStar-Math's create_child/eval_final_answer):
//       terminal (prints the answer): +1 / −1 against the known answer (terminal-guided, and PPM mode
//         while generating training data); with no known answer (test time) its value is the PPM score.
//       non-terminal at the depth limit: −1 (it cannot finish within maxDepth steps).
//     Those values are backed up to every ancestor (Q = value sum / visits).
//     In PPM mode every other new child gets Q initialised with PPM(prefix + step), counted as one visit
//     of that child only (a prior, not a rollout result, so ancestors are not touched).
//   - selection then continues among the children by UCT; terminal, dead-end and depth-limited
//     children are "exhausted" and never selected (rStar-Math skips terminal children), and a node all
//     of whose children are exhausted becomes exhausted itself. The rollout ends when the node it
//     reached is exhausted; the search ends after `rollouts` rollouts or when the root is exhausted.
//
// UCT(child) = Q + c·√(ln N_parent / N_child). Unvisited children follow rStar-Math's MCTSNode.puct():
// Q counts as 0 and the exploration term is 0 when N_child = 0 (or N_parent = 0) — not +∞, no epsilon.
// So an unvisited child scores exactly 0: it beats a sibling whose UCT is negative and loses to one
// whose UCT is positive. Ties go to the lowest child index (candidate order), never to Map order or
// randomness: the search itself is deterministic; the seed only reaches the policy (per request).
//
// Throughput: searchMany runs up to `concurrency` trees at once (each tree's rollouts sequential); their
// model calls are batched by batching.ts.

import { commentContradictsCode, reuseCheckApplies, reusesQuestionNumber, undoesEarlierStep, isPromptNumbers, isTerminal, parseStep, programOf, promptFor, serializeStep, type PromptNumbers, type Step } from '../data/steps.ts';
import { hash32 } from '../util/rng.ts';
import { BatchCoordinator, type ProposeRequest, type StepProposer, type StepScorer } from './batching.ts';
import { SEARCH } from '../config.ts';
import type { RunResult as SandboxRunResult } from '../sandbox/sandbox.ts';
import { answersVariants, type NumberVariant } from './variants.ts';

// ---------------------------------------------------------------------------------------------------
// Contracts

export type { ProposeRequest, StepProposer, StepScorer } from './batching.ts';

/** What src/search/sandbox.ts returns for one trajectory (only these fields are read here). */
export type RunResult = Pick<SandboxRunResult, 'ok' | 'error' | 'output' | 'stepOutput' | 'answer' | 'timedOut'>;

export interface SandboxLike {
  run(codeSteps: string[]): Promise<RunResult>;
  runMany?(batch: string[][]): Promise<RunResult[]>;
}

export type Grader = (pred: string, gold: string) => boolean;

export type SearchMode = 'terminal' | 'ppm';

export interface SearchOptions {
  /** Rollouts per tree (fewer when the whole tree is exhausted first). */
  rollouts: number;
  /** Candidates the policy proposes per expansion. */
  k: number;
  /** UCT exploration constant. */
  c: number;
  /** Most steps in a trajectory; a non-terminal step at this depth scores −1. */
  maxDepth: number;
  /** 'terminal': terminal-guided (rounds 1–2); 'ppm': PPM-augmented (rounds 3–4, test time). */
  mode: SearchMode;
  seed: number;
  /** Trees searched at once. */
  concurrency: number;
  /** Most requests in one policy/PPM call (a policy call decodes k sequences per request). */
  maxBatch: number;
  /** The prompt style the policy was trained with (its checkpoint's; steps.ts PromptNumbers). */
  promptNumbers: PromptNumbers;
  /** Drop candidates whose operation comment the code contradicts (steps.ts commentContradictsCode). */
  checkComments: boolean;
  /** Drop candidates that undo an earlier step (steps.ts undoesEarlierStep). */
  checkUndo: boolean;
  /** Drop candidates in the bootstrap grammar that use a question number a second time (steps.ts reusesQuestionNumber). */
  checkReuse: boolean;
}

export const DEFAULT_SEARCH: Omit<SearchOptions, 'promptNumbers'> = SEARCH;

export interface SearchProblem {
  id: string;
  question: string;
  /** Known answer; absent at test time (PPM mode only). */
  answer?: string | null;
  /** Dataset label, where known: decides whether checkReuse applies (steps.ts reuseCheckApplies). */
  source?: string;
  /** With a known answer: the question with its numbers moved and the reference's answers (variants.ts);
   *  a terminal giving the known answer counts right only if its program answers these too. */
  variants?: readonly NumberVariant[];
}

export interface SearchDeps {
  proposer: StepProposer;
  /** Needed in 'ppm' mode. */
  scorer?: StepScorer;
  sandbox: SandboxLike;
  grade: Grader;
  /** Pass one to read batching stats afterwards (its maxBatch then applies); a fresh one is made otherwise. */
  coordinator?: BatchCoordinator;
  /** Called as each problem finishes (in completion order), e.g. to store its tree for resuming. */
  onDone?: (result: SearchResult, index: number) => void | Promise<void>;
  /** Called after every expansion (new nodes added, their values backed up) and every rollout, and
   *  awaited, so a page can draw the tree as it grows and paint in between. The tree is the live one. */
  onProgress?: (p: SearchProgress) => void | Promise<void>;
}

export interface SearchProgress {
  /** The problem's index in the input. */
  index: number;
  /** 'expand': a node was expanded (`added`: its new children, none for a dead end); 'rollout': a rollout ended. */
  event: 'expand' | 'rollout';
  /** The expanded node ('expand'), else the root. */
  node: number;
  added: number[];
  tree: SearchTree;
  stats: SearchStats;
}

// ---------------------------------------------------------------------------------------------------
// Tree (plain data: JSON-serialisable and self-contained, so a finished tree can be stored as is)

export interface MCTSNode {
  id: number;
  /** −1 for the root. */
  parent: number;
  /** In candidate order: the tie-break order of selection. */
  children: number[];
  /** 0 for the root; a step node's depth is its step number. */
  depth: number;
  /** The step as serialized by steps.ts ('' for the root). */
  text: string;
  step: Step | null;
  /** What this step printed when run after its ancestors. */
  output: string;
  /** Q = valueSum / n (0 while n = 0). */
  q: number;
  n: number;
  valueSum: number;
  /** PPM initial score (PPM mode, non-terminal children), else null. */
  prior: number | null;
  terminal: boolean;
  /** Printed answer of a terminal step. */
  answer: string | null;
  /** Terminal graded against the known answer; null when not terminal or no answer is known. */
  correct: boolean | null;
  expanded: boolean;
  /** Expanded, but every candidate failed. */
  deadEnd: boolean;
  /** Non-terminal at maxDepth. */
  depthLimited: boolean;
  /** Nothing left to search below (terminal, dead end, depth-limited, or all children exhausted). */
  exhausted: boolean;
}

export interface SearchTree {
  problemId: string;
  question: string;
  /** promptFor(question): what every prefix starts with. */
  prompt: string;
  gold: string | null;
  mode: SearchMode;
  nodes: MCTSNode[];
}

export interface SearchStats {
  rollouts: number;
  /** Nodes expanded (policy calls made for this tree). */
  expanded: number;
  /** Raw candidate steps the policy returned. */
  candidates: number;
  unparseable: number;
  duplicates: number;
  /** Candidates dropped because their code contradicts their comment (checkComments). */
  contradictions: number;
  /** Candidates dropped because they undo an earlier step (checkUndo). */
  undone: number;
  /** Candidates dropped because they use a question number a second time (checkReuse). */
  reused: number;
  /** Terminals with the known answer that answered a number variant otherwise (SearchProblem.variants). */
  chanceHits: number;
  sandboxFailures: number;
  deadEnds: number;
  depthLimited: number;
  terminals: number;
  correct: number;
}

export interface SearchResult {
  problemId: string;
  tree: SearchTree;
  stats: SearchStats;
}

export function createTree(problem: SearchProblem, mode: SearchMode, numbers: PromptNumbers): SearchTree {
  const tree: SearchTree = {
    problemId: problem.id,
    question: problem.question,
    prompt: promptFor(problem.question, numbers),
    gold: problem.answer ?? null,
    mode,
    nodes: [],
  };
  tree.nodes.push(blankNode(0, -1, 0, null, ''));
  return tree;
}

function blankNode(id: number, parent: number, depth: number, step: Step | null, output: string): MCTSNode {
  const terminal = step ? isTerminal(step) : false;
  return {
    id,
    parent,
    children: [],
    depth,
    text: step ? serializeStep(step, terminal) : '',
    step,
    output,
    q: 0,
    n: 0,
    valueSum: 0,
    prior: null,
    terminal,
    answer: null,
    correct: null,
    expanded: false,
    deadEnd: false,
    depthLimited: false,
    exhausted: false,
  };
}

/** Append a child step under `parentId` (text, terminal flag and depth derived from the step). */
export function addNode(tree: SearchTree, parentId: number, step: Step, output = ''): MCTSNode {
  const parent = tree.nodes[parentId]!;
  const node = blankNode(tree.nodes.length, parentId, parent.depth + 1, step, output);
  tree.nodes.push(node);
  parent.children.push(node.id);
  return node;
}

/** Add `value` as one visit of `node` and of every ancestor. */
export function backup(tree: SearchTree, node: MCTSNode, value: number): void {
  for (let x: MCTSNode | undefined = node; x; x = x.parent >= 0 ? tree.nodes[x.parent] : undefined) {
    x.valueSum += value;
    x.n += 1;
    x.q = x.valueSum / x.n;
  }
}

/** Node ids from the root's first step down to `id` (the root itself excluded). */
export function pathTo(tree: SearchTree, id: number): number[] {
  const path: number[] = [];
  for (let x = tree.nodes[id]!; x.parent >= 0; x = tree.nodes[x.parent]!) path.push(x.id);
  return path.reverse();
}

/** Prompt + serialized steps down to and including node `id`: what the policy continues from it. */
export function prefixOf(tree: SearchTree, id: number): string {
  return tree.prompt + pathTo(tree, id).map((i) => tree.nodes[i]!.text).join('');
}

/** rStar-Math's UCT: unvisited children (or an unvisited parent) get Q = 0 and no exploration term. */
export function uct(child: Pick<MCTSNode, 'q' | 'n'>, parentN: number, c: number): number {
  if (child.n === 0) return 0;
  const u = parentN > 0 ? c * Math.sqrt(Math.log(parentN) / child.n) : 0;
  return child.q + u;
}

/** The non-exhausted child with the highest UCT; ties → lowest index. Null when none is left. */
export function selectChild(tree: SearchTree, node: MCTSNode, c: number): MCTSNode | null {
  let best: MCTSNode | null = null;
  let bestV = -Infinity;
  for (const id of node.children) {
    const ch = tree.nodes[id]!;
    if (ch.exhausted) continue;
    const v = uct(ch, node.n, c);
    if (v > bestV) {
      best = ch;
      bestV = v;
    }
  }
  return best;
}

/** Mark `node` exhausted when it has been expanded and all its children are, then its ancestors. */
function refreshExhausted(tree: SearchTree, node: MCTSNode): void {
  for (let x: MCTSNode | undefined = node; x; x = x.parent >= 0 ? tree.nodes[x.parent] : undefined) {
    if (x.exhausted) continue;
    if (!x.expanded || !x.children.every((id) => tree.nodes[id]!.exhausted)) return;
    x.exhausted = true;
  }
}

/** Key for duplicate removal: comment and code with whitespace runs collapsed. */
export function stepKey(step: Step): string {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  return `${step.comment.map(norm).filter(Boolean).join('\n')}\u0000${norm(step.code)}`;
}

/** The terminal with the highest Q (ties: more visits, then earlier), or null. */
export function bestTerminal(tree: SearchTree): MCTSNode | null {
  let best: MCTSNode | null = null;
  for (const x of tree.nodes) {
    if (!x.terminal || x.answer === null || x.n === 0) continue;
    if (!best || x.q > best.q || (x.q === best.q && x.n > best.n)) best = x;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// One tree

class TreeSearch {
  readonly tree: SearchTree;
  /** opts.checkReuse, where the problem's source keeps it (reuseCheckApplies). */
  private readonly checkReuse: boolean;
  private readonly variants: readonly NumberVariant[];
  readonly stats: SearchStats = {
    rollouts: 0,
    expanded: 0,
    candidates: 0,
    unparseable: 0,
    duplicates: 0,
    contradictions: 0,
    undone: 0,
    reused: 0,
    chanceHits: 0,
    sandboxFailures: 0,
    deadEnds: 0,
    depthLimited: 0,
    terminals: 0,
    correct: 0,
  };

  constructor(
    problem: SearchProblem,
    private readonly opts: SearchOptions,
    private readonly proposer: StepProposer,
    private readonly scorer: StepScorer | null,
    private readonly sandbox: SandboxLike,
    private readonly grade: Grader,
    private readonly progress?: (event: 'expand' | 'rollout', node: number, added: number[]) => void | Promise<void>,
  ) {
    this.tree = createTree(problem, opts.mode, opts.promptNumbers);
    this.checkReuse = opts.checkReuse && reuseCheckApplies(problem.source);
    this.variants = problem.variants ?? [];
  }

  async run(): Promise<SearchResult> {
    const root = this.tree.nodes[0]!;
    while (this.stats.rollouts < this.opts.rollouts && !root.exhausted) {
      await this.rollout();
      this.stats.rollouts += 1;
      await this.progress?.('rollout', 0, []);
    }
    return { problemId: this.tree.problemId, tree: this.tree, stats: this.stats };
  }

  private async rollout(): Promise<void> {
    let node = this.tree.nodes[0]!;
    for (;;) {
      if (!node.expanded) await this.expand(node);
      const next = selectChild(this.tree, node, this.opts.c);
      if (!next) return; // node is exhausted (refreshExhausted has marked it)
      node = next;
    }
  }

  private async expand(node: MCTSNode): Promise<void> {
    const { tree, opts, stats } = this;
    const path = pathTo(tree, node.id).map((i) => tree.nodes[i]!);
    const prefix = tree.prompt + path.map((x) => x.text).join('');
    const seed = hash32(`${tree.problemId}\u0000${node.id}`, opts.seed);
    const [raw = []] = await this.proposer.propose([{ prefix, k: opts.k, seed }]);
    stats.candidates += raw.length;

    const codes = path.map((x) => x.step!.code);
    const seen = new Set<string>();
    const steps: Step[] = [];
    for (const text of raw) {
      const step = parseStep(text);
      if (!step) {
        stats.unparseable += 1;
        continue;
      }
      const key = stepKey(step);
      if (seen.has(key)) {
        stats.duplicates += 1;
        continue;
      }
      seen.add(key);
      if (opts.checkComments && commentContradictsCode(step)) {
        stats.contradictions += 1;
        continue;
      }
      if (opts.checkUndo && undoesEarlierStep(codes, step.code)) {
        stats.undone += 1;
        continue;
      }
      if (this.checkReuse && reusesQuestionNumber(codes, step)) {
        stats.reused += 1;
        continue;
      }
      steps.push(step);
    }

    // the question's numbers are defined first (numberPrelude), then the ancestors, then the candidate
    const batch = steps.map((s) => programOf(this.tree.question, [...codes, s.code]));
    const results =
      batch.length === 0
        ? []
        : this.sandbox.runMany
          ? await this.sandbox.runMany(batch)
          : await Promise.all(batch.map((b) => this.sandbox.run(b)));

    node.expanded = true;
    stats.expanded += 1;
    const children: { node: MCTSNode; res: RunResult }[] = [];
    steps.forEach((step, i) => {
      const res = results[i]!;
      if (!res.ok) {
        stats.sandboxFailures += 1;
        return;
      }
      children.push({ node: addNode(tree, node.id, step, res.stepOutput), res });
    });

    if (children.length === 0) {
      node.deadEnd = true;
      stats.deadEnds += 1;
      backup(tree, node, -1);
      refreshExhausted(tree, node);
      await this.progress?.('expand', node.id, []);
      return;
    }

    // Decide each child's value (backed up) or PPM prior; collect the texts the PPM must score.
    const value = new Map<number, number>();
    const toScore: MCTSNode[] = [];
    for (const { node: ch, res } of children) {
      if (ch.terminal) {
        stats.terminals += 1;
        ch.answer = res.answer ?? null;
        if (tree.gold !== null) {
          ch.correct = ch.answer !== null && this.grade(ch.answer, tree.gold);
          if (ch.correct && this.variants.length && !(await answersVariants([...codes, ch.step!.code], this.variants, this.sandbox, this.grade))) {
            ch.correct = false;
            stats.chanceHits += 1;
          }
          if (ch.correct) stats.correct += 1;
          value.set(ch.id, ch.correct ? 1 : -1);
        } else if (ch.answer === null) {
          value.set(ch.id, -1); // printed nothing: no answer to score
        } else {
          toScore.push(ch); // test time: the PPM is the terminal's value
        }
      } else if (ch.depth >= opts.maxDepth) {
        ch.depthLimited = true;
        stats.depthLimited += 1;
        value.set(ch.id, -1);
      } else if (opts.mode === 'ppm') {
        toScore.push(ch);
      }
    }
    if (toScore.length > 0) {
      if (!this.scorer) throw new Error('PPM-augmented MCTS needs a scorer');
      const scores = await this.scorer.score(toScore.map((ch) => prefix + ch.text), toScore.map(() => this.tree.question));
      toScore.forEach((ch, i) => {
        const s = scores[i]!;
        if (ch.terminal) value.set(ch.id, s);
        else {
          ch.prior = s;
          ch.valueSum = s;
          ch.n = 1;
          ch.q = s;
        }
      });
    }
    for (const { node: ch } of children) {
      const v = value.get(ch.id);
      if (v === undefined) continue;
      backup(tree, ch, v);
      ch.exhausted = true;
    }
    refreshExhausted(tree, node);
    await this.progress?.('expand', node.id, children.map((c) => c.node.id));
  }
}

// ---------------------------------------------------------------------------------------------------
// Many trees

/** What a caller passes: any option, and the prompt style always (no default: it is the policy's). */
export type SearchSettings = Partial<SearchOptions> & Pick<SearchOptions, 'promptNumbers'>;

function resolveOptions(options: SearchSettings): SearchOptions {
  const opts = { ...DEFAULT_SEARCH, ...options };
  for (const key of ['rollouts', 'k', 'maxDepth', 'concurrency', 'maxBatch'] as const) {
    if (!Number.isInteger(opts[key]) || opts[key] < 1) throw new Error(`MCTS option ${key} must be a positive integer, got ${opts[key]}`);
  }
  if (!(opts.c >= 0)) throw new Error(`MCTS option c must be ≥ 0, got ${opts.c}`);
  if (!isPromptNumbers(opts.promptNumbers)) throw new Error(`MCTS option promptNumbers must be values or names, got ${String(opts.promptNumbers)}`);
  if (opts.mode !== 'terminal' && opts.mode !== 'ppm') throw new Error(`MCTS mode must be terminal or ppm, got ${String(opts.mode)}`);
  return opts;
}

/**
 * Search every problem, up to `concurrency` trees at once; results in input order. Terminal-guided
 * mode needs every problem's answer; PPM mode needs deps.scorer (and scores terminals of problems
 * without an answer).
 */
export async function searchMany(
  problems: SearchProblem[],
  deps: SearchDeps,
  options: SearchSettings,
): Promise<SearchResult[]> {
  const opts = resolveOptions(options);
  for (const p of problems) {
    if (opts.mode === 'terminal' && (p.answer === undefined || p.answer === null)) {
      throw new Error(`terminal-guided MCTS needs the known answer (problem ${p.id})`);
    }
  }
  if (opts.mode === 'ppm' && !deps.scorer) throw new Error('PPM-augmented MCTS needs deps.scorer');

  const coord = deps.coordinator ?? new BatchCoordinator({ maxBatch: opts.maxBatch });
  const proposer = coord.proposer(deps.proposer);
  const scorer = deps.scorer ? coord.scorer(deps.scorer) : null;
  const results: SearchResult[] = new Array(problems.length);
  const workers = Math.min(opts.concurrency, problems.length);
  let next = 0;
  let failed = false;
  // Enter every worker before any starts, so the first flush holds all the roots' requests.
  coord.enter(workers);
  const worker = async (): Promise<void> => {
    try {
      while (!failed && next < problems.length) {
        const i = next++;
        const onProgress = deps.onProgress;
        const search: TreeSearch = new TreeSearch(problems[i]!, opts, proposer, scorer, deps.sandbox, deps.grade, onProgress
          ? (event, node, added) => onProgress({ index: i, event, node, added, tree: search.tree, stats: search.stats })
          : undefined);
        results[i] = await search.run();
        await deps.onDone?.(results[i]!, i);
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      coord.leave();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Search one problem. */
export async function runMCTS(
  problem: SearchProblem,
  deps: SearchDeps,
  options: SearchSettings,
): Promise<SearchResult> {
  const [r] = await searchMany([problem], deps, { ...options, concurrency: 1 });
  return r!;
}
