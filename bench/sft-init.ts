// Round K >= 1 of self-evolution: is policy-rK better SFT'd from scratch or from policy-r(K-1)?
// (rStar-Math trains each round's policy anew; self-evolve.ts fine-tunes from the previous round.)
// Takes a finished run, trains a from-scratch policy on round K's exact SFT set (top-2 MCTS
// trajectories + the bootstrap trajectories) with round 0's budget, and measures greedy dev accuracy
// of it and of the run's own policy-rK, in the same process. `--from r0` instead fine-tunes policy-r0
// (not policy-r(K-1)) on the same set with a round's budget: does chaining rounds accumulate drift?
//   node --import tsx bench/sft-init.ts [--run runs/default] [--round 1] [--from scratch|r0] [--steps N] [--workers 1]
import fs from 'node:fs';
import path from 'node:path';
import { readTrajectories } from '../src/data/arrow.ts';
import { setupBackend } from '../src/model/backends/backend.ts';
import { runEval } from '../src/search/solve.ts';
import { examplesFromTrajectories, trainPolicy } from '../src/train/sft.ts';
import { dedupe } from '../src/data/arrow.ts';
import { PRESETS } from '../src/train/presets.ts';
import { readJson } from '../src/util/fsx.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}

const run = flag('run', 'runs/default');
const k = Number(flag('round', '1'));
const preset = PRESETS[(readJson<{ preset?: string }>(path.join(run, 'run.json')).preset ?? 'default') as 'default'];
const from = flag('from', 'scratch');
if (from !== 'scratch' && from !== 'r0') throw new Error(`--from: expected scratch or r0, got ${from}`);
const steps = Number(flag('steps', String(from === 'r0' ? preset.sftSteps : preset.sft0Steps)));
const workers = Number(flag('workers', '1'));
await setupBackend('wasm');

const boot = readTrajectories(path.join(run, 'round-0', 'bootstrap-train.arrow'));
const bootDev = readTrajectories(path.join(run, 'round-0', 'bootstrap-dev.arrow'));
const sft = readTrajectories(path.join(run, `round-${k}`, 'sft.arrow'));
const trainSet = dedupe([...sft, ...boot]);
const out = path.join(run, `round-${k}`, from === 'r0' ? 'sft-from-r0' : 'sft-scratch');
console.log(`round ${k}: ${trainSet.length} SFT trajectories (${sft.length} from MCTS); ${from === 'r0' ? 'from policy-r0' : 'from scratch'}, ${steps} steps`);
const r = await trainPolicy(examplesFromTrajectories(trainSet), examplesFromTrajectories(bootDev), {
  out, steps, lr: from === 'r0' ? preset.sftLr : 2e-3, init: from === 'r0' ? path.join(run, 'round-0', 'policy') : undefined, batchTokens: preset.batchTokens, seed: 1234 + k, resume: true,
  evalEvery: Math.max(1, Math.floor(steps / 5)), model: preset.model, workers,
});
const scratch = path.join(path.dirname(r.bestDir), 'last');
const results: Record<string, number> = {};
for (const [name, policy] of [[from === 'r0' ? 'from policy-r0' : 'from scratch', scratch], [`from policy-r${k - 1} (the run's)`, path.join(run, `round-${k}`, 'policy')]] as const) {
  if (!fs.existsSync(path.join(policy, 'config.json'))) throw new Error(`${policy}: no policy checkpoint`);
  const s = await runEval({ mode: 'greedy', policy, ppm: '', n: 1, runs: 1, seed: 1234, quiet: true });
  results[name] = s.accuracy;
  console.log(`policy-r${k} ${name}: greedy MAWPS dev ${(100 * s.accuracy).toFixed(1)}% (${s.correct}/${s.n})`);
}
console.log(`RESULT ${JSON.stringify({ round: k, steps, from, [from]: Object.values(results)[0], finetuned: Object.values(results)[1] })}`);
