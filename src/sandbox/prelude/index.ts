// The exact-mathematics prelude for sandboxed steps, as JavaScript source for QuickJS.
// PRELUDE_SOURCE is all of it; preludeFor(steps) is only the modules a trajectory's code names, which
// is what the sandbox should evaluate per fresh context (GSM8K-style steps name none and pay nothing).
import { readFileSync } from 'node:fs';

export interface PreludeModule {
  name: string;
  /** Globals the module defines (what a step may call). */
  exports: readonly string[];
  /** Modules that must be evaluated before this one. */
  deps: readonly string[];
  source: string;
}

function load(file: string): string {
  return readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
}

// Order matters: a module's deps come before it.
export const PRELUDE_MODULES: readonly PreludeModule[] = [
  {
    name: 'core',
    exports: ['Q', 'D', 'R', 'big', 'gcd', 'lcm', 'mod', 'isPrime', 'factor', 'primeFactors', 'divisors', 'iroot', 'isqrt',
      'nearestRoot', 'round', 'roundTo', 'roundSig', 'toBase', 'fromBase', 'digit', 'fmt', 'sum', 'prod', 'sortExact'],
    deps: [],
    source: load('core.js'),
  },
  {
    name: 'poly',
    exports: ['Poly', 'P', 'fn', 'ev', 'inBase', 'solveLinear', 'solveLinear2', 'fitPoly', 'nextTerm', 'powerOf', 'showPower'],
    deps: ['core'],
    source: load('poly.js'),
  },
  {
    name: 'units',
    exports: ['convert', 'quantity', 'timeAdd', 'minutesBetween', 'parseTime', 'showTime'],
    deps: ['core'],
    source: load('units.js'),
  },
  {
    name: 'surd',
    exports: ['surd', 'Surd'],
    deps: ['core'],
    source: load('surd.js'),
  },
  {
    name: 'comb',
    exports: ['factorial', 'binomial', 'perm', 'counts', 'probSequence', 'probCounts'],
    deps: ['core'],
    source: load('comb.js'),
  },
];

export const PRELUDE_SOURCE: string = PRELUDE_MODULES.map((m) => m.source).join('\n');

const EXPORTER = new Map<string, PreludeModule>();
for (const m of PRELUDE_MODULES) for (const e of m.exports) EXPORTER.set(e, m);
const IDENT = /[A-Za-z_$][\w$]*/g;
const cache = new Map<string, string>();

/** The modules (with their deps) whose globals the code mentions, in load order; empty if none.
 * A word counts when it appears as an identifier anywhere (comments and strings included: loading a
 * module too many is harmless, one too few fails the step). */
export function preludeModulesFor(code: string | readonly string[]): PreludeModule[] {
  const text = typeof code === 'string' ? code : code.join('\n');
  const want = new Set<string>();
  for (const m of text.matchAll(IDENT)) {
    const mod = EXPORTER.get(m[0]);
    if (mod) {
      want.add(mod.name);
      for (const d of mod.deps) want.add(d);
    }
  }
  return PRELUDE_MODULES.filter((m) => want.has(m.name));
}

// IDENT's twin for exec: matchAll starts a copy of its regex at the regex's lastIndex, so IDENT's must stay 0
const SCAN = new RegExp(IDENT.source, 'g');

/** Every global the prelude defines, in module order: the realm installs them by index. */
export const PRELUDE_EXPORTS: readonly string[] = PRELUDE_MODULES.flatMap((m) => m.exports);
const EXPORT_INDEX = new Map(PRELUDE_EXPORTS.map((e, i) => [e, i]));

/** The prelude globals the code names, as preludeModulesFor reads names: their indices in
 * PRELUDE_EXPORTS, ascending and comma-joined ('' for none). The worker installs just these. */
export function preludeNames(code: string | readonly string[]): string {
  let found: number[] | null = null;
  // steps are separate texts: an identifier never spans two, as in preludeModulesFor's '\n'-joined text
  for (const text of typeof code === 'string' ? [code] : code) {
    SCAN.lastIndex = 0;
    for (let m = SCAN.exec(text); m !== null; m = SCAN.exec(text)) {
      const i = EXPORT_INDEX.get(m[0]);
      if (i !== undefined && !(found ??= []).includes(i)) found.push(i);
    }
  }
  return found === null ? '' : found.sort((a, b) => a - b).join(',');
}

/** Source of the modules the code needs ('' when it needs none); cached per module set. */
export function preludeFor(code: string | readonly string[]): string {
  const mods = preludeModulesFor(code);
  if (mods.length === 0) return '';
  const key = mods.map((m) => m.name).join(',');
  let src = cache.get(key);
  if (src === undefined) {
    src = mods.map((m) => m.source).join('\n');
    cache.set(key, src);
  }
  return src;
}
