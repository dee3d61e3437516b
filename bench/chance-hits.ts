// How many of a run's training-search trajectories that give the known answer are chance hits: asked
// again with the question's numbers moved (search/variants.ts), they answer otherwise than the
// reference program. Per round and source family; the problems' references are the run's bootstrap.
//   node --import tsx bench/chance-hits.ts --run runs/default [--variants 2]
import fs from 'node:fs';
import path from 'node:path';
import { readTrajectories } from '../src/data/arrow.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { parseStep } from '../src/data/steps.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { answersVariants, numberVariants } from '../src/search/variants.ts';
import { hash32 } from '../src/util/rng.ts';

function flag(name: string, def = ''): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
const run = flag('run');
const count = Number(flag('variants', '2'));
if (!run) {
  console.error('usage: bench/chance-hits.ts --run runs/NAME [--variants 2]');
  process.exit(2);
}
const codes = (steps: string[]) => steps.map((x) => parseStep(x)?.code ?? '');
const refs = new Map(readTrajectories(path.join(run, 'round-0', 'bootstrap-train.arrow')).map((t) => [t.problemId, t]));
const family = (source: string) => (source.startsWith('gsm8k') ? 'gsm8k' : source.startsWith('mawps-synth') ? 'schema' : source.startsWith('mawps') ? 'mawps' : source.split(/[-/]/)[0]!);
const sandbox = new SandboxPool({ workers: 1 });
try {
  for (let k = 1; fs.existsSync(path.join(run, `round-${k}`, 'trajectories.arrow')); k++) {
    const stat = new Map<string, { right: number; checked: number; pass: number; problems: Set<string>; passProblems: Set<string> }>();
    for (const t of readTrajectories(path.join(run, `round-${k}`, 'trajectories.arrow')).filter((x) => x.correct)) {
      const s = stat.get(family(t.source)) ?? { right: 0, checked: 0, pass: 0, problems: new Set<string>(), passProblems: new Set<string>() };
      stat.set(family(t.source), s);
      s.right++;
      const ref = refs.get(t.problemId);
      if (!ref) continue;
      const variants = await numberVariants({ question: ref.question, reference: codes(ref.steps), sandbox, count, seed: hash32(t.problemId, k) });
      if (!variants.length) continue;
      s.checked++;
      s.problems.add(t.problemId);
      if (await answersVariants(codes(t.steps), variants, sandbox, gradeAnswer)) {
        s.pass++;
        s.passProblems.add(t.problemId);
      }
    }
    console.log(`round ${k}: ` + [...stat].map(([f, s]) => `${f}: ${s.right} right, ${s.checked} checkable, ${s.pass} pass (${s.checked ? ((100 * s.pass) / s.checked).toFixed(0) : '-'} %); problems ${s.passProblems.size} of ${s.problems.size}`).join('; '));
  }
} finally {
  await sandbox.close();
}
