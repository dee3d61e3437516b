// Evaluations per second of fresh QuickJS contexts with and without the exact-maths prelude, one
// thread, with the sandbox worker's per-evaluation work (src/sandbox/prelude/harness.ts).
// `node --import tsx bench/prelude.ts [--n 3000]`
import { pathToFileURL } from 'node:url';
import { MiniEvaluator, type PreludeMode } from '../src/sandbox/prelude/harness.ts';
import { PRELUDE_MODULES } from '../src/sandbox/prelude/index.ts';

function flag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : dflt;
}

// the GSM8K-shaped trajectory of bench/sandbox.ts (no prelude names)
function gsm8k(i: number): string[] {
  const a = 10 + (i % 90);
  const b = 2 + (i % 7);
  return [
    `// Natalia sold ${a} clips in April and half as many in May.\nconst april = ${a};\nconst may = april / 2;`,
    `// Each clip costs $${b}.\nconst price = ${b};\nconst revenue = (april + may) * price;`,
    `// She spends a third of it on supplies.\nconst supplies = revenue / 3;`,
    `// What is left is her profit.\nconst profit = revenue - supplies;\nprint(profit);`,
  ];
}
// DeepMind-shaped trajectories: exact arithmetic (core), polynomials (core + poly)
function dmCore(i: number): string[] {
  return [
    `// Let k be (-168)/(-16) + 1/(-2).\nconst k = Q(-168, -16).add(Q(1, -2));`,
    `// The remainder when ${1000 + i} is divided by k.\nconst r = mod(${1000 + i}, k);`,
    `print(fmt(r));`,
  ];
}
function dmPoly(i: number): string[] {
  return [
    `// Let x(l) = -2*l**2 + 2*l + ${i % 9}.\nconst x = fn('l', '-2*l**2 + 2*l + ${i % 9}');`,
    `// Collect s*x(o) + 2*x(o).\nconst e = P('3*x(o) + 2*x(o)', { x });`,
    `print(fmt(e));`,
  ];
}

function measure(ev: MiniEvaluator, n: number, make: (i: number) => string[], mode: PreludeMode, failures = false): number {
  for (let i = 0; i < 200; i++) {
    const r = ev.run(make(i), mode);
    if (!r.ok && !failures) throw new Error(`bench trajectory failed: ${r.error}`);
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ev.run(make(i), mode);
  return n / ((performance.now() - t0) / 1000);
}

export async function main(argv: string[]): Promise<void> {
  const n = flag(argv, 'n', 3000);
  const ev = await MiniEvaluator.create();
  // wasm tier-up: without this the first row reads ~2x slow
  measure(ev, 3000, gsm8k, 'none');
  const rows: [string, (i: number) => string[], PreludeMode][] = [
    ['gsm8k, no prelude', gsm8k, 'none'],
    ['gsm8k, whole prelude', gsm8k, 'all'],
    ['gsm8k, prelude by names (none needed)', gsm8k, 'auto'],
    ['dm exact arithmetic, prelude by names (core)', dmCore, 'auto'],
    ['dm polynomials, prelude by names (core+poly)', dmPoly, 'auto'],
    ['dm polynomials, whole prelude', dmPoly, 'all'],
    ['gsm8k, shared realm', gsm8k, 'shared'],
    ['dm exact arithmetic, shared realm', dmCore, 'shared'],
    ['dm polynomials, shared realm', dmPoly, 'shared'],
  ];
  const result: Record<string, number> = {};
  // the worker's runtime retirement after failed steps: 1 evaluation in 4 fails
  const failing = (make: (i: number) => string[]) => (i: number) => (i % 4 === 3 ? [...make(i), 'throw new Error("bad step")'] : make(i));
  rows.push(['dm polynomials, shared, 25% failing, retire on error', failing(dmPoly), 'shared']);
  for (const [label, make, mode] of rows) {
    const rate = measure(ev, n, make, mode, label.includes('failing'));
    result[label] = Math.round(rate);
    console.log(`${label.padEnd(56)} ${rate.toFixed(0).padStart(6)} evals/s (1 thread)`);
  }
  ev.retireOnError = false;
  const keep = 'dm polynomials, shared, 25% failing, runtime kept on JS errors';
  const rate = measure(ev, n, failing(dmPoly), 'shared', true);
  result[keep] = Math.round(rate);
  console.log(`${keep.padEnd(56)} ${rate.toFixed(0).padStart(6)} evals/s (1 thread)`);
  const sizes = Object.fromEntries(PRELUDE_MODULES.map((m) => [m.name, m.source.length]));
  console.log(`module sizes (chars): ${JSON.stringify(sizes)}`);
  console.log(`RESULT ${JSON.stringify({ bench: 'prelude', threads: 1, n, evals_per_s: result, sizes })}`);
  ev.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
