// Step evaluations per second through the sandbox pool, for realistic 3-5 step trajectories.
// `npm run bench -- sandbox [--n 20000] [--workers 2] [--kind gsm8k|deepmind|mixed] [--warmup-s 20]`
// gsm8k: GSM8K-shaped steps (no prelude); deepmind: the bootstrap's verified DeepMind programs (exact
// maths prelude, every module), each as a random prefix the way MCTS evaluates candidates; mixed: half each.
// The timed run follows --warmup-s seconds of the same work: each worker's V8 compiles the host prelude,
// the membrane and QuickJS's hot wasm functions as they get hot, and on two busy cores that takes
// ~10-20 s; an MCTS run keeps its pool for minutes, so the rate after it is the one a run sees. The
// warm-up's own rate is printed too, and the share of CPU time the hypervisor took (steal).
import { readFileSync } from 'node:fs';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { loadDataset } from '../src/data/datasets.ts';
import { convertProblem } from '../src/data/bootstrap/index.ts';
import { programOf } from '../src/data/steps.ts';

function flag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : dflt;
}

// GSM8K-shaped code: a few consts, arithmetic on earlier steps, a final print. Numbers vary so every
// trajectory is distinct; a few are truncated to 3 steps as MCTS prefixes are.
function trajectory(i: number): string[] {
  const a = 10 + (i % 90);
  const b = 2 + (i % 7);
  const steps = [
    `// Natalia sold ${a} clips in April and half as many in May.\nconst april = ${a};\nconst may = april / 2;`,
    `// Each clip costs $${b}.\nconst price = ${b};\nconst revenue = (april + may) * price;`,
    `// She spends a third of it on supplies.\nconst supplies = revenue / 3;`,
    `// What is left is her profit.\nconst profit = revenue - supplies;\nprint(profit);`,
  ];
  if (i % 4 === 0) steps.splice(2, 0, `// A check on May.\nconst check = may * 2 === april;`);
  return i % 5 === 0 ? steps.slice(0, 3) : steps;
}

/** DeepMind programs as the sandbox sees them: the question's numbers, then a prefix of the steps. */
export function deepmindPrograms(count: number): string[][] {
  const all = loadDataset('deepmind');
  const out: string[][] = [];
  for (let i = 0; out.length < count && i < all.length * 4; i++) {
    const p = all[(i * 7919) % all.length]!;
    const steps = convertProblem(p);
    if (!steps) continue;
    const k = 1 + (i % steps.length);
    out.push(programOf(p.question, steps.slice(0, k).map((s) => s.code)));
  }
  return out;
}

/** [steal, total] CPU jiffies of the machine so far (Linux; zeros elsewhere). */
function cpuTicks(): [number, number] {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return [f[7] ?? 0, f.reduce((a, b) => a + b, 0)];
  } catch {
    return [0, 0];
  }
}

function kindOf(argv: string[]): 'gsm8k' | 'deepmind' | 'mixed' {
  const i = argv.indexOf('--kind');
  const k = i >= 0 ? argv[i + 1] : 'gsm8k';
  if (k !== 'gsm8k' && k !== 'deepmind' && k !== 'mixed') throw new Error(`--kind: expected gsm8k, deepmind or mixed, got ${k}`);
  return k;
}

export async function main(argv: string[]): Promise<void> {
  const n = flag(argv, 'n', 20000);
  const workers = flag(argv, 'workers', 2);
  const warmupS = flag(argv, 'warmup-s', 20);
  const kind = kindOf(argv);
  const dm = kind === 'gsm8k' ? [] : deepmindPrograms(Math.min(n, 4000));
  const traj = (i: number): string[] => (kind === 'deepmind' || (kind === 'mixed' && i % 2 === 1) ? dm[i % dm.length]! : trajectory(i));
  const pool = new SandboxPool({ workers });
  try {
    // start every worker, then warm them for warmupS seconds of the same work
    await pool.runMany(Array.from({ length: 64 * workers }, (_, i) => traj(i)));
    let warmed = 0;
    const w0 = performance.now();
    while (performance.now() - w0 < warmupS * 1000) {
      await pool.runMany(Array.from({ length: 500 * workers }, (_, i) => traj(warmed + i)));
      warmed += 500 * workers;
    }
    const warmSecs = (performance.now() - w0) / 1000;

    const batch = Array.from({ length: n }, (_, i) => traj(i));
    const [steal0, ticks0] = cpuTicks();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await pool.runMany(batch);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const [steal1, ticks1] = cpuTicks();
    const stealPct = ticks1 > ticks0 ? (100 * (steal1 - steal0)) / (ticks1 - ticks0) : 0;
    const cpuSecs = (cpu.user + cpu.system) / 1e6;

    const failed = results.filter((r) => !r.ok).length;
    if (failed > 0) throw new Error(`${failed} of ${n} benchmark evaluations failed: ${results.find((r) => !r.ok)!.error}`);
    const evalsPerS = n / secs;
    // CPU-normalised figure: on a shared machine wall time depends on the neighbours, CPU time less so.
    const evalsPerCpuS = n / cpuSecs;
    const meanSteps = batch.reduce((s, t) => s + t.length, 0) / n;
    const warmRate = warmed > 0 ? warmed / warmSecs : 0;
    if (warmed > 0) console.log(`warm-up: ${warmed} evaluations in ${warmSecs.toFixed(1)} s (${warmRate.toFixed(0)} evals/s)`);
    console.log(
      `sandbox (${kind}): ${n} evaluations (${meanSteps.toFixed(1)} steps each) on ${workers} workers in ${secs.toFixed(2)} s: ` +
        `${evalsPerS.toFixed(0)} evals/s wall, ${evalsPerCpuS.toFixed(0)} evals per CPU-second (all threads); ` +
        `hypervisor steal ${stealPct.toFixed(1)} % of the machine's CPU time`,
    );
    console.log(
      `RESULT ${JSON.stringify({
        bench: 'sandbox',
        evals_per_s: Math.round(evalsPerS),
        evals_per_cpu_s: Math.round(evalsPerCpuS),
        workers,
        kind,
        n,
        mean_steps: Number(meanSteps.toFixed(2)),
        warmup_s: Number(warmSecs.toFixed(1)),
        warmup_evals_per_s: Math.round(warmRate),
        steal_pct: Number(stealPct.toFixed(1)),
      })}`,
    );
  } finally {
    await pool.close();
  }
}
