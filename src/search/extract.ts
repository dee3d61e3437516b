// From search trees to training data: trajectories (policy SFT, top-2 per problem by mean step Q) and
// step-level preference pairs (PPM), as rStar-Math builds them.

import { prefixOf, type MCTSNode, type SearchTree } from './mcts.ts';
import type { PairRow, TrajectoryRow } from '../data/arrow.ts';

export type { TrajectoryRow, PairRow };

/** A trajectory from a tree, with what its steps printed. */
export interface TreeTrajectory extends TrajectoryRow {
  outputs: string[];
  /** Some step printed an error (rStar-Math's `"error" in observation.lower()`). */
  error: boolean;
}

// The sandbox drops steps that throw, but code can still print a caught error ("TypeError: …").
const ERROR_OUTPUT = /error/i;

/** Every root-to-terminal path of the tree, in terminal creation order. */
export function extractTrajectories(tree: SearchTree, meta: { round: number; source: string }): TreeTrajectory[] {
  const rows: TreeTrajectory[] = [];
  for (const t of tree.nodes) {
    if (!t.terminal) continue;
    const path: MCTSNode[] = [];
    for (let x = t; x.parent >= 0; x = tree.nodes[x.parent]!) path.push(x);
    path.reverse();
    const outputs = path.map((x) => x.output);
    rows.push({
      problemId: tree.problemId,
      question: tree.question,
      steps: path.map((x) => x.text),
      q: path.map((x) => x.q),
      visits: path.map((x) => x.n),
      correct: t.correct === true,
      finalAnswer: t.answer ?? '',
      round: meta.round,
      source: meta.source,
      outputs,
      error: outputs.some((o) => ERROR_OUTPUT.test(o)),
    });
  }
  return rows;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Per problem (in order of first appearance): the correct, error-free trajectories ranked by mean
 * step Q (ties: higher min Q, then fewer steps, then text), top `perProblem` (2), identical texts once.
 */
export function selectSFT<T extends TrajectoryRow & { error?: boolean }>(trajs: T[], perProblem = 2): T[] {
  const byProblem = new Map<string, { t: T; meanQ: number; minQ: number; text: string }[]>();
  for (const t of trajs) {
    if (!t.correct || t.error === true || t.steps.length === 0) continue;
    let group = byProblem.get(t.problemId);
    if (!group) byProblem.set(t.problemId, (group = []));
    group.push({ t, meanQ: mean(t.q), minQ: Math.min(...t.q), text: t.steps.join('') });
  }
  const out: T[] = [];
  for (const group of byProblem.values()) {
    group.sort(
      (a, b) =>
        b.meanQ - a.meanQ ||
        b.minQ - a.minQ ||
        a.t.steps.length - b.t.steps.length ||
        (a.text < b.text ? -1 : a.text > b.text ? 1 : 0),
    );
    const taken = new Set<string>();
    for (const g of group) {
      if (taken.size >= perProblem) break;
      if (taken.has(g.text)) continue;
      taken.add(g.text);
      out.push(g.t);
    }
  }
  return out;
}

/**
 * Step-level preference pairs. At every node, children are split by the terminals below them:
 * positive = some correct terminal below (even if wrong ones are below too: a step from which the
 * answer can be reached is a good step, as in rStar-Math); negative = wrong terminals below and no
 * correct one. Children with no graded terminal below (unexplored, dead ends, depth-limited) are
 * neither. Positives by Q descending and negatives by Q ascending (ties: more visits, then earlier);
 * take 2 of each, or — when one side has a single child — that one against up to 4 of the other; all
 * combinations, kept only when Q⁺ > Q⁻.
 */
export function buildPairs(tree: SearchTree, round: number): PairRow[] {
  const n = tree.nodes.length;
  const hasCorrect = new Array<boolean>(n).fill(false);
  const hasWrong = new Array<boolean>(n).fill(false);
  // Children are created after their parents, so descending ids visit every subtree before its root.
  for (let id = n - 1; id >= 0; id--) {
    const x = tree.nodes[id]!;
    if (x.terminal && x.correct === true) hasCorrect[id] = true;
    if (x.terminal && x.correct === false) hasWrong[id] = true;
    if (x.parent >= 0) {
      hasCorrect[x.parent] ||= hasCorrect[id]!;
      hasWrong[x.parent] ||= hasWrong[id]!;
    }
  }

  const pairs: PairRow[] = [];
  for (const node of tree.nodes) {
    if (node.children.length < 2) continue;
    const kids = node.children.map((id) => tree.nodes[id]!);
    const pos = kids.filter((c) => hasCorrect[c.id]).sort((a, b) => b.q - a.q || b.n - a.n || a.id - b.id);
    const neg = kids
      .filter((c) => hasWrong[c.id] && !hasCorrect[c.id])
      .sort((a, b) => a.q - b.q || b.n - a.n || a.id - b.id);
    if (pos.length === 0 || neg.length === 0) continue;
    const [np, nn] = pos.length === 1 ? [1, 4] : neg.length === 1 ? [4, 1] : [2, 2];
    let prefix: string | null = null;
    for (const p of pos.slice(0, np)) {
      for (const q of neg.slice(0, nn)) {
        if (!(p.q > q.q)) continue;
        prefix ??= prefixOf(tree, node.id);
        pairs.push({
          problemId: tree.problemId,
          question: tree.question,
          prefix,
          positive: p.text,
          negative: q.text,
          qPos: p.q,
          qNeg: q.q,
          round,
        });
      }
    }
  }
  return pairs;
}
