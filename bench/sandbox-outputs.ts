// Every DeepMind bootstrap program, and three altered copies of each, through the sandbox worker's
// Evaluator in-process; one JSON line per evaluation (question index, ok, output, error, answer), so two
// checkouts' sandboxes can be compared with `cmp`. The altered copies reach error paths: a name changed,
// a parenthesis inserted into a quoted expression, and print(fmt(x)) replaced by
// print(x, typeof x, String(x)).
// `node --import tsx bench/sandbox-outputs.ts --out FILE [--limit N]` (~4 min on one core)
import { writeFileSync, renameSync } from 'node:fs';
import { Evaluator } from '../src/sandbox/worker.ts';
import { loadDataset } from '../src/data/datasets.ts';
import { convertProblem } from '../src/data/bootstrap/index.ts';
import { programOf } from '../src/data/steps.ts';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function variants(prog: string[]): string[][] {
  const last = prog[prog.length - 1]!;
  const head = prog.slice(0, -1);
  return [
    prog,
    [...head, last.replace(/n(\d)/, 'n9$1')],
    [...head, last.replace(/"([^"]*?)(\d+|n\d)/, '"$1($2')],
    [...head, last.replace(/print\(fmt\((.*)\)\);?$/m, 'print($1, typeof $1, String($1));')],
  ];
}

export async function main(argv: string[]): Promise<void> {
  const out = arg(argv, 'out');
  if (!out) throw new Error('--out FILE is required');
  const limit = Number(arg(argv, 'limit') ?? Infinity);
  const ev = await Evaluator.create({ timeoutMs: 5000, memoryBytes: 32 << 20, stackBytes: 512 << 10, maxOutput: 2000 });
  const all = loadDataset('deepmind');
  const n = Math.min(all.length, limit);
  const lines: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const p = all[i]!;
    const steps = convertProblem(p);
    if (!steps) continue;
    for (const v of variants(programOf(p.question, steps.map((s) => s.code)))) {
      const r = ev.run(v);
      lines.push(JSON.stringify([i, r.ok, r.output, r.error ?? '', r.answer ?? '']));
    }
    if ((i + 1) % 5000 === 0 || i + 1 === n) {
      const s = (performance.now() - t0) / 1000;
      console.log(`${i + 1}/${n} questions, ${lines.length} evaluations, ${(lines.length / s).toFixed(0)}/s, ETA ${(((n - i - 1) * s) / (i + 1)).toFixed(0)} s`);
    }
  }
  writeFileSync(out + '.tmp', lines.join('\n') + '\n');
  renameSync(out + '.tmp', out);
  console.log(`${lines.length} evaluations written to ${out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
