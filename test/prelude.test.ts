// The exact-maths prelude inside QuickJS: helpers against known values, isolation of the shared realm,
// and real DeepMind train lines: for each question a step program (what a policy step would write
// with the prelude) must print exactly the dataset's answer.
import { readFileSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniEvaluator } from '../src/sandbox/prelude/harness.ts';
import { PreludeRealm } from '../src/sandbox/prelude/realm.ts';
import { PRELUDE_EXPORTS, PRELUDE_MODULES, preludeFor, preludeModulesFor, preludeNames } from '../src/sandbox/prelude/index.ts';

let ev: MiniEvaluator;
beforeAll(async () => {
  ev = await MiniEvaluator.create();
});
afterAll(() => ev.dispose());

function out(code: string, mode: 'shared' | 'auto' = 'shared'): string {
  const r = ev.run([code], mode);
  if (!r.ok) throw new Error(`${r.error} in ${code}`);
  return r.lines.join('\n');
}

describe('prelude helpers', () => {
  const cases: [string, string][] = [
    // big integers past 2^53 and exact rationals
    ['print(fmt(Q(2).pow(64)))', '18446744073709551616'],
    ['print(fmt(Q("9007199254740993").add(2)))', '9007199254740995'],
    ['print(fmt(Q(1, 3).add(Q(1, 6))), fmt(Q(-4, 6)), fmt(Q(6, -3)))', '1/2 -2/3 -2'],
    ['print(fmt(Q(0.1).add(0.2)), fmt(Q("0.0021")), fmt(D(1, 8)), fmt(Q(1e-7)))', '0.3 0.0021 0.125 0.0000001'],
    ['print(fmt(Q(2, 3).mul(3)), fmt(Q(1, 3).lt(0.34)), Q(5, 2).floor().int(), Q(-5, 2).floor().int())', '2 True 2 -3'],
    ['print(fmt([Q(-3), Q(1, 2)]), fmt(true), fmt(false), fmt(0.1 + 0.2))', '-3, 1/2 True False 0.3'],
    // number theory
    ['print(gcd(49431036, 408), gcd(0, 5), lcm(4, 6, 10), lcm(71710, 141412120))', '204 5 60 141412120'],
    ['print(fmt(gcd(2n ** 70n, 6n ** 40n)))', '1099511627776'],
    ['print(fmt(isPrime(2)), fmt(isPrime(1)), fmt(isPrime(150737107)), fmt(isPrime(48551803)))', 'True False True False'],
    ['print(fmt(isPrime(2n ** 61n - 1n)), fmt(isPrime(2n ** 67n - 1n)))', 'True False'],
    ['print(factor(360).map(([p, e]) => p + "^" + e).join(" "), "|", fmt(primeFactors(262190498)), "|", fmt(divisors(28)))', '2^3 3^2 5^1 | 2, 31, 4228879 | 1, 2, 4, 7, 14, 28'],
    ['print(fmt(primeFactors(2n ** 67n - 1n)))', '193707721, 761838257287'],
    ['print(mod(-7, 3), mod(7, -3), isqrt(99), iroot(1000, 3), nearestRoot(19388, 2), nearestRoot(1067, 7))', '2 -2 9 10 139 3'],
    // rounding: half away from zero
    ['print(fmt(round(2.5)), fmt(round(-2.5)), fmt(round(0.5)), fmt(round(1.4999)), fmt(round("-0.125", 2)))', '3 -3 1 1 -0.13'],
    ['print(fmt(round(-0.004097471, 3)), fmt(round(-0.00278364, 5)), fmt(round(0.1, 3)))', '-0.004 -0.00278 0.1'],
    ['print(fmt(round(-75510731, -6)), fmt(roundTo(-75510731, 1000000)), fmt(roundTo(45.1, 10)), fmt(roundTo(-850, 100)))', '-76000000 -76000000 50 -900'],
    ['print(fmt(roundSig(0.0012345, 3)), fmt(roundSig(123456, 2)), fmt(roundSig(-9.96, 2)), fmt(roundSig(0.95, 1)))', '0.00123 120000 -10 1'],
    // bases and place value
    ['const E = { n0: 16, b0: "1ede", b1: "613" }; print(inBase(16, "-b0 + b1", E), inBase(6, "b0 - b1", { b0: "11", b1: "-1142202" }), inBase(12, "b0 - -b1", { b0: "4b753b", b1: "3" }), inBase(2, "b0 + b1", { b0: "-10001", b1: "-1" }))', '-18cb 1142213 4b7542 -10010'],
    ['print(toBase(fromBase("303241", 5), 16), toBase(-77, 5), fromBase("-4c", 13), toBase(2n ** 64n, 16))', '265d -302 -64 10000000000000000'],
    ['print(digit(15441709, "ten thousands"), digit(1955492347, "billions"), digit(-987, 1))', '4 1 8'],
    // units and clocks
    ['print(fmt(convert("6728.036", "ng", "tonnes")), fmt(convert(601158.7, "grams", "micrograms")), fmt(convert(Q(47, 4), "years", "months")))', '0.000000000006728036 601158700000 141'],
    ['print(fmt(convert(0.7079728, "millilitres", "litres")), fmt(convert(3, "km", "cm")), fmt(convert(2, "weeks", "hours")))', '0.0007079728 300000 336'],
    // a quantity as the question words it: a fraction in words, names of env, a unit glued to its number
    ['const E = { n0: 9, n1: 20, n2: "9610.353" }; print(fmt(convert(quantity("twenty-seven eighths of a second", E), "milliseconds")), fmt(convert(quantity("n0/n1 of a hour", E), "minutes")), fmt(convert(quantity("n2l", E), "ml")), fmt(convert(quantity("three quarters of a century", E), "years")), fmt(convert(quantity("ninety-nine halves of a millennium"), "decades")), fmt(convert(quantity("0.5 kg"), "g")))', '3375 27 9610353 75 4950 500'],
    ['const E = { n0: 562, n1: 1, n2: 37 }; print(timeAdd("n0 minutes before n1:n2 PM", E), timeAdd("n0 minutes after n1:n2 AM", E), timeAdd("45 minutes after 11:30 PM"), timeAdd("n0 minutes before 12:05 AM", E))', '4:15 AM 10:59 AM 12:15 AM 2:43 PM'],
    ['print(timeAdd("4:45 AM", 53), timeAdd("10:45 AM", -678), timeAdd("11:30 PM", 45), minutesBetween("9:16 PM", "4:14 AM"))', '5:38 AM 11:27 PM 12:15 AM 418'],
    // linear equations
    ['print(fmt(solveLinear("-5766 = 9*h - 5739", "h")), fmt(solveLinear("3*x + 1 = 0")))', '-3 -1/3'],
    ['const s = solveLinear2(["7*q - 4*u - 49 + 137 = 21", "11*u - 12 = q + 8"], ["q", "u"]); print(fmt(s.q), fmt(s.u))', '-9 1'],
    // the unknowns left out: the names the env does not define
    ['const s = solveLinear2(["7*q - 4*u - 49 + 137 = 21", "11*u - 12 = q + 8"]); print(fmt(s.q), fmt(s.u))', '-9 1'],
    ['const s = solveLinear2(["h*d - 3*a = -7", "15 = -3*d + 8*d + a"], { h: Q(-2) }); print(fmt(s.a), fmt(s.d))', '5/13 38/13'],
    // the coefficient a form names: a power, the constant term, a variable cancelled out
    ['print(fmt(P("-196235*t - t**3 + 5*t**3 + 196236*t + 38").coeffNamed("o*t**2 + m*t + p + z*t**3", "z")), fmt(P("-196235*t - t**3 + 5*t**3 + 196236*t + 38").coeffNamed("o*t**n0 + m*t + p + z*t**3", "m", { n0: 2 })))', '4 1'],
    ['print(fmt(P("(99*d - 256*d)*(-2) + 4*d + 2").coeffNamed("j + n*d", "j")), fmt(P("(99*d - 256*d)*(-2) + 4*d + 2").coeffNamed("j + n*d", "n")), fmt(P("3*r - 3*r + 7").coeffNamed("g*r + d", "g")), fmt(P("3*r - 3*r + 7").coeffNamed("g*r + d", "d")))', '2 318 0 7'],
    // polynomials in the dataset's format
    ['print(fmt(P("-3616*d**2 + 3619*d**2 + 2 - 2")), "|", fmt(P("(3*h + 2 - 2)*(10*h - 2*h**3 - 7*h + 2*h + 2*h**2)")))', '3*d**2 | -6*h**4 + 6*h**3 + 15*h**2'],
    ['print(fmt(P("(x + 1)**3")), "|", fmt(P("-x**2/2 + x/3 - 5")), "|", fmt(P("2 - 5*x")), "|", fmt(P("4 - 43*j*m")))', 'x**3 + 3*x**2 + 3*x + 1 | -x**2/2 + x/3 - 5 | 2 - 5*x | -43*j*m + 4'],
    ['print(fmt(P("5*x**2 + 2").at(-3)), fmt(P("x*y + y").at({ x: 2, y: Q(1, 3) })), fmt(P("5*x**2 + 2").coeff("x", 2)))', '47 1 5'],
    ['print(fmt(P("127367*m**3*q*w**3 - 2*m**3*q*w**2 + 6*m**2*q*w**4").diff("w", 3)))', '764202*m**3*q + 144*m**2*q*w'],
    ['print(fmt(fn("x", "126*x + 1").compose(P("v**2 + 10"))), "|", fmt(P("k(a(v))", { k: fn("f", "126*f + 1"), a: fn("i", "i**2 + 10") })))', '126*v**2 + 1261 | 126*v**2 + 1261'],
    ['print(fmt(P("(x - 2)*(3*x + 1)**2").roots()), "|", P("4*o**3 + 12668*o**2 + 109564*o - 18592412412").factor())', '-1/3, 2 | 4*(o - 1047)*(o + 2107)**2'],
    ['print(P("-3*u**3 + 9*u**2 - 9*u + 3").factor(), "|", P("x**3 + x").factor(), "|", P("2*x**2 - 4").factor())', '-3*(u - 1)**3 | x*(x**2 + 1) | 2*(x**2 - 2)'],
    ['print(fmt(fitPoly([7, 7, 5, 1, -5, -13], "q")), "|", fmt(nextTerm([-6533, -13025, -19517, -26009])))', '-q**2 + 3*q + 5 | -32501'],
    ['print(fmt(ev("(-168)/(-16) + 1/(-2)")), fmt(ev("2**-2")), fmt(ev("0.5*4")))', '10 1/4 2'],
    // surds (sympy's printing and term order) and powers of one positive variable
    ['print(fmt(surd("(((sqrt(119)*3 - sqrt(119))*1)/sqrt(7) + sqrt(17) + (sqrt(119) + (sqrt(119)*-3 + sqrt(119) - sqrt(119)))/sqrt(7) + 3)**2")))', '6*sqrt(17) + 26'],
    ['print(fmt(surd("(-5 + -1 + sqrt(176) + 0 + sqrt(176) + sqrt(176)*-1 + 0)**2")), "|", fmt(surd("3600 + 9600*sqrt(11)")), "|", fmt(surd("1/(2*sqrt(7))*-4")))', '212 - 48*sqrt(11) | 3600 + 9600*sqrt(11) | -2*sqrt(7)/7'],
    ['print(fmt(surd("sqrt(n0)/sqrt(3)", { n0: 51 })), fmt(surd("1/(1 + sqrt(2))")), fmt(surd("(sqrt(2) - sqrt(2))*5")))', 'sqrt(17) -1 + sqrt(2) 0'],
    ['print(showPower("h", powerOf("(h**7/h)/h**(-2/13)*(h*h/(h*h/(h/h**(2/7)*h)*h))/(h/(h*(h*h**(2/7)*h)/h))", "h")), showPower("d", powerOf("((d**(-22)*d)/d)**(-n0)", "d", { n0: 27 })), showPower("k", powerOf("(k**2)**0", "k")), showPower("x", Q(-3)))', 'h**(106/13) d**594 1 x**(-3)'],
    // counting and probability
    ['print(fmt(factorial(25)), binomial(52, 5), perm(5, 2), binomial(3, 5))', '15511210043330985984000000 2598960 20 0'],
    ['print(fmt(probSequence("{k: 5, r: 2, e: 8, l: 1, a: 1}", "kker")), fmt(probCounts("kbkbbkb", { k: 1, b: 3 })), fmt(probSequence("ab", "c")))', '2/357 12/35 0'],
  ];
  for (const [code, want] of cases) {
    it(code.slice(0, 90), () => {
      expect(out(code)).toBe(want);
      // the per-context source path computes the same thing
      expect(out(code, 'auto')).toBe(want);
    });
  }

  it('fails loudly on misuse', () => {
    expect(ev.run(['Q(1, 0)']).error).toMatch(/RangeError: division by zero/);
    expect(ev.run(['gcd(2.5, 5)']).error).toMatch(/integer expected/);
    expect(ev.run(['P("x/y")']).error).toMatch(/non-constant/);
    expect(ev.run(['solveLinear2(["x + y = z", "x = 1"], {})']).error).toMatch(/expected 2 unknowns, found x, y, z/);
    expect(ev.run(['P("x").coeffNamed("a*x + b", "c")']).error).toMatch(/c is not a coefficient of a\*x \+ b/);
    expect(ev.run(['convert(1, "kg", "m")']).error).toMatch(/cannot convert mass to length/);
    expect(ev.run(['quantity("n0 grams", {})']).error).toMatch(/n0 is not in env/);
    expect(ev.run(['inBase(6, "b0 + b1", { b0: "19", b1: "1" })']).error).toMatch(/bad digit 9 for base 6/);
    expect(ev.run(['inBase(6, "b0 / b1", { b0: "11", b1: "2" })']).error).toMatch(/not an integer/);
    expect(ev.run(['timeAdd("n0 minutes before 1:30 PM", {})']).error).toMatch(/n0 is not in env/);
    expect(ev.run(['timeAdd("5 minutes before 13:30 PM")']).error).toMatch(/not a time: 13:30/);
    expect(ev.run(['quantity("twenty-one fiftieths of a parsec", {})']).error).toMatch(/unknown unit parsec/);
    expect(ev.run(['quantity("many halves of a gram", {})']).error).toMatch(/not an amount: many halves/);
    expect(ev.run(['convert(quantity("3 kg"), "m")']).error).toMatch(/cannot convert mass to length/);
  });
});

describe('module selection and the shared realm', () => {
  it('lists every global each module defines', () => {
    for (const m of PRELUDE_MODULES) {
      const deps = PRELUDE_MODULES.filter((d) => m.deps.includes(d.name)).map((d) => d.source);
      const names = out(`print(Object.keys(globalThis).join(','))`, 'auto'); // baseline globals
      const r = ev.run([...deps, m.source, `print(Object.keys(globalThis).join(','))`], 'none');
      expect(r.ok).toBe(true);
      const defined = new Set(r.answer!.split(',').filter((k) => !names.split(',').includes(k)));
      const own = [...defined].filter((k) => !PRELUDE_MODULES.some((d) => m.deps.includes(d.name) && d.exports.includes(k)));
      expect(new Set(own)).toEqual(new Set(m.exports));
    }
  });

  it('loads only what the code names', () => {
    expect(preludeFor(['const a = 48 / 2;', 'print(a + 1);'])).toBe('');
    expect(preludeModulesFor('print(fmt(gcd(4, 6)))').map((m) => m.name)).toEqual(['core']);
    expect(preludeModulesFor('const p = P("x + 1");').map((m) => m.name)).toEqual(['core', 'poly']);
    expect(preludeModulesFor('print(timeAdd("1:00 AM", 5))').map((m) => m.name)).toEqual(['core', 'units']);
    // the worker's yes/no question reads identifiers the same way, step by step
    const names = (code: string | string[]): string[] => preludeNames(code).split(',').filter(Boolean).map((i) => PRELUDE_EXPORTS[Number(i)]!);
    expect(names(['const a = 48 / 2;', 'print(a + 1);'])).toEqual([]);
    expect(names(['const a = 1', 'print(fmt(a))'])).toEqual(['fmt']);
    expect(names('const gcdx = 1, xP = 2, $Q = 3; print(gcdx)')).toEqual([]);
    expect(names('print(2Q)')).toEqual(['Q']);
    expect(names(['const e = ev("x", {});', 'print(fmt(e), fmt(gcd(2, 4)), Q(1), fmt(e))'])).toEqual(['Q', 'gcd', 'fmt', 'ev']);
  });

  it('steps may shadow prelude names', () => {
    expect(out('const gcd = 7; const round = (x) => x; print(gcd, round(2.5), fmt(Q(1, 2)))')).toBe('7 2.5 1/2');
  });

  it('stub calls take the direct path into the host prelude on this quickjs-emscripten', async () => {
    // the fallback (the library's own callbacks) is correct but ~3x slower per call: a library
    // upgrade that moves the internals fastCalls relies on should be noticed here, not in a benchmark
    const { newQuickJSWASMModuleFromVariant } = await import('quickjs-emscripten-core');
    const mod = await newQuickJSWASMModuleFromVariant(import('@jitl/quickjs-wasmfile-release-sync'));
    const rt = mod.newRuntime();
    const realm = PreludeRealm.create(rt);
    const ctx = rt.newContext();
    try {
      expect(realm.fastPath).toBe(true);
      // QuickJS calls a native function with its caller's context: an evaluation context's calls too
      realm.install(ctx, preludeNames('gcd fmt Q'), false);
      const r = ctx.unwrapResult(ctx.evalCode('[fmt(gcd(12, 18)), fmt(Q(1, 2).add(Q(1, 3)).n)].join(" ")'));
      expect(ctx.getString(r)).toBe('6 5');
      r.dispose();
      expect(realm.directCalls).toBe(7); // gcd, fmt, Q, Q, add, the getter n, fmt
    } finally {
      realm.release();
      ctx.dispose();
      realm.dispose();
      rt.dispose();
    }
  });

  it('nothing a step does to the realm survives into the next evaluation', () => {
    ev.retireOnError = false;
    try {
      const attacks = [
        'Q(1).constructor.prototype.toString = () => "pwned"',
        'Object.getPrototypeOf(primeFactors(6)).map = () => ["pwned"]',
        'gcd.constructor("globalThis.fmt = () => \'pwned\'")()',
        'gcd.constructor("return Object.prototype")().pwned = 1',
        'gcd.constructor("x = 1")(); gcd.constructor("return Math.random")()()',
        'Object.getPrototypeOf(Object.getPrototypeOf(primeFactors(6)[Symbol.iterator]())).next = () => ({ done: true })',
      ];
      for (const a of attacks) ev.run([`fmt(Q(1)); ${a}`], 'shared');
      expect(out('print(fmt(Q(1, 2)), fmt(primeFactors(12)), fmt(P("x*x")))')).toBe('1/2 2, 3 x**2');
      expect(out('print(gcd.constructor("return typeof x + typeof Object.prototype.pwned")())')).toBe('undefinedundefined');
    } finally {
      ev.retireOnError = true;
    }
  });
});

// ---- real dataset lines ------------------------------------------------------------------------------

interface Line { question: string; answer: string; module: string; split: string }
const DATA = '/work/shared/data/deepmind-mathematics-train.jsonl';
const PER_MODULE = 40;
const js = JSON.stringify;

const ORD: Record<string, number> = { first: 1, second: 2, third: 3 };
const WORD_NUM: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, zero: 0 };
const NEAREST: Record<string, string> = { integer: '1', ten: '10', 'one hundred': '100', 'one thousand': '1000', 'ten thousand': '10000', 'one hundred thousand': '100000', 'one million': '1000000', 'ten million': '10000000', 'one hundred million': '100000000' };

/** Statements of a composed question ("Let u = ...", "Let f(x) = ...", "Suppose eq[, eq].") as step code
 * over an env object `E` of known values and functions; returns [code, rest of the question]. */
function context(q: string): [string[], string] | null {
  const code = ['const E = {};'];
  let rest = q.trim();
  for (;;) {
    let m: RegExpExecArray | null;
    if ((m = /^Let (\w)\((\w)\) = ([^.]+(?:\.\d[^.]*)*)\.\s*/.exec(rest))) {
      code.push(`E.${m[1]} = fn(${js(m[2])}, ${js(m[3])}, E);`);
    } else if ((m = /^Let (\w)\((\w)\) be the (first|second|third) derivative of ([^.]+(?:\.\d[^.]*)*)\.\s*/.exec(rest))) {
      code.push(`{ const p = P(${js(m[4])}, E); E.${m[1]} = fn(${js(m[2])}, '0', E).add(p.subs(p.mainVar(), P(${js(m[2])})).diff(${js(m[2])}, ${ORD[m[3]!]})); E.${m[1]}.param = ${js(m[2])}; }`);
    } else if ((m = /^Let (\w) (?:=|be) ([^.]+(?:\.\d[^.]*)*)\.\s*/.exec(rest))) {
      code.push(`E.${m[1]} = ev(${js(m[2])}, E);`);
    } else if ((m = /^Suppose ([^.]+(?:\.\d[^.]*)*)\.\s*/.exec(rest))) {
      const eqs = m[1]!.split(/, (?=[^,]*=)/);
      if (eqs.length === 1) code.push(`{ const e = P(${js(eqs[0]!.replace('=', '-(') + ')')}, E); E[e.mainVar()] = solveLinear(e, undefined); }`);
      else if (eqs.length === 2) code.push(`{ const a = P(${js(eqs[0]!.replace('=', '-(') + ')')}, E), b = P(${js(eqs[1]!.replace('=', '-(') + ')')}, E); const vs = [...new Set([...a.vars(), ...b.vars()])]; Object.assign(E, solveLinear2([a, b], vs)); }`);
      else return null;
    } else break;
    rest = rest.slice(m[0].length);
  }
  return [code, rest];
}

function program(l: Line): string[] | null {
  const ctx = context(l.question);
  if (!ctx) return null;
  const [pre, q] = ctx;
  const step = (body: string) => [...pre, body];
  let m: RegExpExecArray | null;
  const mod = l.module.replace(/_composed$/, '');
  switch (mod) {
    case 'algebra__linear_1d':
      if ((m = /^Solve (.+) for (\w)\.$/.exec(q))) return step(`print(fmt(solveLinear(P(${js(m[1]!.replace('=', '-(') + ')')}, E), ${js(m[2])})));`);
      return null;
    case 'algebra__linear_2d':
      if ((m = /^Solve (.+), (.+) for (\w)\.$/.exec(q)))
        return step(`const a = P(${js(m[1]!.replace('=', '-(') + ')')}, E), b = P(${js(m[2]!.replace('=', '-(') + ')')}, E);\nconst vs = [...new Set([...a.vars(), ...b.vars()])].sort();\nprint(fmt(solveLinear2([a, b], vs)[${js(m[3])}]));`);
      return null;
    case 'algebra__polynomial_roots':
      if ((m = /^Factor (.+)\.$/.exec(q))) return step(`print(P(${js(m[1])}, E).factor());`);
      if ((m = /^(?:Suppose|Let) (.+) = 0\. (?:What is|Calculate|Determine|Find) (\w)\.?\??$/.exec(q)) || (m = /^Solve (.+) = 0 for (\w)\.$/.exec(q)))
        return step(`print(fmt(P(${js(m[1])}, E).roots()));`);
      return null;
    case 'algebra__sequence_next_term':
      if ((m = /^(?:What is the next term in|What comes next:) (.+)\?$/.exec(q))) return step(`print(fmt(nextTerm([${m[1]}])));`);
      return null;
    case 'algebra__sequence_nth_term':
      if ((m = /^What is the (\w)'th term of (.+)\?$/.exec(q))) return step(`print(fmt(fitPoly([${m[2]}], ${js(m[1])})));`);
      return null;
    case 'arithmetic__add_or_sub_in_base':
      if ((m = /^In base (\d+), what is (-?\w+) ([-+]) (-?\w+)\?$/.exec(q)))
        return step(`const b = ${m[1]};\nconst x = Q(fromBase(${js(m[2])}, b)), y = Q(fromBase(${js(m[4])}, b));\nprint(toBase(x.${m[3] === '+' ? 'add' : 'sub'}(y).int(), b));`);
      return null;
    case 'arithmetic__add_or_sub':
    case 'arithmetic__add_sub_multiple':
    case 'arithmetic__mixed':
    case 'arithmetic__mul':
    case 'arithmetic__div':
    case 'arithmetic__mul_div_multiple': {
      const N = '(-?\\d+(?:\\.\\d+)?)';
      const words: [RegExp, string][] = [
        [new RegExp(`^(?:Add together|Add|Sum|Total of|Put together) ${N} and ${N}\\.?$`), '($1) + ($2)'],
        [new RegExp(`^What is ${N} (plus|minus|take away|times|less than|divided by) ${N}\\?$`), 'OP'],
        [new RegExp(`^Subtract ${N} from ${N}\\.?$`), '($2) - ($1)'],
        [new RegExp(`^What is the (?:difference|distance) between ${N} and ${N}\\?$`), 'DIST'],
        [new RegExp(`^(?:What is the product of|Product of|Multiply) ${N} and ${N}\\??\\.?$`), '($1) * ($2)'],
        [new RegExp(`^${N} times ${N}\\.?$`), '($1) * ($2)'],
        [new RegExp(`^(?:Divide ${N} by ${N}|Calculate ${N} divided by ${N}|${N} divided by ${N})\\.?$`), 'DIV'],
      ];
      for (const [re, tpl] of words) {
        const w = re.exec(q);
        if (!w) continue;
        if (tpl === 'OP') {
          const op = { plus: '+', minus: '-', 'take away': '-', times: '*', 'divided by': '/' }[w[2]!];
          const e = w[2] === 'less than' ? `(${w[3]}) - (${w[1]})` : `(${w[1]}) ${op} (${w[3]})`;
          return step(`print(fmt(ev(${js(e)})));`);
        }
        if (tpl === 'DIST') return step(`print(fmt(ev(${js(`(${w[1]}) - (${w[2]})`)}).abs()));`);
        if (tpl === 'DIV') { const [a, b] = w.slice(1).filter((x) => x !== undefined); return step(`print(fmt(ev(${js(`(${a}) / (${b})`)})));`); }
        return step(`print(fmt(ev(${js(tpl.replace('$1', w[1]!).replace('$2', w[2]!))})));`);
      }
      const e = q.replace(/^(?:What is the value of|What is|Calculate|Work out|Evaluate|Compute)\s+/, '').replace(/[.?]$/, '');
      if (/[a-z]/i.test(e)) return null;
      return step(`print(fmt(ev(${js(e)}, E)));`);
    }
    case 'calculus__differentiate': {
      if ((m = /^(?:Find the|What is the) (first|second|third)? ?derivative of (.+?)(?: (?:wrt|with respect to) (\w))?[.?]$/.exec(q)) || (m = /^Differentiate()() (.+?)(?: (?:wrt|with respect to) (\w))?\.$/.exec(q))) {
        const k = m[1] ? ORD[m[1]] : 1;
        const body = m[2] || m[3]!;
        const expr = q.startsWith('Differentiate') ? m[3]! : body;
        const wrt = q.startsWith('Differentiate') ? m[4] : m[3];
        return step(`const p = P(${js(expr)}, E);\nprint(fmt(p.diff(${wrt ? js(wrt) : 'p.mainVar()'}, ${k})));`);
      }
      return null;
    }
    case 'numbers__gcd':
      if ((m = /(?:greatest|highest) common (?:factor|divisor) of (.+) and (.+?)[.?]?$/.exec(q))) return step(`print(fmt(gcd(ev(${js(m[1])}, E), ev(${js(m[2])}, E))));`);
      return null;
    case 'numbers__lcm':
      if ((m = /(?:least|lowest|smallest) common multiple of (.+) and (.+?)[.?]?$/.exec(q))) return step(`print(fmt(lcm(ev(${js(m[1])}, E), ev(${js(m[2])}, E))));`);
      if ((m = /common denominator of (.+) and (.+?)[.?]?$/.exec(q))) return step(`print(fmt(lcm(Q(ev(${js(m[1])}, E)).d, Q(ev(${js(m[2])}, E)).d)));`);
      return null;
    case 'numbers__div_remainder':
      if ((m = /remainder when (.+) is divided by (.+?)[.?]?$/.exec(q))) return step(`print(fmt(mod(ev(${js(m[1])}, E), ev(${js(m[2])}, E))));`);
      return null;
    case 'numbers__is_factor':
      if ((m = /^Is (.+) a multiple of (.+)\?$/.exec(q))) return step(`print(fmt(mod(ev(${js(m[1])}, E), ev(${js(m[2])}, E)) === 0));`);
      if ((m = /^Is (.+) a factor of (.+)\?$/.exec(q)) || (m = /^Does (.+) divide (.+)\?$/.exec(q))) return step(`print(fmt(mod(ev(${js(m[2])}, E), ev(${js(m[1])}, E)) === 0));`);
      return null;
    case 'numbers__is_prime':
      if ((m = /^Is (.+?) (?:a )?(prime|composite)(?: number)?\?$/.exec(q))) return step(`const n = ev(${js(m[1])}, E);\nprint(fmt(${m[2] === 'prime' ? '' : '!'}isPrime(n)));`);
      return null;
    case 'numbers__list_prime_factors':
      if ((m = /prime factors of (.+?)[.?]$/.exec(q))) return step(`print(fmt(primeFactors(ev(${js(m[1])}, E))));`);
      return null;
    case 'numbers__place_value':
      if ((m = /^What is the (.+) digit of (.+)\?$/.exec(q))) return step(`print(digit(ev(${js(m[2])}, E), ${js(m[1])}));`);
      return null;
    case 'numbers__round_number': {
      if ((m = /^(?:What is (.+) rounded|Round (.+)) to (\w+) (?:decimal places?|dps?)[.?]?$/.exec(q))) {
        const dp = WORD_NUM[m[3]!] ?? Number(m[3]);
        return step(`print(fmt(round(ev(${js(m[1] ?? m[2])}, E), ${dp})));`);
      }
      if ((m = /^(?:What is (.+) rounded|Round (.+)) to the nearest (.+?)[.?]?$/.exec(q))) {
        const step10 = NEAREST[m[3]!] ?? (/^\d+$/.test(m[3]!) ? m[3] : undefined);
        if (!step10) return null;
        return step(`print(fmt(roundTo(ev(${js(m[1] ?? m[2])}, E), ${step10})));`);
      }
      return null;
    }
    case 'numbers__base_conversion':
      if ((m = /^(?:What is )?(-?\w+) \(base (\d+)\) (?:in|to) base (\d+)\??$/.exec(q))) return step(`print(toBase(fromBase(${js(m[1])}, ${m[2]}), ${m[3]}));`);
      return null;
    case 'measurement__conversion': {
      const U = '([a-z]+)';
      const V = '(-?\\d+(?:\\.\\d+)?)';
      if ((m = new RegExp(`^How many ${U} are there in ${V} ${U}\\?$`).exec(q))) return step(`print(fmt(convert(${js(m[2])}, ${js(m[3])}, ${js(m[1])})));`);
      if ((m = new RegExp(`^What is ${V} ${U} in ${U}\\?$`).exec(q))) return step(`print(fmt(convert(${js(m[1])}, ${js(m[2])}, ${js(m[3])})));`);
      if ((m = new RegExp(`^Convert ${V} ${U} to ${U}\\.$`).exec(q))) return step(`print(fmt(convert(${js(m[1])}, ${js(m[2])}, ${js(m[3])})));`);
      return null;
    }
    case 'measurement__time':
      if ((m = /^What is (\d+) minutes (after|before) (\d+:\d+ [AP]M)\?$/.exec(q))) return step(`print(timeAdd(${js(m[3])}, ${m[2] === 'after' ? '' : '-'}${m[1]}));`);
      if ((m = /^How many minutes are there between (\d+:\d+ [AP]M) and (\d+:\d+ [AP]M)\?$/.exec(q))) return step(`print(minutesBetween(${js(m[1])}, ${js(m[2])}));`);
      return null;
    case 'polynomials__collect':
      if ((m = /^Collect the terms in (.+)\.$/.exec(q))) return step(`print(fmt(P(${js(m[1])}, E)));`);
      return null;
    case 'polynomials__expand':
      if ((m = /^Expand (.+)\.$/.exec(q))) return step(`print(fmt(P(${js(m[1])}, E)));`);
      return null;
    case 'polynomials__evaluate':
    case 'polynomials__add':
    case 'polynomials__compose':
      if ((m = /^(?:Give|Determine|Calculate|What is|Let \w\(\w\) = .*?) ?(.+?)[.?]$/.exec(q)) && /^(?:Give|Determine|Calculate|What is) /.test(q)) {
        const e = q.replace(/^(?:Give|Determine|Calculate|What is) /, '').replace(/[.?]$/, '');
        return step(`print(fmt(ev(${js(e)}, E)));`);
      }
      return null;
    case 'probability__swr_p_sequence':
      if ((m = /prob of sequence (\w+) when \w+ letters picked without replacement from (\{[^}]*\}|\w+)/.exec(q)) || (m = /^(?:\w+) letters picked without replacement from (\{[^}]*\}|\w+)\. (?:What is|Give) prob of (?:picking )?sequence (\w+)\.?\??$/.exec(q)))
        return q.includes('prob of sequence') && m[0].startsWith('prob') ? step(`print(fmt(probSequence(${js(m[2])}, ${js(m[1])})));`) : step(`print(fmt(probSequence(${js(m[1])}, ${js(m[2])})));`);
      return null;
    case 'probability__swr_p_level_set': {
      const bag = /without replacement from (\{[^}]*\}|\w+)/.exec(q);
      const want = /prob of picking ((?:\d+ \w)(?:(?:, | and )\d+ \w)*)/.exec(q);
      if (!bag || !want) return null;
      const w = Object.fromEntries([...want[1]!.matchAll(/(\d+) (\w)/g)].map((x) => [x[2], Number(x[1])]));
      return step(`print(fmt(probCounts(${js(bag[1])}, ${js(w)})));`);
    }
  }
  return null;
}

const CLAIMED = [
  'algebra__linear_1d', 'algebra__linear_1d_composed', 'algebra__linear_2d', 'algebra__linear_2d_composed',
  'algebra__polynomial_roots', 'algebra__sequence_next_term', 'algebra__sequence_nth_term',
  'arithmetic__add_or_sub', 'arithmetic__add_or_sub_in_base', 'arithmetic__add_sub_multiple', 'arithmetic__div',
  'arithmetic__mixed', 'arithmetic__mul', 'arithmetic__mul_div_multiple', 'calculus__differentiate',
  'measurement__conversion', 'measurement__time', 'numbers__base_conversion', 'numbers__div_remainder',
  'numbers__div_remainder_composed', 'numbers__gcd', 'numbers__gcd_composed', 'numbers__is_factor',
  'numbers__is_factor_composed', 'numbers__is_prime', 'numbers__is_prime_composed', 'numbers__lcm', 'numbers__lcm_composed',
  'numbers__list_prime_factors', 'numbers__list_prime_factors_composed', 'numbers__place_value',
  'numbers__place_value_composed', 'numbers__round_number', 'numbers__round_number_composed', 'polynomials__add',
  'polynomials__collect', 'polynomials__compose', 'polynomials__evaluate', 'polynomials__evaluate_composed', 'polynomials__expand',
  'probability__swr_p_level_set', 'probability__swr_p_sequence',
];

describe.skipIf(!existsSync(DATA))('DeepMind train lines: the step program prints the dataset answer', () => {
  const byModule = new Map<string, Line[]>();
  if (existsSync(DATA)) {
    for (const raw of readFileSync(DATA, 'utf8').split('\n')) {
      if (!raw) continue;
      const l = JSON.parse(raw) as Line;
      const a = byModule.get(l.module) ?? [];
      a.push(l);
      byModule.set(l.module, a);
    }
  }
  const report: string[] = [];
  afterAll(() => console.log(`dataset lines checked per module (translated/sampled):\n${report.join('\n')}`));

  for (const module of CLAIMED) {
    it(module, () => {
      const all = byModule.get(module) ?? [];
      // a fixed spread over the module's lines (all three difficulty levels)
      const sample = Array.from({ length: Math.min(PER_MODULE * 3, all.length) }, (_, i) => all[Math.floor((i * all.length) / Math.min(PER_MODULE * 3, all.length))]!);
      let checked = 0;
      const wrong: string[] = [];
      for (const l of sample) {
        if (checked >= PER_MODULE) break;
        const steps = program(l);
        if (!steps) continue;
        checked++;
        const r = ev.run(steps, 'shared');
        if (!r.ok || r.answer !== l.answer) wrong.push(`${l.question} => ${r.ok ? r.answer : r.error} (want ${l.answer})`);
      }
      report.push(`${module}: ${checked - wrong.length}/${checked}`);
      expect(wrong).toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(15);
    });
  }
});
