// Word problems synthesised from schemas, with known answers and reference equations.
//
// rStar-Math synthesises new problems each round with a large LLM; we have none, and the training
// pool (MAWPS/ASDiv-A) is half rewordings of itself, so a small policy learns its frames by heart.
// These generators draw unlimited, seeded problems from the schemas of arithmetic word problems —
// change (gain/loss, unknown change, unknown start), combine, compare (more/fewer, difference, times
// as many, and their inverses), multiplicative (equal groups, sharing, grouping), rate (speed, work,
// unit price), part-whole (rest, sum of parts, percent), chains of 2–5 operations and two-step
// problems (a rate times a sum or a remainder, a sum or a remainder in equal groups, …) — over varied
// people, things, verbs and units, in several phrasings each, the question last, sometimes with an
// irrelevant fact. Each problem carries its equation in MAWPS's format (`( 34 + 13 ) - 20`, numbers
// as the question writes them), so the bootstrap's MAWPS converter turns it into a verified
// trajectory unchanged; the answer is that equation evaluated.
//
// Numbers are distinct within a problem (the converter names a literal by the first question number
// written the same way), every division is exact, and decimals are quarter dollars written with two
// digits ("$2.25", never "$2.50", whose written form would not match the rendered 2.5).
import type { Problem } from '../datasets.ts';
import { evalExpr, formatNumber, parseExpr } from '../bootstrap/expr.ts';
import { questionNumbers } from '../steps.ts';
import { hash32, mulberry32 } from '../../util/rng.ts';
import { ASIDES, CONTAINERS, DISTANCE_UNITS, FOOD_LOSS_VERBS, GAIN_VERBS, GATHER_VERBS, GOODS, LOSS_VERBS, MOVERS, PEOPLE, THINGS, WHOLES, WORK, type Person, type Thing, type Verb } from './lexicon.ts';

export const SCHEMAS = ['change', 'combine', 'compare', 'multiplicative', 'rate', 'part-whole', 'chain', 'two-step'] as const;
export type SchemaName = (typeof SCHEMAS)[number];

/** Source label of a schema problem. It contains "mawps" so the bootstrap uses its MAWPS converter. */
export const SYNTH_SOURCE_PREFIX = 'mawps-synth-';

export function schemaSource(schema: SchemaName): string {
  return `${SYNTH_SOURCE_PREFIX}${schema}`;
}

/** The schema a synthesised problem came from, or undefined for any other problem. */
export function schemaOf(p: Problem): SchemaName | undefined {
  const s = p.extra?.schema;
  return typeof s === 'string' && (SCHEMAS as readonly string[]).includes(s) ? (s as SchemaName) : undefined;
}

// ---- Equations over written numbers ----------------------------------------------------------------

type Op = '+' | '-' | '*' | '/';
/** An equation over the question's numbers; a leaf is a number as the question writes it. */
export type Eq = { t: 'num'; v: number; text: string } | { t: 'bin'; op: Op; l: Eq; r: Eq };

const bin = (op: Op, l: Eq, r: Eq): Eq => ({ t: 'bin', op, l, r });
const add = (l: Eq, r: Eq): Eq => bin('+', l, r);
const sub = (l: Eq, r: Eq): Eq => bin('-', l, r);
const mul = (l: Eq, r: Eq): Eq => bin('*', l, r);
const div = (l: Eq, r: Eq): Eq => bin('/', l, r);

/** MAWPS's equation format: tokens spaced, every operation inside another one parenthesised. */
export function renderEquation(e: Eq, top = true): string {
  if (e.t === 'num') return e.text;
  const s = `${renderEquation(e.l, false)} ${e.op} ${renderEquation(e.r, false)}`;
  return top ? s : `( ${s} )`;
}

function valueOf(e: Eq): number {
  if (e.t === 'num') return e.v;
  const a = valueOf(e.l);
  const b = valueOf(e.r);
  return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
}

function opsOf(e: Eq): number {
  return e.t === 'num' ? 0 : 1 + opsOf(e.l) + opsOf(e.r);
}

// ---- Seeded drawing ---------------------------------------------------------------------------------

/** A draw that cannot be completed (a number collided, a value went negative): start the problem again. */
class Retry extends Error {}

class Draw {
  /** Values the question already shows (and constants of the equation): no number is written twice. */
  private readonly used = new Set<number>();
  constructor(readonly rand: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  /** A fresh integer in [lo, hi] the question does not show yet, as a leaf. */
  num(lo: number, hi: number): Eq {
    for (let k = 0; k < 50; k++) {
      const v = this.int(lo, hi);
      if (!this.used.has(v)) return this.leaf(v);
    }
    throw new Retry();
  }
  /** A value computed by the generator that the question will show (a total, a price). */
  leaf(v: number, text = formatNumber(v)): Eq {
    if (!(v > 0) || this.used.has(v) || !Number.isFinite(v)) throw new Retry();
    this.used.add(v);
    return { t: 'num', v, text };
  }
  /** A constant of the equation that the question does not write (100 for a percent). */
  reserve(v: number): void {
    if (this.used.has(v)) throw new Retry();
    this.used.add(v);
  }
  /** A price: whole dollars, or a quarter-dollar amount (x.25, x.75) that binary floats hold exactly. */
  price(lo: number, hi: number): Eq {
    if (this.chance(0.6)) return this.num(lo, hi);
    const v = this.int(lo, hi - 1) + this.pick([0.25, 0.75]);
    return this.leaf(v, v.toFixed(2));
  }
  person(not: readonly Person[] = []): Person {
    for (;;) {
      const p = this.pick(PEOPLE);
      if (!not.some((q) => q.name === p.name)) return p;
    }
  }
}

const n = (e: Eq): string => (e.t === 'num' ? e.text : String(valueOf(e)));
const money = (e: Eq): string => `$${n(e)}`;
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

/** What a schema produces before assembly: fact sentences, the question (asked last), the equation. */
interface Draft {
  variant: string;
  facts: string[];
  question: string;
  eq: Eq;
}

// ---- Schemas ---------------------------------------------------------------------------------------

function thingFor(d: Draw): Thing {
  return d.pick(THINGS);
}

function lossVerb(d: Draw, t: Thing): Verb {
  return d.pick(t.kind === 'food' ? FOOD_LOSS_VERBS : LOSS_VERBS);
}

function change(d: Draw): Draft {
  const a = d.person();
  const t = thingFor(d);
  const gain = d.pick(GAIN_VERBS);
  const { past: loss, base: lossBase } = lossVerb(d, t);
  const had = d.pick([`${a.name} had`, `${a.name} has`, `At first, ${a.name} had`, `In the morning ${a.name} had`]);
  const nowQ = (): string =>
    d.pick([
      `How many ${t.p} does ${a.name} have now?`,
      `How many ${t.p} does ${a.name} have in all now?`,
      `What is the number of ${t.p} ${a.name} has now?`,
      `How many ${t.p} does ${a.sub} have now?`,
    ]);
  switch (d.int(0, 4)) {
    case 0: {
      const x = d.num(2, 90);
      const y = d.num(2, 90);
      const gainS = d.pick([
        `Then ${a.sub} ${gain} ${n(y)} more.`,
        `${cap(a.sub)} ${gain} ${n(y)} more ${t.p}.`,
        `Later ${a.sub} ${gain} another ${n(y)} ${t.p}.`,
      ]);
      return { variant: 'gain', facts: [`${had} ${n(x)} ${t.p}.`, gainS], question: nowQ(), eq: add(x, y) };
    }
    case 1: {
      const x = d.num(10, 99);
      const y = d.num(2, valueOf(x) - 1);
      const lossS = d.pick([`Then ${a.sub} ${loss} ${n(y)} of them.`, `${cap(a.sub)} ${loss} ${n(y)} ${t.p}.`, `After that, ${a.sub} ${loss} ${n(y)}.`]);
      const q = d.pick([nowQ(), `How many ${t.p} does ${a.name} have left?`, `How many ${t.p} are left?`]);
      return { variant: 'loss', facts: [`${had} ${n(x)} ${t.p}.`, lossS], question: q, eq: sub(x, y) };
    }
    case 2: {
      const x = d.num(2, 60);
      const y = d.leaf(valueOf(x) + d.int(2, 60));
      const facts = [`${had} ${n(x)} ${t.p}.`, d.pick([`${cap(a.sub)} ${gain} some more.`, `Then ${a.sub} ${gain} some more ${t.p}.`]), `Now ${a.sub} has ${n(y)} ${t.p}.`];
      const q = d.pick([`How many ${t.p} did ${a.name} get?`, `How many more ${t.p} does ${a.name} have now than before?`]);
      return { variant: 'unknown-gain', facts, question: q, eq: sub(y, x) };
    }
    case 3: {
      const x = d.num(20, 99);
      const y = d.num(2, valueOf(x) - 2);
      const facts = [`${had} ${n(x)} ${t.p}.`, `${cap(a.sub)} ${loss} some of them.`, d.pick([`Now ${a.sub} has ${n(y)} ${t.p} left.`, `${cap(a.sub)} has ${n(y)} ${t.p} left.`])];
      return { variant: 'unknown-loss', facts, question: `How many ${t.p} did ${a.name} ${lossBase}?`, eq: sub(x, y) };
    }
    default: {
      const left = d.num(2, 60);
      const gone = d.num(2, 60);
      const fact = d.pick([
        `After ${a.name} ${loss} ${n(gone)} ${t.p}, ${a.sub} had ${n(left)} ${t.p} left.`,
        `${a.name} ${loss} ${n(gone)} ${t.p} and then had ${n(left)} ${t.p}.`,
      ]);
      const q = d.pick([`How many ${t.p} did ${a.name} have at first?`, `How many ${t.p} did ${a.name} start with?`]);
      return { variant: 'unknown-start', facts: [fact], question: q, eq: add(left, gone) };
    }
  }
}

function combine(d: Draw): Draft {
  const a = d.person();
  const b = d.person([a]);
  const t = thingFor(d);
  switch (d.int(0, 2)) {
    case 0: {
      const x = d.num(2, 99);
      const y = d.num(2, 99);
      const facts = d.chance(0.5) ? [`${a.name} has ${n(x)} ${t.p}.`, `${b.name} has ${n(y)} ${t.p}.`] : [`${a.name} has ${n(x)} ${t.p} and ${b.name} has ${n(y)} ${t.p}.`];
      const q = d.pick([`How many ${t.p} do they have together?`, `How many ${t.p} do ${a.name} and ${b.name} have in all?`, `What is the total number of ${t.p} they have?`]);
      return { variant: 'total', facts, question: q, eq: add(x, y) };
    }
    case 1: {
      const c = d.person([a, b]);
      const x = d.num(2, 60);
      const y = d.num(2, 60);
      const z = d.num(2, 60);
      const verb = d.pick(GATHER_VERBS);
      const facts = [`${a.name} ${verb.past} ${n(x)} ${t.p}, ${b.name} ${verb.past} ${n(y)} ${t.p} and ${c.name} ${verb.past} ${n(z)} ${t.p}.`];
      const q = d.pick([`How many ${t.p} did they ${verb.base} altogether?`, `How many ${t.p} are there in total?`]);
      return { variant: 'total-3', facts, question: q, eq: add(add(x, y), z) };
    }
    default: {
      const x = d.num(2, 60);
      const total = d.leaf(valueOf(x) + d.int(2, 60));
      const facts = [`${a.name} and ${b.name} have ${n(total)} ${t.p} together.`, `${a.name} has ${n(x)} of them.`];
      return { variant: 'part-unknown', facts, question: `How many ${t.p} does ${b.name} have?`, eq: sub(total, x) };
    }
  }
}

function compare(d: Draw): Draft {
  const a = d.person();
  const b = d.person([a]);
  const t = thingFor(d);
  switch (d.int(0, 5)) {
    case 0: {
      const x = d.num(2, 90);
      const y = d.num(2, 50);
      return { variant: 'more', facts: [`${a.name} has ${n(x)} ${t.p}.`, d.pick([`${b.name} has ${n(y)} more ${t.p} than ${a.name}.`, `${b.name} has ${n(y)} more than ${a.name}.`])], question: `How many ${t.p} does ${b.name} have?`, eq: add(x, y) };
    }
    case 1: {
      const x = d.num(20, 99);
      const y = d.num(2, valueOf(x) - 2);
      return { variant: 'fewer', facts: [`${a.name} has ${n(x)} ${t.p}.`, d.pick([`${b.name} has ${n(y)} fewer ${t.p} than ${a.name}.`, `${b.name} has ${n(y)} less than ${a.name}.`])], question: `How many ${t.p} does ${b.name} have?`, eq: sub(x, y) };
    }
    case 2: {
      const x = d.num(20, 99);
      const y = d.num(2, valueOf(x) - 2);
      const q = d.pick([`How many more ${t.p} does ${a.name} have than ${b.name}?`, `How many fewer ${t.p} does ${b.name} have than ${a.name}?`]);
      return { variant: 'difference', facts: [`${a.name} has ${n(x)} ${t.p}.`, `${b.name} has ${n(y)} ${t.p}.`], question: q, eq: sub(x, y) };
    }
    case 3: {
      const x = d.num(2, 30);
      const k = d.num(2, 9);
      return { variant: 'times', facts: [`${a.name} has ${n(x)} ${t.p}.`, `${b.name} has ${n(k)} times as many ${t.p} as ${a.name}.`], question: `How many ${t.p} does ${b.name} have?`, eq: mul(x, k) };
    }
    case 4: {
      const k = d.num(2, 9);
      const y = d.int(2, 30);
      const x = d.leaf(y * valueOf(k));
      const facts = [`${a.name} has ${n(x)} ${t.p}.`, d.pick([`That is ${n(k)} times as many as ${b.name} has.`, `${a.name} has ${n(k)} times as many ${t.p} as ${b.name}.`])];
      return { variant: 'times-inverse', facts, question: `How many ${t.p} does ${b.name} have?`, eq: div(x, k) };
    }
    default: {
      const x = d.num(20, 99);
      const y = d.num(2, valueOf(x) - 2);
      const facts = [`${a.name} has ${n(x)} ${t.p}.`, `${a.name} has ${n(y)} more ${t.p} than ${b.name}.`];
      return { variant: 'more-inverse', facts, question: `How many ${t.p} does ${b.name} have?`, eq: sub(x, y) };
    }
  }
}

function multiplicative(d: Draw): Draft {
  const a = d.person();
  const t = thingFor(d);
  const c = d.pick(CONTAINERS);
  switch (d.int(0, 3)) {
    case 0: {
      const k = d.num(2, 15);
      const m = d.num(2, 25);
      const facts = d.pick([
        [`${a.name} has ${n(k)} ${c.p} of ${t.p}.`, `Each ${c.s} holds ${n(m)} ${t.p}.`],
        [`There are ${n(m)} ${t.p} in each ${c.s}.`, `${a.name} has ${n(k)} ${c.p}.`],
        [`${a.name} bought ${n(k)} ${c.p} with ${n(m)} ${t.p} in each ${c.s}.`],
      ]);
      return { variant: 'groups', facts, question: d.pick([`How many ${t.p} does ${a.name} have in all?`, `How many ${t.p} are there altogether?`]), eq: mul(k, m) };
    }
    case 1: {
      const k = d.num(2, 12);
      const m = d.int(2, 20);
      const total = d.leaf(m * valueOf(k));
      const facts = [`${a.name} has ${n(total)} ${t.p}.`, d.pick([`${cap(a.sub)} shares them equally among ${n(k)} friends.`, `${cap(a.sub)} puts them equally into ${n(k)} ${c.p}.`])];
      const q = /friends/.test(facts[1]!) ? `How many ${t.p} does each friend get?` : `How many ${t.p} are in each ${c.s}?`;
      return { variant: 'share', facts, question: q, eq: div(total, k) };
    }
    case 2: {
      const m = d.num(2, 12);
      const k = d.int(2, 20);
      const total = d.leaf(k * valueOf(m));
      const facts = [`${a.name} has ${n(total)} ${t.p}.`, `${cap(a.sub)} wants to put ${n(m)} ${t.p} in each ${c.s}.`];
      return { variant: 'measure', facts, question: `How many ${c.p} does ${a.name} need?`, eq: div(total, m) };
    }
    default: {
      const k = d.num(2, 12);
      const m = d.num(3, 20);
      const e = d.num(2, valueOf(m) - 1);
      const facts = [`${a.name} filled ${n(k)} ${c.p} with ${n(m)} ${t.p} each.`, `${cap(a.sub)} had ${n(e)} ${t.p} left over.`];
      return { variant: 'groups-remainder', facts, question: `How many ${t.p} did ${a.name} have at the start?`, eq: add(mul(k, m), e) };
    }
  }
}

function rate(d: Draw): Draft {
  switch (d.int(0, 6)) {
    case 0: {
      const mv = d.pick(MOVERS);
      const u = d.pick(DISTANCE_UNITS);
      const s = d.num(5, 90);
      const h = d.num(2, 9);
      return { variant: 'distance', facts: [`${mv.who} ${mv.verb} at ${n(s)} ${u.per}.`], question: d.pick([`How many ${u.p} does it go in ${n(h)} hours?`, `How far does it travel in ${n(h)} hours?`]), eq: mul(s, h) };
    }
    case 1: {
      const mv = d.pick(MOVERS);
      const u = d.pick(DISTANCE_UNITS);
      const h = d.num(2, 9);
      const dist = d.leaf(d.int(5, 90) * valueOf(h));
      return { variant: 'speed', facts: [`${mv.who} ${mv.past} ${n(dist)} ${u.p} in ${n(h)} hours.`], question: d.pick([`What was its average speed in ${u.per}?`, `How many ${u.p} did it travel each hour?`]), eq: div(dist, h) };
    }
    case 2: {
      const mv = d.pick(MOVERS);
      const u = d.pick(DISTANCE_UNITS);
      const s = d.num(5, 90);
      const dist = d.leaf(d.int(2, 9) * valueOf(s));
      return { variant: 'time', facts: [`${mv.who} ${mv.past} ${n(dist)} ${u.p} at ${n(s)} ${u.per}.`], question: `How many hours did the trip take?`, eq: div(dist, s) };
    }
    case 3: {
      const w = d.pick(WORK);
      const r = d.num(2, 60);
      const k = d.num(2, 12);
      const facts = [d.pick([`${w.who} ${w.verb} ${n(r)} ${w.thing} every ${w.unit}.`, `${w.who} ${w.verb} ${n(r)} ${w.thing} per ${w.unit}.`])];
      return { variant: 'work', facts, question: d.pick([`How many ${w.thing} does it ${w.base} in ${n(k)} ${w.units}?`, `How many ${w.thing} will it ${w.base} in ${n(k)} ${w.units}?`]), eq: mul(r, k) };
    }
    case 4: {
      const a = d.person();
      const g = d.pick(GOODS);
      const p = d.price(2, 30);
      const k = d.num(2, 12);
      const facts = d.pick([
        [`At the ${g.shop}, one ${g.s} costs ${money(p)}.`, `${a.name} buys ${n(k)} ${g.p}.`],
        [`${a.name} bought ${n(k)} ${g.p} at ${money(p)} each.`],
      ]);
      return { variant: 'unit-price', facts, question: d.pick([`How much did ${a.name} spend?`, `How many dollars does ${a.name} pay in total?`]), eq: mul(p, k) };
    }
    case 5: {
      const a = d.person();
      const g = d.pick(GOODS);
      const k = d.num(2, 12);
      // a quarter-dollar price only when the total stays whole
      const p = d.int(2, 30) + (valueOf(k) % 4 === 0 && d.chance(0.5) ? d.pick([0.25, 0.75]) : 0);
      const cost = d.leaf(p * valueOf(k));
      return { variant: 'price-each', facts: [`${a.name} paid ${money(cost)} for ${n(k)} ${g.p}.`], question: `How much did each ${g.s} cost?`, eq: div(cost, k) };
    }
    default: {
      const a = d.person();
      const g = d.pick(GOODS);
      const p = d.price(2, 15);
      const k = d.num(2, 6);
      const m = d.leaf(Math.ceil(valueOf(p) * valueOf(k)) + d.int(1, 40));
      const facts = [`${a.name} has ${money(m)}.`, `${cap(a.sub)} buys ${n(k)} ${g.p} that cost ${money(p)} each.`];
      return { variant: 'change-money', facts, question: `How much money does ${a.name} have left?`, eq: sub(m, mul(k, p)) };
    }
  }
}

function partWhole(d: Draw): Draft {
  const w = d.pick(WHOLES);
  const [p1, p2, p3] = w.parts;
  switch (d.int(0, 3)) {
    case 0: {
      const whole = d.num(20, 99);
      const x = d.num(2, valueOf(whole) - 2);
      const facts = [`There are ${n(whole)} ${w.whole} ${w.place}.`];
      if (d.chance(0.5)) facts.push(`${n(x)} are ${p1} and the rest are ${p2}.`);
      else facts.push(`${n(x)} of them are ${p1}.`, `The rest are ${p2}.`);
      return { variant: 'rest', facts, question: d.pick([`How many ${p2} are there?`, `How many of the ${w.whole} are ${p2}?`]), eq: sub(whole, x) };
    }
    case 1: {
      const x = d.num(2, 60);
      const y = d.num(2, 60);
      const z = d.num(2, 60);
      const facts = [`${cap(w.place)} there are ${n(x)} ${p1}, ${n(y)} ${p2} and ${n(z)} ${p3}.`];
      return { variant: 'sum-of-parts', facts, question: d.pick([`How many ${w.whole} are there in all?`, `How many ${w.whole} are there ${w.place}?`]), eq: add(add(x, y), z) };
    }
    case 2: {
      const x = d.num(2, 40);
      const y = d.num(2, 40);
      const whole = d.leaf(valueOf(x) + valueOf(y) + d.int(2, 40));
      const facts = [`There are ${n(whole)} ${w.whole} ${w.place}.`, `${n(x)} are ${p1} and ${n(y)} are ${p2}.`, `The rest are ${p3}.`];
      return { variant: 'rest-of-three', facts, question: `How many ${p3} are there?`, eq: sub(sub(whole, x), y) };
    }
    default: {
      d.reserve(100);
      const pct = d.pick([10, 20, 25, 30, 40, 50, 60, 75, 80]);
      const pe = d.leaf(pct);
      const unit = pct % 20 === 0 ? 5 : pct % 10 === 0 ? 10 : 4;
      const whole = d.leaf(unit * d.int(2, 40));
      const facts = [`There are ${n(whole)} ${w.whole} ${w.place}.`, `${n(pe)}% of them are ${p1}.`];
      return { variant: 'percent', facts, question: `How many ${p1} are there?`, eq: div(mul(whole, pe), { t: 'num', v: 100, text: '100' }) };
    }
  }
}

/** A story of 2–5 operations on one person's stock of one thing (or money), in order. */
function chain(d: Draw, opts: { minOps: number; maxOps: number }): Draft {
  const a = d.person();
  const target = d.int(opts.minOps, opts.maxOps);
  if (d.chance(0.3)) return moneyChain(d, a, target);
  const t = thingFor(d);
  const c = d.pick(CONTAINERS);
  let eq = d.num(10, 60);
  const facts = [`${a.name} had ${n(eq)} ${t.p}.`];
  let question = d.pick([`How many ${t.p} does ${a.name} have now?`, `How many ${t.p} does ${a.name} have at the end?`]);
  let ops = 0;
  const friends = d.person([a]);
  while (ops < target) {
    const left = target - ops;
    const cur = valueOf(eq);
    const kind = d.pick(left >= 2 ? ['gain', 'loss', 'groups-in', 'groups-out', 'share'] : ['gain', 'loss', 'share']);
    if (kind === 'gain') {
      const y = d.num(2, 40);
      facts.push(d.pick([`Then ${a.sub} ${d.pick(GAIN_VERBS)} ${n(y)} more.`, `${friends.name} gave ${a.pos === 'his' ? 'him' : 'her'} ${n(y)} ${t.p}.`, `Later ${a.sub} ${d.pick(GAIN_VERBS)} ${n(y)} ${t.p}.`]));
      eq = add(eq, y);
      ops += 1;
    } else if (kind === 'loss') {
      if (cur < 6) continue;
      const y = d.num(2, cur - 2);
      facts.push(d.pick([`Then ${a.sub} ${lossVerb(d, t).past} ${n(y)} of them.`, `${cap(a.sub)} ${lossVerb(d, t).past} ${n(y)} ${t.p}.`]));
      eq = sub(eq, y);
      ops += 1;
    } else if (kind === 'groups-in') {
      const k = d.num(2, 6);
      const m = d.num(2, 12);
      facts.push(`${cap(a.sub)} bought ${n(k)} ${c.p} of ${t.p} with ${n(m)} ${t.p} in each ${c.s}.`);
      eq = add(eq, mul(k, m));
      ops += 2;
    } else if (kind === 'groups-out') {
      const k = d.num(2, 6);
      if (cur < 3 * valueOf(k)) continue;
      const m = d.num(2, Math.floor((cur - 1) / valueOf(k)));
      facts.push(`${cap(a.sub)} gave ${n(k)} friends ${n(m)} ${t.p} each.`);
      eq = sub(eq, mul(k, m));
      ops += 2;
    } else {
      // sharing ends the story: it changes what is asked
      if (left !== 1) continue;
      const divisors = [2, 3, 4, 5, 6, 7, 8, 9].filter((k) => cur % k === 0 && cur / k >= 2);
      if (!divisors.length) continue;
      const k = d.leaf(d.pick(divisors));
      facts.push(`${cap(a.sub)} shares all of them equally among ${n(k)} friends.`);
      question = `How many ${t.p} does each friend get?`;
      eq = div(eq, k);
      ops += 1;
    }
  }
  return { variant: `ops-${ops}`, facts, question, eq };
}

function moneyChain(d: Draw, a: Person, target: number): Draft {
  let eq = d.num(20, 200);
  const facts = [`${a.name} had ${money(eq)}.`];
  let ops = 0;
  while (ops < target) {
    const left = target - ops;
    const cur = valueOf(eq);
    const kind = d.pick(left >= 2 ? ['earn', 'spend', 'buy-k'] : ['earn', 'spend']);
    if (kind === 'earn') {
      const y = d.num(2, 40);
      facts.push(d.pick([`${cap(a.sub)} earned ${money(y)} for doing chores.`, `${cap(a.pos)} aunt gave ${a.pos === 'his' ? 'him' : 'her'} ${money(y)}.`, `${cap(a.sub)} sold some old toys for ${money(y)}.`]));
      eq = add(eq, y);
      ops += 1;
    } else if (kind === 'spend') {
      if (cur < 6) continue;
      const y = d.num(2, Math.min(cur - 2, 60));
      const g = d.pick(GOODS);
      facts.push(`${cap(a.sub)} spent ${money(y)} on a ${g.s}.`);
      eq = sub(eq, y);
      ops += 1;
    } else {
      const g = d.pick(GOODS);
      const k = d.num(2, 5);
      const maxP = Math.floor((cur - 1) / valueOf(k));
      if (maxP < 3) continue;
      const p = d.num(2, Math.min(maxP, 20));
      facts.push(`${cap(a.sub)} bought ${n(k)} ${g.p} for ${money(p)} each.`);
      eq = sub(eq, mul(k, p));
      ops += 2;
    }
  }
  return { variant: `money-ops-${ops}`, facts, question: d.pick([`How much money does ${a.name} have now?`, `How many dollars does ${a.name} have left?`]), eq };
}

/**
 * Two operations on two quantities of one situation, the frames one-step schemas and stock chains
 * leave out: a rate times a sum or a remainder, a sum or a remainder shared into groups, groups plus
 * or minus a single amount, and a unit price scaled.
 */
function twoStep(d: Draw): Draft {
  const a = d.person();
  const obj = a.pos === 'his' ? 'him' : 'her';
  const t = thingFor(d);
  const c = d.pick(CONTAINERS);
  switch (d.int(0, 6)) {
    case 0: {
      // a rate times a sum: (x + y) * r, or r * (x + y) when the rate is told first
      const x = d.num(2, 15);
      const y = d.num(2, 15);
      const r = d.num(2, 12);
      const frame = d.int(0, 2);
      if (frame === 0) {
        const tg = d.pick([['treasure', 'treasures', 'finds', 'found'], ['goal', 'goals', 'scores', 'scored'], ['star', 'stars', 'collects', 'collected'], ['coin', 'coins', 'picks up', 'picked up']] as const);
        const rateS = `${a.name} gets ${n(r)} points for each ${tg[0]} ${a.sub} ${tg[2]}.`;
        const facts = [rateS, `${cap(a.sub)} ${tg[3]} ${n(x)} ${tg[1]} in the first level and ${n(y)} in the second.`];
        return { variant: 'rate-of-sum', facts, question: d.pick([`How many points did ${a.name} get?`, `What is ${a.pos} score?`]), eq: mul(r, add(x, y)) };
      }
      if (frame === 1) {
        const t2 = d.pick(THINGS.filter((u) => u.kind === t.kind && u.p !== t.p));
        const facts = [`${a.name} has ${n(x)} ${c.p} of ${t.p} and ${n(y)} ${c.p} of ${t2.p}.`, d.pick([`Each ${c.s} holds ${n(r)} of them.`, `There are ${n(r)} in every ${c.s}.`])];
        return { variant: 'groups-of-sum', facts, question: d.pick([`How many ${t.p} and ${t2.p} does ${a.name} have in all?`, `How many things are in the ${c.p} altogether?`]), eq: mul(add(x, y), r) };
      }
      const [g1, g2] = [d.pick(GOODS), d.pick(GOODS)];
      if (g1.s === g2.s) throw new Retry();
      const price = d.price(2, 12);
      const facts = [`${a.name} bought ${n(x)} ${g1.p} and ${n(y)} ${g2.p}.`, d.pick([`Every item cost ${money(price)}.`, `Each one was ${money(price)}.`])];
      return { variant: 'price-of-sum', facts, question: d.pick([`How much did ${a.name} spend?`, `How much money did ${a.sub} pay in all?`]), eq: mul(add(x, y), price) };
    }
    case 1: {
      // a rate times what remains: (x - y) * r
      const x = d.num(6, 30);
      const y = d.num(2, valueOf(x) - 2);
      const frame = d.int(0, 2);
      if (frame === 0) {
        const job = d.pick([['wrap', 'wrapped', 'presents'], ['paint', 'painted', 'fences'], ['bake', 'baked', 'cakes'], ['clean', 'cleaned', 'rooms'], ['fix', 'fixed', 'bikes']] as const);
        const r = d.num(2, 20);
        const facts = [`${a.name} has ${n(x)} ${job[2]} to ${job[0]}.`, `${cap(a.sub)} has already ${job[1]} ${n(y)} of them.`, `Each one takes ${n(r)} minutes.`];
        return { variant: 'rate-of-rest', facts, question: `How many minutes will it take ${obj} to ${job[0]} the rest?`, eq: mul(sub(x, y), r) };
      }
      const p = d.price(2, 15);
      if (frame === 1) {
        const job = d.pick([['lawn', 'lawns', 'mow', 'mows'], ['car', 'cars', 'wash', 'washes'], ['dog', 'dogs', 'walk', 'walks'], ['room', 'rooms', 'paint', 'paints']] as const);
        const facts = [`${a.name} earns ${money(p)} for each ${job[0]} ${a.sub} ${job[3]}.`, `${cap(a.sub)} had ${n(x)} ${job[1]} to ${job[2]}, but did not ${job[2]} ${n(y)} of them.`];
        return { variant: 'pay-for-rest', facts, question: `How much money did ${a.name} earn?`, eq: mul(sub(x, y), p) };
      }
      const g = d.pick(GOODS);
      const facts = [`${a.name} had ${n(x)} ${g.p}, but ${n(y)} of them were damaged.`, `${cap(a.sub)} sold the others for ${money(p)} each.`];
      return { variant: 'sell-the-rest', facts, question: d.pick([`How much money did ${a.name} make?`, `How many dollars did ${a.sub} get?`]), eq: mul(sub(x, y), p) };
    }
    case 2: {
      // a sum put into equal groups: (x + y) / r
      const r = d.num(2, 9);
      const total = d.int(3, 15) * valueOf(r);
      const x = d.num(1, total - 2);
      const y = d.leaf(total - valueOf(x));
      const frame = d.int(0, 2);
      if (frame === 0) {
        const b = d.person([a]);
        const facts = [`${a.name} picked ${n(x)} ${t.p} and ${b.name} picked ${n(y)} ${t.p}.`, `They put all of them into ${c.p} with ${n(r)} in each ${c.s}.`];
        return { variant: 'sum-into-groups', facts, question: `How many ${c.p} did they fill?`, eq: div(add(x, y), r) };
      }
      if (frame === 1) {
        const facts = [`${a.name} can carry ${n(r)} ${t.p} at a time.`, `${cap(a.sub)} has to move ${n(x)} ${t.p} from one room and ${n(y)} from another.`];
        return { variant: 'trips', facts, question: `How many trips will ${a.sub} make?`, eq: div(add(x, y), r) };
      }
      const facts = [`${a.name} has ${n(x)} ${t.p} and got ${n(y)} more.`, `${cap(a.sub)} shares them equally among ${n(r)} friends.`];
      return { variant: 'sum-shared', facts, question: `How many ${t.p} does each friend get?`, eq: div(add(x, y), r) };
    }
    case 3: {
      // what remains put into equal groups: (x - y) / r
      const r = d.num(2, 9);
      const rest = d.int(2, 12) * valueOf(r);
      const y = d.num(2, 40);
      const x = d.leaf(rest + valueOf(y));
      const { past } = lossVerb(d, t);
      const facts = d.chance(0.5)
        ? [`${a.name} had ${n(x)} ${t.p}.`, `${cap(a.sub)} ${past} ${n(y)} of them and put the rest into ${c.p} with ${n(r)} in each ${c.s}.`]
        : [`A shop had ${n(x)} ${t.p}.`, `It sold ${n(y)} of them.`, `The rest were put equally on ${n(r)} shelves.`];
      const q = /shelves/.test(facts[2] ?? '') ? `How many ${t.p} are on each shelf?` : `How many ${c.p} did ${a.name} use?`;
      return { variant: 'rest-into-groups', facts, question: q, eq: div(sub(x, y), r) };
    }
    case 4: {
      // groups plus one more amount: (k * p) + q
      const k = d.num(2, 9);
      const p = d.price(2, 20);
      const q = d.price(2, 30);
      if (d.chance(0.5)) {
        const [g1, g2] = [d.pick(GOODS), d.pick(GOODS)];
        if (g1.s === g2.s) throw new Retry();
        const facts = [`${a.name} bought ${n(k)} ${g1.p} for ${money(p)} each and a ${g2.s} for ${money(q)}.`];
        return { variant: 'groups-plus-one', facts, question: d.pick([`How much did ${a.name} spend in all?`, `How much money did ${a.sub} spend?`]), eq: add(mul(k, p), q) };
      }
      const facts = [`${a.name} earns ${money(p)} for every hour ${a.sub} works.`, `${cap(a.sub)} worked ${n(k)} hours and already had ${money(q)} saved.`];
      return { variant: 'earn-plus-saved', facts, question: `How much money does ${a.name} have now?`, eq: add(mul(p, k), q) };
    }
    case 5: {
      // groups less what was given away: (k * m) - y
      const k = d.num(2, 9);
      const m = d.num(3, 15);
      const y = d.num(2, valueOf(k) * valueOf(m) - 1);
      const { past } = lossVerb(d, t);
      const facts = [`${a.name} bought ${n(k)} ${c.p} of ${t.p} with ${n(m)} in each ${c.s}.`, `${cap(a.sub)} ${past} ${n(y)} ${t.p}.`];
      return { variant: 'groups-minus', facts, question: d.pick([`How many ${t.p} does ${a.name} have left?`, `How many ${t.p} are left?`]), eq: sub(mul(k, m), y) };
    }
    default: {
      // a unit price scaled: (p / k) * m
      const g = d.pick(GOODS);
      const k = d.num(2, 6);
      const unit = d.int(2, 15);
      const p = d.leaf(unit * valueOf(k));
      const m = d.num(2, 12);
      const facts = [`${n(k)} ${g.p} cost ${money(p)}.`];
      return { variant: 'unit-price', facts, question: d.pick([`At the same price, how much do ${n(m)} ${g.p} cost?`, `How much would ${a.name} pay for ${n(m)} ${g.p}?`]), eq: mul(div(p, k), m) };
    }
  }
}

// ---- Assembly ---------------------------------------------------------------------------------------

export interface SchemaOptions {
  seed?: number;
  /** Schemas to draw from, in turn (default: all). */
  schemas?: readonly SchemaName[];
  /** Probability of one irrelevant one-number fact (default 0.25). */
  distractorRate?: number;
  /** Operations of a chain problem (default 2..5). */
  minOps?: number;
  maxOps?: number;
}

function draft(schema: SchemaName, d: Draw, opts: SchemaOptions): Draft {
  switch (schema) {
    case 'change':
      return change(d);
    case 'combine':
      return combine(d);
    case 'compare':
      return compare(d);
    case 'multiplicative':
      return multiplicative(d);
    case 'rate':
      return rate(d);
    case 'part-whole':
      return partWhole(d);
    case 'chain':
      return chain(d, { minOps: opts.minOps ?? 2, maxOps: opts.maxOps ?? 5 });
    case 'two-step':
      return twoStep(d);
  }
}

const PRONOUN = /\b(he|she|they|him|his|her|them|their)\b/i;

/** A clean answer: positive, at most two decimals. */
function cleanAnswer(v: number): boolean {
  return v > 0 && Number.isFinite(v) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6;
}

/**
 * Problem `index` of the stream for `seed`: a pure function of (seed, index), so streams can be cut
 * anywhere and resumed. Schemas take turns. The answer is the equation evaluated by the bootstrap's
 * own parser, so it can never disagree with the reference.
 */
export function schemaProblem(index: number, opts: SchemaOptions = {}): Problem {
  const seed = opts.seed ?? 1234;
  const schemas = opts.schemas ?? SCHEMAS;
  const schema = schemas[index % schemas.length]!;
  const rand = mulberry32(hash32(`schema:${index}`, seed));
  for (let attempt = 0; ; attempt++) {
    if (attempt > 200) throw new Error(`schemaProblem: no valid ${schema} problem after 200 draws (seed ${seed}, index ${index})`);
    const d = new Draw(rand);
    let dr: Draft;
    try {
      dr = draft(schema, d, opts);
    } catch (e) {
      if (e instanceof Retry) continue;
      throw e;
    }
    const facts = [...dr.facts];
    if (d.chance(opts.distractorRate ?? 0.25)) {
      let aside: string;
      try {
        aside = d.pick(ASIDES)(n(d.num(2, 95)), d.person());
      } catch (e) {
        if (e instanceof Retry) continue;
        throw e;
      }
      // before the question only when the question names no one by pronoun (the aside's person would capture it)
      const at = !PRONOUN.test(dr.question) && d.chance(0.5) ? facts.length : 0;
      facts.splice(at, 0, aside);
    }
    const question = [...facts, dr.question].join(' ');
    const equation = renderEquation(dr.eq);
    const parsed = parseExpr(equation);
    if (!parsed) throw new Error(`schemaProblem: unparsable equation ${equation}`);
    const v = evalExpr(parsed);
    if (!cleanAnswer(v)) continue;
    const nums = questionNumbers(question);
    // every written number once, so the converter's literal → name masking is unambiguous
    if (new Set(nums.map((x) => x.value)).size !== nums.length) continue;
    const leaves = leavesOf(dr.eq);
    if (leaves.some((l) => l.text !== '100' && !nums.some((x) => x.text === l.text))) continue;
    const template = equation.replace(/\d+(?:\.\d+)?/g, (m) => {
      const k = nums.findIndex((x) => x.text === m);
      return k >= 0 ? `number${k}` : m;
    });
    return {
      id: `synth-${schema}-${seed}-${index}`,
      question,
      answer: formatNumber(v),
      source: schemaSource(schema),
      solution: equation,
      extra: { schema, variant: dr.variant, ops: opsOf(dr.eq), equation_template: template, numbers: nums.map((x) => String(x.value)) },
    };
  }
}

function leavesOf(e: Eq): { text: string }[] {
  return e.t === 'num' ? [e] : [...leavesOf(e.l), ...leavesOf(e.r)];
}

/** An unlimited seeded stream of schema problems, from `start`. */
export function* schemaProblems(opts: SchemaOptions & { start?: number } = {}): Generator<Problem> {
  for (let i = opts.start ?? 0; ; i++) yield schemaProblem(i, opts);
}

/** The first `count` problems of the stream for these options. */
export function synthesizeSchemas(count: number, opts: SchemaOptions = {}): Problem[] {
  return Array.from({ length: count }, (_, i) => schemaProblem(i, opts));
}
