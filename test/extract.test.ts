import { describe, expect, it } from 'vitest';
import { MARK, promptFor } from '../src/data/steps.ts';
import { addNode, backup, createTree, type MCTSNode, type SearchTree } from '../src/search/mcts.ts';
import { buildPairs, extractTrajectories, selectSFT, type TrajectoryRow } from '../src/search/extract.ts';

const S = (code: string) => ({ comment: [code.replace(/[^a-z0-9]/gi, '')], code });
const text = (code: string, end: string = MARK.endStep) => `// ${code.replace(/[^a-z0-9]/gi, '')}\n${code}\n${end}\n`;

/** A graded terminal under `parent`, backed up ±1 as terminal-guided search does. */
function term(tree: SearchTree, parent: number, code: string, answer: string, correct: boolean | null): MCTSNode {
  const t = addNode(tree, parent, S(code), answer);
  t.answer = answer;
  t.correct = correct;
  t.exhausted = true;
  backup(tree, t, correct ? 1 : -1);
  return t;
}

/**
 * root ─ A (const a = 2) ─ A1 print(a * 2) = 4 ✓
 *      │                 └ A2 print(a + 1) = 3 ✗
 *      ├ B (const b = 3) ─ B1 (const c = b + 1) ─ B1a print(c) = 4 ✓
 *      ├ C print(5) ✗
 *      └ D (const d = 0): dead end (Q −1, nothing graded below)
 */
function sampleTree() {
  const tree = createTree({ id: 'p1', question: 'Twice two?', answer: '4' }, 'terminal', 'values');
  const A = addNode(tree, 0, S('const a = 2;'));
  const B = addNode(tree, 0, S('const b = 3;'));
  const C = term(tree, 0, 'print(5);', '5', false);
  const D = addNode(tree, 0, S('const d = 0;'));
  D.deadEnd = true;
  backup(tree, D, -1);
  const A1 = term(tree, A.id, 'print(a * 2);', '4', true);
  const A2 = term(tree, A.id, 'print(a + 1);', '3', false);
  const B1 = addNode(tree, B.id, S('const c = b + 1;'));
  const B1a = term(tree, B1.id, 'print(c);', '4', true);
  return { tree, A, B, C, D, A1, A2, B1, B1a };
}

describe('extractTrajectories', () => {
  it('returns every root-to-terminal path with per-step Q and visits', () => {
    const { tree } = sampleTree();
    const rows = extractTrajectories(tree, { round: 2, source: 'gsm8k' });
    expect(rows.map((r) => ({ steps: r.steps, q: r.q, visits: r.visits, correct: r.correct, finalAnswer: r.finalAnswer }))).toEqual([
      { steps: [text('print(5);', MARK.endSolution)], q: [-1], visits: [1], correct: false, finalAnswer: '5' },
      {
        steps: [text('const a = 2;'), text('print(a * 2);', MARK.endSolution)],
        q: [0, 1],
        visits: [2, 1],
        correct: true,
        finalAnswer: '4',
      },
      {
        steps: [text('const a = 2;'), text('print(a + 1);', MARK.endSolution)],
        q: [0, -1],
        visits: [2, 1],
        correct: false,
        finalAnswer: '3',
      },
      {
        steps: [text('const b = 3;'), text('const c = b + 1;'), text('print(c);', MARK.endSolution)],
        q: [1, 1, 1],
        visits: [1, 1, 1],
        correct: true,
        finalAnswer: '4',
      },
    ]);
    expect(rows[0]).toMatchObject({ problemId: 'p1', question: 'Twice two?', round: 2, source: 'gsm8k', error: false });
    // Prompt + steps is the full SFT text.
    expect(promptFor(rows[3]!.question, 'values') + rows[3]!.steps.join('')).toContain(`${MARK.solution}\n// constb3\nconst b = 3;`);
  });

  it('flags a trajectory whose step printed an error', () => {
    const { tree, A } = sampleTree();
    A.output = 'TypeError: cannot read x';
    const rows = extractTrajectories(tree, { round: 1, source: 's' });
    expect(rows.map((r) => r.error)).toEqual([false, true, true, false]);
    // …and selectSFT leaves it out, keeping the other correct one.
    expect(selectSFT(rows).map((r) => r.finalAnswer + r.steps.length)).toEqual(['43']);
  });

  it('a test-time tree (no answer) yields trajectories marked not correct', () => {
    const tree = createTree({ id: 't', question: 'q' }, 'ppm', 'values');
    term(tree, 0, 'print(1);', '1', null);
    expect(extractTrajectories(tree, { round: 4, source: 'x' })).toMatchObject([{ correct: false, finalAnswer: '1' }]);
  });
});

function row(problemId: string, steps: string[], q: number[], extra: Partial<TrajectoryRow & { error: boolean }> = {}) {
  return {
    problemId,
    question: 'q',
    steps,
    q,
    visits: q.map(() => 1),
    correct: true,
    finalAnswer: '1',
    round: 1,
    source: 's',
    ...extra,
  };
}

describe('selectSFT', () => {
  it('keeps the top 2 correct, error-free trajectories per problem by mean Q, then min Q, then length, then text', () => {
    const rows = [
      row('P1', ['r1a', 'r1b'], [0.5, 1]), // mean .75, min .5
      row('P2', ['a0', 's1b', 's1c'], [0.5, 1, 0.75]), // mean .75, min .5, 3 steps (text sorts first)
      row('P1', ['r3a', 'r3b', 'r3c'], [0.9, 0.6, 1]), // mean .833: best
      row('P1', ['r4a', 'r4b'], [1, 1], { error: true }), // best Q but printed an error
      row('P1', ['r5a', 'r5b'], [1, 1], { correct: false }), // wrong
      row('P1', ['r6a', 'r6b'], [0.75, 0.75]), // mean .75, min .75: beats r1 on min Q
      row('P2', ['b', 's2'], [1, 0.5]), // mean .75, min .5, 2 steps: beats s1 on length
      row('P2', ['a', 's3'], [0.5, 1]), // ties s2 on everything but text: 'as3' < 'bs2'
      row('P2', ['a', 's3'], [0.5, 1]), // same text again: taken once
    ];
    expect(selectSFT(rows).map((r) => r.steps.join(''))).toEqual(['r3ar3br3c', 'r6ar6b', 'as3', 'bs2']);
    expect(selectSFT(rows, 1).map((r) => r.steps.join(''))).toEqual(['r3ar3br3c', 'as3']);
  });

  it('on a tree: the correct paths, best mean Q first', () => {
    const { tree } = sampleTree();
    const picked = selectSFT(extractTrajectories(tree, { round: 1, source: 's' }));
    expect(picked.map((r) => r.q)).toEqual([
      [1, 1, 1],
      [0, 1],
    ]);
  });
});

describe('buildPairs', () => {
  it('pairs steps leading to correct answers against steps leading only to wrong ones, per node', () => {
    const { tree, A, B, C, D, A1, A2 } = sampleTree();
    const pairs = buildPairs(tree, 3);
    // Root: positives B (Q 1) and A (Q 0; wrong answers below it too, but a correct one → positive only);
    // negatives: C (Q −1). D (dead end, Q −1) has no graded terminal below: neither side.
    // One negative → it is paired with up to 4 positives. Then at A: A1 vs A2.
    expect(pairs.map((p) => [p.prefix, p.positive, p.negative, p.qPos, p.qNeg])).toEqual([
      [tree.prompt, B.text, C.text, 1, -1],
      [tree.prompt, A.text, C.text, 0, -1],
      [tree.prompt + A.text, A1.text, A2.text, 1, -1],
    ]);
    expect(pairs.every((p) => p.problemId === 'p1' && p.round === 3)).toBe(true);
    expect(pairs.some((p) => p.negative === D.text || p.negative === A.text)).toBe(false);
  });

  /** Root children with set Q; each gets one graded terminal below it. */
  function fan(kids: { name: string; q: number; n?: number; correct: boolean }[]) {
    const tree = createTree({ id: 'f', question: 'q', answer: '1' }, 'ppm', 'values');
    const nodes = kids.map((k) => {
      const x = addNode(tree, 0, S(`const ${k.name} = 0;`));
      const t = addNode(tree, x.id, S(`print(${k.name});`));
      t.correct = k.correct;
      t.answer = k.correct ? '1' : '0';
      Object.assign(x, { q: k.q, n: k.n ?? 1 });
      return x;
    });
    const name = (t: string) => /const (\w+)/.exec(t)![1];
    return { tree, nodes, name };
  }

  it('2 vs 2: top-2 positives by Q (ties: more visits) × bottom-2 negatives, keeping only Q⁺ > Q⁻', () => {
    const { tree, name } = fan([
      { name: 'p4', q: 0.8, n: 1, correct: true },
      { name: 'p1', q: 0.9, correct: true },
      { name: 'p2', q: 0.8, n: 3, correct: true },
      { name: 'p3', q: 0.7, correct: true },
      { name: 'n1', q: -0.9, correct: false },
      { name: 'n2', q: 0.85, correct: false },
    ]);
    const pairs = buildPairs(tree, 3);
    expect(pairs.map((p) => `${name(p.positive)}>${name(p.negative)}`)).toEqual(['p1>n1', 'p1>n2', 'p2>n1']); // p2 0.8 ≯ n2 0.85
    expect(pairs[1]).toMatchObject({ qPos: 0.9, qNeg: 0.85, prefix: tree.prompt, question: tree.question });
  });

  it('1 vs 4: a single positive meets the 4 lowest-Q negatives (still only when Q⁺ > Q⁻)', () => {
    const { tree, name } = fan([
      { name: 'n1', q: 0.5, correct: false },
      { name: 'n2', q: -0.5, correct: false },
      { name: 'p', q: 0.2, correct: true },
      { name: 'n3', q: 0.3, correct: false },
      { name: 'n4', q: -0.9, correct: false },
      { name: 'n5', q: 0.1, correct: false },
    ]);
    // Negatives by Q: n4 −0.9, n2 −0.5, n5 0.1, n3 0.3 (n1 0.5 is 5th); n3 fails Q⁺ > Q⁻.
    expect(buildPairs(tree, 4).map((p) => `${name(p.positive)}>${name(p.negative)}`)).toEqual(['p>n4', 'p>n2', 'p>n5']);
  });

  it('4 vs 1: a single negative meets the 4 highest-Q positives', () => {
    const { tree, name } = fan([
      { name: 'a', q: 0.1, correct: true },
      { name: 'b', q: 0.5, correct: true },
      { name: 'c', q: 0.3, correct: true },
      { name: 'd', q: 0.4, correct: true },
      { name: 'e', q: 0.2, correct: true },
      { name: 'n', q: 0.15, correct: false },
    ]);
    expect(buildPairs(tree, 4).map((p) => `${name(p.positive)}>${name(p.negative)}`)).toEqual(['b>n', 'd>n', 'c>n', 'e>n']);
  });

  it('no pairs without both sides (e.g. a test-time tree, nothing graded)', () => {
    const tree = createTree({ id: 't', question: 'q' }, 'ppm', 'values');
    term(tree, 0, 'print(1);', '1', null);
    term(tree, 0, 'print(2);', '2', null);
    expect(buildPairs(tree, 4)).toEqual([]);
    const { tree: allGood } = fan([
      { name: 'a', q: 0.1, correct: true },
      { name: 'b', q: 0.5, correct: true },
    ]);
    expect(buildPairs(allGood, 1)).toEqual([]);
  });
});
