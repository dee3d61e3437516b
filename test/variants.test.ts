// The chance-hit check (search/variants.ts): number variants of a question, run in the real sandbox,
// tell a program that computes the answer from one that prints it by chance.
import { afterAll, describe, expect, it } from 'vitest';
import { MARK, questionNumbers, withNumbers } from '../src/data/steps.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { searchMany, type ProposeRequest, type StepProposer } from '../src/search/mcts.ts';
import { answersVariants, moveLiterals, numberVariants, referenceMovesWithNumbers } from '../src/search/variants.ts';
import { toJobProblems } from '../src/train/shards.ts';

const pool = new SandboxPool({ workers: 1 });
afterAll(() => pool.close());

// "Three-fourths of 80 roses are red, one-fourth of the rest yellow": red or white = 80 - (80 - 60) / 4 = 75
const ROSES = 'Mrs. Amaro has 80 roses in her garden. Three-fourths of her roses are red, one-fourth of the remaining are yellow, and the rest are white. How many of her roses are either red or white?';
const REFERENCE = ['const r1 = n0 * 3;', 'const r2 = r1 / 4;', 'const r3 = n0 - r2;', 'const r4 = r3 / 4;', 'const answer = n0 - r4;\nprint(answer);'];
// prints 75 only for 80 roses
const CHANCE = ['const answer = n0 - 5;\nprint(answer);'];
const OTHER_WAY = ['const r1 = n0 / 4;', 'const r2 = r1 / 4;', 'const answer = n0 - r2;\nprint(answer);'];

describe('withNumbers', () => {
  it('writes new values over the question numbers in reading order and keeps the rest', () => {
    const q = 'Tom has 1,200 apples and 2.5 pears. He eats 3.';
    const out = withNumbers(q, [1207, 2.9, 8])!;
    expect(out).toBe('Tom has 1207 apples and 2.9 pears. He eats 8.');
    expect(questionNumbers(out).map((n) => n.value)).toEqual([1207, 2.9, 8]);
  });
  it('refuses a count that does not match and questions with letter bags or base numerals', () => {
    expect(withNumbers('Tom has 3 apples.', [4, 5])).toBeNull();
    expect(withNumbers('Two letters picked without replacement from abcab. Prob of 2 a?', [3])).toBeNull();
    expect(withNumbers('In base 16, what is 8db + 10df?', [17])).toBeNull();
  });
});

describe('number variants', () => {
  it('moves literals equal to a moved value in code, never in comments or names', () => {
    expect(moveLiterals(['// Multiply n1 by 2.\nconst r2 = n1 * 2 + 20;'], [[2, 7], [20, 23]])).toEqual(['// Multiply n1 by 2.\nconst r2 = n1 * 7 + 23;']);
  });
  it('gives no variants to a reference with a hand-worked result in it', async () => {
    expect(referenceMovesWithNumbers(ROSES, REFERENCE)).toBe(true);
    expect(referenceMovesWithNumbers('Carla put 79 apples in, 26 fell out, 8 were left. How many were stolen?', ['const answer = 53 - n2;\nprint(answer);'])).toBe(false);
    expect(await numberVariants({ question: 'Carla put 79 apples in, 26 fell out, 8 were left. How many were stolen?', reference: ['const answer = 53 - n2;\nprint(answer);'], sandbox: pool, count: 2, seed: 1 })).toEqual([]);
  });
  it("are seeded, move every number, and carry the reference's answer to each", async () => {
    const vs = await numberVariants({ question: ROSES, reference: REFERENCE, sandbox: pool, count: 3, seed: 7 });
    expect(vs).toHaveLength(3);
    expect(await numberVariants({ question: ROSES, reference: REFERENCE, sandbox: pool, count: 3, seed: 7 })).toEqual(vs);
    for (const v of vs) {
      const [[old, moved]] = v.moved as [number, number][];
      expect(old).toBe(80);
      expect(moved).toBeGreaterThan(80);
      expect(moved).toBeLessThan(90);
      expect(Number(v.answer)).toBeCloseTo(moved - (moved - moved * 3 / 4) / 4);
    }
  });
  it('pass a program that computes the answer another way and fail one that printed it by chance', async () => {
    const vs = await numberVariants({ question: ROSES, reference: REFERENCE, sandbox: pool, count: 2, seed: 3 });
    expect(await answersVariants(OTHER_WAY, vs, pool, gradeAnswer)).toBe(true);
    expect(await answersVariants(CHANCE, vs, pool, gradeAnswer)).toBe(false);
  });
  it("treat the question's 2 and the literal 2 alike (a reference may name \"twice\" by the question's number)", async () => {
    const q = 'Jack works 2 hours and does this twice. He is paid $5 an hour. How much does he earn?';
    const vs = await numberVariants({ question: q, reference: ['const r1 = n0 * n0;', 'const answer = r1 * n1;\nprint(answer);'], sandbox: pool, count: 2, seed: 5 });
    expect(vs).toHaveLength(2);
    expect(await answersVariants(['const r1 = n0 * 2;', 'const answer = r1 * n1;\nprint(answer);'], vs, pool, gradeAnswer)).toBe(true);
    expect(await answersVariants(['const r1 = n0 + 2;', 'const answer = r1 * n1;\nprint(answer);'], vs, pool, gradeAnswer)).toBe(false); // (2 + 2) · 5 = 20 by chance
  });
});

describe('the search with the check', () => {
  const step = (code: string) => `// step\n${code}\n${MARK.endStep}`;
  const end = (code: string) => `// step\n${code}\n${MARK.endSolution}`;
  // at the root: the chance program's one step and the other way's first; then the rest of the other way
  const script: Record<string, string[]> = {
    '': [end(CHANCE[0]!), step(OTHER_WAY[0]!)],
  };
  const policy: StepProposer = {
    async propose(reqs: ProposeRequest[]) {
      return reqs.map((r) => {
        const sol = r.prefix.slice(r.prefix.indexOf(MARK.solution));
        if (!sol.includes('const r1')) return script['']!;
        if (!sol.includes('const r2')) return [step(OTHER_WAY[1]!)];
        return [end(OTHER_WAY[2]!)];
      });
    },
  };
  it('marks a terminal with the known answer wrong when it misses a variant, and counts it', async () => {
    const variants = await numberVariants({ question: ROSES, reference: REFERENCE, sandbox: pool, count: 2, seed: 11 });
    const run = (withVariants: boolean) => searchMany([{ id: 'roses', question: ROSES, answer: '75', ...(withVariants ? { variants } : {}) }], { proposer: policy, sandbox: pool, grade: gradeAnswer }, { mode: 'terminal', rollouts: 6, k: 2, maxDepth: 4, seed: 1, promptNumbers: 'names' });
    const [plain] = await run(false);
    const [checked] = await run(true);
    const terms = (t: typeof plain) => t!.tree.nodes.filter((n) => n.terminal).map((n) => [n.answer, n.correct]);
    expect(terms(plain)).toEqual([['75', true], ['75', true]]);
    expect(plain!.stats.chanceHits).toBe(0);
    expect(terms(checked)).toEqual([['75', false], ['75', true]]);
    expect(checked!.stats.chanceHits).toBe(1);
    expect(checked!.tree.nodes[1]!.q).toBe(-1);
  });
  it('reaches a search job through toJobProblems, only for problems with a reference', () => {
    const ps = toJobProblems([{ id: 'a', question: ROSES, answer: '75', source: 'gsm8k' }, { id: 'b', question: 'x', answer: '1', source: 'gsm8k' }] as never, new Map([['a', REFERENCE]]));
    expect(ps[0]!.reference).toEqual(REFERENCE);
    expect(ps[1]).not.toHaveProperty('reference');
  });
});
