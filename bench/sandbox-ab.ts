// Another checkout's sandbox against this one, interleaved in one process, so that a change of a few
// per cent shows through this machine's drift (its speed moves by a third within an hour).
// `node --import tsx bench/sandbox-ab.ts --base /path/to/other/checkout [--rounds 40] [--pool]`
// Default: each checkout's Evaluator in-process, alternating blocks of 500 of the sandbox bench's
// DeepMind programs (after 3 warm-up passes of 4,000 each), CPU µs per evaluation. --pool: each
// checkout's SandboxPool (2 workers), alternating passes of 4,000, evaluations/s (second half only:
// the first is the workers' JIT warm-up).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deepmindPrograms } from './sandbox.ts';
import * as here from '../src/sandbox/worker.ts';
import * as herePool from '../src/sandbox/sandbox.ts';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(argv: string[]): Promise<void> {
  const base = arg(argv, 'base');
  if (!base) throw new Error('--base: expected the other checkout, e.g. --base /tmp/base');
  const rounds = Number(arg(argv, 'rounds') ?? 40);
  const url = (f: string): string => pathToFileURL(resolve(base, f)).href;
  const progs = deepmindPrograms(4000);
  const res: { A: number[]; B: number[] } = { A: [], B: [] };
  const order = (r: number): ('A' | 'B')[] => (r % 2 ? ['B', 'A'] : ['A', 'B']);
  if (argv.includes('--pool')) {
    const A = new (await import(url('src/sandbox/sandbox.ts'))).SandboxPool({ workers: 2 }) as herePool.SandboxPool;
    const B = new herePool.SandboxPool({ workers: 2 });
    try {
      for (let r = 0; r < rounds; r++) {
        for (const k of order(r)) {
          const t0 = performance.now();
          const out = await (k === 'A' ? A : B).runMany(progs);
          if (out.some((x) => !x.ok)) throw new Error(`${k}: a bench program failed`);
          res[k].push(progs.length / ((performance.now() - t0) / 1000));
        }
        console.log(`round ${r + 1}/${rounds}: base ${res.A.at(-1)!.toFixed(0)}, this ${res.B.at(-1)!.toFixed(0)} evals/s`);
      }
    } finally {
      await A.close();
      await B.close();
    }
    const h = rounds >> 1;
    const ratios = res.B.slice(h).map((b, i) => b / res.A[h + i]!);
    console.log(`pool, second half: base ${median(res.A.slice(h)).toFixed(0)}, this ${median(res.B.slice(h)).toFixed(0)} evals/s (medians); this/base ${median(ratios).toFixed(3)}, this faster in ${ratios.filter((x) => x > 1).length}/${ratios.length}`);
    console.log(`RESULT ${JSON.stringify({ bench: 'sandbox-ab', mode: 'pool', base: median(res.A.slice(h)), this: median(res.B.slice(h)), ratio: median(ratios) })}`);
    return;
  }
  const limits = { timeoutMs: 5000, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 };
  const A = (await (await import(url('src/sandbox/worker.ts'))).Evaluator.create(limits)) as here.Evaluator;
  const B = await here.Evaluator.create(limits);
  for (const ev of [A, B]) for (let k = 0; k < 3; k++) for (const p of progs) ev.run(p);
  for (let r = 0; r < rounds; r++) {
    const block = progs.slice((r * 500) % progs.length, ((r * 500) % progs.length) + 500);
    for (const k of order(r)) {
      const c0 = process.cpuUsage();
      for (const p of block) (k === 'A' ? A : B).run(p);
      const c = process.cpuUsage(c0);
      res[k].push((c.user + c.system) / block.length);
    }
  }
  A.dispose();
  B.dispose();
  const ratios = res.B.map((b, i) => b / res.A[i]!);
  console.log(`in-process, CPU µs an evaluation (medians of ${rounds} blocks of 500): base ${median(res.A).toFixed(0)}, this ${median(res.B).toFixed(0)}; this/base ${median(ratios).toFixed(3)}, this faster in ${ratios.filter((x) => x < 1).length}/${rounds}`);
  console.log(`RESULT ${JSON.stringify({ bench: 'sandbox-ab', mode: 'in-process', base_us: median(res.A), this_us: median(res.B), ratio: median(ratios) })}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
