// Arithmetic expressions: a small parser shared by all converters, so that code is re-rendered
// from a tree (numbers can be swapped for variables, steps split per operation) instead of being
// patched textually.
import type { BinOp } from '../steps.ts';

export type Expr =
  | { t: 'num'; v: number }
  | { t: 'var'; name: string }
  | { t: 'neg'; e: Expr }
  | { t: 'bin'; op: BinOp; l: Expr; r: Expr };
export type { BinOp } from '../steps.ts';

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

/** The expression with each leaf (number or variable) replaced by f's expression for it. */
export function mapLeaves(e: Expr, f: (leaf: Extract<Expr, { t: 'num' | 'var' }>) => Expr): Expr {
  switch (e.t) {
    case 'num':
    case 'var':
      return f(e);
    case 'neg':
      return { t: 'neg', e: mapLeaves(e.e, f) };
    case 'bin':
      return { ...e, l: mapLeaves(e.l, f), r: mapLeaves(e.r, f) };
  }
}

export function mapNums(e: Expr, f: (v: number) => Expr): Expr {
  return mapLeaves(e, (x) => (x.t === 'num' ? f(x.v) : x));
}

export function approxEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

export function varsOf(e: Expr): string[] {
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
