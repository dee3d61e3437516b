import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_DIR, DATASETS, DataError, datasetSplit, isDev, loadDataset, loadProblems, splitDev, type Problem } from '../src/data/datasets.ts';
import { mulberry32, shuffle } from '../src/util/rng.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-datasets-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

/** The DataError message loadProblems throws for this file. */
function errorOf(f: string): string {
  try {
    loadProblems(f);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error(`${f} loaded without error`);
}

const COUNTS = { gsm8k: 7473, math: 7500, mawps: 3138, deepmind: 50370, 'deepmind-sample': 8400, 'deepmind-interpolate': 2800, 'deepmind-extrapolate': 900 } as const;
const loaded = Object.fromEntries(Object.keys(COUNTS).map((n) => [n, loadDataset(n)])) as Record<keyof typeof COUNTS, Problem[]>;

describe('real data files', () => {
  it('live in repo/data', () => {
    expect(path.resolve(DATA_DIR)).toBe(path.resolve(__dirname, '..', 'data'));
    for (const f of Object.values(DATASETS)) expect(fs.existsSync(path.join(DATA_DIR, f)), f).toBe(true);
  });
  it.each(Object.entries(COUNTS))('%s loads %i problems', (name, n) => {
    const ps = loaded[name as keyof typeof COUNTS];
    expect(ps).toHaveLength(n);
    expect(new Set(ps.map((p) => p.id)).size).toBe(n);
    for (const p of ps) {
      expect(p.source).toBe(name);
      expect(p.question.trim()).not.toBe('');
      expect(p.answer.trim()).not.toBe('');
    }
  });
  it('keeps solution and the other fields', () => {
    const g = loaded.gsm8k[0]!;
    expect(g.id).toBe('gsm8k-train-0');
    expect(g.answer).toBe('72');
    expect(g.solution).toContain('<<48/2=24>>');
    expect(g.extra?.solution_clean).toContain('48/2 = 24');
    const m = loaded.math[0]!;
    expect(m.extra).toMatchObject({ level: 'Level 5', type: 'Algebra', answer_numeric: '0' });
    expect(loaded.mawps[0]!.extra?.numbers).toEqual(['56.0', '9.0']);
    expect(loaded.deepmind[0]!.extra).toEqual({ module: 'algebra__linear_1d', split: 'train-easy' });
    expect(loaded['deepmind-extrapolate'][0]!.extra).toEqual({ module: 'arithmetic__add_sub_multiple_longer', split: 'extrapolate' });
    expect(loaded.deepmind[0]!.solution).toBeUndefined();
  });
  it('rejects an unknown dataset name', () => {
    expect(() => loadDataset('svamp')).toThrow(/expected one of gsm8k, math, mawps, deepmind/);
  });
});

describe('loadProblems validation', () => {
  const good = '{"id":"a","question":"q1","answer":"1"}\n';
  it('skips blank lines, accepts CRLF and numeric answers, defaults ids and source', () => {
    const f = file('ok.jsonl', `\n${good}\r\n  \n{"question":"q2","answer":2.5,"level":3}\r\n{"id":7,"question":"q3","answer":"x","source":"mine"}\n`);
    const ps = loadProblems(f);
    expect(ps).toEqual([
      { id: 'a', question: 'q1', answer: '1', source: 'ok' },
      { id: 'ok-5', question: 'q2', answer: '2.5', source: 'ok', extra: { level: 3 } },
      { id: '7', question: 'q3', answer: 'x', source: 'mine' },
    ]);
    expect(loadProblems(f, 'forced').map((p) => p.source)).toEqual(['forced', 'forced', 'forced']);
  });
  const BAD: [string, string, string][] = [
    ['malformed JSON', `${good}{"question": "q", "answer": }\n`, ':2: expected valid JSON ('],
    ['truncated line', `${good}\n\n{"question": "q"`, ':4: expected valid JSON ('],
    ['array', `[1, 2]\n`, ':1: expected a JSON object, got an array'],
    ['number', `${good}42\n`, ':2: expected a JSON object, got 42'],
    ['null', `null\n`, ':1: expected a JSON object, got null'],
    ['missing question', `{"answer":"1"}\n`, ':1: expected a "question" field'],
    ['missing answer', `${good}{"id":"b","question":"q"}\n`, ':2: expected a "answer" field'],
    ['empty question', `{"question":"  ","answer":"1"}\n`, ':1: expected "question" to be non-empty'],
    ['empty answer', `${good}${good.replace('"a"', '"b"').replace('"1"', '""')}`, ':2: expected "answer" to be non-empty'],
    ['numeric question', `{"question":5,"answer":"1"}\n`, ':1: expected "question" to be a string, got 5'],
    ['object answer', `{"question":"q","answer":{"v":1}}\n`, ':1: expected "answer" to be a string, got {"v":1}'],
    ['boolean answer', `{"question":"q","answer":true}\n`, ':1: expected "answer" to be a string, got true'],
    ['duplicate id', `${good}\n${good}`, ':3: expected a unique id, but "a" was already used on line 1'],
    ['bad id', `{"id":[1],"question":"q","answer":"1"}\n`, ':1: expected "id" to be a non-empty string or a number, got [1]'],
    ['bad solution', `{"question":"q","answer":"1","solution":3}\n`, ':1: expected "solution" to be a string, got 3'],
  ];
  it.each(BAD)('%s -> one line naming file and line', (name, text, want) => {
    const f = file(`${name.replace(/\s+/g, '-')}.jsonl`, text);
    const msg = errorOf(f);
    expect(msg.startsWith(`${f}${want}`), msg).toBe(true);
    expect(msg).not.toContain('\n');
  });
  it('reports a missing file in the same format', () => {
    const f = path.join(tmp, 'nope.jsonl');
    expect(errorOf(f)).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:0: expected a readable JSONL file`));
  });
});

describe('splitDev', () => {
  it.each(Object.keys(COUNTS))('%s: about 10%% dev, disjoint, covering', (name) => {
    const ps = loaded[name as keyof typeof COUNTS];
    const { train, dev } = splitDev(ps);
    expect(train.length + dev.length).toBe(ps.length);
    expect(Math.abs(dev.length / ps.length - 0.1)).toBeLessThan(0.015);
    const devIds = new Set(dev.map((p) => p.id));
    expect(train.some((p) => devIds.has(p.id))).toBe(false);
  });
  it('is the same for any order, subset or mix of datasets', () => {
    const all = [...loaded.gsm8k, ...loaded.mawps];
    const ref = new Set(splitDev(all).dev.map((p) => p.id));
    const shuffled = shuffle([...all], mulberry32(7));
    expect(new Set(splitDev(shuffled).dev.map((p) => p.id))).toEqual(ref);
    const alone = splitDev(loaded.mawps).dev.map((p) => p.id);
    expect(alone.every((id) => ref.has(id))).toBe(true);
    // Keeps input order within each side.
    const d = splitDev(loaded.mawps).dev;
    const idx = d.map((p) => loaded.mawps.indexOf(p));
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });
  it('depends on the seed and the fraction', () => {
    const ps = loaded.gsm8k;
    const a = new Set(splitDev(ps).dev.map((p) => p.id));
    const b = splitDev(ps, { seed: 99 }).dev.map((p) => p.id);
    expect(b.filter((id) => a.has(id)).length).toBeLessThan(b.length * 0.25);
    const quarter = splitDev(ps, { frac: 0.25 }).dev;
    expect(Math.abs(quarter.length / ps.length - 0.25)).toBeLessThan(0.015);
    // Growing frac only adds problems to dev (same hash threshold).
    expect([...a].every((id) => quarter.some((p) => p.id === id))).toBe(true);
    expect(splitDev(ps, { frac: 0 }).dev).toHaveLength(0);
    expect(splitDev(ps, { frac: 1 }).train).toHaveLength(0);
    expect(() => splitDev(ps, { frac: 1.5 })).toThrow(/expected frac in \[0, 1\]/);
  });
  it('matches the documented dev sizes and a pinned assignment', () => {
    expect(splitDev(loaded.gsm8k).dev).toHaveLength(766);
    expect(splitDev(loaded.math).dev).toHaveLength(719);
    expect(splitDev(loaded.mawps).dev).toHaveLength(314);
    expect(splitDev(loaded['deepmind-sample']).dev).toHaveLength(859);
    // DeepMind's dev sets are the published test regimes, never a hash of the training file
    expect(datasetSplit('deepmind').dev).toHaveLength(2800 + 900);
    expect(datasetSplit('deepmind').train).toHaveLength(50370);
    expect(isDev('gsm8k-train-0')).toBe(splitDev(loaded.gsm8k).dev.some((p) => p.id === 'gsm8k-train-0'));
  });
});
