// Evaluation helpers: the Wilson interval, McNemar's exact test, majority vote over equivalent answers, and running a
// written solution in the real sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerKey } from '../src/data/grade.ts';
import { serializeSolution, serializeStep } from '../src/data/steps.ts';
import { executeSolution, mcnemarExact, vote, wilson } from '../src/search/evaluate.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

describe('wilson', () => {
  it('matches published 95% intervals', () => {
    // Wilson score intervals, z = 1.96
    const cases: [number, number, [number, number]][] = [
      [0, 10, [0, 0.2775]],
      [5, 10, [0.2366, 0.7634]],
      [10, 10, [0.7225, 1]],
      // Newcombe (1998), Stat. Med. 17:857, Table II, method 3 (score, no continuity correction)
      [81, 263, [0.2553, 0.3662]],
      [15, 148, [0.0624, 0.1605]],
      [0, 20, [0, 0.1611]],
      [1, 29, [0.0061, 0.1718]],
    ];
    for (const [k, n, [lo, hi]] of cases) {
      const [a, b] = wilson(k, n);
      expect(a, `${k}/${n}`).toBeCloseTo(lo, 4);
      expect(b, `${k}/${n}`).toBeCloseTo(hi, 4);
    }
  });

  it('contains the point estimate, is symmetric in k ↔ n-k, and narrows with n', () => {
    for (const n of [1, 7, 40, 500]) {
      for (const k of [0, 1, Math.floor(n / 3), n]) {
        if (k > n) continue;
        const [a, b] = wilson(k, n);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(1);
        expect(a).toBeLessThanOrEqual(k / n + 1e-12);
        expect(b).toBeGreaterThanOrEqual(k / n - 1e-12);
        const [c, d] = wilson(n - k, n);
        expect(c).toBeCloseTo(1 - b, 12);
        expect(d).toBeCloseTo(1 - a, 12);
      }
    }
    const width = (k: number, n: number) => wilson(k, n)[1] - wilson(k, n)[0];
    expect(width(50, 100)).toBeLessThan(width(5, 10));
    expect(width(500, 1000)).toBeLessThan(width(50, 100));
  });
});

describe('vote', () => {
  it('picks the most common answer, bucketing equivalent forms together', () => {
    expect(answerKey('0.5')).toBe(answerKey('1/2'));
    // "0.5" and "1/2" are one answer with 3 votes; "3" has 2
    expect(vote(['3', '0.5', '1/2', '3', '\\frac{1}{2}'])).toEqual({ answer: '0.5', votes: 3 });
    expect(vote(['2', '2.0', '7'])).toEqual({ answer: '2', votes: 2 });
  });

  it('breaks ties by the first answer seen, and returns the first-seen spelling', () => {
    expect(vote(['7', '1/2', '0.5', '7'])).toEqual({ answer: '7', votes: 2 });
    expect(vote(['1/2', '7', '7', '0.5'])).toEqual({ answer: '1/2', votes: 2 });
    expect(vote(['b', 'a'])).toEqual({ answer: 'b', votes: 1 });
  });

  it('ignores missing answers and uses weights when given', () => {
    expect(vote([null, null])).toEqual({ answer: null, votes: 0 });
    expect(vote([null, '4', null])).toEqual({ answer: '4', votes: 1 });
    // weights beat counts
    expect(vote(['4', '5', '5'], [0.9, 0.3, 0.4])).toEqual({ answer: '4', votes: 0.9 });
    expect(vote(['4', '5', '5'], [0.5, 0.3, 0.4]).answer).toBe('5');
  });
});

describe('executeSolution', () => {
  const Q = 'What is two plus two?';
  let pool: SandboxPool;
  beforeAll(() => {
    pool = new SandboxPool({ workers: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('runs every step cumulatively and returns what the last step printed', async () => {
    const text = serializeSolution([
      { comment: ['Natalia sold 48/2 clips in May.'], code: 'const may = 48 / 2;' },
      { comment: ['Altogether.'], code: 'const total = 48 + may;\nprint(total);' },
    ]);
    const s = await executeSolution(pool, Q, text);
    expect(s.ok).toBe(true);
    expect(s.answer).toBe('72');
    expect(s.steps).toHaveLength(2);
    expect(s.steps[1]!.code).toContain('print(total)');
  });

  it('an incomplete solution (no end marker) still runs what it has', async () => {
    const text = serializeStep({ comment: ['Half.'], code: 'const h = 9 / 2;' }, false) + '// Print it\nprint(h)';
    const s = await executeSolution(pool, Q, text);
    expect(s.ok).toBe(true);
    expect(s.answer).toBe('4.5');
  });

  it('a step that throws gives ok=false, no answer, and the error', async () => {
    const text = serializeSolution([
      { comment: ['Use an undefined name.'], code: 'const x = missing + 1;' },
      { comment: ['Print.'], code: 'print(x);' },
    ]);
    const s = await executeSolution(pool, Q, text);
    expect(s.ok).toBe(false);
    expect(s.answer).toBeNull();
    expect(s.error).toMatch(/missing/);
  });

  it('a solution that prints nothing has no answer; text without code has no steps', async () => {
    const quiet = await executeSolution(pool, Q, serializeSolution([{ comment: ['Nothing printed.'], code: 'const x = 1;' }]));
    expect(quiet.ok).toBe(true);
    expect(quiet.answer).toBeNull();
    const empty = await executeSolution(pool, Q, '// just a comment\n<end_of_solution>\n');
    expect(empty.ok).toBe(false);
    expect(empty.answer).toBeNull();
    expect(empty.error).toBe('no steps');
  });

  it('the question\'s numbers are defined for the steps as n0, n1, …', async () => {
    const q = 'Bryan has 56 books in each of his 9 shelves. How many books does he have?';
    const s = await executeSolution(pool, q, serializeSolution([{ comment: ['Books per shelf times shelves.'], code: 'const books = n0 * n1;\nprint(books);' }]));
    expect(s.ok).toBe(true);
    expect(s.answer).toBe('504');
    // without numbers in the question there is nothing to define
    const none = await executeSolution(pool, Q, serializeSolution([{ comment: ['No n0 here.'], code: 'print(n0);' }]));
    expect(none.ok).toBe(false);
  });

  it('a runaway step times out instead of hanging the evaluation', async () => {
    const s = await executeSolution(pool, Q, serializeSolution([{ comment: ['Loop.'], code: 'while (true) {}\nprint(1);' }]));
    expect(s.ok).toBe(false);
    expect(s.answer).toBeNull();
  });
});

describe('qVote', () => {
  it('weights each terminal answer by (Q + 1) / 2 and buckets equivalent answers', async () => {
    const { createTree, addNode } = await import('../src/search/mcts.ts');
    const { qVote, treeSolution } = await import('../src/search/evaluate.ts');
    const tree = createTree({ id: 'p', question: 'q 1 2', answer: null }, 'ppm', 'values');
    const term = (answer: string, q: number) => {
      const n = addNode(tree, 0, { comment: [], code: `print(${answer});` });
      Object.assign(n, { terminal: true, answer, q, n: 1, valueSum: q });
    };
    term('7', 0.9);    // votes 0.95
    term('0.5', -0.5); // 0.25
    term('1/2', 0.1);  // 0.55 → "0.5" and "1/2" together: 0.8 < 0.95
    expect(qVote(tree)).toBe('7');
    term('1/2', 0.0);  // +0.5 → 1.3 > 0.95
    expect(qVote(tree)).toBe('0.5');
    // rStar's own choice stays the single highest-Q terminal
    expect(treeSolution(tree)!.answer).toBe('7');
  });
});

describe('chosenTerminal (the greedy anchor)', () => {
  it("answers greedy's answer only when a visited terminal giving it scores within delta of the top score", async () => {
    const { createTree, addNode, bestTerminal } = await import('../src/search/mcts.ts');
    const { chosenTerminal, treeSolution, treeMix } = await import('../src/search/evaluate.ts');
    const tree = createTree({ id: 'p', question: 'q 1 2', answer: null }, 'ppm', 'values');
    const term = (answer: string, q: number, n = 1) => {
      const x = addNode(tree, 0, { comment: [], code: `print(${answer});` });
      Object.assign(x, { terminal: true, answer, q, n, valueSum: q * n });
      return x;
    };
    const top = term('8', 0.5);
    term('3', 0.3);
    const near = term('3.0', 0.42); // the same answer as '3' (answerKey): the better of the two is taken
    term('12', 0.49, 0); // never visited: not offered
    const anchor = (answer: string | null, delta: number) => ({ anchor: { answer, delta } });
    expect(chosenTerminal(tree)).toBe(top);
    expect(chosenTerminal(tree, anchor('3', 0.1))).toBe(near);
    expect(treeSolution(tree, anchor('3', 0.1))!.answer).toBe('3.0');
    expect(treeMix(tree, '3', anchor('3', 0.1))).toBe('mixedPicked');
    expect(treeMix(tree, '3')).toBe('mixedMissed');
    // 0.08 below the top: outside a delta of 0.05; delta 0 or no greedy answer is the top terminal
    expect(chosenTerminal(tree, anchor('3', 0.05))).toBe(top);
    expect(chosenTerminal(tree, anchor('3', 0))).toBe(top);
    expect(chosenTerminal(tree, anchor(null, 0.1))).toBe(top);
    // an answer no terminal gives, or one only an unvisited terminal gives
    expect(chosenTerminal(tree, anchor('5', 1))).toBe(top);
    expect(chosenTerminal(tree, anchor('12', 1))).toBe(top);
    // greedy's answer on top already: the top terminal
    expect(chosenTerminal(tree, anchor('8', 0.1))).toBe(bestTerminal(tree));
  });
});

describe('needsWiderSearch', () => {
  it("is true when the final choice's answer differs from greedy's, or either is missing", async () => {
    const { createTree, addNode } = await import('../src/search/mcts.ts');
    const { needsWiderSearch } = await import('../src/search/evaluate.ts');
    const tree = createTree({ id: 'p', question: 'q 1 2', answer: null }, 'ppm', 'values');
    const c = (answer: string | null) => ({ anchor: { answer, delta: 0.1 } });
    expect(needsWiderSearch(tree, c('3'))).toBe(true); // no terminal yet
    const term = (answer: string, q: number) => Object.assign(addNode(tree, 0, { comment: [], code: `print(${answer});` }), { terminal: true, answer, q, n: 1, valueSum: q });
    term('8', 0.5);
    term('3', 0.45);
    expect(needsWiderSearch(tree, c('8.0'))).toBe(false); // the same answer (answerKey)
    expect(needsWiderSearch(tree, c('3'))).toBe(false); // the anchor chose greedy's answer: they agree
    expect(needsWiderSearch(tree, c('5'))).toBe(true); // greedy's answer is not in the tree
    expect(needsWiderSearch(tree, c(null))).toBe(true); // greedy wrote no answer
    expect(needsWiderSearch(tree, { anchor: { answer: '3', delta: 0 } })).toBe(true); // no anchor: the top terminal, 8
  });
});

describe('pathScoreOf and the final choice by the path\'s weakest step', () => {
  it("ranks terminals by the lowest PPM score on their path ('min') or by their own Q ('terminal')", async () => {
    const { createTree, addNode, bestTerminal } = await import('../src/search/mcts.ts');
    const { chosenTerminal, pathScoreOf, treeSolution } = await import('../src/search/evaluate.ts');
    const tree = createTree({ id: 'p', question: 'q 1 2 3', answer: null }, 'ppm', 'values');
    const step = (parent: number, prior: number, q: number) => Object.assign(addNode(tree, parent, { comment: [], code: `const r${tree.nodes.length} = 1;` }), { prior, q, n: 2, valueSum: 2 * q });
    const term = (parent: number, answer: string, q: number) => Object.assign(addNode(tree, parent, { comment: [], code: `print(${answer});` }), { terminal: true, answer, q, n: 1, valueSum: q, prior: q });
    const weak = step(0, -0.6, 0.2); // a misread first step the PPM scored low when it entered the tree
    const sure = term(weak.id, '9', 0.8); // ... under a confident last step
    const good = step(0, 0.5, 0.4);
    const mid = step(good.id, 0.3, 0.35);
    const fair = term(mid.id, '6', 0.45);
    expect(pathScoreOf(tree, sure, 'terminal')).toBe(0.8);
    expect(pathScoreOf(tree, sure, 'min')).toBe(-0.6);
    expect(pathScoreOf(tree, fair, 'min')).toBe(0.3);
    // a step without a prior (a terminal-guided tree) counts with its Q
    const setPrior = (x: { prior: number | null }, v: number | null) => void (x.prior = v);
    setPrior(mid, null);
    expect(pathScoreOf(tree, fair, 'min')).toBe(0.35);
    setPrior(mid, 0.3);
    expect(bestTerminal(tree)).toBe(sure);
    expect(chosenTerminal(tree, { pathScore: 'terminal' })).toBe(sure);
    expect(chosenTerminal(tree, { pathScore: 'min' })).toBe(fair);
    expect(treeSolution(tree, { pathScore: 'min' })!.score).toBe(0.3);
    expect(treeSolution(tree, { pathScore: 'terminal' })!.score).toBe(0.8);
    // the anchor measures its delta in the same score: '9' is 0.9 below '6' by the path minimum
    expect(chosenTerminal(tree, { pathScore: 'min', anchor: { answer: '9', delta: 0.5 } })).toBe(fair);
    expect(chosenTerminal(tree, { pathScore: 'min', anchor: { answer: '9', delta: 1 } })).toBe(sure);
    expect(chosenTerminal(tree, { pathScore: 'terminal', anchor: { answer: '6', delta: 0.3 } })).toBe(sure);
    expect(chosenTerminal(tree, { pathScore: 'terminal', anchor: { answer: '6', delta: 0.4 } })).toBe(fair);
  });
});

describe('treeMix', () => {
  it('tells "never written" (no right terminal) from "written but not picked" (best-Q terminal wrong)', async () => {
    const { createTree, addNode } = await import('../src/search/mcts.ts');
    const { treeMix } = await import('../src/search/evaluate.ts');
    const tree = createTree({ id: 'p', question: 'q 1 2', answer: null }, 'ppm', 'values');
    expect(treeMix(tree, '3')).toBe('none');
    const term = (answer: string, q: number, n = 1) => {
      const x = addNode(tree, 0, { comment: [], code: `print(${answer});` });
      Object.assign(x, { terminal: true, answer, q, n, valueSum: q * n });
    };
    term('2', 0.4);
    expect(treeMix(tree, '3')).toBe('onlyWrong');
    expect(treeMix(tree, '2.0')).toBe('onlyRight'); // graded, not compared as text
    term('3', 0.1);
    expect(treeMix(tree, '3')).toBe('mixedMissed');
    term('3.0', 0.7);
    expect(treeMix(tree, '3')).toBe('mixedPicked');
    term('9', 0.99, 0); // never visited: not part of the tree's offer
    expect(treeMix(tree, '3')).toBe('mixedPicked');
  });
});

describe('evaluate with questions longer than the policy context', () => {
  it('scores them wrong, counts them, and evaluates the rest in order', async () => {
    const { setupBackend } = await import('../src/model/backends/backend.ts');
    const { GPT } = await import('../src/model/gpt.ts');
    const { Tokenizer } = await import('../src/model/tokenizer.ts');
    const { evaluate } = await import('../src/search/evaluate.ts');
    await setupBackend('cpu');
    const tok = await Tokenizer.load();
    const lm = new GPT({ vocabSize: tok.vocabSize, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, seed: 3 });
    const sandbox = new SandboxPool({ workers: 1 });
    try {
      const long = 'A farmer has 3 cows. '.repeat(12) + 'How many cows?';
      const problems = [
        { id: 'a', question: 'Tom has 2 apples. How many?', answer: '2' },
        { id: 'b', question: long, answer: '3' },
        { id: 'c', question: 'Ann has 5 pens. How many?', answer: '5' },
      ];
      const s = await evaluate(problems, { promptNumbers: 'values', lm, tok, sandbox }, { mode: 'greedy', maxTokens: 8, quiet: true });
      expect(s.n).toBe(3);
      expect(s.tooLong).toBe(1);
      expect(s.rows.map((r) => r.problemId)).toEqual(['a', 'b', 'c']);
      expect(s.rows[1]).toMatchObject({ predicted: '', correct: false });
      expect(s.accuracy).toBeCloseTo(s.correct / 3, 10);
    } finally {
      await sandbox.close();
      lm.dispose();
    }
  });
});

describe('mcnemarExact', () => {
  it('is the two-sided exact binomial p on the discordant problems', () => {
    // 6 vs 9 discordant: 2 · Σ_{k≤6} C(15, k) / 2^15 = 2 · 9949 / 32768
    expect(mcnemarExact(6, 9)).toBeCloseTo((2 * 9949) / 32768, 10);
    expect(mcnemarExact(9, 6)).toBeCloseTo(mcnemarExact(6, 9), 12);
    // 0 vs 10: 2 / 1024
    expect(mcnemarExact(0, 10)).toBeCloseTo(2 / 1024, 12);
    // no discordant problem, or a tie: no evidence either way
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
    // a large, lopsided split is significant; the p-value falls as the split grows
    expect(mcnemarExact(16, 40)).toBeLessThan(0.01);
    expect(mcnemarExact(16, 40)).toBeLessThan(mcnemarExact(20, 36));
  });
});

/** A temp folder with `lines` as p.jsonl, and runEval's options for it with the shipped checkpoints on
 *  the cpu backend (a tiny search: 2 rollouts, at most 3 steps). */
async function shippedEval(prefix: string, lines: string[]) {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { setupBackend } = await import('../src/model/backends/backend.ts');
  await setupBackend('cpu');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const data = path.join(dir, 'p.jsonl');
  fs.writeFileSync(data, lines.join('\n') + '\n');
  const root = path.resolve(import.meta.dirname, '..');
  const o = { data, policy: path.join(root, 'checkpoints/policy'), ppm: path.join(root, 'checkpoints/ppm'), n: 1, runs: 1, rollouts: 2, maxDepth: 3, seed: 1, quiet: true };
  return { dir, o };
}

describe('runEval --trees', () => {
  it('writes one tree per problem, in order, whose chosen terminal is the answer given', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { runEval } = await import('../src/search/solve.ts');
    const { bestTerminal } = await import('../src/search/mcts.ts');
    const { chosenTerminal } = await import('../src/search/evaluate.ts');
    const { dir, o: base } = await shippedEval('rstar-trees-', ['{"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "7"}', '{"question": "Ann had 9 pens and gave away 2. How many pens are left?", "answer": "7"}']);
    const trees = path.join(dir, 'trees.jsonl');
    const o = { ...base, k: 2 };
    const greedy = await runEval({ ...o, mode: 'greedy' });
    // the anchor at 2 (scores span [-1, 1]) takes greedy's answer whenever the tree has it; at 0 the top
    // terminal by the path score: its weakest step (the default) or its own Q (rStar's highest-Q terminal)
    let held = 0;
    const answers: Record<string, string[]> = {};
    for (const [delta, pathScore] of [[2, 'min'], [0, 'min'], [0, 'terminal']] as const) {
      const s = await runEval({ ...o, mode: 'mcts', trees, greedyAnchor: delta, pathScore });
      answers[`${delta} ${pathScore}`] = s.rows.map((r) => r.predicted);
      const lines = fs.readFileSync(trees, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((t) => t.problemId)).toEqual(s.rows.map((r) => r.problemId));
      expect(s.anchored === undefined).toBe(delta === 0);
      lines.forEach((t, i) => {
        expect(t.nodes[0].parent).toBe(-1);
        const anchor = { answer: greedy.rows[i]!.predicted || null, delta };
        expect(chosenTerminal(t, { anchor, pathScore })?.answer ?? '').toBe(s.rows[i]!.predicted);
        if (delta === 0 && pathScore === 'terminal') expect(bestTerminal(t)?.answer ?? '').toBe(s.rows[i]!.predicted);
        const has = anchor.answer !== null && t.nodes.some((x: { terminal: boolean; n: number; answer: string | null }) => x.terminal && x.n > 0 && x.answer !== null && answerKey(x.answer) === answerKey(anchor.answer!));
        if (delta === 2 && has) expect(answerKey(s.rows[i]!.predicted)).toBe(answerKey(anchor.answer!));
        held += delta === 2 && has ? 1 : 0;
      });
    }
    expect(held).toBeGreaterThan(0); // the shipped policy's greedy answer is in its trees: the anchor was exercised
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});

describe('runEval --widen', () => {
  it('searches again with the wider k exactly the problems whose answer differs from greedy\'s, and answers from those trees', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { runEval } = await import('../src/search/solve.ts');
    const { needsWiderSearch } = await import('../src/search/evaluate.ts');
    const { dir, o: base } = await shippedEval('rstar-widen-', [
      '{"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "7"}',
      '{"question": "Mia has 5 red pens and 3 times as many blue pens. She gives away 4 blue pens. How many pens does she have?", "answer": "16"}',
      '{"question": "There are 24 students in a class. One third of them are boys. How many girls are there?", "answer": "16"}',
    ]);
    const o = { ...base, mode: 'mcts' as const };
    const greedy = await runEval({ ...o, mode: 'greedy' });
    const narrow = await runEval({ ...o, k: 2, widen: 0, trees: path.join(dir, 'k2.jsonl') });
    const wide = await runEval({ ...o, k: 4, widen: 0 });
    const both = await runEval({ ...o, k: 2, widen: 2 });
    expect(narrow.widened).toBeUndefined();
    const first = fs.readFileSync(path.join(dir, 'k2.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const again = first.map((t, i) => needsWiderSearch(t, { anchor: { answer: greedy.rows[i]!.predicted || null, delta: 0.1 } }));
    expect(again.some(Boolean) && !again.every(Boolean)).toBe(true); // both cases are exercised
    expect(both.widened!.k).toBe(4);
    expect(both.widened!.searches).toBe(again.filter(Boolean).length);
    both.rows.forEach((r, i) => expect(r.predicted).toBe((again[i] ? wide : narrow).rows[i]!.predicted));
    const gained = both.rows.filter((r, i) => r.correct && !narrow.rows[i]!.correct).length;
    const lost = both.rows.filter((r, i) => !r.correct && narrow.rows[i]!.correct).length;
    expect([both.widened!.gained, both.widened!.lost]).toEqual([gained, lost]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);
});
