// Synthesised distractor problems: the added sentence is irrelevant by construction, the reference
// still converts and verifies, and the masked program names the same quantities as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, convertProblem } from '../src/data/bootstrap/index.ts';
import { loadDataset, splitDev, type Problem } from '../src/data/datasets.ts';
import { questionNumbers } from '../src/data/steps.ts';
import { donorSentences, synthesizeDistractors, withDistractor } from '../src/data/synth/distractors.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

let pool: SandboxPool;
beforeAll(() => {
  pool = new SandboxPool({ workers: 2, timeoutMs: 3000 });
});
afterAll(async () => {
  await pool.close();
});

const P = (id: string, question: string, solution: string, answer: string): Problem => ({ id, question, solution, answer, source: 'mawps' });

describe('distractor synthesis', () => {
  const train = splitDev(loadDataset('mawps')).train;

  it('lends only one-number statements that stand on their own', () => {
    const donors = donorSentences([
      P('a', 'Tom has 5 apples . He buys 3 more . How many apples does Tom have ?', '5 + 3', '8'),
      P('b', 'Convert 0.5 to a percent . by the end of the year her hair is 24 inches long .', '0.5 * 100', '50'),
      P('c', 'Ana has 4 red and 6 blue pens . How many pens ?', '4 + 6', '10'),
    ]);
    expect(donors.map((d) => d.text)).toEqual(['Tom has 5 apples .']);
    expect(donors[0]).toMatchObject({ from: 'a', number: '5' });
  });

  it('keeps every old number, adds one the reference does not use, and stays verified', async () => {
    const syn = synthesizeDistractors(train.slice(0, 300), 1, 7);
    expect(syn.length).toBeGreaterThan(250);
    const byId = new Map(train.map((p) => [p.id, p]));
    for (const s of syn) {
      const p = byId.get(s.id.replace(/-d$/, ''))!;
      expect(s.answer).toBe(p.answer);
      expect(s.solution).toBe(p.solution);
      expect(s.source).toBe('mawps-distractor');
      const before = questionNumbers(p.question).map((n) => n.text);
      const after = questionNumbers(s.question).map((n) => n.text);
      expect(after).toHaveLength(before.length + 1);
      // the old numbers in their old order; the new one is neither a question number nor a constant of the reference
      const added = after.findIndex((t, i) => t !== before[i]);
      const extra = added < 0 ? after[after.length - 1]! : after[added]!;
      expect(after.filter((_, i) => i !== (added < 0 ? after.length - 1 : added))).toEqual(before);
      expect([...before, ...(p.solution!.match(/\d+(?:\.\d+)?/g) ?? [])]).not.toContain(extra.replace(/,/g, ''));
      // the asking sentence is still last
      expect(s.question.trim().endsWith(p.question.trim().split(/(?<=[.?!])\s+/).pop()!.trim())).toBe(true);
    }
    // every converted program runs to the unchanged answer, and never reads the new number
    const res = await bootstrap(syn, pool);
    expect(res.trajectories.length).toBeGreaterThanOrEqual(Math.floor(syn.length * 0.97));
    for (const t of res.trajectories) {
      const s = syn.find((x) => x.id === t.problemId)!;
      const names = questionNumbers(s.question);
      const orig = new Set(questionNumbers(byId.get(s.id.replace(/-d$/, ''))!.question).map((n) => n.text));
      const extraName = names.find((n) => !orig.has(n.text))!.name;
      expect(t.steps.join('')).not.toMatch(new RegExp(`\\b${extraName}\\b`));
    }
  });

  it('puts the distractor before the asking sentence unless that sentence has a pronoun', () => {
    const donors = donorSentences([P('x', 'Lisa has 17 stamps .', '17', '17')]);
    const noPronoun = withDistractor(P('t1', 'Tom has 5 apples . Ann gives Tom 3 apples . How many apples does Tom have now ?', '5 + 3', '8'), donors, 1)!;
    expect(noPronoun.question).toBe('Tom has 5 apples . Ann gives Tom 3 apples . Lisa has 17 stamps . How many apples does Tom have now ?');
    const pronoun = withDistractor(P('t2', 'Tom has 5 apples . Ann gives him 3 apples . How many apples does he have now ?', '5 + 3', '8'), donors, 1)!;
    expect(pronoun.question).toBe('Lisa has 17 stamps . Tom has 5 apples . Ann gives him 3 apples . How many apples does he have now ?');
    // a donor about the asked noun could be relevant: refused
    expect(withDistractor(P('t3', 'Tom has 5 stamps . He buys 3 . How many stamps does he have ?', '5 + 3', '8'), donors, 1)).toBeNull();
    // a donor whose number is a constant of the reference would be masked as that constant: refused
    expect(withDistractor(P('t4', 'Tom walks 3 miles a day . How many miles does he walk in a week ?', '3 * 17', '51'), donors, 1)).toBeNull();
  });

  it('someone else holding the asked-for thing goes first, only when the question names whose count it asks for', () => {
    const donors = donorSentences([P('x', 'Kimberly has 12 eggs .', '12', '12')]);
    expect(donors[0]!.owner).toBe('Kimberly');
    const named = withDistractor(P('t1', 'Bruce has 5 eggs . He loses 3 . How many eggs will Bruce have ?', '5 - 3', '2'), donors, 1)!;
    expect(named.question).toBe('Kimberly has 12 eggs . Bruce has 5 eggs . He loses 3 . How many eggs will Bruce have ?');
    // a total would count Kimberly's eggs too; "he" does not say whose: refused (and the donor is about the asked noun)
    expect(withDistractor(P('t2', 'Bruce has 5 eggs . Ann has 3 eggs . How many eggs do they have in all ?', '5 + 3', '8'), donors, 1)).toBeNull();
    expect(withDistractor(P('t3', 'Bruce has 5 eggs . He loses 3 . How many eggs does he have ?', '5 - 3', '2'), donors, 1)).toBeNull();
    // a Kimberly already in the question is not someone else
    expect(withDistractor(P('t4', 'Kimberly has 5 eggs . She gives Bruce 3 . How many eggs does Kimberly have ?', '5 - 3', '2'), donors, 1)).toBeNull();
  });

  it('is seeded: the same seed gives the same problems, another seed others', () => {
    const a = synthesizeDistractors(train.slice(0, 200), 0.5, 1);
    expect(synthesizeDistractors(train.slice(0, 200), 0.5, 1)).toEqual(a);
    const b = synthesizeDistractors(train.slice(0, 200), 0.5, 2);
    expect(b.map((p) => p.question)).not.toEqual(a.map((p) => p.question));
    expect(a.length).toBeGreaterThan(70);
    expect(a.length).toBeLessThan(130);
    expect(convertProblem(a[0]!)).not.toBeNull();
  });
});
