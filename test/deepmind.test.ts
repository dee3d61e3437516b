// DeepMind Mathematics: the converters on real train lines of every module they claim (converted,
// run in the real sandbox with the exact-maths prelude, graded against the dataset's answer), number
// masking, the fixed dev sets, and the per-module / per-regime accuracy breakdown.
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { bootstrap, convertProblem, formatYield } from '../src/data/bootstrap/index.ts';
import { DEEPMIND_MODULES, convertDeepMind } from '../src/data/bootstrap/deepmind.ts';
import { datasetSplit, loadDataset, type Problem } from '../src/data/datasets.ts';
import { programOf, questionNumbers, tagQuestion } from '../src/data/steps.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { breakdown, formatBreakdown } from '../src/search/breakdown.ts';
import { devOf, interleaveModules, loadProblemsFor } from '../src/data/problems.ts';

const pool = new SandboxPool({ workers: 2 });
afterAll(() => pool.close());

const train = loadDataset('deepmind');
const byModule = new Map<string, Problem[]>();
for (const p of train) {
  const m = String(p.extra?.module);
  (byModule.get(m) ?? byModule.set(m, []).get(m)!).push(p);
}
/** n lines spread over the module's file order (all three difficulty levels). */
const spread = (ps: Problem[], n: number): Problem[] => Array.from({ length: Math.min(n, ps.length) }, (_, i) => ps[Math.floor((i * ps.length) / Math.min(n, ps.length))]!);

// every module of the train file the converter claims, composed forms included
const CLAIMED = [...byModule.keys()].filter((m) => DEEPMIND_MODULES.includes(m.replace(/_composed$/, ''))).sort();

describe('DeepMind converters on real train lines', () => {
  it('claims all 56 modules of the train file', () => {
    expect(byModule.size).toBe(56);
    expect(CLAIMED).toHaveLength(56);
  });

  for (const module of CLAIMED) {
    it(module, async () => {
      const sample = spread(byModule.get(module)!, 24);
      const converted = sample.map((p) => ({ p, steps: convertProblem(p) }));
      const ok = converted.filter((c) => c.steps !== null);
      expect(ok.length / sample.length, `${module} converted`).toBeGreaterThanOrEqual(0.95);
      const rs = await pool.runMany(ok.map((c) => programOf(c.p.question, c.steps!.map((s) => s.code))));
      const wrong = rs.flatMap((r, i) => (r.ok && r.answer !== undefined && gradeAnswer(r.answer, ok[i]!.p.answer) ? [] : [`${ok[i]!.p.question} → ${r.answer ?? r.error} (want ${ok[i]!.p.answer})`]));
      expect(wrong).toEqual([]);
      for (const { p, steps } of ok) {
        // the answer is printed exactly in the dataset's own format (not only graded equal)
        const last = rs[ok.findIndex((c) => c.p === p)]!;
        expect(last.answer, p.question).toBe(p.answer);
        // masked: no number of the question appears as a literal in the code (the sandbox defines them)
        const code = steps!.map((s) => s.code).join('\n');
        for (const n of questionNumbers(p.question)) {
          // one-digit numbers, and the clock's 12, 24 and 60 that the time steps write themselves
          if (n.text.length < 2 || ['12', '24', '60'].includes(n.text)) continue;
          expect(code, `${p.question}: ${n.text} copied`).not.toMatch(new RegExp(`(?<![\\w.])${n.text.replace('.', '\\.')}(?![\\w.]?\\d)`));
        }
      }
    }, 60_000);
  }
});

describe('DeepMind steps', () => {
  const mk = (question: string, module: string): Problem => ({ id: 'x', source: 'deepmind', question, answer: '', extra: { module } });

  it('a composed question: one step per statement over E, then the module question, names as in the prompt', () => {
    const q = 'Let u = -12 + 15. Let f(x) = x**2 - u. Solve f(2) = 3*k for k.';
    const steps = convertProblem(mk(q, 'algebra__linear_1d_composed'))!;
    expect(tagQuestion(q, 'names')).toBe('Let u = -n0 + n1. Let f(x) = x**n2 - u. Solve f(n3) = n4*k for k.');
    expect(steps.map((s) => s.code)).toEqual([
      'const E = { n0, n1, n2, n3, n4 };\nE.u = ev("-n0 + n1", E);',
      'E.f = fn("x", "x**n2 - u", E);',
      'const k = solveLinear("f(n3) = n4*k", "k", E);\nprint(fmt(k));',
    ]);
    expect(steps[0]!.comment[1]).toBe('Let u = -n0 + n1.');
  });

  it('the converter writes its own constants as digits (an index, a clock), never the question\'s', () => {
    const code = convertProblem(mk('How many minutes are there between 12:00 AM and 1:15 PM?', 'measurement__time'))!.map((s) => s.code).join('\n');
    expect(code).toContain('const a = n0 % 12 * 60 + n1;');
    expect(code).toContain('const b = n2 % 12 * 60 + n3 + 12 * 60;');
    // after / before: the words copied, read by the prelude
    const before = convertProblem(mk('What is 12 minutes before 12:00 AM?', 'measurement__time'))!.map((s) => s.code).join('\n');
    expect(before).toContain('timeAdd("n0 minutes before n1:n2 AM", E)');
    const kth = convertProblem(mk('What is the second biggest value in 1, 0, 2?', 'comparison__kth_biggest'))!.map((s) => s.code).join('\n');
    expect(kth).toContain('print(show(sorted[1]));');
  });

  it('a 20-digit number stays exact (BigInt from the question) and masked', async () => {
    const p = mk('What is the ten thousands digit of 98765432109876543210?', 'numbers__place_value');
    const steps = convertProblem(p)!;
    expect(steps.map((s) => s.code).join('\n')).not.toMatch(/98765/);
    const r = await pool.run(programOf(p.question, steps.map((s) => s.code)));
    expect(r.answer).toBe('4'); // …432|1|0: units 0, tens 1, hundreds 2, thousands 3, ten thousands 4
  });

  it('a quantity is copied as the question words it, glued units and fractions in words too; odd phrasings are refused', async () => {
    const cases: [string, string, RegExp][] = [
      ['What is twenty-one fifths of a gram in milligrams?', '4200', /convert\(quantity\("twenty-one fifths of a gram", E\), "milligrams"\)/],
      ['How many millilitres are there in 9610.353l?', '9610353', /convert\(quantity\("n0l", E\), "millilitres"\)/],
      ['Convert 0.4123689um to kilometers.', '0.0000000004123689', /convert\(quantity\("n0um", E\), "kilometers"\)/],
      ['What is 9/20 of a hour in minutes?', '27', /convert\(quantity\("n0\/n1 of a hour", E\), "minutes"\)/],
      ['Convert 47057.13 minutes to days.', '32.6785625', /convert\(quantity\("n0 minutes", E\), "days"\)/],
    ];
    for (const [q, a, code] of cases) {
      const p = { ...mk(q, 'measurement__conversion'), answer: a };
      const steps = convertProblem(p)!;
      expect(steps.map((s) => s.code).join('\n'), q).toMatch(code);
      expect((await pool.run(programOf(q, steps.map((s) => s.code)))).answer, q).toBe(a);
    }
    expect(convertDeepMind(mk('Simplify sqrt(x) + 3.', 'arithmetic__simplify_surd'))).toBeNull();
    expect(convertDeepMind(mk('Integrate x**2.', 'calculus__integrate'))).toBeNull();
    expect(convertDeepMind(mk('Let q be the largest prime below 30. Is q prime?', 'numbers__is_prime_composed'))).toBeNull();
  });

  it('the bootstrap yield table has a row per module', async () => {
    const problems = [...['numbers__gcd', 'comparison__sort_composed'].flatMap((m) => spread(byModule.get(m)!, 10)), mk('Integrate x**2.', 'calculus__integrate')];
    const r = await bootstrap(problems, pool);
    expect(r.yieldByModule['numbers__gcd']).toEqual({ tried: 10, converted: 10, kept: 10 });
    expect(r.yieldByModule['comparison__sort_composed']).toEqual({ tried: 10, converted: 10, kept: 10 });
    expect(r.yieldByModule['calculus__integrate']).toEqual({ tried: 1, converted: 0, kept: 0 });
    expect(formatYield(r)).toMatch(/^ {2}numbers__gcd\s+10\s+10\s+10\s+100\.0%$/m);
  }, 60_000);
});

describe('DeepMind data', () => {
  it('trains on the generated train file; the test regimes are dev only', () => {
    const s = datasetSplit('deepmind');
    expect(s.train).toHaveLength(train.length);
    expect(s.train.length).toBeGreaterThan(50_000);
    expect(s.dev).toHaveLength(2800 + 900);
    const devQ = new Set(s.dev.map((p) => p.question));
    expect(s.train.filter((p) => devQ.has(p.question))).toEqual([]);
    expect(new Set(s.dev.map((p) => p.extra?.split))).toEqual(new Set(['interpolate', 'extrapolate']));
    expect(datasetSplit('deepmind-extrapolate').train).toEqual([]);
    const sample = datasetSplit('deepmind-sample');
    expect(sample.dev).toHaveLength(2800);
    expect(sample.train.every((p) => p.extra?.split !== 'interpolate')).toBe(true);
  });

  it('DeepMind\'s dev problems have their modules interleaved: the first 62 are one of each module of both regimes', () => {
    const dev = devOf('deepmind');
    expect(dev).toHaveLength(3700);
    expect(new Set(dev.slice(0, 62).map((p) => p.extra?.module)).size).toBe(62);
    expect(new Set(dev.map((p) => p.id)).size).toBe(3700);
    expect(devOf('deepmind', 'unseen')).toEqual(dev);
    // within a module the file order stays
    const gcd = dev.filter((p) => p.extra?.module === 'numbers__gcd').map((p) => p.id);
    expect(gcd).toEqual(datasetSplit('deepmind-interpolate').dev.filter((p) => p.extra?.module === 'numbers__gcd').map((p) => p.id));
    const mk = (id: string, module: string): Problem => ({ id, question: id, answer: '1', source: 'x', extra: { module } });
    expect(interleaveModules([mk('a1', 'a'), mk('a2', 'a'), mk('a3', 'a'), mk('b1', 'b')]).map((p) => p.id)).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('a run on MAWPS and DeepMind reports on both dev sets; irrelevant sentences go to word problems only', () => {
    const r = loadProblemsFor({ datasets: ['mawps', 'deepmind'], distractors: 0.5, seed: 1234 });
    expect(new Set(r.dev.map((p) => p.source))).toEqual(new Set(['mawps', 'deepmind-interpolate', 'deepmind-extrapolate']));
    expect(r.dev.filter((p) => p.source === 'mawps')).toEqual(devOf('mawps'));
    expect(r.synthetic.length).toBeGreaterThan(1000);
    expect(r.synthetic.every((p) => p.source === 'mawps-distractor')).toBe(true);
    expect(r.devDistractor.every((p) => p.source === 'mawps-distractor')).toBe(true);
  });
});

describe('accuracy breakdown', () => {
  const p = (id: string, module: string | undefined, split: string | undefined): Pick<Problem, 'id' | 'extra'> => ({ id, extra: { ...(module ? { module } : {}), ...(split ? { split } : {}) } });
  it('per module, per regime, and the unweighted mean over modules', () => {
    const problems = [p('a', 'm1', 'interpolate'), p('b', 'm1', 'interpolate'), p('c', 'm1', 'extrapolate'), p('d', 'm2', 'train-easy'), p('e', undefined, undefined)];
    const rows = [{ problemId: 'a', correct: true }, { problemId: 'b', correct: false }, { problemId: 'c', correct: true }, { problemId: 'd', correct: false }];
    const b = breakdown(problems, rows)!;
    expect(b.byModule).toEqual([
      { group: 'm1', n: 3, correct: 2, accuracy: 2 / 3 },
      { group: 'm2', n: 1, correct: 0, accuracy: 0 },
    ]);
    expect(b.byRegime).toEqual([
      { group: 'extrapolate', n: 1, correct: 1, accuracy: 1 },
      { group: 'interpolate', n: 2, correct: 1, accuracy: 0.5 },
      { group: 'train', n: 1, correct: 0, accuracy: 0 },
    ]);
    expect(b.meanOverModules).toBeCloseTo(1 / 3, 12);
    expect(formatBreakdown(b, 'greedy')).toContain('mean over 2 modules: 33.3%');
    expect(breakdown([p('x', undefined, undefined)], [])).toBeNull();
  });
});
