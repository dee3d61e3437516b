import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/datasets.ts';
import { answerKey, extractAnswer, gradeAnswer, normalizeAnswer, parseNumber } from '../src/data/grade.ts';

// [pred, gold, expected, why] — the cases of docs/answer-grading.md plus the ones our data needs.
// A fifth element `true` marks a one-way case (gold and prediction play different roles).
const GRADE: [string, string, boolean, string, boolean?][] = [
  // 1. string equality, case-insensitive
  ['72', '72', true, 'identical'],
  ['True', 'true', true, 'case-insensitive text'],
  ['\\text{August}', 'august', true, '\\text{} answers compare as text, any case'],
  ['Devon', 'Evan', false, 'different text'],
  ['no', 'on', false, 'words are not products of letters'],
  // multiple choice (gold A..E)
  ['(C)', '\\text{(C)}', true, 'choice in parentheses'],
  ['The answer is C.', 'C', true, 'last standalone letter of the prediction', true],
  ['\\text{(B)}', '\\text{(C)}', false, 'wrong choice'],
  // numbers: rel tol 1e-4
  ['72.0', '72', true, 'trailing zeros'],
  ['5.00', '5', true, 'strip_string 5.00 -> 5'],
  ['0.30000000000000004', '0.3', true, 'float noise from print()'],
  ['3.1416', '3.14159', true, 'within 1e-4 relative'],
  ['3.14', '3.14159', false, 'both plain numbers, outside 1e-4: no fallback'],
  ['1000000', '1000001', true, 'rel tol on large numbers'],
  ['0', '0.00001', false, 'zero only equals zero'],
  ['-3', '3', false, 'sign matters'],
  ['1,000', '1000', true, 'thousands comma'],
  ['9,\\!000,\\!000', '9000000', true, 'LaTeX thousands with \\!'],
  ['1{,}008{,}016', '1008016', true, 'LaTeX thousands with {,}'],
  ['17,44', '1744', false, 'a list is not a number with commas removed'],
  ['\\$425', '425', true, 'dollar sign'],
  ['$18', '18', true, 'plain dollar'],
  // percentages: ref/100, ref*100
  ['0.64', '64\\%', true, 'percentage given as a fraction of 1'],
  ['64', '0.64', true, 'ref*100'],
  ['64%', '64', true, 'percent sign'],
  ['6.4', '64', false, 'only /100 and *100'],
  // units and text suffixes
  ['14', '14 \\text{ right triangles}', true, 'trailing \\text{} label'],
  ['35', '35^\\circ', true, 'degrees'],
  ['80 cents', '80', true, 'unit word after number'],
  ['5 cm^2', '5', true, 'unit with power'],
  ['18 dollars', '18', true, 'word after number'],
  ['5 \\text{ mph}', '5', true, 'unit in \\text'],
  ['3m', '3', false, 'a letter glued to a number is algebra, not a unit'],
  ['\\approx 8.24 \\text{ mph}', '8.24', true, '\\approx prefix'],
  ['five', '5', true, 'number words'],
  ['twenty-one', '21', true, 'hyphenated number words'],
  ['2 million', '2000000', true, 'scale words'],
  // fractions
  ['\\frac{1}{2}', '0.5', true, 'fraction vs decimal'],
  ['\\dfrac{14}{11}', '1.272727', true, 'dfrac'],
  ['\\tfrac32', '1.5', true, 'tfrac with single-char arguments'],
  ['\\frac12', '\\frac{1}{2}', true, 'fix_fracs'],
  ['\\frac1{72}', '1/72', true, 'fix_fracs + a/b'],
  ['1/2', '\\frac{1}{2}', true, 'a/b -> \\frac'],
  ['2/4', '\\frac{1}{2}', true, 'unreduced fractions are numerically equal (Qwen; prm800k would say no)'],
  ['-\\frac{1}{2}', '\\frac{-1}{2}', true, 'sign inside or outside'],
  ['7 3/4', '7.75', true, 'mixed number'],
  ['2\\frac{1}{4}', '\\frac{9}{4}', true, 'LaTeX mixed number'],
  ['\\frac{1}{2}', '50', false, 'percent leniency is for plain numbers only'],
  ['19/59', '0.3220338983050847', true, 'DeepMind fraction vs printed float'],
  // roots, pi
  ['3\\sqrt{7}', '\\sqrt{63}', true, 'sqrt numerically'],
  ['\\sqrt3', '1.7320508', true, '\\sqrt3 -> \\sqrt{3}'],
  ['-9*sqrt(7)/2', '-11.905880', true, 'plain sqrt()'],
  ['10 \\pi - 29', '2.41593', true, 'pi numerically'],
  ['2\\pi', '\\pi', false, 'different multiples of pi'],
  ['9 - 4 \\sqrt{5}', '9-4\\sqrt{5}', true, 'spaces'],
  // \left \right, tuples, intervals, sets
  ['\\left(-\\frac{1}{2}, 3, -\\frac{5}{2}\\right)', '(-0.5,3,-2.5)', true, 'tuple element-wise, \\left\\right removed'],
  ['(1,2)', '(2,1)', false, 'tuples are ordered'],
  ['(1,2,3)', '(1,2)', false, 'length differs'],
  ['[1,2)', '[1,2)', true, 'same interval'],
  ['[1,2)', '(1,2]', false, 'interval bracket types matter'],
  ['(-\\infty, -5) \\cup (7, \\infty)', '(-\\infty,-5)\\cup(7,\\infty)', true, 'union of intervals'],
  ['(-\\infty, -5) \\cup (7, \\infty)', '(-\\infty,-5)\\cup[7,\\infty)', false, 'union with a different bracket'],
  ['(-\\infty,\\infty)', '\\mathbb{R}', true, 'all reals'],
  ['x \\in [1,2]', '[1,2]', true, 'x\\in prefix'],
  ['\\{1,2\\}', '\\{2,1\\}', true, 'sets are unordered'],
  ['\\{1,2\\}', '\\{1,3\\}', false, 'different sets'],
  ['(1, 2)', '1, 2', true, 'tuple vs bare list (Qwen strips parentheses)'],
  ['-5, -1, 0.4, 18', '-5,-1,0.4,18', true, 'DeepMind sorted list'],
  ['18, 0.4, -1, -5', '-5, -1, 0.4, 18', false, 'sort order matters'],
  ['d, -3, w', 'c, -3, w', false, 'single letters are not units'],
  ['1 and 2', '1, 2', true, '"and" separates items'],
  ['\\emptyset', '\\{\\}', true, 'empty set'],
  // matrices
  ['\\begin{pmatrix} 20/3 & 4/3 \\\\ -8/3 & 8/3 \\end{pmatrix}', '\\begin{bmatrix}6.66667&1.33333\\\\-2.66667&2.66667\\end{bmatrix}', true, 'matrix cells numerically, bmatrix = pmatrix'],
  ['\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}', false, 'different vector'],
  ['\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '(1,2)', true, 'column vector vs tuple'],
  ['\\begin{array}{cc} 1 & 2 \\end{array}', '\\begin{pmatrix}1&2\\end{pmatrix}', true, 'array -> pmatrix'],
  // equations, expressions, prefixes
  ['k = 5', '5', true, 'short LHS dropped'],
  ['x=3', '3', true, 'x= prefix'],
  ['y = 2x + 3', '2x+3', true, 'line as y='],
  ['x + y = 5', 'y + x = 5', true, 'equations compare L-R'],
  ['17 = x + 2y', 'x + 2y = 17', true, 'equation sides swapped'],
  ['5 = x + y', 'x + y', true, 'a short LHS is dropped (Qwen), so "5 =" goes'],
  ['x + y = 6', 'x + y = 5', false, 'different equation'],
  ['7x^2 - 11x + 17', '17 - 11x + 7x^2', true, 'polynomial, reordered'],
  ['-5*(m - 5)*(m + 3)', '-5*m**2 + 10*m + 75', true, 'DeepMind factored vs expanded'],
  ['-5*(m - 5)*(m + 3)', '-5*m**2 + 10*m + 76', false, 'different polynomial'],
  ['n**3 + 2*n**2 + 6*n + 196', 'n^3+2n^2+6n+196', true, '** vs ^ and implicit products'],
  ['a^2 + b^2', 'b^2 + a^2', true, 'commutative'],
  ['\\sin^2 y', '1-\\cos^2 y', true, 'trig identity numerically'],
  ['w**(-1520)', 'w^{-1520}', true, 'negative exponent'],
  ['1 + i', 'i + 1', true, 'complex unit as symbol'],
  ['3+4j', '3+4i', true, 'j as imaginary unit'],
  ['36*j**3 + 90*j', '36*i**3 + 90*i', false, 'j is a variable in polynomials'],
  ['\\frac{x+1}{2}', '\\frac{1}{2}x + \\frac{1}{2}', true, 'rational expression'],
  ['776_8', '776_8', true, 'base subscript, string equal'],
  ['', '5', false, 'empty prediction'],
  ['\\infty', '\\infty', true, 'infinity'],
  ['9:20 AM', '9:20 AM', true, 'time string'],
];

describe('gradeAnswer', () => {
  it('has at least 60 table cases', () => {
    expect(GRADE.length).toBeGreaterThanOrEqual(60);
  });
  it.each(GRADE)('%s vs %s -> %s (%s)', (pred, gold, want, _why, oneWay) => {
    expect(gradeAnswer(pred, gold)).toBe(want);
    // rStar's math_equiv checks both directions; ours is symmetric apart from multiple choice.
    if (!oneWay) expect(gradeAnswer(gold, pred)).toBe(want);
  });
});

describe('extractAnswer', () => {
  const EXTRACT: [string, string][] = [
    ['So the total is $\\boxed{72}$.', '72'],
    ['first \\boxed{1} then \\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['nested \\boxed{\\frac{\\sqrt{3}}{2}} done', '\\frac{\\sqrt{3}}{2}'],
    ['$\\boxed 5$', '5'],
    ['\\fbox{7}', '7'],
    ['The final answer is $\\frac{3}{4}$. I hope it is correct.', '\\frac{3}{4}'],
    ['Adding up, the answer is 42.', '42'],
    ['The answer is 2.5. Then we stop.', '2.5'],
    ['So the final answer is: 9', '9'],
    ['She has 3 apples and 4 pears, so 7 in all', '7'],
    ['The total is 1,234 dollars', '1234'],
    ['values 3, 4', '4'],
    ['no numbers here', ''],
    ['step one ки the answer is 6 ки', '6'],
    ['-12.5 is left', '-12.5'],
  ];
  it.each(EXTRACT)('%s -> %s', (text, want) => {
    expect(extractAnswer(text)).toBe(want);
  });
  it('feeds gradeAnswer', () => {
    expect(gradeAnswer(extractAnswer('so $x = \\boxed{\\dfrac{1}{2}}$'), '0.5')).toBe(true);
  });
});

describe('normalizeAnswer (strip_string steps)', () => {
  const NORM: [string, string][] = [
    ['5.00', '5'],
    ['k = 5', '5'],
    ['\\dfrac34', '\\frac{3}{4}'],
    ['3/4', '\\frac{3}{4}'],
    ['\\left( 1, 2 \\right)', '(1,2)'],
    ['64\\%', '64'],
    ['\\$1,000', '1000'],
    ['\\text{(A)}', 'A'],
    ['{5}', '5'],
    ['.5', '0.5'],
    ['a \\neq b', 'a\\neb'],
    ['x \\leq 3', 'x\\le3'],
    ['\\begin{bmatrix}1\\end{bmatrix}', '\\begin{pmatrix}1\\end{pmatrix}'],
    ['infinity', '\\infty'],
    ['\\mbox{cm}5', 'cm5'],
    ['\\sqrt2', '\\sqrt{2}'],
    ['24 \\text{ dollars}', '24'],
  ];
  it.each(NORM)('%s -> %s', (s, want) => {
    expect(normalizeAnswer(s)).toBe(want);
  });
  it('is idempotent on real MATH answers', () => {
    for (const p of loadDataset('math').slice(0, 1500)) {
      const n = normalizeAnswer(p.answer);
      expect(gradeAnswer(n, p.answer), p.answer).toBe(true);
    }
  });
});

describe('parseNumber and answerKey', () => {
  it('parses simple numeric forms', () => {
    const cases: [string, number | null][] = [
      ['42', 42], ['-3.5', -3.5], ['1,000', 1000], ['\\frac{3}{4}', 0.75], ['3/4', 0.75], ['7 3/4', 7.75],
      ['50%', 50], ['\\$5', 5], ['2\\sqrt{2}', 2 * Math.SQRT2], ['\\pi', Math.PI], ['5.02344e-7', 5.02344e-7],
      ['x+1', null], ['(1,2)', null], ['\\infty', null], ['abc', null], ['', null], ['1/0', null],
    ];
    for (const [s, want] of cases) {
      const got = parseNumber(s);
      if (want === null) expect(got, s).toBeNull();
      else expect(got, s).toBeCloseTo(want, 9);
    }
  });
  it('maps equivalent answers to one key and different ones apart', () => {
    expect(answerKey('\\frac{1}{2}')).toBe(answerKey('0.5'));
    expect(answerKey('0.50')).toBe(answerKey('1/2'));
    expect(answerKey('$1,000')).toBe(answerKey('1000'));
    expect(answerKey('72')).toBe('72');
    expect(answerKey('-0')).toBe('0');
    expect(answerKey('(\\frac{1}{2}, 3)')).toBe(answerKey('(0.5,3)'));
    expect(answerKey('\\text{Yes}')).toBe(answerKey('yes'));
    expect(answerKey('0.5')).not.toBe(answerKey('50'));
    expect(answerKey('(1,2)')).not.toBe(answerKey('(2,1)'));
    expect(answerKey('x+1')).not.toBe(answerKey('x+2'));
  });
});

describe('real data', () => {
  it('every gold answer grades equal to itself (gsm8k, mawps, deepmind, math)', () => {
    for (const name of ['gsm8k', 'mawps', 'deepmind', 'math']) {
      const bad = loadDataset(name).filter((p) => !gradeAnswer(p.answer, p.answer));
      expect(bad.map((p) => p.id), name).toEqual([]);
    }
  });
  it('numeric golds have a number key (gsm8k, mawps)', () => {
    for (const name of ['gsm8k', 'mawps']) {
      const bad = loadDataset(name).filter((p) => parseNumber(p.answer) === null);
      expect(bad.map((p) => p.answer), name).toEqual([]);
    }
  });
  it('MATH answer equals answer_numeric where present', () => {
    let checked = 0;
    const bad: string[] = [];
    for (const p of loadDataset('math')) {
      const num = p.extra?.answer_numeric;
      if (typeof num !== 'string') continue;
      checked++;
      if (gradeAnswer(p.answer, num) && gradeAnswer(num, p.answer)) continue;
      // answer_numeric is rounded to 6 decimals, which is more than 1e-4 relative for tiny values
      // (1/2187 vs 0.000457): those must still agree to the rounding.
      const v = parseNumber(p.answer);
      if (v === null || Math.abs(v - Number(num)) > 5e-7 + 1e-12) bad.push(`${p.answer} | ${num}`);
      else expect(Math.abs(v), p.answer).toBeLessThan(0.01);
    }
    expect(checked).toBeGreaterThan(6000);
    expect(bad).toEqual([]);
  });
  it('extracts the gold from every MATH reference solution', () => {
    const bad = loadDataset('math').filter((p) => !gradeAnswer(extractAnswer(p.solution!), p.answer));
    expect(bad.map((p) => p.id)).toEqual([]);
  });
});
