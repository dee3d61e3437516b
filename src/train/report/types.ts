// What the run report's page receives (inlined as JSON into index.html): shared by the Node side
// (data.ts, index.ts) and the browser side (page.ts).

/** A node's flags (PackedNode[6]). */
export const FLAG = { terminal: 1, correct: 2, chosen: 4, deadEnd: 8 } as const;

/**
 * One tree node, by position (short keys keep a few hundred trees small): the node's index in
 * PackedTree.nodes is its id; the root is 0 and its text is the question.
 */
export type PackedNode = [parent: number, text: string, output: string, q: number, n: number, prior: number | null, flags: number, answer: string];

export interface PackedTree {
  /** Unique in the page: kind:round:problemId:tree. */
  key: string;
  problemId: string;
  round: number;
  kind: 'train' | 'dev';
  /** Which tree of this problem (round 4's extra trees, eval --runs). */
  tree: number;
  gold: string;
  /** The best-Q terminal (the search's answer) is right; null when the tree has no terminal. */
  solved: boolean | null;
  nodes: PackedNode[];
}

export interface EvalResult {
  predicted: string;
  correct: boolean;
}

/** One dev problem under a round's evaluations. */
export interface ProblemResult {
  id: string;
  question: string;
  gold: string;
  greedy?: EvalResult;
  mcts?: EvalResult & { qVote?: boolean };
}

export interface RoundResults {
  round: number;
  problems: ProblemResult[];
}

export interface PageData {
  run: string;
  /** ISO time the report was written. */
  generated: string;
  results: RoundResults[];
  trees: PackedTree[];
  /** Which trees are included (and which were left out to keep the page small). */
  treeNote: string;
}
