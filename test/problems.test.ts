// The problems a run works on (src/data/problems.ts): the grouped split as a run's training split, and
// the per-round draw of problems to search (a count, all, or per source).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, type Problem } from '../src/data/datasets.ts';
import { groupedSplit } from '../src/data/groups.ts';
import { devOf, devWithDistractors, loadProblemsFor, parseSearchQuota, searchDraw, splitOf } from '../src/data/problems.ts';
import { runBootstrap } from '../src/data/bootstrap/index.ts';
import { sentencesOf } from '../src/data/text.ts';

describe('a run on the grouped split', () => {
  it('trains on the grouped training part and reports on its dev part; DeepMind keeps its test regimes', () => {
    const r = loadProblemsFor({ datasets: ['mawps', 'deepmind'], devSet: 'grouped', seed: 1234 });
    const g = groupedSplit(loadDataset('mawps'));
    const mawpsTrain = r.train.filter((p) => p.source === 'mawps');
    expect(new Set(mawpsTrain.map((p) => p.id))).toEqual(new Set(g.train.map((p) => p.id)));
    expect(r.dev.filter((p) => p.source === 'mawps').map((p) => p.id)).toEqual(g.dev.map((p) => p.id));
    expect(devOf('mawps', 'grouped').map((p) => p.id)).toEqual(g.dev.map((p) => p.id));
    // the fixed split's training part holds grouped dev problems; this one holds none
    const devIds = new Set(g.dev.map((p) => p.id));
    expect(loadProblemsFor({ datasets: ['mawps'] }).train.some((p) => devIds.has(p.id))).toBe(true);
    expect(r.train.some((p) => devIds.has(p.id))).toBe(false);
    expect(r.dev.filter((p) => p.source.startsWith('deepmind'))).toEqual(devOf('deepmind'));
    expect(splitOf('deepmind', true)).toEqual(splitOf('deepmind'));
  });

  it('a dev set with distractors: each grouped dev problem with one sentence of a training problem added', () => {
    const dev = devOf('mawps', 'grouped');
    const d = devWithDistractors('mawps', 'grouped', 1235);
    const byId = new Map(dev.map((p) => [p.id, p]));
    const train = splitOf('mawps', true).train;
    expect(d.length).toBeGreaterThan(dev.length / 2);
    for (const p of d) {
      const base = byId.get(p.id.replace(/-d$/, ''))!;
      expect(base).toBeDefined();
      expect(p.answer).toBe(base.answer);
      // one sentence more, and it is a training problem's, never another dev problem's
      const had = new Set(sentencesOf(base.question));
      const added = sentencesOf(p.question).filter((s) => !had.has(s));
      expect(added).toHaveLength(1);
      expect(train.some((t) => t.question.includes(added[0]!))).toBe(true);
    }
    expect(devWithDistractors('mawps', 'grouped', 1235)).toEqual(d);
    // a run's distractor dev is eval --distractor's, per dataset, whichever datasets the run trains on
    const run = loadProblemsFor({ datasets: ['mawps', 'gsm8k', 'deepmind'], distractors: 0.5, seed: 1234, devSet: 'grouped' });
    expect(run.devDistractor.filter((p) => p.source === 'mawps-distractor')).toEqual(d);
    expect(run.devDistractor.filter((p) => p.source === 'gsm8k-distractor')).toEqual(devWithDistractors('gsm8k', 'grouped', 1235));
    expect(() => devWithDistractors('deepmind', 'grouped', 1)).toThrow(/not a word-problem dataset/);
  });

  it('bootstraps only the grouped training part', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grouped-'));
    try {
      const out = path.join(dir, 'b.arrow');
      const res = await runBootstrap({ out, datasets: ['mawps'], grouped: true, limit: 30 });
      const train = new Set(splitOf('mawps', true).train.slice(0, 30).map((p) => p.id));
      expect(res.trajectories.length).toBeGreaterThan(20);
      expect(res.trajectories.every((t) => train.has(t.problemId))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the problems a round searches', () => {
  const mk = (source: string, n: number): Problem[] => Array.from({ length: n }, (_, i) => ({ id: `${source}-${i}`, question: 'q', answer: '1', source }));
  const all = [...mk('a', 10), ...mk('b', 30), ...mk('c', 5)];
  const ids = (ps: Problem[]) => ps.map((p) => p.id);

  it('a plain count: the first N of a seeded order that does not depend on file order; fresh draws move on and wrap', () => {
    const r1 = searchDraw(all, 12, { k: 1, seed: 7, freshDraw: false });
    expect(r1).toHaveLength(12);
    expect(ids(searchDraw([...all].reverse(), 12, { k: 1, seed: 7, freshDraw: false }))).toEqual(ids(r1));
    expect(ids(searchDraw(all, 12, { k: 3, seed: 7, freshDraw: false }))).toEqual(ids(r1));
    const draws = [1, 2, 3].map((k) => ids(searchDraw(all, 15, { k, seed: 7, freshDraw: true })));
    expect(new Set(draws.flat()).size).toBe(45);
    expect(ids(searchDraw(all, 15, { k: 4, seed: 7, freshDraw: true }))).toEqual(draws[0]);
    expect(searchDraw(all, 'all', { k: 2, seed: 7, freshDraw: true })).toHaveLength(45);
    expect(searchDraw(all, 0, { k: 1, seed: 7, freshDraw: true })).toEqual([]);
  });

  it('per source: each source its own count, \'*\' for the rest, unnamed sources whole; fresh draws per source', () => {
    const r = searchDraw(all, { b: 4, c: 0 }, { k: 1, seed: 7, freshDraw: true });
    const count = (ps: Problem[], s: string) => ps.filter((p) => p.source === s).length;
    expect([count(r, 'a'), count(r, 'b'), count(r, 'c')]).toEqual([10, 4, 0]);
    const star = searchDraw(all, { b: 4, '*': 2 }, { k: 1, seed: 7, freshDraw: true });
    expect([count(star, 'a'), count(star, 'b'), count(star, 'c')]).toEqual([2, 4, 2]);
    const b = [1, 2, 3, 4, 5, 6, 7].map((k) => ids(searchDraw(all, { b: 4, '*': 0 }, { k, seed: 7, freshDraw: true })));
    expect(new Set(b.flat()).size).toBe(28);
    // sources interleave in the seeded order rather than following each other
    const sources = ids(searchDraw(all, { a: 10, b: 10 }, { k: 1, seed: 7, freshDraw: false })).map((id) => id[0]);
    expect(sources.slice(0, 10).filter((s) => s === 'a').length).toBeLessThan(10);
  });

  it('reads a flag\'s text, and refuses what it cannot read', () => {
    expect(parseSearchQuota('300')).toBe(300);
    expect(parseSearchQuota('all')).toBe('all');
    expect(parseSearchQuota('deepmind=300, gsm8k=all,*=0')).toEqual({ deepmind: 300, gsm8k: 'all', '*': 0 });
    for (const bad of ['-5', '2.5', 'some', 'deepmind=', 'deepmind=-1', 'a=1,a=2', '=3']) expect(parseSearchQuota(bad)).toBeNull();
  });
});
