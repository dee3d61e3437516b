// Step evaluations per second through the sandbox pool, for realistic 3-5 step trajectories.
// `npm run bench -- sandbox [--n 20000] [--workers 2]`
import { SandboxPool } from '../src/sandbox/sandbox.ts';

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

export async function main(argv: string[]): Promise<void> {
  const n = flag(argv, 'n', 20000);
  const workers = flag(argv, 'workers', 2);
  const pool = new SandboxPool({ workers });
  try {
    // start and warm every worker before timing
    await pool.runMany(Array.from({ length: 64 * workers }, (_, i) => trajectory(i)));

    const batch = Array.from({ length: n }, (_, i) => trajectory(i));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await pool.runMany(batch);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;

    const failed = results.filter((r) => !r.ok).length;
    if (failed > 0) throw new Error(`${failed} of ${n} benchmark evaluations failed: ${results.find((r) => !r.ok)!.error}`);
    const evalsPerS = n / secs;
    // CPU-normalised figure: on a shared machine wall time depends on the neighbours, CPU time less so.
    const evalsPerCpuS = n / cpuSecs;
    const meanSteps = batch.reduce((s, t) => s + t.length, 0) / n;
    console.log(
      `sandbox: ${n} evaluations (${meanSteps.toFixed(1)} steps each) on ${workers} workers in ${secs.toFixed(2)} s: ` +
        `${evalsPerS.toFixed(0)} evals/s wall, ${evalsPerCpuS.toFixed(0)} evals per CPU-second (all threads)`,
    );
    console.log(
      `RESULT ${JSON.stringify({
        bench: 'sandbox',
        evals_per_s: Math.round(evalsPerS),
        evals_per_cpu_s: Math.round(evalsPerCpuS),
        workers,
        n,
        mean_steps: Number(meanSteps.toFixed(2)),
      })}`,
    );
  } finally {
    await pool.close();
  }
}
