// Why greedy solutions fail: each of a dev set's greedy solutions tallied as right, wrong, ran without
// printing, or by the sandbox's error kind (with "no end marker" when the policy never finished, e.g.
// a comment repeating until the token budget). For a source where few programs run at all (GSM8K).
//   node --import tsx bench/greedy-failures.ts --dataset gsm8k [--dev grouped] [--limit 60] [--policy checkpoints/policy] [--show 3] [--loop-repeats 3]
// Also the decode's wall time and tokens written (--loop-repeats 0: decodes caught in a loop run on).
import { setupBackend } from '../src/model/backends/backend.ts';
import { loadPolicies } from '../src/model/load.ts';
import { devOf, type DevSet } from '../src/data/problems.ts';
import { executeSolution, writeSolutions } from '../src/search/evaluate.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { EVAL, SEARCH } from '../src/config.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}
await setupBackend('wasm');
const problems = devOf(flag('dataset', 'gsm8k'), flag('dev', 'grouped') as DevSet).slice(0, Number(flag('limit', '60')));
const show = Number(flag('show', '3'));
const { pol } = await loadPolicies(flag('policy', 'checkpoints/policy'));
const loopRepeats = Number(flag('loop-repeats', String(SEARCH.loopRepeats)));
const sandbox = new SandboxPool({ workers: 1 });
const tally = new Map<string, number>();
try {
  const texts: string[][] = [];
  const t0 = performance.now();
  for (let i = 0; i < problems.length; i += EVAL.batch) {
    const chunk = problems.slice(i, i + EVAL.batch).map((p) => p.question);
    texts.push(...await writeSolutions({ lm: pol.lm, tok: pol.tokenizer, promptNumbers: pol.promptNumbers }, chunk, 1, { temperature: 0, maxTokens: EVAL.maxTokens, seed: i, copyBias: SEARCH.copyBias, loopRepeats }));
  }
  const tokens = texts.reduce((a, t) => a + pol.tokenizer.encode(t[0]!).length, 0);
  console.log(`decode: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${tokens} tokens (loop repeats ${loopRepeats})`);
  let shown = 0;
  for (let i = 0; i < problems.length; i++) {
    const text = texts[i]![0]!;
    const s = await executeSolution(sandbox, problems[i]!.question, text);
    const unfinished = text.includes('<end_of_solution>') ? '' : ' (no end marker)';
    const err = (s.error ?? 'error').split('\n')[0]!.replace(/'[^']*'/g, 'NAME').replace(/\S+ is not (defined|initialized)/, 'NAME is not $1').slice(0, 60);
    const kind = s.ok ? (s.answer === null ? 'ran, printed nothing' : gradeAnswer(s.answer, problems[i]!.answer) ? 'right' : 'wrong')
      : `${err}${unfinished}`;
    tally.set(kind, (tally.get(kind) ?? 0) + 1);
    if (!s.ok && shown++ < show) console.log(`--- ${problems[i]!.question}\n${text.slice(0, 500)}\n→ ${s.error?.slice(0, 160)}`);
  }
} finally {
  await sandbox.close();
}
for (const [k, n] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`${k}: ${n} / ${problems.length}`);
