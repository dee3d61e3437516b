// Near-duplicate groups and the grouped dev split: exact similarity search, transitive grouping, no
// dev problem with a near-duplicate in train, and the measured memory of the old hash split.
import { describe, expect, it } from 'vitest';
import { loadDataset, splitDev, type Problem } from '../src/data/datasets.ts';
import {
  GROUP_THRESHOLD,
  evaluableDev,
  groupedSplit,
  gsm8kGroupedSplit,
  jaccard,
  maskedWords,
  nearDuplicateGroups,
  similarPairs,
  similarityBands,
} from '../src/data/groups.ts';

const P = (id: string, question: string, template?: string): Problem => ({
  id,
  question,
  answer: '0',
  source: 'mawps',
  ...(template ? { extra: { equation_template: template } } : {}),
});

describe('masked-word similarity', () => {
  it('ignores numbers and case, not words', () => {
    const a = maskedWords('Tom has 5 apples. He buys 12 more.');
    expect(jaccard(a, maskedWords('tom has 1,250 apples . he buys 3.5 more .'))).toBe(1);
    expect([...a]).toContain('#');
    expect(jaccard(a, maskedWords('Tom has 5 pears. He buys 12 more.'))).toBeCloseTo(6 / 8);
  });

  it('finds exactly the pairs brute force finds, within one list and across two', () => {
    const mawps = loadDataset('mawps').slice(0, 700);
    const sets = mawps.map((p) => maskedWords(p.question));
    for (const t of [0.3, 0.5, 0.9]) {
      const brute: string[] = [];
      for (let i = 0; i < sets.length; i++) for (let j = i + 1; j < sets.length; j++) if (jaccard(sets[i]!, sets[j]!) >= t) brute.push(`${i},${j}`);
      expect(similarPairs(sets, undefined, t).map((p) => `${p.i},${p.j}`)).toEqual(brute);
      const [a, b] = [sets.slice(0, 200), sets.slice(200)];
      const cross: string[] = [];
      a.forEach((x, i) => b.forEach((y, j) => jaccard(x, y) >= t && cross.push(`${i},${j}`)));
      expect(similarPairs(a, b, t).map((p) => `${p.i},${p.j}`)).toEqual(cross);
    }
  });
});

describe('near-duplicate groups', () => {
  const chain = [
    // word sets {1..6}, {3..8}, {5..10}: a–b and b–c share 4 of 8 words, a–c 2 of 10
    P('a', 'alpha beta gamma delta epsilon zeta 5'),
    P('b', 'gamma delta epsilon zeta eta theta 7'),
    P('c', 'epsilon zeta eta theta iota kappa 9'),
    P('d', 'A train travels 60 miles per hour for 3 hours . How far does it go ?'),
  ];

  it('connects near-duplicates transitively and leaves the rest alone', () => {
    const s = chain.map((p) => maskedWords(p.question));
    expect(jaccard(s[0]!, s[2]!)).toBeLessThan(GROUP_THRESHOLD); // a–c only through b
    expect(jaccard(s[0]!, s[1]!)).toBeGreaterThanOrEqual(GROUP_THRESHOLD);
    expect(jaccard(s[1]!, s[2]!)).toBeGreaterThanOrEqual(GROUP_THRESHOLD);
    expect(nearDuplicateGroups(chain)).toEqual([0, 0, 0, 3]);
  });

  it('joins by equation template only above the template floor', () => {
    const ps = [
      P('x', 'Sam read 4 books on Monday and 6 books on Tuesday . How many books in all ?', 'number0 + number1'),
      P('y', 'A farm had 4 cows and bought 6 cows more at the market . How many cows in all ?', 'number0 + number1'),
    ];
    const sim = jaccard(maskedWords(ps[0]!.question), maskedWords(ps[1]!.question));
    expect(sim).toBeLessThan(GROUP_THRESHOLD);
    expect(nearDuplicateGroups(ps)).toEqual([0, 1]);
    expect(nearDuplicateGroups(ps, { templateThreshold: sim })).toEqual([0, 0]);
    expect(nearDuplicateGroups(ps, { templateThreshold: sim + 0.01 })).toEqual([0, 1]);
  });
});

describe('grouped split on MAWPS/ASDiv-A', () => {
  const all = loadDataset('mawps');
  const split = groupedSplit(all);

  it('sends whole groups to one side: no dev/train pair at or above the threshold', () => {
    expect(split.dev.length).toBe(Math.round(0.1 * all.length));
    expect(split.train.length + split.dev.length).toBe(all.length);
    expect(similarPairs(split.dev.map((p) => maskedWords(p.question)), split.train.map((p) => maskedWords(p.question)), GROUP_THRESHOLD)).toEqual([]);
    const side = new Map<number, Set<string>>();
    const devIds = new Set(split.dev.map((p) => p.id));
    all.forEach((p, i) => (side.get(split.group[i]!) ?? side.set(split.group[i]!, new Set()).get(split.group[i]!)!).add(devIds.has(p.id) ? 'dev' : 'train'));
    for (const s of side.values()) expect(s.size).toBe(1);
  });

  it('is deterministic in the seed and independent of input order', () => {
    const again = groupedSplit([...all].reverse());
    expect(new Set(again.dev.map((p) => p.id))).toEqual(new Set(split.dev.map((p) => p.id)));
    const other = groupedSplit(all, { seed: 7 });
    expect(other.dev.map((p) => p.id)).not.toEqual(split.dev.map((p) => p.id));
    expect(groupedSplit(all, { seed: 7 }).dev.map((p) => p.id)).toEqual(other.dev.map((p) => p.id));
  });

  it('measures the old hash split: about half of dev has a training twin', () => {
    const { train, dev } = splitDev(all);
    const { counts } = similarityBands(dev, train);
    expect(dev.length).toBe(314);
    // ≥ 0.9, 0.5–0.9, < 0.5 (145 / 72 / 97 as first measured; tokenisation moves a few)
    expect(counts[0]).toBeGreaterThanOrEqual(135);
    expect(counts[0]).toBeLessThanOrEqual(160);
    expect(counts[1]).toBeGreaterThanOrEqual(60);
    expect(counts[1]).toBeLessThanOrEqual(85);
    expect(counts[2]).toBeGreaterThanOrEqual(85);
    expect(counts[2]).toBeLessThanOrEqual(105);
    const ev = evaluableDev(all);
    expect(ev.length).toBe(counts[2]);
    expect(ev.every((p) => splitDev([p]).dev.length === 1)).toBe(true);
  });
});

describe('GSM8K', () => {
  it('has few near-duplicates, and its grouped split has none across the sides', () => {
    const all = loadDataset('gsm8k');
    const pairs = similarPairs(all.map((p) => maskedWords(p.question)), undefined, 0.9);
    expect(pairs.length).toBeGreaterThan(0);
    expect(pairs.length).toBeLessThan(30);
    const s = gsm8kGroupedSplit(all);
    expect(s.dev.length).toBe(Math.round(0.1 * all.length));
    const cross = similarPairs(s.dev.map((p) => maskedWords(p.question)), s.train.map((p) => maskedWords(p.question)), GROUP_THRESHOLD);
    expect(cross).toEqual([]);
  });
});
