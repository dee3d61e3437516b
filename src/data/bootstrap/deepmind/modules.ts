// The final step of each DeepMind module: the question's last sentence(s) as prelude calls over E
// (context.ts), printing fmt(answer) in the dataset's format. One function per module family.
import type { Step } from '../../steps.ts';
import { isExprText, js, lit, namesIn, ORDINAL, sentences, type Context } from './context.ts';

type Final = (q: string, ctx: Context) => Step | null;

const WORD_NUM: Record<string, number> = { zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };
const NEAREST: Record<string, string> = {
  integer: '1', ten: '10', hundred: '100', 'one hundred': '100', thousand: '1000', 'one thousand': '1000',
  'ten thousand': '10000', 'one hundred thousand': '100000', 'hundred thousand': '100000', million: '1000000',
  'one million': '1000000', 'ten million': '10000000', 'one hundred million': '100000000', 'one billion': '1000000000',
};
// the question arrives with its numbers already named (tagQuestion): `n0`, `-n3`
const N = String.raw`(-?n\d+)`;

const say = (comment: string, code: string): Step => ({ comment: [comment], code });
/** A value in the question: a defined name (E.x) or an expression text read by ev. */
function value(t: string, ctx: Context): string | null {
  const s = t.trim();
  if (/^[a-z]$/.test(s) && ctx.defined.has(s)) return `E.${s}`;
  return isExprText(s) && namesIn(s).every((v) => ctx.defined.has(v)) ? `ev(${js(s)}, E)` : null;
}
const eqText = (eq: string): string | null => {
  const parts = eq.split('=');
  return parts.length === 2 && isExprText(parts[0]!) && isExprText(parts[1]!) ? eq : null;
};

// ---- arithmetic ------------------------------------------------------------------------------------

const WORDED: [RegExp, (m: RegExpExecArray) => string][] = [
  [new RegExp(`^(?:Add together|Add|Sum|Total of|Put together) ${N} and ${N}\\.?$`), (m) => `(${m[1]}) + (${m[2]})`],
  [new RegExp(`^(?:What is|Calculate|Work out) ${N} (plus|minus|take away|times|divided by) ${N}\\??\\.?$`), (m) =>
    `(${m[1]}) ${{ plus: '+', minus: '-', 'take away': '-', times: '*', 'divided by': '/' }[m[2]!]} (${m[3]})`],
  [new RegExp(`^What is ${N} less than ${N}\\?$`), (m) => `(${m[2]}) - (${m[1]})`],
  [new RegExp(`^Subtract ${N} from ${N}\\.?$`), (m) => `(${m[2]}) - (${m[1]})`],
  [new RegExp(`^(?:What is the product of|Product of|Multiply) ${N} and ${N}\\??\\.?$`), (m) => `(${m[1]}) * (${m[2]})`],
  [new RegExp(`^${N} (times|divided by|plus|minus) ${N}\\.?$`), (m) => `(${m[1]}) ${{ times: '*', 'divided by': '/', plus: '+', minus: '-' }[m[2]!]} (${m[3]})`],
  [new RegExp(`^Divide ${N} by ${N}\\.?$`), (m) => `(${m[1]}) / (${m[2]})`],
];

const arithmetic: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^What is the (?:difference|distance) between ${N} and ${N}\\?$`).exec(q)))
    return say(q, `const answer = ev(${js(`(${m[1]}) - (${m[2]})`)}, E).abs();\nprint(fmt(answer));`);
  for (const [re, f] of WORDED) {
    if ((m = re.exec(q))) return say(q, `const answer = ev(${js(f(m))}, E);\nprint(fmt(answer));`);
  }
  const e = q.replace(/^(?:What is the value of|What is|Calculate|Work out|Evaluate|Compute|Determine|Find|Give)\s+/, '').replace(/[.?]$/, '');
  const v = value(e, ctx);
  return v ? say(q, `const answer = ${v};\nprint(fmt(answer));`) : null;
};

const ROOT_K: Record<string, number> = { square: 2, cube: 3, ...ORDINAL };
const nearestIntegerRoot: Final = (q) => {
  let m: RegExpExecArray | null;
  if ((m = /^What is the (\w+) root of (n\d+) to the nearest integer\?$/.exec(q)) && ROOT_K[m[1]!])
    return say(q, `const answer = nearestRoot(${m[2]}, ${lit(ROOT_K[m[1]!]!)});\nprint(fmt(answer));`);
  if ((m = /^What is (n\d+) to the power of (n\d+)\/(n\d+), to the nearest integer\?$/.exec(q)))
    return say(q, `// x**(p/q) is the q-th root of x**p.\nconst answer = nearestRoot(big(${m[1]}) ** big(${m[2]}), ${m[3]});\nprint(fmt(answer));`);
  return null;
};

// the sum copied as the question writes it, its numerals named b0, b1 (steps.ts questionBaseNumerals)
// and read in the base by the prelude: signs are copied, not worked out
const inBase: Final = (q) => {
  const m = /^In base (n\d+), what is (b\d+ [-+] b\d+)\?$/.exec(q);
  return m ? say(q, `const answer = inBase(${m[1]}, ${js(m[2]!)}, E);\nprint(answer);`) : null;
};

const simplifySurd: Final = (q) => {
  const m = /^Simplify (.+)\.$/.exec(q);
  if (!m || !/^[\s\d+\-*/().]*$/.test(m[1]!.replace(/sqrt\(/g, '(').replace(/n\d+/g, '0'))) return null;
  return say(q, `const answer = surd(${js(m[1])}, E);\nprint(fmt(answer));`);
};

// ---- algebra ---------------------------------------------------------------------------------------

const linear1d: Final = (q, ctx) => {
  const m = /^Solve (.+) for ([a-z])\.$/.exec(q);
  if (!m || !eqText(m[1]!)) return null;
  return say(q, `const ${m[2]} = solveLinear(${js(m[1])}, ${js(m[2])}, E);\nprint(fmt(${m[2]}));`);
};

const linear2d: Final = (q, ctx) => {
  const m = /^Solve (.+), (.+) for ([a-z])\.$/.exec(q);
  if (!m || !eqText(m[1]!) || !eqText(m[2]!)) return null;
  const vs = [...new Set([...namesIn(m[1]!), ...namesIn(m[2]!)].filter((v) => !ctx.defined.has(v)))].sort();
  if (vs.length !== 2 || !vs.includes(m[3]!)) return null;
  // the unknowns are the names E does not define: the prelude finds them (naming them was a copy error)
  return say(q, `const s = solveLinear2([${js(m[1])}, ${js(m[2])}], E);\nprint(fmt(s.${m[3]}));`);
};

const polynomialRoots: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  if ((m = /^Factor (.+)\.$/.exec(q)) && value(m[1]!, { ...ctx, defined: new Set([...ctx.defined, ...namesIn(m[1]!)]) }))
    return say(q, `const answer = P(${js(m[1])}, E).factor();\nprint(answer);`);
  const ss = sentences(q);
  let eq: string | undefined;
  let x: string | undefined;
  if (ss.length === 2 && (m = /^(?:Suppose|Let) (.+)\.$/.exec(ss[0]!)) && (m = /^(?:What is|Calculate|Determine|Find|Give) ([a-z])\??\.?$/.exec(ss[1]!) ?? null)) {
    eq = /^(?:Suppose|Let) (.+)\.$/.exec(ss[0]!)![1];
    x = m[1];
  } else if ((m = /^(?:Solve|Find|Determine) (.+?) (?:for|such that|so that|, given that) ([a-z])\.$/.exec(q))) [eq, x] = [m[1], m[2]];
  else if ((m = /^Solve (.+ = .+)\.$/.exec(q)) && namesIn(m[1]!).filter((v) => !ctx.defined.has(v)).length === 1) [eq, x] = [m[1], namesIn(m[1]!).find((v) => !ctx.defined.has(v))];
  else if ((m = /^(?:Find|Determine|Solve for|What is) ([a-z]),? (?:such that|so that|given that|in|for which) (.+)\.?\??$/.exec(q))) [x, eq] = [m[1], m[2]!.replace(/[.?]$/, '')];
  if (!eq || !x || !eqText(eq)) return null;
  const [l, r] = eq.split('=').map((s) => s.trim());
  const expr = r === '0' ? l! : `${l} - (${r})`;
  return say(q, `const answer = P(${js(expr)}, E).roots();\nprint(fmt(answer));`);
};

const listOf = (s: string): string[] | null => {
  const items = s.split(/,\s*/);
  return items.every((t) => /^-?n\d+$/.test(t.trim())) ? items.map((t) => t.trim()) : null;
};
const nextTerm_: Final = (q) => {
  const m = /^(?:What is the next term in|What comes next:|What is next in) (.+)\?$/.exec(q);
  const xs = m && listOf(m[1]!);
  return xs ? say(q, `const answer = nextTerm([${xs.join(', ')}]);\nprint(fmt(answer));`) : null;
};
const nthTerm: Final = (q) => {
  const m = /^What is the ([a-z])'th term of (.+)\?$/.exec(q);
  const xs = m && listOf(m[2]!);
  return xs ? say(q, `const answer = fitPoly([${xs.join(', ')}], ${js(m![1])});\nprint(fmt(answer));`) : null;
};

// ---- calculus --------------------------------------------------------------------------------------

const differentiate: Final = (q) => {
  let m: RegExpExecArray | null;
  let k = 1;
  let expr: string | undefined;
  let wrt: string | undefined;
  if ((m = /^(?:Find the|What is the|Calculate the|Differentiate) ?(first|second|third)? ?(?:derivative of )?(.+?)(?: (?:wrt|with respect to) ([a-z]))?[.?]$/.exec(q))) {
    if (!/derivative of|^Differentiate/.test(q)) return null;
    k = m[1] ? ORDINAL[m[1]]! : 1;
    expr = m[2];
    wrt = m[3];
  }
  if (!expr || !isExprText(expr)) return null;
  const vs = namesIn(expr);
  const v = wrt ?? (vs.length === 1 ? vs[0] : undefined);
  if (!v) return null;
  return say(q, `const answer = P(${js(expr)}, E).diff(${js(v)}, ${lit(k)});\nprint(fmt(answer));`);
};

// ---- comparison ------------------------------------------------------------------------------------

/** Items of a list (`a, b, c`) or of choices (`(a) x  (b) y`) as JS [label, value] pairs; numbers get
 * label null and print as fmt(value), names and choice letters print as themselves. */
function items(text: string, ctx: Context): string[] | null {
  const choice = [...text.matchAll(/\(([a-z])\)\s+(\S+)/g)];
  const out: string[] = [];
  if (choice.length >= 2) {
    for (const c of choice) {
      const v = value(c[2]!, ctx);
      if (!v) return null;
      out.push(`{ label: ${js(c[1])}, value: ${v} }`);
    }
    return out;
  }
  for (const t of text.split(/,\s*|\s+and\s+/)) {
    const s = t.trim();
    const v = value(s, ctx);
    if (!v) return null;
    out.push(`{ label: ${/^[a-z]$/.test(s) ? js(s) : 'null'}, value: ${v} }`);
  }
  return out.length >= 2 ? out : null;
}
const SHOW = `const show = (it) => it.label ?? fmt(it.value);`;

const closest: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  let target: string | undefined;
  let list: string | undefined;
  if ((m = /^Which is the (?:closest|nearest) to (\S+?)\?\s+(\(a\).*)$/.exec(q))) [target, list] = [m[1], m[2]];
  else if ((m = /^What is the (?:closest|nearest) to (\S+?) in (.+)\?$/.exec(q))) [target, list] = [m[1], m[2]];
  if (!target || !list) return null;
  const t = value(target, ctx);
  const xs = items(list, ctx);
  if (!t || !xs) return null;
  return say(q, `const target = ${t};\nconst items = [${xs.join(', ')}];\n${SHOW}\nconst [answer] = sortExact(items, false, (it) => it.value.sub(target).abs());\nprint(show(answer));`);
};

const kthBiggest: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  let ord = 'first', dir = '', list: string | undefined;
  if ((m = /^Which is the (?:(\w+) )?(biggest|smallest) value\?\s+(\(a\).*)$/.exec(q))) [ord, dir, list] = [m[1] ?? 'first', m[2]!, m[3]];
  else if ((m = /^What is the (?:(\w+) )?(biggest|smallest|largest|greatest|lowest) value in (.+)\?$/.exec(q))) [ord, dir, list] = [m[1] ?? 'first', m[2]!, m[3]];
  const k = ORDINAL[ord];
  if (!list || !k) return null;
  const xs = items(list, ctx);
  if (!xs) return null;
  const desc = /biggest|largest|greatest/.test(dir);
  return say(q, `const items = [${xs.join(', ')}];\n${SHOW}\nconst sorted = sortExact(items, ${desc}, (it) => it.value);\nprint(show(sorted[${lit(k - 1)}]));`);
};

const sort: Final = (q, ctx) => {
  const m = /^(?:Put|Sort) (.+?)(?: in (ascending|increasing|descending|decreasing) order)?\.$/.exec(q);
  if (!m) return null;
  const xs = items(m[1]!, ctx);
  if (!xs) return null;
  const desc = m[2] === 'descending' || m[2] === 'decreasing';
  return say(q, `const items = [${xs.join(', ')}];\n${SHOW}\nconst sorted = sortExact(items, ${desc}, (it) => it.value);\nprint(sorted.map(show).join(", "));`);
};

const PAIR_OPS: [RegExp, string][] = [
  [/^Is (\S+) (?:less than or equal to|at most as big as|at most|<=) (\S+)\?$/, 'le'],
  [/^Is (\S+) (?:greater than or equal to|bigger than or equal to|at least as big as|at least|>=) (\S+)\?$/, 'ge'],
  [/^Is (\S+) (?:less than|smaller than|<) (\S+)\?$/, 'lt'],
  [/^Is (\S+) (?:greater than|bigger than|>) (\S+)\?$/, 'gt'],
  [/^(?:Is (\S+) (?:equal to|=)|Does (\S+) =|Are (\S+) and) (\S+?)(?: equal)?\?$/, 'eq'],
  [/^(?:Is (\S+) (?:not equal to|!=)|Are (\S+) and) (\S+?)(?: (?:non-equal|unequal|nonequal))?\?$/, 'ne'],
  [/^Do (\S+) and (\S+) have different values\?$/, 'ne'],
];
const pair: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  if ((m = /^Which is (greater|bigger|smaller): (\S+) or (\S+)\?$/.exec(q))) {
    const xs = items(`${m[2]}, ${m[3]}`, ctx);
    if (!xs) return null;
    const big = m[1] !== 'smaller';
    return say(q, `const items = [${xs.join(', ')}];\n${SHOW}\nconst [answer] = sortExact(items, ${big}, (it) => it.value);\nprint(show(answer));`);
  }
  if ((m = /^Do (\S+) and (\S+) have the same value\?$/.exec(q))) {
    const a = value(m[1]!, ctx), b = value(m[2]!, ctx);
    return a && b ? say(q, `const answer = Q(${a}).eq(${b});\nprint(fmt(answer));`) : null;
  }
  for (const [re, op] of PAIR_OPS) {
    if (!(m = re.exec(q))) continue;
    if (op === 'eq' && /non-equal|unequal|nonequal/.test(q)) continue;
    if (op === 'ne' && !/non-equal|unequal|nonequal|not equal|!=|different/.test(q)) continue;
    const [x, y] = m.slice(1).filter((s) => s !== undefined);
    const a = value(x!, ctx), b = value(y!, ctx);
    if (!a || !b) return null;
    const code = op === 'ne' ? `!Q(${a}).eq(${b})` : `Q(${a}).${op}(${b})`;
    return say(q, `const answer = ${code};\nprint(fmt(answer));`);
  }
  return null;
};

// ---- numbers ---------------------------------------------------------------------------------------

const two = (re: RegExp, f: (a: string, b: string) => string): Final => (q, ctx) => {
  const m = re.exec(q);
  if (!m) return null;
  const a = value(m[1]!, ctx), b = value(m[2]!, ctx);
  return a && b ? say(q, `const answer = ${f(a, b)};\nprint(fmt(answer));`) : null;
};
const gcd_ = two(/(?:greatest|highest) common (?:factor|divisor) of (.+) and (.+?)[.?]?$/, (a, b) => `gcd(${a}, ${b})`);
const lcm_: Final = (q, ctx) =>
  two(/(?:least|lowest|smallest) common multiple of (.+) and (.+?)[.?]?$/, (a, b) => `lcm(${a}, ${b})`)(q, ctx) ??
  two(/common denominator of (.+) and (.+?)[.?]?$/, (a, b) => `lcm(Q(${a}).d, Q(${b}).d)`)(q, ctx);
const remainder = two(/remainder when (.+) is divided by (.+?)[.?]?$/, (a, b) => `mod(${a}, ${b})`);
const isFactor: Final = (q, ctx) => {
  const parity = /^Is (.+) (even|odd)\?$/.exec(q);
  const v = parity && value(parity[1]!, ctx);
  if (v) return say(q, `const answer = mod(${v}, ${lit(2)}) === ${lit(parity![2] === 'even' ? 0 : 1)};\nprint(fmt(answer));`);
  return (
    two(/^Is (.+) a multiple of (.+)\?$/, (a, b) => `mod(${a}, ${b}) === ${lit(0)}`)(q, ctx) ??
    two(/^(?:Is|Does) (.+) (?:a factor of|divide) (.+)\?$/, (a, b) => `mod(${b}, ${a}) === ${lit(0)}`)(q, ctx)
  );
};
const isPrime_: Final = (q, ctx) => {
  const m = /^Is (.+?) (?:a )?(prime|composite)(?: number)?\?$/.exec(q);
  const v = m && value(m[1]!, ctx);
  return v ? say(q, `const n = ${v};\nconst answer = ${m![2] === 'prime' ? '' : '!'}isPrime(n);\nprint(fmt(answer));`) : null;
};
const primeFactors_: Final = (q, ctx) => {
  const m = /prime factors of (.+?)[.?]$/.exec(q);
  const v = m && value(m[1]!, ctx);
  return v ? say(q, `const answer = primeFactors(${v});\nprint(fmt(answer));`) : null;
};
const placeValue: Final = (q, ctx) => {
  const m = /^What is the (.+) digit of (.+)\?$/.exec(q);
  const v = m && value(m[2]!, ctx);
  return v ? say(q, `const answer = digit(${v}, ${js(m![1])});\nprint(fmt(answer));`) : null;
};
const roundNumber: Final = (q, ctx) => {
  let m: RegExpExecArray | null;
  if ((m = /^(?:What is (.+) rounded|Round (.+)) to (\w+) (?:decimal places?|dps?)[.?]?$/.exec(q))) {
    // a count in words is the converter's own literal; one in digits is a question number (masked)
    const dp = WORD_NUM[m[3]!] !== undefined ? lit(WORD_NUM[m[3]!]!) : /^n\d+$/.test(m[3]!) ? m[3] : undefined;
    const v = value(m[1] ?? m[2]!, ctx);
    return v && dp !== undefined ? say(q, `const answer = round(${v}, ${dp});\nprint(fmt(answer));`) : null;
  }
  if ((m = /^(?:What is (.+) rounded|Round (.+)) to the nearest (.+?)[.?]?$/.exec(q))) {
    const unit = NEAREST[m[3]!] ?? (/^n\d+$/.test(m[3]!) ? m[3] : undefined);
    const v = value(m[1] ?? m[2]!, ctx);
    return v && unit ? say(q, `const answer = roundTo(${v}, ${unit});\nprint(fmt(answer));`) : null;
  }
  return null;
};
const baseConversion: Final = (q) => {
  const m = /^(?:What is |Convert )?(b\d+) \(base (n\d+)\) (?:in|to) base (n\d+)\??\.?$/.exec(q);
  if (!m) return null;
  return say(q, `const n = fromBase(${m[1]}, ${m[2]});\nconst answer = toBase(n, ${m[3]});\nprint(answer);`);
};

// ---- measurement -----------------------------------------------------------------------------------

// The quantity is copied as the question words it ("twenty-one fifths of a gram", "n0/n1 of a meter",
// "n0km") and read by the prelude's quantity(): a fraction in words or a unit glued to its number is
// one span to copy, never digits or a unit name to move.
const conversion: Final = (q) => {
  const QTY = String.raw`((?:n\d+/n\d+|n\d+|[a-z]+(?:-[a-z]+)? [a-z]+) ?(?:of an? )?[a-z]+)`;
  const U = '([a-z]+)';
  let m: RegExpExecArray | null;
  let qty: string | undefined;
  let to: string | undefined;
  if ((m = new RegExp(`^How many ${U} are there in ${QTY}\\?$`).exec(q))) [qty, to] = [m[2], m[1]];
  else if ((m = new RegExp(`^What is ${QTY} in ${U}\\?$`).exec(q))) [qty, to] = [m[1], m[2]];
  else if ((m = new RegExp(`^Convert ${QTY} (?:to|into) ${U}\\.$`).exec(q))) [qty, to] = [m[1], m[2]];
  if (!qty || !to) return null;
  return say(q, `const answer = convert(quantity(${js(qty)}, E), ${js(to)});\nprint(fmt(answer));`);
};

const time: Final = (q) => {
  let m: RegExpExecArray | null;
  const clock = (h: string, mm: string, ap: string) => `${h} % ${lit(12)} * ${lit(60)} + ${mm}${ap === 'PM' ? ` + ${lit(12)} * ${lit(60)}` : ''}`;
  // the question's words copied, read by the prelude: "before" is a word to copy, not a sign to choose
  if ((m = /^What is ((n\d+) minutes (after|before) (n\d+):(n\d+) ([AP]M))\?$/.exec(q)))
    return say(q, `const answer = timeAdd(${js(m[1]!)}, E);\nprint(answer);`);
  if ((m = /^How many minutes are there between (n\d+):(n\d+) ([AP]M) and (n\d+):(n\d+) ([AP]M)\?$/.exec(q)))
    return say(q, `const a = ${clock(m[1]!, m[2]!, m[3]!)};\nconst b = ${clock(m[4]!, m[5]!, m[6]!)};\nconst answer = mod(b - a, ${lit(24)} * ${lit(60)});\nprint(fmt(answer));`);
  return null;
};

// ---- polynomials -----------------------------------------------------------------------------------

const polyValue: Final = (q, ctx) => {
  const m = /^(?:Give|Determine|Calculate|What is|Find|Work out|Evaluate) (.+?)[.?]$/.exec(q);
  if (!m || !isExprText(m[1]!)) return null;
  return say(q, `const answer = ev(${js(m[1])}, E);\nprint(fmt(answer));`);
};
const expand: Final = (q) => {
  const m = /^(?:Expand|Collect the terms in|Simplify) (.+)\.$/.exec(q);
  if (!m || !isExprText(m[1]!)) return null;
  return say(q, `const answer = P(${js(m[1])}, E);\nprint(fmt(answer));`);
};
const coefficientNamed: Final = (q) => {
  const m = /^(?:Rearrange|Express) (.+?) (?:to the form|to|as|in the form) (.+?) and give ([a-z])\.$/.exec(q);
  if (!m || !isExprText(m[1]!)) return null;
  const vars = namesIn(m[1]!);
  if (vars.length !== 1) return null;
  const x = vars[0]!;
  // the template's terms: name, name*x, name*x**k; the prelude reads which power the name stands for
  // (working it out in a comment was the module's commonest error)
  const terms = m[2]!.split(' + ').map((t) => new RegExp(`^([a-z])(?:\\*${x}(?:\\*\\*(n\\d+))?)?$`).exec(t.trim()));
  if (!terms.every(Boolean) || !terms.some((t) => t![1] === m[3])) return null;
  return say(q, `const answer = P(${js(m[1])}, E).coeffNamed(${js(m[2])}, ${js(m[3])}, E);\nprint(fmt(answer));`);
};

const simplifyPower: Final = (q) => {
  const m = /^Simplify (.+) assuming ([a-z]) is positive\.$/.exec(q);
  if (!m || namesIn(m[1]!).some((v) => v !== m[2])) return null;
  return say(q, `// multiplying adds exponents, dividing subtracts them, a power multiplies them\nconst e = powerOf(${js(m[1])}, ${js(m[2])}, E);\nprint(showPower(${js(m[2])}, e));`);
};

// ---- probability -----------------------------------------------------------------------------------

function bag(text: string): string | null {
  if (/^w\d+$/.test(text)) return text;
  const m = /^\{(.*)\}$/.exec(text);
  if (!m) return null;
  const parts = m[1]!.split(', ').map((p) => /^([a-z]): (n\d+)$/.exec(p));
  return parts.every(Boolean) ? `{ ${parts.map((p) => `${p![1]}: ${p![2]}`).join(', ')} }` : null;
}
const swrSequence: Final = (q) => {
  const from = /without replacement from (\{[^}]*\}|w\d+)/.exec(q);
  const seq = /prob(?:ability)? of (?:picking )?(?:the )?sequence ([a-z]+)/.exec(q);
  const b = from && bag(from[1]!);
  return b && seq ? say(q, `const answer = probSequence(${b}, ${js(seq[1])});\nprint(fmt(answer));`) : null;
};
const swrLevelSet: Final = (q) => {
  const from = /without replacement from (\{[^}]*\}|w\d+)/.exec(q);
  const want = /prob(?:ability)? of (?:picking|drawing)? ?((?:n\d+ [a-z])(?:(?:, | and )n\d+ [a-z])*)/.exec(q);
  const b = from && bag(from[1]!);
  if (!b || !want) return null;
  const counts = [...want[1]!.matchAll(/(n\d+) ([a-z])/g)].map((x) => `${x[2]}: ${x[1]}`);
  return say(q, `const answer = probCounts(${b}, { ${counts.join(', ')} });\nprint(fmt(answer));`);
};

/** Module (without `_composed`) → its final step. */
export const FINALS: Record<string, Final> = {
  algebra__linear_1d: linear1d,
  algebra__linear_2d: linear2d,
  algebra__polynomial_roots: polynomialRoots,
  algebra__sequence_next_term: nextTerm_,
  algebra__sequence_nth_term: nthTerm,
  arithmetic__add_or_sub: arithmetic,
  arithmetic__add_or_sub_in_base: inBase,
  arithmetic__add_sub_multiple: arithmetic,
  arithmetic__div: arithmetic,
  arithmetic__mixed: arithmetic,
  arithmetic__mul: arithmetic,
  arithmetic__mul_div_multiple: arithmetic,
  arithmetic__nearest_integer_root: nearestIntegerRoot,
  arithmetic__simplify_surd: simplifySurd,
  arithmetic__add_sub_multiple_longer: arithmetic,
  arithmetic__mul_div_multiple_longer: arithmetic,
  arithmetic__div_big: arithmetic,
  calculus__differentiate: differentiate,
  comparison__closest: closest,
  comparison__kth_biggest: kthBiggest,
  comparison__pair: pair,
  comparison__sort: sort,
  comparison__sort_more: sort,
  measurement__conversion: conversion,
  measurement__time: time,
  numbers__base_conversion: baseConversion,
  numbers__div_remainder: remainder,
  numbers__gcd: gcd_,
  numbers__is_factor: isFactor,
  numbers__is_prime: isPrime_,
  numbers__lcm: lcm_,
  numbers__list_prime_factors: primeFactors_,
  numbers__place_value: placeValue,
  numbers__place_value_big: placeValue,
  numbers__round_number: roundNumber,
  numbers__round_number_big: roundNumber,
  polynomials__add: polyValue,
  polynomials__coefficient_named: coefficientNamed,
  polynomials__collect: expand,
  polynomials__compose: polyValue,
  polynomials__evaluate: polyValue,
  polynomials__simplify_power: simplifyPower,
  polynomials__expand: expand,
  probability__swr_p_level_set: swrLevelSet,
  probability__swr_p_sequence: swrSequence,
};
