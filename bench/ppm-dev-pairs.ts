// PPM pair accuracy on problems no model has seen: terminal-guided MCTS with a policy over the
// MAWPS/ASDiv-A dev split (answers known, as in training rounds) builds step pairs exactly as a
// round does (src/search/extract.ts buildPairs); each PPM given is scored on them, beside the
// policy's own ranking by mean step log-probability. Held-out pairs of self-evolve come from
// training problems the round's policy was fine-tuned on; these do not.
//   node --import tsx bench/ppm-dev-pairs.ts --policy runs/default/round-4/policy \
//        --ppm runs/default/round-4/ppm[,other/ppm] [--rollouts 16] [--k 8] [--limit N]
import { setupBackend } from '../src/model/backends/backend.ts';
import { gradeAnswer } from '../src/data/grade.ts';
import { loadPolicyAny } from '../src/model/load.ts';
import { buildPairs } from '../src/search/extract.ts';
import { searchMany } from '../src/search/mcts.ts';
import { PolicyProposer } from '../src/search/policy.ts';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { devOf } from '../src/data/problems.ts';
import { encodePairs, encodePairsFor, pairAccuracy } from '../src/train/ppm.ts';
import { loadPPM, ppmOptions } from '../src/model/load.ts';
import { PPM } from '../src/model/ppm.ts';
import type { PairRow } from '../src/data/arrow.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}

await setupBackend('wasm');
const policyDir = flag('policy', 'runs/default/round-4/policy');
let problems = devOf('mawps');
if (flag('limit', '')) problems = problems.slice(0, Number(flag('limit', '')));
const pol = await loadPolicyAny(policyDir);
const sandbox = new SandboxPool({ workers: 1 });
const pairs: PairRow[] = [];
const t0 = Date.now();
try {
  await searchMany(problems.map((p) => ({ id: p.id, question: p.question, answer: p.answer })), {
    proposer: new PolicyProposer(pol.lm, pol.tokenizer, { seed: 77 }), sandbox, grade: gradeAnswer,
    onDone: (res) => {
      pairs.push(...buildPairs(res.tree, 0));
    },
  }, { rollouts: Number(flag('rollouts', '16')), k: Number(flag('k', '8')), maxDepth: 8, mode: 'terminal', seed: 77, promptNumbers: pol.promptNumbers });
} finally {
  await sandbox.close();
}
console.log(`${problems.length} dev problems, terminal-guided MCTS with ${policyDir}: ${pairs.length} pairs from ${new Set(pairs.map((p) => p.problemId)).size} problems (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
const prefs = pairs;
if (flag('dump', '')) (await import('node:fs')).writeFileSync(flag('dump', ''), JSON.stringify(pairs, null, 1));
// the policy's own ranking: a PPM whose score is exactly tanh(2ℓ + 0.5) (head weight zero)
{
  const ll = new PPM(pol.lm, 1, ppmOptions(pol.tokenizer, true));
  ll.headW.assign(ll.headW.mul(0));
  const acc = await pairAccuracy(ll, encodePairs(pol.tokenizer, prefs, pol.lm.maxPositions));
  console.log(`policy mean step log-prob: ${(100 * acc.accuracy).toFixed(1)}%`);
  console.log(`RESULT ${JSON.stringify({ scorer: 'policy-loglik', policy: policyDir, pairs: pairs.length, accuracy: acc.accuracy })}`);
}
for (const dir of flag('ppm', 'runs/default/round-4/ppm').split(',')) {
  const p = await loadPPM(dir);
  const acc = await pairAccuracy(p.ppm, await encodePairsFor(p.ppm, p.tokenizer, prefs));
  console.log(`${dir} (${p.ppm.usesLoglik ? 'with' : 'without'} likelihood input, ${p.ppm.usesValues ? 'with' : 'without'} value input): ${(100 * acc.accuracy).toFixed(1)}%`);
  console.log(`RESULT ${JSON.stringify({ scorer: dir, loglik: p.ppm.usesLoglik, pairs: pairs.length, accuracy: acc.accuracy })}`);
  p.ppm.dispose();
}
