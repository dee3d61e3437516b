// What a round's SFT spends on dev loss: 60 training steps on a trajectories file, then one dev-loss
// pass over a dev bootstrap whole and over SFT_DEV_PER_SOURCE problems a source (what self-evolve uses).
//   node --import tsx bench/sft-dev-cost.ts --train T.arrow --dev runs/X/round-0/bootstrap-dev.arrow [--init P]
import { setupBackend } from '../src/model/backends/backend.ts';
import { readTrajectories } from '../src/data/arrow.ts';
import { capPerSource, devLoss, encodeExamples, examplesFromTrajectories, trainPolicy } from '../src/train/sft.ts';
import { loadPolicyAny } from '../src/model/load.ts';
import { SFT_DEV_PER_SOURCE } from '../src/train/self-evolve.ts';

const flag = (name: string, def?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`bench/sft-dev-cost: --${name} is required`);
  return v;
};
const init = flag('init', 'checkpoints/joint/policy');
await setupBackend('wasm');
const devRows = readTrajectories(flag('dev'));
const t0 = Date.now();
const r = await trainPolicy(examplesFromTrajectories(readTrajectories(flag('train'))), examplesFromTrajectories(devRows.slice(0, 50)), {
  out: flag('out', 'runs/bench-sft-dev-cost'), init, steps: 60, lr: 1e-3, evalEvery: 1000, seed: 1, workers: 2, quiet: true, batchTokens: 4096,
});
const trainS = (Date.now() - t0) / 1000;
console.log(`60 training steps: ${trainS.toFixed(1)} s, ${Math.round(r.tokensPerSec)} tokens/s`);
const p = await loadPolicyAny(init);
const pass: number[] = [];
for (const [name, rows] of [['whole dev', devRows], [`${SFT_DEV_PER_SOURCE} problems a source`, capPerSource(devRows, SFT_DEV_PER_SOURCE, 1)]] as const) {
  const enc = encodeExamples(p.tokenizer, examplesFromTrajectories(rows), p.lm.maxPositions, p.promptNumbers).enc;
  const t1 = Date.now();
  await devLoss(p.lm, enc, 4096);
  pass.push((Date.now() - t1) / 1000);
  console.log(`dev-loss pass, ${name} (${rows.length} trajectories): ${pass.at(-1)!.toFixed(1)} s = ${(pass.at(-1)! / (trainS / 60)).toFixed(0)} training steps`);
}
console.log(`ratio whole / capped: ${(pass[0]! / pass[1]!).toFixed(2)}`);
