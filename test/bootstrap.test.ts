import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrajectories } from '../src/data/arrow.ts';
import { datasetSplit, isDev } from '../src/data/datasets.ts';
import { bootstrap, convertProblem, formatYield, runBootstrap } from '../src/data/bootstrap/index.ts';
import { evalExpr, parseExpr, renderExpr } from '../src/data/bootstrap/expr.ts';
import { Namer } from '../src/data/bootstrap/names.ts';
import { convertGsm8k, gsm8kAsOperations, inferAnnotations } from '../src/data/bootstrap/gsm8k.ts';
import { convertMawps } from '../src/data/bootstrap/mawps.ts';
import { convertDeepMind } from '../src/data/bootstrap/deepmind.ts';
import { loadDataset, type Problem } from '../src/data/datasets.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { codeOf, isTerminal, MARK, parseSolution, programOf, serializeSolution, type Step } from '../src/data/steps.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';

let pool: SandboxPool;
beforeAll(() => {
  pool = new SandboxPool({ workers: 2, timeoutMs: 3000 });
});
afterAll(async () => {
  await pool.close();
});

const byId = new Map<string, Problem>();
const find = (dataset: 'gsm8k' | 'mawps' | 'deepmind-sample', id: string): Problem => {
  if (byId.size === 0) for (const d of ['gsm8k', 'mawps', 'deepmind-sample'] as const) for (const p of loadDataset(d)) byId.set(p.id, p);
  const p = byId.get(id);
  if (!p || p.source !== dataset) throw new Error(`no ${dataset} problem ${id}`);
  return p;
};

/** Run the steps in the real sandbox and grade the answer against the gold one. */
async function runAndGrade(steps: Step[], gold: string, question?: string): Promise<{ ok: boolean; answer?: string; graded: boolean }> {
  // with the question, its numbers are defined first (n0, n1, …), as the bootstrap runs them
  const [r] = await pool.runMany([question === undefined ? codeOf(steps) : programOf(question, codeOf(steps))]);
  return { ok: r!.ok, answer: r!.answer, graded: r!.ok && r!.answer !== undefined && gradeAnswer(r!.answer, gold) };
}

describe('expression parser', () => {
  it('parses prose arithmetic: x, ^, %, $, thousands commas, implicit multiplication', () => {
    const cases: [string, number][] = [
      ['0.2 x 50', 10],
      ['2^3^2', 512],
      ['50% * 20', 10],
      ['$1,200 - $200', 1000],
      ['2(3 + 4)', 14],
      ['17 % 5', 2],
      ['-2^2', -4],
      ['(-2)^2', 4],
      ['3 × 4 ÷ 6', 2],
    ];
    for (const [src, v] of cases) expect(evalExpr(parseExpr(src)!), src).toBeCloseTo(v, 12);
  });

  it('rejects what is not an expression', () => {
    for (const bad of ['', '2 +', '(1 + 2', '1 + 2)', '√(144)', 'two apples =']) expect(parseExpr(bad), bad).toBeNull();
  });

  it('renders valid JavaScript with the same value (precedence, unary minus under **)', () => {
    for (const src of ['-2^2', '(-2)^2', 'a - (b - c)', '(a - b) - c', 'a / (b * c)', '-(a + b) * c', '2^-1', 'a - -3']) {
      const e = parseExpr(src)!;
      const js = renderExpr(e);
      const env = { a: 7, b: 3, c: 2 };
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const f = new Function('a', 'b', 'c', `return ${js};`) as (a: number, b: number, c: number) => number;
      expect(f(7, 3, 2), `${src} → ${js}`).toBeCloseTo(evalExpr(e, env), 12);
    }
    expect(renderExpr(parseExpr('-2^2')!)).toBe('-(2 ** 2)');
    expect(renderExpr(parseExpr('( 56.0 + 9.0 ) / 5.0')!)).toBe('(56 + 9) / 5');
  });
});

describe('Namer', () => {
  it('hands out unique valid identifiers and avoids reserved words and globals', () => {
    const n = new Namer();
    expect(n.take(['clips', 'may'])).toBe('clips');
    expect(n.take(['clips', 'may'])).toBe('clipsMay');
    expect(n.take(['clips', 'may'])).toBe('clips2');
    expect(n.take(['print'])).toBe('v1');
    expect(n.take(['const'])).toBe('v2');
    expect(n.take([])).toBe('v3');
    expect(n.take(['total', 'cost'], 2)).toBe('totalCost');
    // Every name compiles as a const declaration.
    for (const name of ['clips', 'clipsMay', 'clips2', 'v1', 'totalCost']) expect(() => new Function(`const ${name} = 1;`)).not.toThrow();
  });
});

describe('GSM8K conversion', () => {
  it('rewrites a trajectory in the operation grammar: one step per operation, r-names, only what the answer needs', async () => {
    const p = find('gsm8k', 'gsm8k-train-2'); // Betty's wallet: `n0 - betty - gave - n1` is three operations
    const steps = convertProblem(p)!;
    expect(steps.map((s) => [s.comment.join(' '), s.code])).toEqual([
      ['Divide n0 by 2.', 'const r1 = n0 / 2;'],
      ['Multiply n1 by 2.', 'const r2 = n1 * 2;'],
      ['Subtract r1 from n0.', 'const r3 = n0 - r1;'],
      ['Subtract r2 from r3.', 'const r4 = r3 - r2;'],
      ['Subtract n1 from r4.', 'const answer = r4 - n1;\nprint(answer);'],
    ]);
    expect(await runAndGrade(steps, p.answer, p.question)).toMatchObject({ ok: true, graded: true });
    // a result used twice is computed once; a value the answer does not need is left out
    const raw = [
      { comment: ['x'], code: 'const a = 3 * 4;\nconst unused = 7 + 1;' },
      { comment: ['y'], code: 'const b = a + a * 2;\nprint(b);' },
    ];
    expect(gsm8kAsOperations(raw)!.map((s) => s.code)).toEqual(['const r1 = 3 * 4;', 'const r2 = r1 * 2;', 'const answer = r1 + r2;\nprint(answer);']);
    // an answer that only renames a result is that result; code other than `const` lines does not convert
    expect(gsm8kAsOperations([{ comment: [], code: 'const a = 3 * 4;\nconst b = a;\nprint(b);' }])!.map((s) => s.code)).toEqual(['const answer = 3 * 4;\nprint(answer);']);
    expect(gsm8kAsOperations([{ comment: [], code: 'let a = 3;\nprint(a);' }])).toBeNull();
  });

  it('converts the Natalia example: comment without annotation, variable reuse, printed answer', async () => {
    const p = find('gsm8k', 'gsm8k-train-0');
    const steps = convertGsm8k(p)!;
    expect(steps).toEqual([
      { comment: ['Natalia sold 48/2 clips in May.'], code: 'const clips = 48 / 2;' },
      { comment: ['Natalia sold 48+24 clips altogether in April and May.'], code: 'const clipsApril = 48 + clips;\nprint(clipsApril);' },
    ]);
    expect(await runAndGrade(steps, p.answer)).toMatchObject({ ok: true, answer: '72', graded: true });
  });

  it('reuses earlier results in a multi-step solution and infers an unannotated final line', async () => {
    // "Clare has $47 − $12 = $35 left." carries no annotation; 8 and 4 are results of earlier steps.
    const p = find('gsm8k', 'gsm8k-train-4079');
    const steps = convertGsm8k(p)!;
    expect(steps.map((s) => s.code)).toEqual([
      'const bread = 4 * 2;',
      'const milk = 2 * 2;',
      'const groceries = bread + milk;',
      'const left = 47 - groceries;\nprint(left);',
    ]);
    expect(steps[0]!.comment).toEqual(['The cost of the loaves of bread is 4 × $2.']);
    for (const s of steps) expect(s.comment.join(' ')).not.toMatch(/<<|>>/);
    expect(await runAndGrade(steps, p.answer)).toMatchObject({ ok: true, graded: true });
  });

  it('merges annotation-free sentences into the next step and prints a matching earlier variable', () => {
    const p: Problem = {
      id: 't1',
      source: 'gsm8k',
      question: 'Tom has 3 bags with 4 apples each. He eats 2. How many apples did he have at first?',
      answer: '12',
      solution: 'Tom starts with some apples.\nHe has 3*4 = <<3*4=12>>12 apples.\nAfter eating he has 12-2 = <<12-2=10>>10 apples.',
    };
    const steps = convertGsm8k(p)!;
    expect(steps[0]!.comment).toEqual(['Tom starts with some apples.', 'He has 3*4 apples.']);
    expect(steps[1]!.code).toBe('const apples2 = apples - 2;\nprint(apples);');
    expect(convertGsm8k({ ...p, answer: '11' })).toBeNull(); // no step yields the gold answer
    expect(convertGsm8k({ ...p, solution: 'No arithmetic here.' })).toBeNull();
  });

  it('only writes in an annotation when the arithmetic checks out', () => {
    expect(inferAnnotations('Nellie needs to sell 45 − 17 = 28 more rolls.')).toBe('Nellie needs to sell 45 − 17 = <<45 - 17=28>>28 more rolls.');
    expect(inferAnnotations('He walks 6 hours - 3 hours = 3 hours.')).toContain('<<6 - 3=3>>');
    expect(inferAnnotations('So 45 − 17 = 29 more rolls.')).toBe('So 45 − 17 = 29 more rolls.');
    expect(inferAnnotations('The answer is 5 = five.')).toBe('The answer is 5 = five.');
  });
});

describe('MAWPS conversion', () => {
  it('turns a parenthesised equation into one step per operation, each commented with its operation', async () => {
    const p = find('mawps', 'svamp-train-16'); // ( 19 - 11 ) / 2
    const steps = convertMawps(p)!;
    expect(steps).toHaveLength(2);
    expect(steps[0]!.code).toBe('const r1 = 19 - 11;');
    expect(steps[0]!.comment).toHaveLength(1);
    expect(steps[0]!.comment[0]).toMatch(/19/);
    expect(steps[0]!.comment[0]).toMatch(/11/);
    expect(steps[1]!.code).toBe('const answer = r1 / 2;\nprint(answer);');
    expect(steps[1]!.comment).toHaveLength(1);
    // the question's numbers become their names in the converted (masked) steps
    const masked = convertProblem(p)!;
    expect(masked[0]!.code).toBe('const r1 = n0 - n1;');
    expect(masked[0]!.comment[0]).toMatch(/n0/);
    expect(isTerminal(steps[1]!)).toBe(true);
    expect(isTerminal(steps[0]!)).toBe(false);
    expect(await runAndGrade(steps, p.answer)).toMatchObject({ ok: true, answer: '4', graded: true });
  });

  it('handles nested equations with constants not in the text', async () => {
    const p = find('mawps', 'svamp-train-6'); // ( ( 70 * 3 ) * 2.5 ) * 0.01
    const steps = convertMawps(p)!;
    expect(steps).toHaveLength(3);
    expect(steps[2]!.code).toMatch(/= \w+ \* 0\.01;\nprint\(\w+\);$/);
    expect(await runAndGrade(steps, p.answer)).toMatchObject({ ok: true, graded: true });
  });
});

describe('DeepMind conversion', () => {
  // the exact-maths prelude steps; test/deepmind.test.ts runs every module on real train lines
  it('solves linear_1d with the prelude, the numbers masked', async () => {
    const p = find('deepmind-sample', 'train-easy/algebra__linear_1d/0'); // Solve 126*g = 110*g + 80 for g.
    const steps = convertProblem(p)!;
    expect(steps.map((s) => s.code)).toEqual(['const E = { n0, n1, n2 };\nconst g = solveLinear("n0*g = n1*g + n2", "g", E);\nprint(fmt(g));']);
    expect(await runAndGrade(steps, p.answer, p.question)).toMatchObject({ ok: true, answer: '5', graded: true });
  });

  it('solves linear_2d for the asked unknown', async () => {
    const p = find('deepmind-sample', 'train-easy/algebra__linear_2d/0'); // … for r. → -2
    const steps = convertProblem(p)!;
    expect(await runAndGrade(steps, p.answer, p.question)).toMatchObject({ ok: true, answer: '-2', graded: true });
    // Asking for the other unknown of the same system gives its value (w = 5).
    const q = p.question.replace(/for r\.$/, 'for w.');
    expect(await runAndGrade(convertProblem({ ...p, question: q, answer: '5' })!, '5', q)).toMatchObject({ ok: true, answer: '5', graded: true });
  });

  it('evaluates arithmetic exactly: 2*(385/33 - 11) prints 4/3', async () => {
    const p = find('deepmind-sample', 'train-easy/arithmetic__mixed/0');
    const steps = convertProblem(p)!;
    expect(await runAndGrade(steps, '4/3', p.question)).toMatchObject({ ok: true, answer: '4/3', graded: true });
  });

  it('reads the worded arithmetic templates with the right operand order', async () => {
    const mk = (question: string, module: string): Problem => ({ id: 'x', source: 'deepmind', question, answer: '', extra: { module } });
    const cases: [string, string, string][] = [
      ['Subtract 3 from -10.', 'arithmetic__add_or_sub', '-13'],
      ['What is 2 less than 7?', 'arithmetic__add_or_sub', '5'],
      ['What is the difference between -1 and 11.48?', 'arithmetic__add_or_sub', '12.48'],
      ['Divide -12 by 8.', 'arithmetic__div', '-3/2'],
      ['What is the cube root of 1000 to the nearest integer?', 'arithmetic__nearest_integer_root', '10'],
      ['Round -35.06 to one decimal place.', 'numbers__round_number', '-35.1'],
      ['Calculate the greatest common factor of 396 and 363.', 'numbers__gcd', '33'],
    ];
    const steps = cases.map(([q, m]) => convertProblem(mk(q, m))!);
    const results = await pool.runMany(steps.map((s, i) => programOf(cases[i]![0], codeOf(s))));
    results.forEach((r, i) => expect(r.answer, `${cases[i]![0]} → ${r.answer ?? r.error}`).toBe(cases[i]![2]));
  });

  it('returns null for modules and phrasings without a template', () => {
    const p: Problem = { id: 'y', source: 'deepmind', question: 'Integrate x**2.', answer: '', extra: { module: 'calculus__integrate' } };
    expect(convertDeepMind(p)).toBeNull();
    expect(convertProblem({ id: 'm', source: 'math', question: 'What is $1+1$?', answer: '2', solution: '$\\boxed{2}$' })).toBeNull();
  });
});

describe('bootstrap', () => {
  it('keeps verified trajectories as round-0 rows and rejects wrong references', async () => {
    const good = find('gsm8k', 'gsm8k-train-0');
    const wrongGold = { ...find('mawps', 'svamp-train-16'), answer: '5' }; // converts, runs, but grades wrong
    const unsupported: Problem = { id: 'u', source: 'math', question: 'Q', answer: '1' };
    const ticks: number[] = [];
    const r = await bootstrap([good, wrongGold, unsupported], pool, { onProgress: (d) => ticks.push(d) });
    expect(r.yieldBy).toEqual({
      gsm8k: { tried: 1, converted: 1, kept: 1 },
      mawps: { tried: 1, converted: 1, kept: 0 },
      math: { tried: 1, converted: 0, kept: 0 },
    });
    expect(ticks.at(-1)).toBe(2);
    expect(r.trajectories).toHaveLength(1);
    const row = r.trajectories[0]!;
    expect(row).toMatchObject({ problemId: 'gsm8k-train-0', round: 0, correct: true, finalAnswer: '72', source: 'gsm8k', q: [1, 1], visits: [0, 0] });
    expect(row.steps[0]!.endsWith(`${MARK.endStep}\n`)).toBe(true);
    expect(row.steps[1]!.endsWith(`${MARK.endSolution}\n`)).toBe(true);
    // The serialized steps parse back to the converted ones.
    const parsed = parseSolution(row.steps.join(''));
    expect(parsed.complete).toBe(true);
    expect(parsed.steps).toEqual(convertProblem(good));
    expect(serializeSolution(parsed.steps)).toBe(row.steps.join(''));
  });

  it('yields at least 90% on the first 300 GSM8K and MAWPS problems, and reports per DeepMind module', async () => {
    const problems = [
      ...loadDataset('gsm8k').slice(0, 300),
      ...loadDataset('mawps').slice(0, 300),
      ...loadDataset('deepmind-sample').filter((p) => ['algebra__linear_1d', 'arithmetic__mixed'].includes(String(p.extra?.module))),
    ];
    const r = await bootstrap(problems, pool, { batchSize: 100 });
    for (const src of ['gsm8k', 'mawps']) {
      const s = r.yieldBy[src]!;
      expect(s.tried).toBe(300);
      expect(s.kept / s.tried, `${src} yield`).toBeGreaterThanOrEqual(0.9);
    }
    expect(r.yieldByModule['algebra__linear_1d']!.kept).toBe(150);
    expect(r.yieldByModule['arithmetic__mixed']!.kept).toBe(150);
    expect(formatYield(r)).toMatch(/gsm8k\s+300/);
    // Each kept trajectory's code is unique-named: no step redeclares a const (the sandbox would reject it).
    for (const t of r.trajectories) {
      const names = t.steps.join('').match(/\bconst (\w+)/g) ?? [];
      expect(new Set(names).size).toBe(names.length);
    }
  }, 60_000);
});

describe('runBootstrap', () => {
  it('loads the training splits, verifies, and writes Arrow that reads back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-'));
    try {
      const out = path.join(dir, 'round0.arrow');
      const r = await runBootstrap({ out, datasets: ['gsm8k', 'mawps', 'deepmind', 'math'], limit: 40 });
      expect(r.yieldBy['gsm8k']!.tried).toBe(40);
      expect(r.yieldBy['math']).toEqual({ tried: 40, converted: 0, kept: 0 });
      const rows = readTrajectories(out);
      expect(rows).toHaveLength(r.trajectories.length);
      expect(rows.length).toBeGreaterThan(60);
      expect(rows[0]).toEqual(r.trajectories[0]);
      // Dev problems stay out of the training trajectories (DeepMind's dev sets are the published
      // test regimes, the others the hashed split).
      const dmDev = new Set(datasetSplit('deepmind').dev.map((p) => p.id));
      expect(rows.some((row) => row.source === 'deepmind')).toBe(true);
      for (const row of rows) expect(row.source === 'deepmind' ? dmDev.has(row.problemId) : isDev(row.problemId)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
