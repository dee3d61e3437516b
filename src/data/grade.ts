// Answer equivalence: is a predicted final answer the same as the gold one?
//
// Follows docs/answer-grading.md, i.e. what rStar-Math inherits from the Qwen2.5-Math evaluation
// (parser.extract_answer, parser.strip_string, grader.math_equal):
//   extractAnswer  last \boxed{} / "the answer is" / last number
//   normalizeAnswer strip_string: units, \text, \left\right, dfrac→frac, %, trailing zeros, a/b→\frac, ...
//   gradeAnswer    string equality, multiple choice, numbers with rel tol 1e-4 (also gold/100, gold*100),
//                  tuples/intervals/sets/matrices element-wise, equations, and expressions compared
//                  numerically (\frac, \sqrt, \pi; with variables: at seeded random points, which stands
//                  in for sympy's simplify).
//
// Deliberate differences from Qwen, each because Qwen's rule makes wrong answers right on our data:
// - Intervals must use the same bracket types ("[1,2)" ≠ "(1,2]"); Qwen ignores them (prm800k does not).
// - Unit words are removed only right after a number ("5 cm", "5\text{ cm}"), not anywhere: Qwen's
//   single-letter units would turn DeepMind's "d, -3, w" and "c, -3, w" into the same string.
// - "j" becomes the imaginary "i" only in complex-looking answers ("3+4j"), not in polynomials in j.
// - Commas are thousands separators only in a well-formed whole number ("1,000"); "17,44" is a list.
// - " and " separates list items ("1 and 2" = "1, 2") instead of being deleted ("12").
// - "1\frac{1}{2}" / "1 1/2" alone are mixed numbers (1.5), as in word problems.

// ---------------------------------------------------------------------------------------------------
// Extraction

/** Content of the brace group opening at s[open] === '{', and the index after its '}'. */
function braceGroup(s: string, open: number): { body: string; end: number; closed: boolean } {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { body: s.slice(open + 1, i), end: i + 1, closed: true };
    }
  }
  return { body: s.slice(open + 1), end: s.length, closed: false };
}

/** Cut a sentence-style answer at its end: ". " / ".\n" / newline, keeping decimals ("2.5") whole. */
function firstSentence(s: string): string {
  const m = /\.(\s|$)|\n/.exec(s);
  return m ? s.slice(0, m.index) : s;
}

/**
 * The final answer in a model's text. Lightly cleaned (outer `$`, trailing `.`), not normalised:
 * gradeAnswer / answerKey normalise themselves. Returns '' when nothing looks like an answer.
 */
export function extractAnswer(text: string): string {
  let t = String(text ?? '').replace(/\u043a\u0438/g, '');
  let ans: string | null = null;
  const minerva = /final answer is \$(.+?)\$\. I hope/s.exec(t);
  if (minerva) ans = minerva[1]!;
  else if (t.includes('boxed') || t.includes('\\fbox')) {
    const b = t.lastIndexOf('boxed');
    const f = t.lastIndexOf('\\fbox');
    const after = b > f ? t.slice(b + 'boxed'.length) : t.slice(f + '\\fbox'.length);
    if (after.startsWith('{')) ans = braceGroup(after, 0).body;
    else ans = after.replace(/^\s+/, '').split('$')[0]!;
  } else if (/he answer is/i.test(t)) {
    const parts = t.split(/he answer is/i);
    ans = firstSentence(parts[parts.length - 1]!.trim());
  } else if (/final answer is/i.test(t)) {
    const parts = t.split(/final answer is/i);
    ans = firstSentence(parts[parts.length - 1]!.trim());
  } else {
    // Thousands separators go, list commas stay ("1,234" → 1234; "3, 4" keeps 4 as the last number).
    t = t.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
    const nums = t.match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi);
    ans = nums ? nums[nums.length - 1]! : '';
  }
  let a = ans.replace(/\n\s*/g, '').trim();
  a = a.replace(/^:+/, '').trim();
  a = a.replace(/[./]+$/, '').trim();
  if (/^\$[^$]*\$$/.test(a)) a = a.slice(1, -1).trim();
  return a;
}

// ---------------------------------------------------------------------------------------------------
// Normalisation (strip_string)

const SMALL_NUMBERS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };

/** "twenty-one", "one hundred and five" → number; null unless the whole string is number words. */
function wordsToNumber(s: string): number | null {
  const words = s.toLowerCase().replace(/-/g, ' ').split(/\s+/).filter((w) => w && w !== 'and');
  if (words.length === 0) return null;
  let total = 0;
  let cur = 0;
  let neg = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (i === 0 && (w === 'minus' || w === 'negative')) {
      neg = true;
      continue;
    }
    if (w in SMALL_NUMBERS) cur += SMALL_NUMBERS[w]!;
    else if (w === 'hundred') cur = (cur || 1) * 100;
    else if (w in SCALES) {
      total += (cur || 1) * SCALES[w]!;
      cur = 0;
    } else return null;
  }
  const v = total + cur;
  return neg ? -v : v;
}

// Unit words removed after a number (plural "s" optional), with an optional ^2 / ^3.
const UNITS = [
  'mph', 'kph', 'km/h', 'ft', 'feet', 'foot', 'mile', 'inch', 'inches', 'in', 'yard', 'yd', 'cm', 'mm', 'km',
  'm', 'meter', 'metre', 'centimeter', 'centimetre', 'millimeter', 'kilometer', 'kg', 'g', 'gram', 'mg',
  'kilogram', 'lb', 'lbs', 'pound', 'oz', 'ounce', 'ton', 'tonne', 'hour', 'hr', 'h', 'minute', 'min', 'second',
  'sec', 's', 'day', 'week', 'month', 'year', 'yr', 'decade', 'century', 'centuries', 'degree', 'deg', 'percent',
  'rs', 'rupee', 'acre', 'gallon', 'gal', 'liter', 'litre', 'l', 'ml', 'quart', 'pint', 'cup', 'sq', 'square',
  'cubic', 'unit', 'dollar', 'cent', 'euro', 'point', 'cents', 'mi', 'sqft',
];
// Single letters and "in" only after a space: "3m" and "2in" may be algebra, "3 m" is a unit.
const unitRe = (units: string[], gap: string): RegExp =>
  new RegExp(
    String.raw`(\d|\})${gap}(?:sq\.?\s*|square\s+|cubic\s+)?(?:` +
      units.map((u) => u.replace(/[/.]/g, '\\$&')).join('|') +
      String.raw`)(?:e?s)?\.?(?:\^\{?[23]\}?)?(?=$|[,;)\]])`,
    'gi',
  );
const UNIT_RES = [
  unitRe(UNITS.filter((u) => u.length > 1 && u !== 'in'), String.raw`\s*`),
  unitRe(UNITS.filter((u) => u.length === 1 || u === 'in'), String.raw`\s+`),
];
// Words that may follow a number and still matter ("2 pi", "5 or 6").
const MATH_WORDS = new Set(['pi', 'sqrt', 'sin', 'cos', 'tan', 'log', 'ln', 'exp', 'or', 'and', 'to', 'i', 'e', 'infty']);

/** Replace each `\cmd{...}` by its content (brace matched); `drop` deletes it instead. */
function unwrapCommand(s: string, cmd: string, drop = false): string {
  const needle = `\\${cmd}{`;
  for (let at = s.indexOf(needle); at >= 0; at = s.indexOf(needle, at)) {
    const g = braceGroup(s, at + needle.length - 1);
    s = s.slice(0, at) + (drop ? '' : g.body) + s.slice(g.end);
  }
  return s;
}

/** `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`, `\frac{1}2` → `\frac{1}{2}`. */
function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0]!;
  for (const part of parts.slice(1)) {
    out += '\\frac';
    let rest = part;
    for (let k = 0; k < 2; k++) {
      if (rest.startsWith('{')) {
        const g = braceGroup(rest, 0);
        out += `{${g.body}}`;
        rest = rest.slice(g.end);
      } else if (rest.length > 0) {
        out += `{${rest[0]}}`;
        rest = rest.slice(1);
      }
    }
    out += rest;
  }
  return out;
}

/**
 * Qwen's strip_string, in its order (see docs/answer-grading.md), with the differences listed at the
 * top of this file. Idempotent for practical purposes; case is kept (comparisons lowercase).
 */
export function normalizeAnswer(input: string): string {
  let s = String(input ?? '').trim().replace(/\n/g, '');
  s = s.replace(/\.+$/, '');
  s = s.replace(/\\!/g, '');
  s = s.replace(/\{,\}/g, ',');
  s = s.replace(/(?<!\\)\\[,;: ]|~/g, ' '); // thin spaces, not the "\\ " of a matrix row
  s = s.replace(/\\(?:displaystyle|mathrm\{\s*\}|quad|qquad)/g, ' ');
  s = s.replace(/\\begin\{array\}\{[^}]*\}/g, '\\begin{pmatrix}').replace(/\\end\{array\}/g, '\\end{pmatrix}');
  s = s.replace(/bmatrix/g, 'pmatrix');
  s = s.replace(/\\[td]frac/g, '\\frac').replace(/\\neq\b/g, '\\ne').replace(/\\leq\b/g, '\\le').replace(/\\geq\b/g, '\\ge');
  s = s.replace(/\\(?:left|right)\./g, '').replace(/\\(?:left|right)(?![a-zA-Z])/g, '');
  s = s.replace(/\\\{/g, '{').replace(/\\\}/g, '}');
  // A trailing \text{...} is a unit or label when something is left in front of it ("14 \text{ cm}").
  const tail = /\\(?:text|mbox|mathrm|textbf)\{/g;
  for (let m = tail.exec(s); m; m = tail.exec(s)) {
    const g = braceGroup(s, m.index + m[0].length - 1);
    if (g.end === s.length && g.closed) {
      const front = s.slice(0, m.index).trim();
      const label = front !== '' && !/\\(?:text|mbox|mathrm|textbf)\{/.test(front) && /[\d}a-zA-Z)]$/.test(front);
      if (label && !/^\s*(?:and|or|,)\s*$/.test(g.body)) s = front;
      break;
    }
  }
  s = s.replace(/\^\{\\circ\}|\^\\circ|°|\\circ/g, '');
  s = s.replace(/\\\$|\$/g, '');
  s = s.replace(/\\[()[\]]/g, '');
  for (const cmd of ['text', 'textbf', 'textit', 'mathrm', 'mathbf', 'mbox', 'operatorname', 'boxed']) s = unwrapCommand(s, cmd);
  const w = wordsToNumber(s);
  if (w !== null) s = String(w);
  s = s.replace(/(^|[,;(\[{])\s*[a-zA-Z]\s*\\in\s*/g, '$1');
  s = s.replace(/(^|[,;(\[{])\s*[xyz]\s*\\to\s*/g, '$1');
  s = s.replace(/(^|[,;(\[{])\s*[xyz]\s*=(?!=)\s*/g, '$1');
  s = s.replace(/\\emptyset|\\varnothing/g, '{}');
  if (/^\(\s*-\s*\\infty\s*,\s*\\infty\s*\)$/.test(s)) s = '\\mathbb{R}';
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/ \./g, ' 0.').replace(/\{\./g, '{0.');
  s = s.replace(/^\s*(?:\\approx|\\sim|approximately|about|approx\.?)\s*/i, '');
  s = s.replace(/(\d)\s*(thousand|million|billion|trillion)\b/gi, (_m, d: string, w2: string) => {
    const e = { thousand: 3, million: 6, billion: 9, trillion: 12 }[w2.toLowerCase() as 'thousand']!;
    return `${d}\\times10^{${e}}`;
  });
  // Units after numbers; two passes like Qwen ("5 ft 2" is not a thing, "5 sq ft" is).
  for (let k = 0; k < 2; k++) for (const re of UNIT_RES) s = s.replace(re, '$1').trim();
  // "18 dollars", "5 apples each": a number followed only by words is that number.
  const numWords = /^(-?[\d.,]*\d)\s+([a-zA-Z][a-zA-Z' .-]*)$/.exec(s);
  if (numWords) {
    const ws = numWords[2]!.toLowerCase().split(/[\s.-]+/).filter(Boolean);
    if (ws.every((x) => x.length >= 2 && !MATH_WORDS.has(x))) s = numWords[1]!;
  }
  s = s.replace(/\binfinity\b/gi, '\\infty');
  if (!s.includes('\\infty')) s = s.replace(/\binf\b/g, '\\infty');
  s = s.replace(/\s+and\s+/g, ',').replace(/^and\s+|\s+and$/g, '');
  s = s.replace(/\\mathbf/g, '');
  if (/^[-+\d.\s*]*j$/.test(s) && !s.includes('i')) s = s.replace(/j/g, 'i');
  // Thousands separators only in a whole, well-formed number; otherwise commas separate items.
  if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s.replace(/\s/g, '')) && !/,\s/.test(s)) s = s.replace(/[,\s]/g, '');
  // Mixed numbers "7 3/4" before spaces go (else they'd read 73/4).
  s = s.replace(/^(-?\d+)\s+(\d+)\s*\/\s*(\d+)$/, '$1\\frac{$2}{$3}');
  s = s.replace(/(\d+)\.0*([^\d]|$)/g, '$1$2');
  s = s.replace(/(\d\.\d*?[1-9])0+(?!\d)/g, '$1');
  s = s.replace(/(^|[^\d])\.(\d)/g, (_m, pre: string, d: string) => `${pre}0.${d}`);
  const eq = s.split('=');
  if (eq.length === 2 && eq[0]!.length <= 2 && eq[1]!.trim() !== '') s = eq[1]!;
  s = s.replace(/\\sqrt(\w)/g, '\\sqrt{$1}');
  s = s.replace(/\s+/g, '');
  s = fixFracs(s);
  const ab = /^(-?\d+)\/(\d+)$/.exec(s);
  if (ab) s = `\\frac{${ab[1]}}{${ab[2]}}`;
  s = s.replace(/^\\frac\{-(\d+)\}/, '-\\frac{$1}');
  // {x}, (x), [x] around a single alphanumeric token.
  const wrapped = /^[({[]([a-zA-Z0-9.]+)[)}\]]$/.exec(s);
  if (wrapped) s = wrapped[1]!;
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Expressions: a small parser for the LaTeX / plain forms answers take, evaluated numerically.

type Env = Record<string, number>;
type Fn = (env: Env) => number;
interface Compiled {
  fn: Fn;
  vars: Set<string>;
}

type Tok =
  | { k: 'num'; v: number }
  | { k: 'var'; v: string }
  | { k: 'const'; v: number }
  | { k: 'fn'; v: string }
  | { k: 'frac' }
  | { k: 'sqrt' }
  | { k: 'op'; v: string }
  | { k: 'lp'; v: string }
  | { k: 'rp'; v: string };

const FUNCS: Record<string, (x: number) => number> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, sec: (x) => 1 / Math.cos(x), csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x), arcsin: Math.asin, arccos: Math.acos, arctan: Math.atan, ln: Math.log,
  log: Math.log, exp: Math.exp, sqrt: Math.sqrt, abs: Math.abs,
};
const GREEK = new Set(['alpha', 'beta', 'gamma', 'delta', 'theta', 'lambda', 'mu', 'phi', 'omega', 'sigma', 'tau', 'rho']);
const CMD_OPS: Record<string, string> = { cdot: '*', times: '*', ast: '*', div: '/' };

class ParseFail extends Error {}

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(s.slice(i));
    if (num && /\d/.test(c + (s[i + 1] ?? ''))) {
      // "2e" with no exponent digits is 2·e, not scientific notation.
      const text = /e[-+]?\d/i.test(num[0]) ? num[0] : num[0].replace(/e.*$/i, '');
      toks.push({ k: 'num', v: Number(text) });
      i += text.length;
      continue;
    }
    if (c === '\\') {
      const m = /^[a-zA-Z]+/.exec(s.slice(i + 1));
      if (!m) throw new ParseFail(`bad command at ${i}`);
      let name = m[0];
      // Spaces are gone after normalisation: "\sinx" is \sin x, "\pir" is \pi r.
      const known = ['frac', 'sqrt', 'pi', ...Object.keys(FUNCS), ...Object.keys(CMD_OPS), ...GREEK];
      if (!known.includes(name)) {
        const pre = known.filter((k) => name.startsWith(k)).sort((a, b) => b.length - a.length)[0];
        if (!pre) throw new ParseFail(`unknown command \\${name}`);
        name = pre;
      }
      i += 1 + name.length;
      if (name === 'frac') toks.push({ k: 'frac' });
      else if (name === 'sqrt') toks.push({ k: 'sqrt' });
      else if (name === 'pi') toks.push({ k: 'const', v: Math.PI });
      else if (name in CMD_OPS) toks.push({ k: 'op', v: CMD_OPS[name]! });
      else if (name in FUNCS) toks.push({ k: 'fn', v: name });
      else toks.push({ k: 'var', v: `\\${name}` });
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      const word = /^[a-zA-Z]+/.exec(s.slice(i))![0];
      // Spaces are gone: "sqrt3", "cosx" start with a function name; the rest is tokenised after it.
      const fn = ['sqrt', 'arcsin', 'arccos', 'arctan', 'sin', 'cos', 'tan', 'exp', 'log', 'ln', 'abs'].find((f) => word.startsWith(f));
      if (fn) {
        toks.push({ k: 'fn', v: fn });
        i += fn.length;
        continue;
      }
      if (word.startsWith('pi')) {
        toks.push({ k: 'const', v: Math.PI });
        i += 2;
        continue;
      }
      toks.push({ k: 'var', v: c });
      i++;
      continue;
    }
    if (s.startsWith('**', i)) {
      toks.push({ k: 'op', v: '^' });
      i += 2;
      continue;
    }
    if ('+-*/^!'.includes(c)) toks.push({ k: 'op', v: c });
    else if ('([{'.includes(c)) toks.push({ k: 'lp', v: c });
    else if (')]}'.includes(c)) toks.push({ k: 'rp', v: c });
    else throw new ParseFail(`unexpected ${c}`);
    i++;
  }
  return toks;
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

function factorial(x: number): number {
  if (!Number.isInteger(x) || x < 0 || x > 170) return NaN;
  let r = 1;
  for (let k = 2; k <= x; k++) r *= k;
  return r;
}

class ExprParser {
  private p = 0;
  readonly vars = new Set<string>();
  constructor(private readonly toks: Tok[]) {}

  parse(): Fn {
    const f = this.expr();
    if (this.p !== this.toks.length) throw new ParseFail('trailing tokens');
    return f;
  }
  private peek(): Tok | undefined {
    return this.toks[this.p];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.k === 'op' && t.v === v;
  }
  private expr(): Fn {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.toks[this.p++] as { v: string }).v;
      const a = left;
      const b = this.term();
      left = op === '+' ? (e) => a(e) + b(e) : (e) => a(e) - b(e);
    }
    return left;
  }
  private startsPrimary(): boolean {
    const t = this.peek();
    return t !== undefined && (t.k === 'num' || t.k === 'var' || t.k === 'const' || t.k === 'fn' || t.k === 'frac' || t.k === 'sqrt' || t.k === 'lp');
  }
  private term(): Fn {
    let left = this.unary();
    for (;;) {
      if (this.isOp('*') || this.isOp('/')) {
        const op = (this.toks[this.p++] as { v: string }).v;
        const a = left;
        const b = this.unary();
        left = op === '*' ? (e) => a(e) * b(e) : (e) => a(e) / b(e);
      } else if (this.startsPrimary()) {
        const a = left;
        const b = this.power();
        left = (e) => a(e) * b(e);
      } else return left;
    }
  }
  private unary(): Fn {
    if (this.isOp('-')) {
      this.p++;
      const a = this.unary();
      return (e) => -a(e);
    }
    if (this.isOp('+')) {
      this.p++;
      return this.unary();
    }
    return this.power();
  }
  private power(): Fn {
    const base = this.postfix();
    if (this.isOp('^')) {
      this.p++;
      const ex = this.exponent();
      return (e) => Math.pow(base(e), ex(e));
    }
    return base;
  }
  private exponent(): Fn {
    if (this.isOp('-')) {
      this.p++;
      const a = this.exponent();
      return (e) => -a(e);
    }
    if (this.isOp('+')) {
      this.p++;
      return this.exponent();
    }
    const base = this.postfix();
    if (this.isOp('^')) {
      this.p++;
      const ex = this.exponent();
      return (e) => Math.pow(base(e), ex(e));
    }
    return base;
  }
  private postfix(): Fn {
    let a = this.primary();
    while (this.isOp('!')) {
      this.p++;
      const b = a;
      a = (e) => factorial(b(e));
    }
    return a;
  }
  private group(): Fn {
    const t = this.toks[this.p++];
    if (!t || t.k !== 'lp') throw new ParseFail('expected a group');
    const inner = this.expr();
    const r = this.toks[this.p++];
    if (!r || r.k !== 'rp' || r.v !== CLOSE[t.v]) throw new ParseFail('unbalanced');
    return inner;
  }
  /** Argument of \frac / \sqrt: a {group} or a single token. */
  private arg(): Fn {
    const t = this.peek();
    if (t?.k === 'lp' && t.v === '{') return this.group();
    return this.primary();
  }
  private primary(): Fn {
    const t = this.toks[this.p];
    if (!t) throw new ParseFail('unexpected end');
    switch (t.k) {
      case 'num':
      case 'const': {
        this.p++;
        const v = t.v;
        return () => v;
      }
      case 'var': {
        this.p++;
        const name = t.v;
        this.vars.add(name);
        return (e) => {
          const v = e[name];
          if (v === undefined) throw new ParseFail(`free variable ${name}`);
          return v;
        };
      }
      case 'lp':
        return this.group();
      case 'frac': {
        this.p++;
        const a = this.arg();
        const b = this.arg();
        return (e) => a(e) / b(e);
      }
      case 'sqrt': {
        this.p++;
        let n: Fn = () => 2;
        const nt = this.peek();
        if (nt?.k === 'lp' && nt.v === '[') n = this.group();
        const a = this.arg();
        return (e) => {
          const k = n(e);
          const x = a(e);
          return k === 2 ? Math.sqrt(x) : x < 0 && k % 2 === 1 ? -Math.pow(-x, 1 / k) : Math.pow(x, 1 / k);
        };
      }
      case 'fn': {
        this.p++;
        const f = FUNCS[t.v]!;
        let pow: Fn | null = null;
        if (this.isOp('^')) {
          this.p++;
          pow = this.exponent();
        }
        const nt = this.peek();
        const a = nt?.k === 'lp' ? this.group() : this.power();
        return pow ? (e) => Math.pow(f(a(e)), pow!(e)) : (e) => f(a(e));
      }
      default:
        throw new ParseFail(`unexpected ${JSON.stringify(t)}`);
    }
  }
}

/** Compile a normalised answer to a numeric function; null if it is not an expression we read. */
function compile(s: string): Compiled | null {
  if (s === '' || s.length > 400) return null;
  // A whole mixed number "2\frac{1}{4}" is 2¼, not 2·¼.
  const mixed = /^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/.exec(s);
  if (mixed && Number(mixed[3]) < Number(mixed[4])) {
    const v = (Number(mixed[2]) + Number(mixed[3]) / Number(mixed[4])) * (mixed[1] ? -1 : 1);
    return { fn: () => v, vars: new Set() };
  }
  try {
    const p = new ExprParser(tokenize(s));
    const fn = p.parse();
    return { fn, vars: p.vars };
  } catch (e) {
    if (e instanceof ParseFail) return null;
    throw e;
  }
}

function isClose(a: number, b: number, rel = 1e-4): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/** Value of a normalised answer that has no variables, else null. */
function numericValue(norm: string): number | null {
  const c = compile(norm);
  if (!c || c.vars.size > 0) return null;
  const v = c.fn({});
  return Number.isFinite(v) ? v : null;
}

/**
 * The number an answer denotes, for simple numeric forms: integers, decimals, scientific notation,
 * thousands commas, %, $, units, fractions (a/b, \frac, mixed), \sqrt, \pi and arithmetic on them.
 * null for anything else (lists, variables, text, infinity).
 */
export function parseNumber(s: string): number | null {
  return numericValue(normalizeAnswer(s));
}

// Seeded points for comparing expressions with variables; away from 0 and 1, where forms coincide.
const POINTS = [0.6180339887, 1.3247179572, 0.7548776662, 1.1892071150, 0.8660254038, 1.4142135624];

/** Expressions equal as functions of their variables (checked at fixed pseudo-random points). */
function symbolicEqual(a: Compiled, b: Compiled, negate = false): boolean {
  const vars = [...new Set([...a.vars, ...b.vars])];
  let checked = 0;
  for (let k = 0; k < 5; k++) {
    const env: Env = {};
    vars.forEach((v, j) => (env[v] = POINTS[(k + 2 * j) % POINTS.length]! + 0.01 * j));
    let x: number;
    let y: number;
    try {
      x = a.fn(env);
      y = b.fn(env);
    } catch {
      return false;
    }
    if (negate) y = -y;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (Math.abs(x - y) > 1e-9 + 1e-6 * Math.max(Math.abs(x), Math.abs(y))) return false;
    checked++;
  }
  return checked >= 3;
}

// ---------------------------------------------------------------------------------------------------
// Comparison

/** Split at top-level occurrences of `sep` (outside (), [], {}). */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      out.push(s.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Whether s[0] is an opening bracket whose partner is the last character. */
function outerBracketed(s: string): boolean {
  if (s.length < 2 || !'([{'.includes(s[0]!) || !')]}'.includes(s[s.length - 1]!)) return false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if ('([{'.includes(s[i]!)) depth++;
    else if (')]}'.includes(s[i]!)) depth--;
    if (depth === 0 && i < s.length - 1) return false;
  }
  return depth === 0;
}

interface Seq {
  open: string;
  close: string;
  items: string[];
}

/** A tuple, interval, set or bare comma list; null for a single item. */
function asSeq(s: string): Seq | null {
  if (outerBracketed(s)) {
    const items = splitTop(s.slice(1, -1), ',');
    if (items.length >= 2 || s[0] === '{') return { open: s[0]!, close: s[s.length - 1]!, items };
    return null;
  }
  const items = splitTop(s, ',');
  return items.length >= 2 ? { open: '', close: '', items } : null;
}

function seqEqual(a: Seq, b: Seq, depth: number): boolean {
  if (a.open && b.open && (a.open !== b.open || a.close !== b.close)) return false;
  if (a.items.length !== b.items.length) return false;
  if (a.open === '{' || b.open === '{') {
    // Sets: any order, each element used once.
    const used = new Array<boolean>(b.items.length).fill(false);
    return a.items.every((x) => {
      const j = b.items.findIndex((y, k) => !used[k] && equivNorm(x, y, depth + 1));
      if (j < 0) return false;
      used[j] = true;
      return true;
    });
  }
  return a.items.every((x, i) => equivNorm(x, b.items[i]!, depth + 1));
}

/** Cells of a pmatrix, or null. */
function matrixCells(s: string): string[][] | null {
  const m = /^\\begin\{pmatrix\}(.*)\\end\{pmatrix\}$/.exec(s);
  if (!m) return null;
  return m[1]!.split('\\\\').filter((r) => r !== '').map((r) => r.split('&'));
}

function plainNumber(s: string): number | null {
  return /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(s) ? Number(s) : null;
}

const isWord = (s: string): boolean => /^[a-zA-Z]{2,}$/.test(s);

/** Equivalence of two normalised answers (math_equal, both directions). */
function equivNorm(a: string, b: string, depth = 0): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (depth > 4 || a === '' || b === '') return false;
  // Plain numbers: rel 1e-4, allowing a percentage written either way; no symbolic fallback.
  const x = plainNumber(a);
  const y = plainNumber(b);
  if (x !== null && y !== null) return [y / 100, y, y * 100].some((c) => isClose(c, x));
  // Unions of intervals.
  const ua = splitTop(a, '\\cup');
  const ub = splitTop(b, '\\cup');
  if (ua.length > 1 || ub.length > 1) {
    return ua.length === ub.length && ua.every((p, i) => equivNorm(p, ub[i]!, depth + 1));
  }
  // Matrices, and a vector written as a tuple/list against a one-row or one-column matrix.
  const ma = matrixCells(a);
  const mb = matrixCells(b);
  if (ma && mb) {
    return ma.length === mb.length && ma.every((r, i) => r.length === mb[i]!.length && r.every((c, j) => equivNorm(c, mb[i]![j]!, depth + 1)));
  }
  const sa = asSeq(a);
  const sb = asSeq(b);
  if (ma || mb) {
    const m = (ma ?? mb)!;
    const other = ma ? sb : sa;
    if (!other || (m.length > 1 && m.some((r) => r.length > 1))) return false;
    const flat = m.flat();
    return flat.length === other.items.length && flat.every((c, i) => equivNorm(c, other.items[i]!, depth + 1));
  }
  if (sa || sb) return sa !== null && sb !== null && seqEqual(sa, sb, depth);
  // Equations: compare L-(R), also with the sides swapped.
  const ea = splitTop(a, '=');
  const eb = splitTop(b, '=');
  if (ea.length === 2 && eb.length === 2) {
    const fa = compile(`(${ea[0]})-(${ea[1]})`);
    const fb = compile(`(${eb[0]})-(${eb[1]})`);
    return !!fa && !!fb && (symbolicEqual(fa, fb) || symbolicEqual(fa, fb, true));
  }
  if (ea.length !== 1 || eb.length !== 1) return false;
  // Text answers are compared as text only: "no" is not "on" even though n·o = o·n.
  if (isWord(a) || isWord(b)) return false;
  const ca = compile(a);
  const cb = compile(b);
  if (!ca || !cb) return false;
  if (ca.vars.size === 0 && cb.vars.size === 0) {
    const va = ca.fn({});
    const vb = cb.fn({});
    return isClose(va, vb);
  }
  return symbolicEqual(ca, cb);
}

/** Multiple choice (Qwen choice_answer_clean): gold is a letter A–E, pred's last standalone letter. */
function choiceEqual(pred: string, gold: string): boolean {
  const g = gold.replace(/\\text\{([^{}]*)\}/g, '$1').replace(/[\s().]/g, '');
  if (!/^[A-E]$/.test(g)) return false;
  const letters = pred.replace(/\\text(bf)?\{([^{}]*)\}/g, '$2').toUpperCase().match(/\b[A-E]\b/g);
  return letters !== null && letters[letters.length - 1] === g;
}

/**
 * Is `pred` a correct final answer for `gold`? Both are answers, not whole solutions (use
 * extractAnswer first). rStar math_equiv order: raw equality, multiple choice, then equivalence of the
 * normalised forms.
 */
export function gradeAnswer(pred: string, gold: string): boolean {
  if (pred === null || pred === undefined || gold === null || gold === undefined) return false;
  const p = String(pred).trim();
  const g = String(gold).trim();
  if (p === '' || g === '') return false;
  if (p.toLowerCase() === g.toLowerCase()) return true;
  if (choiceEqual(p, g)) return true;
  return equivNorm(normalizeAnswer(p), normalizeAnswer(g));
}

function numberKey(v: number): string {
  if (Object.is(v, -0)) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

function keyOfNorm(n: string, depth: number): string {
  const v = numericValue(n);
  if (v !== null) return numberKey(v);
  if (depth < 4) {
    const seq = asSeq(n);
    if (seq) return `${seq.open}${seq.items.map((x) => keyOfNorm(x, depth + 1)).join(',')}${seq.close}`;
  }
  return n.toLowerCase();
}

/**
 * A bucket key for voting: equivalent answers map to the same key where that is cheap to see
 * (a number's value to 6 significant digits, element-wise for tuples, else the normalised text).
 * Keys are a coarser notion than gradeAnswer: 50 and 0.5 get different keys.
 */
export function answerKey(s: string): string {
  return keyOfNorm(normalizeAnswer(s), 0);
}
