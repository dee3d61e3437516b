// DeepMind Mathematics: one template per module the converter expresses.
import type { Problem } from '../datasets.ts';
import type { Step } from '../steps.ts';
import { tidy } from '../text.ts';
import { parseExpr, renderExpr, varsOf, type Expr } from './expr.ts';

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

