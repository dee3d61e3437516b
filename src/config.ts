// The one table of defaults. Every command and the self-evolution loop start from these; a CLI flag or
// a preset field (src/train/presets.ts) overrides one, and nothing else writes these numbers.
// No imports: every layer may read it.

/** MCTS (src/search/mcts.ts). `solve`, `eval` and self-evolve's dev evaluation all search with these
 *  (test time); a training round takes rollouts, k and maxDepth from its preset. */
export const SEARCH = {
  /** Rollouts per tree. */
  rollouts: 16,
  /** Candidate steps per expansion, one batched decode (split among the policies of an ensemble). */
  k: 8,
  /** UCT exploration constant (rStar-Math's c = 2). */
  c: 2,
  /** Most steps in a trajectory. */
  maxDepth: 10,
  mode: 'terminal' as 'terminal' | 'ppm',
  seed: 0,
  /** Trees searched at once; their model calls are batched together. */
  concurrency: 16,
  /** Most requests in one policy / PPM call. */
  maxBatch: 64,
  /** Drop candidates whose operation comment the code contradicts. */
  checkComments: true,
  /** Drop candidates that undo an earlier step or cancel a name against itself (steps.ts undoesEarlierStep). */
  checkUndo: true,
  /** Drop bootstrap-grammar candidates that use a question number a second time (steps.ts
   *  reusesQuestionNumber). Test-time searches only: the training rounds' searches keep every such
   *  step (self-evolve.ts); with it there too a full run answered fewer (README). */
  checkReuse: true,
  /** The final choice: answer the policy's greedy answer when a terminal giving it scores within this of
   *  the top Q (search/evaluate.ts chosenTerminal); 0 = off, the highest-Q terminal as in rStar-Math.
   *  Test time only (eval, solve, the browser page, self-evolve's dev evaluation). */
  greedyAnchor: 0.1,
  /** What the final choice ranks a terminal by (search/evaluate.ts pathScoreOf): 'min', the lowest PPM
   *  score along its path; 'terminal', its own Q as in rStar-Math. Test time only, as greedyAnchor. */
  pathScore: 'min' as 'min' | 'terminal',
  /** Where the final choice's answer differs from the policy's greedy answer, search that problem again
   *  with this many times k candidates per expansion and answer from the wider tree (search/evaluate.ts
   *  needsWiderSearch; README "Wider search where the search and greedy disagree"); ≤ 1 = off. Test time
   *  only (eval, solve, the browser page; not self-evolve's dev evaluation). */
  widen: 3,
  /** Most tokens of one step; the context bounds it further (a step may fill what the prefix leaves).
   *  DeepMind steps that copy an expression run to 470 tokens (p99 268), and longer inputs make longer
   *  steps: 320 dropped every candidate for 9-number sorts (extrapolation), so only the context bounds them. */
  maxStepTokens: 1024,
  /** Logit bonus for tokens that continue a string literal or comment as a copy of the question
   *  (search/copy-bias.ts); every decode of the policy, System 1 included. 0 = off. */
  copyBias: 8,
  /** A decode of the policy, System 1 included, ends unfinished once its last tokens are one block of
   *  at least loopMinTokens written this many times running (generate.ts; a one-line comment is ~9
   *  tokens). 0 = off. */
  loopRepeats: 3,
  loopMinTokens: 8,
};

/** Test-time modes besides MCTS (src/search/evaluate.ts). */
export const EVAL = {
  /** Samples for majority vote and best-of-N. */
  n: 8,
  /** Independent MCTS runs voting. */
  runs: 1,
  /** Sampling temperature (maj, best-of-n, MCTS expansions). */
  temperature: 0.8,
  /** Most tokens of one System-1 solution (the context bounds it further). */
  maxTokens: 512,
  /** Sequences decoded at once (System 1). */
  batch: 32,
};

/** `train-policy` (SFT) and `train-ppm` when run by hand; self-evolve's presets set their own. */
export const TRAIN_POLICY = { steps: 2000, batchTokens: 4096, lr: 2e-3, evalEvery: 200 };
export const TRAIN_PPM = { steps: 200, batchPairs: 16, lr: 1.5e-4, evalEvery: 25 };

/** Seed of every command unless --seed says otherwise. */
export const SEED = 1234;
