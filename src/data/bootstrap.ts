// Round-0 bootstrap: turn the datasets' reference solutions into verified code-augmented step
// trajectories (rStar's first round used a large LLM for this; we have none, so we convert the
// human-written solutions by rule). Every trajectory is executed in the sandbox and kept only when
// it runs and its printed answer grades equal to the gold answer.
//
//   GSM8K     calculator annotations `<<48/2=24>>` → one `const` per annotation, one step per line
//   MAWPS     infix equation over the question's numbers → one step per binary operation
//   DeepMind  arithmetic and linear-equation modules → templates

import { MARKERS, maskNumbers, opPhrase, programOf, questionNumbers, serializeStep, type BinOp, type Step } from './steps.ts';
import type { Problem } from './datasets.ts';
import type { TrajectoryRow } from './arrow.ts';

// ---------------------------------------------------------------------------------------------
// Arithmetic expressions: a small parser shared by all converters, so that code is re-rendered
// from a tree (numbers can be swapped for variables, steps split per operation) instead of being
// patched textually.

export type Expr =
  | { t: 'num'; v: number }
  | { t: 'var'; name: string }
  | { t: 'neg'; e: Expr }
  | { t: 'bin'; op: BinOp; l: Expr; r: Expr };
export type { BinOp } from './steps.ts';

type Tok = { k: 'num'; v: number } | { k: 'id'; s: string } | { k: 'op'; s: string };

function tokenize(src: string): Tok[] | null {
  const s = src
    .replace(/(\d),(?=\d{3}\b)/g, '$1') // thousands separators
    .replace(/[$€£]/g, '')
    .replace(/[×·]/g, '*')
    .replace(/÷/g, '/')
    .replace(/[−–]/g, '-');
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s.slice(i));
    if (num) {
      let v = Number(num[0]);
      i += num[0].length;
      // "50%" is a percentage only when no operand follows (otherwise it is modulo).
      if (s[i] === '%' && !/^\s*[\d.(a-z]/i.test(s.slice(i + 1))) {
        v /= 100;
        i++;
      }
      out.push({ k: 'num', v });
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(s.slice(i));
    if (id) {
      // A lone `x` between operands is the multiplication sign of the prose ("0.2 x 50").
      const prev = out[out.length - 1];
      if (id[0] === 'x' && prev && (prev.k === 'num' || (prev.k === 'op' && prev.s === ')'))) {
        out.push({ k: 'op', s: '*' });
      } else out.push({ k: 'id', s: id[0] });
      i += id[0].length;
      continue;
    }
    if (s.startsWith('**', i)) {
      out.push({ k: 'op', s: '**' });
      i += 2;
      continue;
    }
    if ('+-*/%^()'.includes(c)) {
      out.push({ k: 'op', s: c === '^' ? '**' : c });
      i++;
      continue;
    }
    return null;
  }
  return out;
}

/** Parse an infix arithmetic expression (numbers, identifiers, + - * / % ^ **, parentheses, implicit
 * multiplication like `2(3+4)`). Returns null when it is not one. */
export function parseExpr(src: string): Expr | null {
  const toks = tokenize(src);
  if (!toks || toks.length === 0) return null;
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isOp = (s: string): boolean => {
    const t = toks[p];
    return t !== undefined && t.k === 'op' && t.s === s;
  };
  const fail = (): never => {
    throw new SyntaxError('bad expression');
  };
  const add = (): Expr => {
    let l = mul();
    while (isOp('+') || isOp('-')) {
      const op = (toks[p++] as { s: string }).s as BinOp;
      l = { t: 'bin', op, l, r: mul() };
    }
    return l;
  };
  const startsOperand = (): boolean => {
    const t = peek();
    return t !== undefined && (t.k === 'num' || t.k === 'id' || (t.k === 'op' && t.s === '('));
  };
  const mul = (): Expr => {
    let l = unary();
    for (;;) {
      if (isOp('*') || isOp('/') || isOp('%')) {
        const op = (toks[p++] as { s: string }).s as BinOp;
        l = { t: 'bin', op, l, r: unary() };
      } else if (startsOperand()) l = { t: 'bin', op: '*', l, r: unary() };
      else return l;
    }
  };
  const unary = (): Expr => {
    if (isOp('-')) {
      p++;
      const e = unary();
      return e.t === 'num' ? { t: 'num', v: -e.v } : { t: 'neg', e };
    }
    if (isOp('+')) {
      p++;
      return unary();
    }
    return pow();
  };
  const pow = (): Expr => {
    const base = primary();
    if (isOp('**')) {
      p++;
      return { t: 'bin', op: '**', l: base, r: unary() };
    }
    return base;
  };
  const primary = (): Expr => {
    const t = toks[p++];
    if (!t) return fail();
    if (t.k === 'num') return { t: 'num', v: t.v };
    if (t.k === 'id') return { t: 'var', name: t.s };
    if (t.s === '(') {
      const e = add();
      if (!isOp(')')) fail();
      p++;
      return e;
    }
    return fail();
  };
  try {
    const e = add();
    return p === toks.length ? e : null;
  } catch {
    return null;
  }
}

const PREC: Record<BinOp, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2, '**': 4 };
const precOf = (e: Expr): number =>
  e.t === 'bin' ? PREC[e.op] : e.t === 'neg' || (e.t === 'num' && e.v < 0) ? 3 : 5;

export function formatNumber(v: number): string {
  if (Object.is(v, -0)) return '0';
  // Round away binary noise (0.1 * 3) but keep every digit a data file wrote.
  const s = String(Number(v.toPrecision(15)));
  return s;
}

/** Render as JavaScript with the parentheses JS needs (and those the source had, for fidelity). */
export function renderExpr(e: Expr): string {
  switch (e.t) {
    case 'num':
      return formatNumber(e.v);
    case 'var':
      return e.name;
    case 'neg': {
      const inner = renderExpr(e.e);
      return precOf(e.e) >= 5 ? `-${inner}` : `-(${inner})`;
    }
    case 'bin': {
      const p = PREC[e.op];
      let l = renderExpr(e.l);
      let r = renderExpr(e.r);
      // JS rejects `-2 ** 2`, and `**` is right-associative.
      if (e.op === '**' ? precOf(e.l) <= p : precOf(e.l) < p) l = `(${l})`;
      if (e.op === '**' ? precOf(e.r) < 3 : precOf(e.r) <= p) r = `(${r})`;
      return `${l} ${e.op} ${r}`;
    }
  }
}

export function evalExpr(e: Expr, env: Record<string, number> = {}): number {
  switch (e.t) {
    case 'num':
      return e.v;
    case 'var': {
      const v = env[e.name];
      if (v === undefined) throw new ReferenceError(`${e.name} is not defined`);
      return v;
    }
    case 'neg':
      return -evalExpr(e.e, env);
    case 'bin': {
      const a = evalExpr(e.l, env);
      const b = evalExpr(e.r, env);
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        case '%':
          return a % b;
        case '**':
          return a ** b;
      }
    }
  }
}

function mapNums(e: Expr, f: (v: number) => Expr): Expr {
  switch (e.t) {
    case 'num':
      return f(e.v);
    case 'var':
      return e;
    case 'neg':
      return { t: 'neg', e: mapNums(e.e, f) };
    case 'bin':
      return { ...e, l: mapNums(e.l, f), r: mapNums(e.r, f) };
  }
}

export function approxEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

// ---------------------------------------------------------------------------------------------
// Identifiers

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false ' +
    'finally for function if import in instanceof new null return super switch this throw true try ' +
    'typeof var void while with yield let static implements interface package private protected public ' +
    'await arguments eval undefined nan infinity print math number string object array boolean date ' +
    'json console symbol map set error promise globalthis constructor prototype'
  ).split(' '),
);

const STOP = new Set(
  (
    'a an the of in on at to for from by with and or but is are was were be been being it its this that ' +
    'these those he she they we you i his her their our your my him them us me there here then than so ' +
    'as if each every all altogether now more less also has have had do does did will would ' +
    'can could should which what who whom how many much after before into out up down over per about ' +
    'one two three four five six seven eight nine ten half twice times same other another some any ' +
    'just only still very not no yes an rest during while when where why'
  ).split(' '),
);

/** Content words of a text: lowercase alphabetic words that make a sensible name. */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [])
    .map((w) => w.replace(/'s$/, '').replace(/'/g, ''))
    .filter((w) => w.length >= 2 && !STOP.has(w) && !RESERVED.has(w));
}

const camel = (words: string[]): string =>
  words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');

/** Hands out unique, valid identifiers. */
export class Namer {
  private readonly used = new Set<string>();
  private n = 0;
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  /** Try one word, then two, then a numbered suffix; `v1`, `v2`… when there are no words. */
  take(words: string[], minWords = 1): string {
    const ws = words.map((w) => w.toLowerCase()).filter((w) => /^[a-z][a-z0-9]*$/.test(w));
    for (let k = Math.min(minWords, ws.length, 2) || 1; k <= Math.min(2, ws.length); k++) {
      const c = camel(ws.slice(0, k));
      if (c.length <= 24 && this.free(c)) return this.claim(c);
    }
    if (ws.length && !RESERVED.has(ws[0]!)) {
      const base = camel(ws.slice(0, 1));
      for (let i = 2; i < 100; i++) if (this.free(`${base}${i}`)) return this.claim(`${base}${i}`);
    }
    for (;;) {
      const c = `v${++this.n}`;
      if (this.free(c)) return this.claim(c);
    }
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
  claim(name: string): string {
    this.used.add(name);
    return name;
  }
  private free(c: string): boolean {
    return !this.used.has(c) && !RESERVED.has(c.toLowerCase());
  }
}

// ---------------------------------------------------------------------------------------------
// Comment text

/** Comments stay on one line and never contain a marker. */
function tidy(text: string): string {
  let t = text.replace(/\s+/g, ' ');
  for (const m of MARKERS) t = t.split(m).join(' ');
  return t
    .replace(/\s+([.,;:?!])/g, '$1')
    .replace(/\s+'s\b/g, "'s")
    .replace(/\s+/g, ' ')
    .trim();
}

const numbersIn = (text: string): number[] =>
  (text.replace(/(\d),(?=\d{3}\b)/g, '$1').match(/\d+(?:\.\d+)?|\.\d+/g) ?? []).map(Number);

// ---------------------------------------------------------------------------------------------
// GSM8K

const ANNOTATION = /<<([^<>]*)>>/g;
const ANNOTATION_TEST = /<<[^<>]*>>/;

/**
 * Some GSM8K lines compute without a calculator annotation (`Clare has $47 − $12 = $35 left.`).
 * Write the annotation in when the text before `=` is an expression (after dropping unit words) that
 * evaluates to the number after it; the check keeps prose from being misread as arithmetic.
 */
export function inferAnnotations(line: string): string {
  const eqRe = /=\s*(\$?\s*)(-?(?:\d[\d,]*)?\.?\d+)(?![\d.]*\d)/g;
  let out = '';
  let last = 0;
  for (const m of line.matchAll(eqRe)) {
    const at = m.index!;
    const prevEq = line.lastIndexOf('=', at - 1);
    const region = line.slice(Math.max(prevEq + 1, last), at);
    const stated = Number(m[2]!.replace(/,/g, ''));
    let found: string | undefined;
    for (let i = 0; i < region.length && !found; i++) {
      if (!/[\d($.]/.test(region[i]!) || (i > 0 && /[\d.]/.test(region[i - 1]!))) continue;
      const cand = region
        .slice(i)
        .replace(/\b(?!x\b)[A-Za-z][A-Za-z']*/g, ' ')
        .replace(/−/g, '-');
      if (!/[-+*/x×÷]/.test(cand)) continue;
      const e = parseExpr(cand);
      if (!e || varsOf(e).length) continue;
      const v = evalExpr(e);
      if (approxEqual(v, stated)) found = renderExpr(e);
    }
    if (found === undefined) continue;
    const resStart = at + m[0].length - m[2]!.length;
    out += line.slice(last, resStart) + `<<${found}=${m[2]!.replace(/,/g, '')}>>`;
    last = resStart;
  }
  return out + line.slice(last);
}

/**
 * GSM8K: each line with calculator annotations becomes a step: the sentence without the annotation
 * as comment, one `const` per annotation. Numbers equal to an earlier result become that result's
 * variable. Lines without annotations are context merged into the next step's comment. The last
 * step prints the variable whose value is the gold answer. Null when the solution does not convert.
 */
export function convertGsm8k(p: Problem): Step[] | null {
  const sol = p.solution ?? '';
  const gold = Number(p.answer.replace(/,/g, ''));
  if (!Number.isFinite(gold)) return null;
  const namer = new Namer();
  const results: { name: string; value: number }[] = [];
  const env: Record<string, number> = {};
  const steps: Step[] = [];
  let pending: string[] = [];

  for (const rawLine of sol.split('\n')) {
    let line = rawLine.trim();
    if (!line || /^####/.test(line)) continue;
    if (!ANNOTATION_TEST.test(line)) line = inferAnnotations(line);
    const anns = [...line.matchAll(ANNOTATION)];
    if (anns.length === 0) {
      pending.push(tidy(line));
      continue;
    }
    const codeLines: string[] = [];
    for (const a of anns) {
      const inner = a[1]!;
      const eq = inner.indexOf('=');
      const exprText = eq >= 0 ? inner.slice(0, eq) : inner;
      const stated = eq >= 0 ? Number(inner.slice(inner.lastIndexOf('=') + 1).replace(/[,$%\s]/g, '')) : NaN;
      const parsed = parseExpr(exprText);
      if (!parsed) return null;
      // The most recent earlier result with this value stands for the number (even when the
      // question happens to contain the same number: reuse is what the reference meant far more often).
      const expr = mapNums(parsed, (v) => {
        for (let i = results.length - 1; i >= 0; i--)
          if (approxEqual(results[i]!.value, v)) return { t: 'var', name: results[i]!.name };
        return { t: 'num', v };
      });
      let value: number;
      try {
        value = evalExpr(expr, env);
      } catch {
        return null;
      }
      if (!Number.isFinite(value)) return null;
      const name = namer.take(nameWordsGsm8k(line, a.index!, a[0].length));
      codeLines.push(`const ${name} = ${renderExpr(expr)};`);
      env[name] = value;
      // Only exact results stand for later numbers: a rounded annotation (10/3=3.33) would otherwise
      // shift every later value away from the reference.
      if (Number.isFinite(stated) && approxEqual(value, stated)) results.push({ name, value });
      else results.push({ name, value: NaN });
    }
    steps.push({ comment: [...pending, gsm8kComment(line)].filter(Boolean), code: codeLines.join('\n') });
    pending = [];
  }
  if (steps.length === 0) return null;
  const last = steps[steps.length - 1]!;
  if (pending.length) last.comment.push(...pending);
  // The variable holding the answer: the last one if it matches, else the latest that does.
  const names = Object.keys(env);
  let answerVar: string | undefined;
  for (let i = names.length - 1; i >= 0; i--) {
    if (approxEqual(env[names[i]!]!, gold)) {
      answerVar = names[i];
      break;
    }
  }
  if (!answerVar) return null;
  last.code += `\nprint(${answerVar});`;
  return steps;
}

/** The sentence without its annotations: `48/2 = <<48/2=24>>24 clips` → `48/2 clips`. */
function gsm8kComment(line: string): string {
  const t = line
    .replace(/\s*=\s*\$?\s*<<[^<>]*>>\s*\$?\s*-?[\d,]*(?:\.\d+)?/g, '')
    .replace(/<<[^<>]*>>/g, '')
    // the unit after the expression and the one after the removed result: `400 bugs bugs` → `400 bugs`
    .replace(/\b([A-Za-z]+)(?:\s+\1\b)+/gi, '$1');
  return tidy(t);
}

/** Name words for an annotation: the words after its result, else the words just before it. */
function nameWordsGsm8k(line: string, at: number, len: number): string[] {
  const after = line
    .slice(at + len)
    .replace(/^\s*\$?\s*-?[\d,]*(?:\.\d+)?\s*%?/, '')
    .split(/[.,;:!?=<(]/)[0]!;
  const wa = contentWords(after.split(/\s+/).slice(0, 4).join(' '));
  if (wa.length) return wa;
  const before = line
    .slice(0, at)
    .replace(/<<[^<>]*>>/g, ' ')
    .replace(/[\d\s.,+\-*/x×÷()$%=]+$/i, '');
  const wb = contentWords(before.split(/[.,;:!?]/).pop() ?? '');
  return wb.slice(-1);
}

// ---------------------------------------------------------------------------------------------
// MAWPS / ASDiv-A

const OP_WORD: Record<BinOp, string> = {
  '+': 'sum',
  '-': 'difference',
  '*': 'product',
  '/': 'quotient',
  '%': 'remainder',
  '**': 'power',
};

/** Sentences, then clauses, of a question. */
export function sentencesOf(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<!\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc)\.)(?<=[.?!])\s+(?=\S)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The noun right after a number in the question (`56 books` → books). */
function nounAfter(question: string, v: number): string | undefined {
  const re = /(\d[\d,]*(?:\.\d+)?|\.\d+)\s+((?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+)/g;
  for (const m of question.matchAll(re)) {
    if (!approxEqual(Number(m[1]!.replace(/,/g, '')), v)) continue;
    const w = contentWords(m[2]!.replace(/-/g, ' '));
    if (w.length) return w[0];
  }
  return undefined;
}

/** What the question asks for: `how many books …` → books. */
export function askedNoun(question: string): string | undefined {
  const m = /how (?:many|much)\s+((?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+)/i.exec(question);
  if (!m) return undefined;
  return contentWords(m[1]!)[0];
}

/**
 * MAWPS/ASDiv-A: one step per binary operation of the equation, in evaluation order. A step's comment
 * is the question sentence that mentions its numbers (the asking sentence for the last step) plus
 * what the operation does.
 */
export function convertMawps(p: Problem): Step[] | null {
  const eq = parseExpr(p.solution ?? '');
  if (!eq) return null;
  const sentences = sentencesOf(p.question);
  const asking =
    sentences.find((s) => /\?\s*$/.test(s)) ??
    sentences.find((s) => /\bhow\b|\bwhat\b|\bfind\b/i.test(s)) ??
    sentences[sentences.length - 1] ??
    '';
  const namer = new Namer();
  const steps: Step[] = [];
  const used = new Set<string>();

  // Post-order walk; each operation node becomes a step and is replaced by its variable.
  const walk = (e: Expr, isRoot: boolean): Expr => {
    if (e.t === 'num' || e.t === 'var') return e;
    if (e.t === 'neg') {
      const inner = walk(e.e, false);
      return { t: 'neg', e: inner };
    }
    const l = walk(e.l, false);
    const r = walk(e.r, false);
    const node: Expr = { t: 'bin', op: e.op, l, r };
    // Only what the operation does: copying question sentences into comments costs a small
    // policy many tokens and teaches it nothing about which quantities to combine.
    const comment: string[] = [];
    const show = (x: Expr): string => renderExpr(x);
    comment.push(opPhrase(e.op, show(l), show(r)));
    // Short systematic names (r1, r2, …, answer): a small policy must copy a name wherever it uses a
    // result, and invented nouns ("differencePigs") are where it failed most.
    const name = isRoot ? 'answer' : `r${steps.length + 1}`;
    steps.push({ comment, code: `const ${name} = ${renderExpr(node)};` });
    return { t: 'var', name };
  };
  const root = walk(eq, true);
  if (steps.length === 0) {
    // A bare number (rare): one step that states it.
    const name = namer.take([askedNoun(p.question) ?? 'answer']);
    steps.push({ comment: [tidy(asking)], code: `const ${name} = ${renderExpr(root)};` });
    steps[0]!.code += `\nprint(${name});`;
    return steps;
  }
  const last = steps[steps.length - 1]!;
  last.code += `\nprint(${renderExpr(root)});`;
  return steps;
}

// ---------------------------------------------------------------------------------------------
// DeepMind Mathematics

const ROOTS: Record<string, number> = {
  square: 2,
  cube: 3,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
};

/** Arithmetic questions phrased in words → an expression. */
function arithmeticExpr(q: string): { expr: Expr; phrase: string } | null {
  const s = q.trim().replace(/[?.]\s*$/, '');
  const N = '(-?\\d+(?:\\.\\d+)?)';
  const two: [RegExp, (a: string, b: string) => string][] = [
    [new RegExp(`^(?:What is |Calculate |Work out )?${N} divided by ${N}$`, 'i'), (a, b) => `${a} / (${b})`],
    [new RegExp(`^Divide ${N} by ${N}$`, 'i'), (a, b) => `${a} / (${b})`],
    [new RegExp(`^(?:What is )?${N} times ${N}$`, 'i'), (a, b) => `${a} * (${b})`],
    [new RegExp(`^(?:What is the )?product of ${N} and ${N}$`, 'i'), (a, b) => `${a} * (${b})`],
    [new RegExp(`^Multiply ${N} and ${N}$`, 'i'), (a, b) => `${a} * (${b})`],
    [new RegExp(`^What is ${N} take away ${N}$`, 'i'), (a, b) => `${a} - (${b})`],
    [new RegExp(`^What is ${N} minus ${N}$`, 'i'), (a, b) => `${a} - (${b})`],
    [new RegExp(`^What is ${N} plus ${N}$`, 'i'), (a, b) => `${a} + (${b})`],
    [new RegExp(`^What is ${N} less than ${N}$`, 'i'), (a, b) => `${b} - (${a})`],
    [new RegExp(`^Subtract ${N} from ${N}$`, 'i'), (a, b) => `${b} - (${a})`],
    [new RegExp(`^(?:Add together|Add|Sum|Put together|Total of) ${N} and ${N}$`, 'i'), (a, b) => `${a} + (${b})`],
  ];
  for (const [re, f] of two) {
    const m = re.exec(s);
    if (m) {
      const expr = parseExpr(f(m[1]!, m[2]!));
      return expr ? { expr, phrase: `${s}${/^(what|how)\b/i.test(s) ? '?' : '.'}` } : null;
    }
  }
  const bare = s.replace(/^(?:What is the value of|What is|Calculate|Evaluate|Work out|Compute)\s+/i, '');
  if (!/^[-+*/()\d.\s]+$/.test(bare)) return null;
  const expr = parseExpr(bare);
  return expr ? { expr, phrase: `Evaluate ${bare}.` } : null;
}

/** Split `Solve … for x` into its equations. */
function linearSystem(q: string): { eqs: [Expr, Expr][]; unknown: string; vars: string[] } | null {
  const m = /^Solve (.+) for ([a-z])\.?$/.exec(q.trim());
  if (!m) return null;
  const eqs: [Expr, Expr][] = [];
  for (const part of m[1]!.split(',')) {
    const sides = part.split('=');
    if (sides.length !== 2) return null;
    const l = parseExpr(sides[0]!);
    const r = parseExpr(sides[1]!);
    if (!l || !r) return null;
    eqs.push([l, r]);
  }
  const vars = [...new Set(eqs.flatMap(([l, r]) => [...varsOf(l), ...varsOf(r)]))].sort();
  return { eqs, unknown: m[2]!, vars };
}

function varsOf(e: Expr): string[] {
  switch (e.t) {
    case 'num':
      return [];
    case 'var':
      return [e.name];
    case 'neg':
      return varsOf(e.e);
    case 'bin':
      return [...varsOf(e.l), ...varsOf(e.r)];
  }
}

/** `lhs - rhs` as JS, each side parenthesised when it has an operator. */
function residual(l: Expr, r: Expr): string {
  const wrap = (e: Expr): string => (e.t === 'num' && e.v >= 0) || e.t === 'var' ? renderExpr(e) : `(${renderExpr(e)})`;
  return `${wrap(l)} - ${wrap(r)}`;
}

/** Module of a DeepMind problem (from `extra.module`, or the id). */
export function deepMindModule(p: Problem): string {
  const mod = (p.extra as { module?: unknown } | undefined)?.module;
  if (typeof mod === 'string') return mod;
  const m = /([a-z]+__[a-z_0-9]+)/.exec(p.id);
  return m ? m[1]! : 'unknown';
}

/** Modules convertDeepMind has templates for. */
export const DEEPMIND_MODULES = [
  'arithmetic__add_or_sub',
  'arithmetic__add_sub_multiple',
  'arithmetic__div',
  'arithmetic__mixed',
  'arithmetic__mul',
  'arithmetic__mul_div_multiple',
  'arithmetic__nearest_integer_root',
  'algebra__linear_1d',
  'algebra__linear_2d',
  'numbers__gcd',
  'numbers__lcm',
  'numbers__div_remainder',
  'numbers__round_number',
  'polynomials__evaluate',
] as const;

/** DeepMind Mathematics by template; null for modules and phrasings without one. */
export function convertDeepMind(p: Problem): Step[] | null {
  const q = p.question.trim();
  const mod = deepMindModule(p);
  if (mod.startsWith('arithmetic__')) {
    const root = /^What is the (\w+) root of (\d+) to the nearest integer\?$/.exec(q);
    if (root && ROOTS[root[1]!]) {
      const k = ROOTS[root[1]!]!;
      return [
        {
          comment: [`The ${root[1]} root of ${root[2]} is ${root[2]} ** (1 / ${k}); round it to the nearest integer.`],
          code: `const root = ${root[2]} ** (1 / ${k});\nprint(Math.round(root));`,
        },
      ];
    }
    const power = /^What is (\d+(?:\.\d+)?) to the power of (\d+)\/(\d+), to the nearest integer\?$/.exec(q);
    if (power) {
      return [
        {
          comment: [`Raise ${power[1]} to the power ${power[2]}/${power[3]} and round to the nearest integer.`],
          code: `const value = ${power[1]} ** (${power[2]} / ${power[3]});\nprint(Math.round(value));`,
        },
      ];
    }
    const dist = /^What is the (?:distance|difference) between (-?[\d.]+) and (-?[\d.]+)\?$/.exec(q);
    if (dist) {
      const a = parseExpr(dist[1]!)!;
      const b = parseExpr(dist[2]!)!;
      return [
        {
          comment: ['The distance between two numbers is the absolute value of their difference.'],
          code: `const distance = Math.abs(${renderExpr({ t: 'bin', op: '-', l: a, r: b })});\nprint(distance);`,
        },
      ];
    }
    const a = arithmeticExpr(q);
    if (!a) return null;
    return [{ comment: [tidy(a.phrase)], code: `const value = ${renderExpr(a.expr)};\nprint(value);` }];
  }
  if (mod === 'algebra__linear_1d') {
    const sys = linearSystem(q);
    if (!sys || sys.eqs.length !== 1 || sys.vars.length !== 1 || sys.vars[0] !== sys.unknown) return null;
    const x = sys.unknown;
    const [l, r] = sys.eqs[0]!;
    return [
      {
        comment: [`Move everything to one side: f(${x}) = lhs - rhs is linear in ${x}, and we need f(${x}) = 0.`],
        code: `const f = (${x}) => ${residual(l, r)};`,
      },
      {
        comment: [`A linear f has slope f(1) - f(0) and root -f(0) / slope.`],
        code: `const slope = f(1) - f(0);\nconst ${x}Value = -f(0) / slope;\nprint(${x}Value);`,
      },
    ];
  }
  if (mod === 'algebra__linear_2d') {
    const sys = linearSystem(q);
    if (!sys || sys.eqs.length !== 2 || sys.vars.length !== 2 || !sys.vars.includes(sys.unknown)) return null;
    const [x, y] = sys.vars as [string, string];
    const [e1, e2] = sys.eqs as [[Expr, Expr], [Expr, Expr]];
    const sol =
      sys.unknown === x ? `(b1 * c2 - b2 * c1) / det` : `(a2 * c1 - a1 * c2) / det`;
    return [
      {
        comment: [`Write each equation as f(${x}, ${y}) = lhs - rhs = 0; both are linear in ${x} and ${y}.`],
        code: `const f1 = (${x}, ${y}) => ${residual(...e1)};\nconst f2 = (${x}, ${y}) => ${residual(...e2)};`,
      },
      {
        comment: [`Read off the coefficients of f = a*${x} + b*${y} + c.`],
        code:
          `const c1 = f1(0, 0), a1 = f1(1, 0) - c1, b1 = f1(0, 1) - c1;\n` +
          `const c2 = f2(0, 0), a2 = f2(1, 0) - c2, b2 = f2(0, 1) - c2;`,
      },
      {
        comment: [`Solve a1*${x} + b1*${y} = -c1, a2*${x} + b2*${y} = -c2 by Cramer's rule for ${sys.unknown}.`],
        code: `const det = a1 * b2 - a2 * b1;\nconst ${sys.unknown}Value = ${sol};\nprint(${sys.unknown}Value);`,
      },
    ];
  }
  if (mod === 'numbers__gcd') {
    const m = /(?:greatest common (?:factor|divisor)|highest common (?:factor|divisor)) of (\d+) and (\d+)\??\.?$/i.exec(q);
    if (!m) return null;
    return [
      {
        comment: ["Euclid's algorithm: gcd(a, b) = gcd(b, a % b)."],
        code: `const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));`,
      },
      { comment: [`The greatest common divisor of ${m[1]} and ${m[2]}.`], code: `print(gcd(${m[1]}, ${m[2]}));` },
    ];
  }
  if (mod === 'numbers__lcm') {
    const m =
      /(?:lowest common multiple|least common multiple|smallest common multiple) of (\d+) and (\d+)\??\.?$/i.exec(q) ??
      /common denominator of (-?\d+)\/(\d+) and (-?\d+)\/(\d+)\??\.?$/i.exec(q);
    if (!m) return null;
    const [a, b] = m.length === 5 ? [m[2]!, m[4]!] : [m[1]!, m[2]!];
    return [
      {
        comment: ["Euclid's algorithm gives the gcd; lcm(a, b) = a * b / gcd(a, b)."],
        code: `const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));\nconst lcm = (a, b) => (a / gcd(a, b)) * b;`,
      },
      { comment: [`The least common multiple of ${a} and ${b}.`], code: `print(lcm(${a}, ${b}));` },
    ];
  }
  if (mod === 'numbers__div_remainder') {
    const m = /remainder when (\d+) is divided by (\d+)\??$/i.exec(q) ?? /^Calculate the remainder when (\d+) is divided by (\d+)\.?$/i.exec(q);
    if (!m) return null;
    return [
      { comment: [`The remainder of ${m[1]} divided by ${m[2]}.`], code: `const remainder = ${m[1]} % ${m[2]};\nprint(remainder);` },
    ];
  }
  if (mod === 'numbers__round_number') {
    const NUMW: Record<string, number> = { zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };
    const count = (w: string): number | undefined => (/^\d+$/.test(w) ? Number(w) : NUMW[w.toLowerCase()]);
    const dp = /^(?:Round (-?\d+(?:\.\d+)?) to|What is (-?\d+(?:\.\d+)?) rounded to) (\w+) (?:dps?|decimal places?)[?.]?$/i.exec(q);
    if (dp && count(dp[3]!) !== undefined) {
      const x = dp[1] ?? dp[2]!;
      const k = count(dp[3]!)!;
      return [
        {
          comment: [`Round ${x} to ${k} decimal places.`],
          code: `const rounded = Number((${x}).toFixed(${k}));\nprint(rounded);`,
        },
      ];
    }
    const m = /^(?:Round (-?\d+(?:\.\d+)?) to|What is (-?\d+(?:\.\d+)?) rounded to) the nearest (.+?)[?.]?$/i.exec(q);
    if (!m) return null;
    const unitText = m[3]!.toLowerCase();
    const named: Record<string, number> = {
      integer: 1, ten: 10, hundred: 100, 'one hundred': 100, thousand: 1000, 'one thousand': 1000,
      'ten thousand': 1e4, 'one hundred thousand': 1e5, 'hundred thousand': 1e5, million: 1e6,
      'one million': 1e6, 'ten million': 1e7, 'one hundred million': 1e8, 'one billion': 1e9,
    };
    const u = /^\d+$/.test(unitText) ? Number(unitText) : named[unitText];
    if (!u) return null;
    const x = m[1] ?? m[2]!;
    return [
      {
        comment: [`Round ${x} to the nearest ${m[3]}: divide by ${u}, round, multiply back.`],
        code: `const rounded = Math.round(${x} / ${u}) * ${u};\nprint(rounded);`,
      },
    ];
  }
  if (mod === 'polynomials__evaluate') {
    const m = /^Let ([a-z])\(([a-z])\) = (.+)\. (?:Calculate|Determine|Give|What is) \1\((-?\d+)\)\??\.?$/.exec(q);
    if (!m) return null;
    const body = parseExpr(m[3]!);
    if (!body) return null;
    return [
      { comment: [`Define ${m[1]}(${m[2]}) = ${m[3]}.`], code: `const ${m[1]} = (${m[2]}) => ${renderExpr(body)};` },
      { comment: [`Evaluate ${m[1]} at ${m[4]}.`], code: `print(${m[1]}(${m[4]}));` },
    ];
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Driver

export interface SandboxLike {
  runMany(batch: string[][]): Promise<{ ok: boolean; answer?: string; error?: string; timedOut?: boolean }[]>;
}

export type Grader = (pred: string, gold: string) => boolean;

export interface YieldStat {
  tried: number;
  /** Converted to steps (before verification). */
  converted: number;
  kept: number;
}

export interface BootstrapResult {
  trajectories: TrajectoryRow[];
  yieldBy: Record<string, YieldStat>;
  /** DeepMind per module. */
  yieldByModule: Record<string, YieldStat>;
}

export interface BootstrapOptions {
  onProgress?: (done: number, total: number) => void;
  /** Problems sent to the sandbox at once. */
  batchSize?: number;
  grade?: Grader;
}

/** The converter for a problem's source, or null when the source has none (e.g. MATH). */
export function convertProblem(p: Problem): Step[] | null {
  const steps = convertRaw(p);
  // the question's numbers become their names (n0, n1, …): see questionNumbers in steps.ts
  const nums = questionNumbers(p.question);
  return steps ? steps.map((s) => maskNumbers(s, nums)) : null;
}

function convertRaw(p: Problem): Step[] | null {
  const src = p.source.toLowerCase();
  if (src.includes('gsm8k')) return convertGsm8k(p);
  if (src.includes('mawps') || src.includes('asdiv') || src.includes('svamp')) return convertMawps(p);
  if (src.includes('deepmind')) return convertDeepMind(p);
  return null;
}

/** Convert, run in the sandbox, grade; keep the trajectories that reach the gold answer. */
export async function bootstrap(
  problems: Problem[],
  sandbox: SandboxLike,
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const grade = opts.grade ?? (await import('./grade.ts')).gradeAnswer;
  const batchSize = opts.batchSize ?? 64;
  const yieldBy: Record<string, YieldStat> = {};
  const yieldByModule: Record<string, YieldStat> = {};
  const stat = (tbl: Record<string, YieldStat>, k: string): YieldStat =>
    (tbl[k] ??= { tried: 0, converted: 0, kept: 0 });
  const trajectories: TrajectoryRow[] = [];
  const isDm = (p: Problem): boolean => p.source.toLowerCase().includes('deepmind');

  const converted: { p: Problem; steps: Step[] }[] = [];
  for (const p of problems) {
    const stats = [stat(yieldBy, p.source)];
    if (isDm(p)) stats.push(stat(yieldByModule, deepMindModule(p)));
    let steps: Step[] | null = null;
    try {
      steps = convertProblem(p);
    } catch {
      steps = null; // a converter bug on odd data costs one problem, not the run
    }
    for (const s of stats) s.tried++;
    if (!steps || steps.length === 0) continue;
    for (const s of stats) s.converted++;
    converted.push({ p, steps });
  }

  let done = 0;
  for (let i = 0; i < converted.length; i += batchSize) {
    const chunk = converted.slice(i, i + batchSize);
    const results = await sandbox.runMany(chunk.map((c) => programOf(c.p.question, c.steps.map((s) => s.code))));
    // A timeout says more about a loaded machine than about a three-line program: run those again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const again = results.flatMap((r, j) => (r?.timedOut ? [j] : []));
      if (again.length === 0) break;
      const rerun = await sandbox.runMany(again.map((j) => programOf(chunk[j]!.p.question, chunk[j]!.steps.map((s) => s.code))));
      again.forEach((j, k) => (results[j] = rerun[k]!));
    }
    chunk.forEach(({ p, steps }, j) => {
      const r = results[j]!;
      if (!r.ok || r.answer === undefined || !grade(String(r.answer), p.answer)) return;
      stat(yieldBy, p.source).kept++;
      if (isDm(p)) stat(yieldByModule, deepMindModule(p)).kept++;
      trajectories.push({
        problemId: p.id,
        question: p.question,
        steps: steps.map((s, k) => serializeStep(s, k === steps.length - 1)),
        q: steps.map(() => 1),
        visits: steps.map(() => 0),
        correct: true,
        finalAnswer: String(r.answer),
        round: 0,
        source: p.source,
      });
    });
    done += chunk.length;
    opts.onProgress?.(done, converted.length);
  }
  return { trajectories, yieldBy, yieldByModule };
}

/** Yield as a printable table. */
export function formatYield(r: Pick<BootstrapResult, 'yieldBy' | 'yieldByModule'>): string {
  const row = (k: string, s: YieldStat): string =>
    `${k.padEnd(40)} ${String(s.tried).padStart(6)} ${String(s.converted).padStart(9)} ${String(s.kept).padStart(6)} ${
      s.tried ? ((100 * s.kept) / s.tried).toFixed(1).padStart(6) : '     -'
    }%`;
  const lines = [`${'source'.padEnd(40)} ${'tried'.padStart(6)} converted ${'kept'.padStart(6)}  yield`];
  for (const [k, s] of Object.entries(r.yieldBy)) lines.push(row(k, s));
  const mods = Object.entries(r.yieldByModule).filter(([, s]) => s.converted > 0);
  for (const [k, s] of mods.sort()) lines.push(row(`  ${k}`, s));
  return lines.join('\n');
}

export type DatasetName = 'gsm8k' | 'math' | 'mawps' | 'deepmind';

/**
 * Load the datasets' training splits (dev problems are left out so evaluation stays clean), convert,
 * verify in a fresh sandbox pool, write the kept trajectories as Arrow, and return the yield.
 */
export async function runBootstrap(
  outPath: string,
  datasets: DatasetName[] = ['gsm8k', 'mawps', 'deepmind'],
  opts: BootstrapOptions & { includeDev?: boolean; /** First n problems per dataset (tests, smoke runs). */ limit?: number } = {},
): Promise<BootstrapResult> {
  const { loadDataset, splitDev } = await import('./datasets.ts');
  const { writeTrajectories } = await import('./arrow.ts');
  const { SandboxPool } = await import('../search/sandbox.ts');
  const problems: Problem[] = [];
  for (const d of datasets) {
    const all = loadDataset(d);
    const use = opts.includeDev ? all : splitDev(all).train;
    problems.push(...(opts.limit === undefined ? use : use.slice(0, opts.limit)));
  }
  const pool = new SandboxPool();
  try {
    const res = await bootstrap(problems, pool, opts);
    await writeTrajectories(outPath, res.trajectories);
    return res;
  } finally {
    await pool.close();
  }
}
