// Saved MCTS trees: what a search shard keeps of each tree (compactTree, one JSON value per tree in
// the shard line) and the round's merged tree file (round-K/trees.arrow, round-K/eval-mcts/trees.arrow;
// data/arrow.ts treeNodes), which the run report reads, so showing a tree needs no new search.
import type { TreeNodeRow } from '../../data/arrow.ts';
import { writeTreeNodes } from '../../data/arrow.ts';
import { gradeAnswer } from '../../data/grade.ts';
import { bestTerminal, pathTo, type MCTSNode, type SearchTree } from '../../search/mcts.ts';

/** One node as a shard line carries it (JSON has no NaN: `prior` is null when there was none). */
export type SavedNode = Omit<TreeNodeRow, 'problemId' | 'round' | 'kind' | 'tree' | 'gold' | 'prior'> & { prior: number | null };

export interface SavedTree {
  gold: string;
  nodes: SavedNode[];
}

/** A step's printed output rarely runs long; a runaway print loop must not bloat every shard line. */
const MAX_OUTPUT = 1000;

/**
 * The parts of a tree the report shows. The root's text is the question. Terminals are graded against
 * `gold` here when the search had no known answer (test time), so dev trees colour right and wrong too.
 * The chosen path ends at `best`: the highest-Q terminal unless the evaluation answered with another.
 */
export function compactTree(tree: SearchTree, gold: string | null = tree.gold, best: MCTSNode | null = bestTerminal(tree)): SavedTree {
  const chosen = new Set(best ? [0, ...pathTo(tree, best.id)] : []);
  return {
    gold: gold ?? '',
    nodes: tree.nodes.map((x) => ({
      id: x.id,
      parent: x.parent,
      depth: x.depth,
      text: x.parent < 0 ? tree.question : x.text,
      output: x.output.length > MAX_OUTPUT ? `${x.output.slice(0, MAX_OUTPUT)}…` : x.output,
      q: x.q,
      n: x.n,
      prior: x.prior,
      terminal: x.terminal,
      answer: x.answer ?? '',
      correct: x.correct ?? (x.terminal && x.answer !== null && gold !== null && gradeAnswer(x.answer, gold)),
      chosen: chosen.has(x.id),
      deadEnd: x.deadEnd,
    })),
  };
}

/** Rows of the tree file for shard lines that carry trees, in line order (their tree index per problem). */
export function* treeRows(lines: Iterable<{ problemId: string; trees?: SavedTree[] }>, o: { round: number; kind: TreeNodeRow['kind'] }): Generator<TreeNodeRow> {
  for (const l of lines) {
    for (const [tree, t] of (l.trees ?? []).entries()) {
      for (const x of t.nodes) yield { problemId: l.problemId, round: o.round, kind: o.kind, tree, gold: t.gold, ...x, prior: x.prior ?? NaN };
    }
  }
}

/**
 * Merge the lines' trees into `file` (atomically). Lines from shards that kept no trees (older runs)
 * contribute none; when no line has any, nothing is written and 0 returned.
 */
export async function writeTrees(file: string, lines: readonly { problemId: string; trees?: SavedTree[] }[], o: { round: number; kind: TreeNodeRow['kind'] }): Promise<number> {
  if (!lines.some((l) => l.trees?.length)) return 0;
  return writeTreeNodes(file, treeRows(lines, o));
}
