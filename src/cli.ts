// `rstar`: a thin yargs layer over the library (every command calls functions the tests call too).
import fs from 'node:fs';
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { setupBackend, type BackendName } from './model/backends/backend.ts';
import { EVAL, SEARCH, SEED, TRAIN_POLICY, TRAIN_PPM } from './config.ts';
import type { DatasetName } from './data/datasets.ts';

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

function withBackend<T>(y: Argv<T>) {
  return y
    .option('backend', { choices: BACKENDS, default: 'auto' as BackendName, describe: 'TensorFlow.js backend' })
    .option('seed', { type: 'number', default: SEED, describe: 'seed (runs repeat)' });
}

async function backend(name: BackendName): Promise<void> {
  const used = await setupBackend(name);
  if (!process.env.RSTAR_QUIET) {
    const { blasStatus } = await import('./model/backends/blas.ts');
    console.error(`backend: ${used}${used === 'wasm' ? ` (${blasStatus()})` : ''}`);
  }
}

/** The shipped policy and the other policies of its ensemble (checkpoints/policy-m1, …), comma-separated. */
const SHIPPED_POLICIES = ['checkpoints/policy', ...(fs.existsSync('checkpoints') ? fs.readdirSync('checkpoints').filter((d) => /^policy-m\d+$/.test(d)).sort().map((d) => `checkpoints/${d}`) : [])].join(',');

/** Bad input: one line, non-zero exit. */
function fail(msg: string): never {
  console.error(`rstar: ${msg}`);
  process.exit(2);
}

function listOf(s: string | undefined, dflt: string[]): string[] {
  return s ? s.split(',').map((x) => x.trim()).filter(Boolean) : dflt;
}

const cli = yargs(hideBin(process.argv))
  .scriptName('rstar')
  .strict()
  .demandCommand(1, 'name a command (see --help)')
  .command(
    'tokenizer',
    'retrain the SentencePiece tokenizer on the training text (needs Debian sentencepiece: spm_train)',
    (y) => y.option('out', { type: 'string', describe: 'model prefix (default: the shipped src/model/spm/rstar)' }).option('vocab-size', { type: 'number', default: 2048 }),
    async (a) => {
      const { trainTokenizer, DEFAULT_MODEL } = await import('./model/tokenizer.ts');
      const file = await trainTokenizer({ out: a.out ?? DEFAULT_MODEL.replace(/\.model$/, ''), vocabSize: a.vocabSize });
      console.log(`wrote ${file}`);
    },
  )
  .command(
    'bootstrap',
    'turn the datasets\' reference solutions into verified step trajectories (round 0) as Arrow',
    (y) => y.option('out', { type: 'string', demandOption: true }).option('datasets', { type: 'string', default: 'gsm8k,mawps,deepmind' }).option('limit', { type: 'number' }),
    async (a) => {
      const { runBootstrap, formatYield } = await import('./data/bootstrap/index.ts');
      const res = await runBootstrap({ out: a.out, datasets: listOf(a.datasets, []) as DatasetName[], limit: a.limit });
      console.log(formatYield(res));
      console.log(`wrote ${res.trajectories.length} trajectories to ${a.out}`);
    },
  )
  .command(
    'train-policy',
    'supervised fine-tuning of the policy on step trajectories (default: the round-0 bootstrap data)',
    (y) =>
      withBackend(y)
        .option('out', { type: 'string', demandOption: true, describe: 'output folder (best/, last/, metrics.jsonl)' })
        .option('data', { type: 'string', describe: 'trajectories (.arrow) or JSONL; default: bootstrap of --datasets' })
        .option('dev-data', { type: 'string', describe: 'dev trajectories; default: bootstrap of the dev splits' })
        .option('datasets', { type: 'string', default: 'mawps,gsm8k,deepmind' })
        .option('init', { type: 'string', describe: 'start from a policy checkpoint or hf:<folder>' })
        .option('steps', { type: 'number', default: TRAIN_POLICY.steps })
        .option('batch-tokens', { type: 'number', default: TRAIN_POLICY.batchTokens })
        .option('lr', { type: 'number', default: TRAIN_POLICY.lr })
        .option('eval-every', { type: 'number', default: TRAIN_POLICY.evalEvery })
        .option('layers', { type: 'number', describe: 'GPT layers (from scratch)' })
        .option('width', { type: 'number', describe: 'GPT nEmbd (from scratch)' })
        .option('heads', { type: 'number', describe: 'GPT heads (from scratch)' })
        .option('context', { type: 'number', describe: 'GPT context length (from scratch)' })
        .option('dropout', { type: 'number', describe: 'dropout rate while training (default: 0, or the --init checkpoint\'s)' })
        .option('workers', { type: 'number', default: 1, describe: 'data-parallel workers (2 uses both cores)' })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file (.model or tokenizer.json) for an hf: folder without one' })
        .option('resume', { type: 'boolean', default: false }),
    async (a) => {
      const { trainPolicy, readSFTFile, examplesFromTrajectories } = await import('./train/sft.ts');
      const { bootstrapSplits } = await import('./data/bootstrap/index.ts');
      let train, dev;
      if (a.data) {
        train = await readSFTFile(a.data);
        dev = a.devData ? await readSFTFile(a.devData) : [];
      } else {
        const b = await bootstrapSplits({ dir: path.join(a.out, 'bootstrap'), datasets: listOf(a.datasets, []) });
        train = examplesFromTrajectories(b.train);
        dev = examplesFromTrajectories(b.dev);
      }
      // after reading the data: bad input fails with its one error line and nothing before it
      await backend(a.backend);
      const model = Object.fromEntries(Object.entries({ nLayer: a.layers, nEmbd: a.width, nHead: a.heads, blockSize: a.context }).filter(([, v]) => v !== undefined));
      const r = await trainPolicy(train, dev, {
        out: a.out, init: a.init, steps: a.steps, batchTokens: a.batchTokens, lr: a.lr, evalEvery: a.evalEvery,
        seed: a.seed, resume: a.resume, model, workers: a.workers, tokenizer: a.tokenizer, dropout: a.dropout,
      });
      console.log(JSON.stringify({ train: r.train, dev: r.dev, dropped: r.dropped, steps: r.steps, firstDevLoss: r.firstMetric, bestDevLoss: r.bestMetric, bestStep: r.bestStep, tokPerSec: Math.round(r.tokensPerSec), best: r.bestDir }));
    },
  )
  .command(
    'train-ppm',
    'train the process preference model (PPM) on preference pairs, initialised from a policy',
    (y) =>
      withBackend(y)
        .option('out', { type: 'string', demandOption: true })
        .option('init', { type: 'string', demandOption: true, describe: 'policy checkpoint (or hf:<folder>) the backbone is copied from' })
        .option('pairs', { type: 'string', describe: 'pairs .arrow from MCTS (comma-separated: several rounds); default: correct vs corrupted steps of the bootstrap data' })
        .option('datasets', { type: 'string', default: 'mawps,gsm8k,deepmind' })
        .option('steps', { type: 'number', default: TRAIN_PPM.steps })
        .option('batch-pairs', { type: 'number', default: TRAIN_PPM.batchPairs })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: folder without one' })
        .option('lr', { type: 'number', default: TRAIN_PPM.lr })
        .option('eval-every', { type: 'number', default: TRAIN_PPM.evalEvery })
        .option('resume', { type: 'boolean', default: false }),
    async (a) => {
      await backend(a.backend);
      const { trainPPM, splitPairs } = await import('./train/ppm.ts');
      const { corruptionPairs } = await import('./train/pairs.ts');
      const { readPairs } = await import('./data/arrow.ts');
      const { bootstrapSplits } = await import('./data/bootstrap/index.ts');
      let pairs;
      if (a.pairs) pairs = listOf(a.pairs, []).flatMap((f) => readPairs(f));
      else {
        const b = await bootstrapSplits({ dir: path.join(a.out, 'bootstrap'), datasets: listOf(a.datasets, []) });
        const { promptNumbersAt } = await import('./model/load.ts');
        pairs = corruptionPairs(b.train, { seed: a.seed, numbers: promptNumbersAt(a.init) });
      }
      const { train, dev } = splitPairs(pairs);
      const r = await trainPPM(train, dev, { init: a.init, out: a.out, steps: a.steps, batchPairs: a.batchPairs, lr: a.lr, evalEvery: a.evalEvery, seed: a.seed, resume: a.resume, tokenizer: a.tokenizer });
      console.log(JSON.stringify({ trainPairs: r.train, heldOutPairs: r.dev, steps: r.steps, firstAccuracy: r.firstMetric, bestAccuracy: r.bestMetric, bestStep: r.bestStep, finalAccuracy: r.lastMetric, best: r.bestDir }));
    },
  )
  .command(
    'solve <question>',
    'solve one question with PPM-guided MCTS; prints each step, its output and PPM score',
    (y) =>
      withBackend(y)
        .positional('question', { type: 'string', demandOption: true })
        .option('policy', { type: 'string', default: SHIPPED_POLICIES, describe: 'policy checkpoint or hf:<folder>; several comma-separated propose MCTS steps together (default: the shipped ensemble)' })
        .option('ppm', { type: 'string', default: 'checkpoints/ppm' })
        .option('rollouts', { type: 'number', default: SEARCH.rollouts })
        .option('k', { type: 'number', default: SEARCH.k })
        .option('max-depth', { type: 'number', default: SEARCH.maxDepth, describe: 'most steps in a trajectory' })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: policy folder without one' }),
    async (a) => {
      await backend(a.backend);
      const { solveOne } = await import('./search/solve.ts');
      await solveOne(a.question!, { policy: a.policy, ppm: a.ppm, rollouts: a.rollouts, k: a.k, maxDepth: a.maxDepth, seed: a.seed, tokenizer: a.tokenizer });
    },
  )
  .command(
    'eval',
    'accuracy over a JSONL of question/answer lines (System 1: greedy, maj, best-of-n; System 2: mcts)',
    (y) =>
      withBackend(y)
        .option('data', { type: 'string', describe: 'JSONL with question + answer (default: a dataset\'s dev split)' })
        .option('dataset', { choices: ['mawps', 'gsm8k', 'deepmind', 'math'] as const, default: 'mawps' as const, describe: 'dev split used when --data is not given' })
        .option('mode', { choices: ['greedy', 'maj', 'best-of-n', 'mcts'] as const, default: 'greedy' as const })
        .option('policy', { type: 'string', default: SHIPPED_POLICIES, describe: 'policy checkpoint(s), comma-separated: the first alone writes greedy / sampled solutions, all propose MCTS steps (default: the shipped ensemble)' })
        .option('ppm', { type: 'string', default: 'checkpoints/ppm' })
        .option('n', { type: 'number', default: EVAL.n, describe: 'samples for maj / best-of-n' })
        .option('runs', { type: 'number', default: EVAL.runs, describe: 'independent MCTS runs voting (mcts)' })
        .option('temperature', { type: 'number', default: EVAL.temperature, describe: 'sampling temperature (maj, best-of-n, mcts expansions)' })
        .option('rollouts', { type: 'number', default: SEARCH.rollouts })
        .option('k', { type: 'number', default: SEARCH.k })
        .option('max-depth', { type: 'number', default: SEARCH.maxDepth, describe: 'most steps in a trajectory (mcts)' })
        .option('limit', { type: 'number', describe: 'first N problems' })
        .option('check-comments', { type: 'boolean', default: true, describe: 'mcts: drop steps whose code contradicts their operation comment (--no-check-comments: keep them)' })
        .option('out', { type: 'string', describe: 'per-problem results (.arrow)' })
        .option('json', { type: 'boolean', default: false, describe: 'last line: {"mode","n","correct","accuracy"}' })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: policy folder without one' }),
    async (a) => {
      // bad input fails first, with its one error line and nothing before it
      if (a.data) (await import('./data/datasets.ts')).loadProblems(a.data);
      await backend(a.backend);
      const { runEval } = await import('./search/solve.ts');
      const s = await runEval({ data: a.data, dataset: a.dataset, mode: a.mode, policy: a.policy, ppm: a.ppm, n: a.n, runs: a.runs, rollouts: a.rollouts, k: a.k, maxDepth: a.maxDepth, limit: a.limit, out: a.out, seed: a.seed, tokenizer: a.tokenizer, temperature: a.temperature, checkComments: a.checkComments });
      const pct = (x: number) => (100 * x).toFixed(1);
      console.log(`${s.mode}: ${s.correct}/${s.n} = ${pct(s.accuracy)}% (95% CI ${pct(s.ci95[0])}–${pct(s.ci95[1])}%)${s.coverage !== undefined ? `, coverage ${pct(s.coverage)}%` : ''}${s.runRate !== undefined ? `, ran without error ${pct(s.runRate)}%` : ''}${s.accuracyQVote !== undefined ? `; Q-weighted vote over the tree ${pct(s.accuracyQVote)}%` : ''}${s.tooLong ? `; ${s.tooLong} questions longer than the policy's context (counted wrong)` : ''}`);
      // where MCTS + PPM stands: answers never written vs written but not picked
      if (s.trees) console.log(`trees: only right ${s.trees.onlyRight}, only wrong ${s.trees.onlyWrong}, right and wrong ${s.trees.mixedPicked + s.trees.mixedMissed} (best-Q terminal right in ${s.trees.mixedPicked}), no answer ${s.trees.none}`);
      if (a.json) console.log(JSON.stringify({ mode: s.mode, n: s.n, correct: s.correct, accuracy: s.accuracy }));
    },
  )
  .command(
    'self-evolve',
    'the rStar-Math loop: 4 rounds of MCTS → SFT policy → PPM, resumable (the main job)',
    (y) =>
      withBackend(y)
        .option('rounds', { type: 'number', default: 4 })
        .option('out', { type: 'string', default: 'runs/default' })
        .option('preset', { choices: ['default', 'demo', 'tiny'] as const, default: 'default' as const })
        .option('workers', { type: 'number', default: 2, describe: 'search/training processes (cores)' })
        .option('ship', { type: 'string', describe: 'copy the final policy, PPM and rounds.md here (e.g. checkpoints)' })
        .option('distractors', { type: 'number', describe: "share of training problems also trained on with an irrelevant sentence added (default: the preset's)" })
        .option('pretrain', { type: 'string', describe: "round 0 first pretrains on these datasets' verified trajectories (comma-separated, e.g. gsm8k); default: none" })
        .option('pretrain-steps', { type: 'number', default: 600 }),
    async (a) => {
      if (a.distractors !== undefined && !(a.distractors >= 0 && a.distractors <= 1)) throw new Error(`self-evolve: --distractors must be in [0, 1], got ${a.distractors}`);
      const { DATASETS } = await import('./data/datasets.ts');
      const pretrain = a.pretrain === undefined ? undefined : listOf(a.pretrain, []);
      const unknown = (pretrain ?? []).filter((d) => !Object.hasOwn(DATASETS, d)); // not `in`: 'toString' is in every object
      if (pretrain && (!pretrain.length || unknown.length)) throw new Error(`self-evolve: --pretrain expects datasets from ${Object.keys(DATASETS).join(', ')}, got ${JSON.stringify(a.pretrain)}`);
      if (!(Number.isInteger(a.pretrainSteps) && a.pretrainSteps > 0)) throw new Error(`self-evolve: --pretrain-steps must be a positive integer, got ${a.pretrainSteps}`);
      const override = {
        ...(a.distractors === undefined ? {} : { distractors: a.distractors }),
        ...(pretrain ? { pretrain: { datasets: pretrain, steps: a.pretrainSteps } } : {}),
      };
      await backend(a.backend);
      const { selfEvolve } = await import('./train/self-evolve.ts');
      const r = await selfEvolve({ out: a.out, rounds: a.rounds, preset: a.preset, seed: a.seed, backend: a.backend, workers: a.workers, ship: a.ship, ...(Object.keys(override).length ? { override } : {}) });
      console.log(r.table);
    },
  )
  .help()
  .alias('h', 'help')
  .fail((msg, err) => {
    if (err) throw err;
    fail(msg);
  });

try {
  await cli.parseAsync();
} catch (e) {
  const err = e as Error;
  // our errors are one line that names the file and what was expected
  console.error(`rstar: ${err.message}`);
  if (process.env.RSTAR_DEBUG) console.error(err.stack);
  process.exit(1);
}
