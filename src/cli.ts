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

/** The shipped models: one policy (and its ensemble's policy-m1, … when one shipped) and one PPM in
 *  checkpoints/, for every source (the default self-evolve run's; the specialists in
 *  checkpoints/mawps/ and checkpoints/deepmind/ are chosen with --policy / --ppm). */
function shipped(): { policy: string; ppm: string } {
  const dir = 'checkpoints';
  const members = fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => /^policy-m\d+$/.test(d)).sort().map((d) => path.join(dir, d)) : [];
  return { policy: [path.join(dir, 'policy'), ...members].join(','), ppm: path.join(dir, 'ppm') };
}
const SHIPPED = shipped();

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
    (y) => y.option('out', { type: 'string', demandOption: true }).option('datasets', { type: 'string', default: 'gsm8k,mawps,deepmind' }).option('limit', { type: 'number' })
      .option('split', { choices: ['fixed', 'grouped'] as const, default: 'fixed' as const, describe: "word-problem datasets' training part: of the fixed dev split, or of the grouped one (no dev problem has a near-duplicate in it)" }),
    async (a) => {
      const { runBootstrap, formatYield } = await import('./data/bootstrap/index.ts');
      const res = await runBootstrap({ out: a.out, datasets: listOf(a.datasets, []) as DatasetName[], limit: a.limit, grouped: a.split === 'grouped' });
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
        .option('split', { choices: ['fixed', 'grouped'] as const, default: 'fixed' as const, describe: "without --data: word-problem datasets' fixed dev split, or the grouped one" })
        .option('schemas', { type: 'number', default: 0, describe: 'without --data: also this many schema problems (data/synth/schemas.ts, none near a dev problem), bootstrapped like the datasets' })
        .option('distractors', { type: 'number', default: 0, describe: "without --data: this share of the word-problem training problems also with an irrelevant sentence added (self-evolve's --distractors)" })
        .option('per-source', { type: 'string', describe: 'at most N training trajectories per source, a seeded choice of problems: N or deepmind=15000,*=all (default: all)' })
        .option('repeat', { type: 'string', describe: 'training examples whose id has this path segment, N times in all: measurement__conversion=4,numbers__base_conversion=2' })
        .option('mix', { type: 'string', describe: "each source family's share of the training characters (≈ tokens), relative weights: mawps=0.3,mawps-synth=0.2,deepmind=0.45,gsm8k=0.05 (a family prefix covers its sources; * the rest; default: each source's own size)" })
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
      const { trainPolicy, readSFTFile, examplesFromTrajectories, capPerSource, repeatMatching, mixBySource, parseMix } = await import('./train/sft.ts');
      const { bootstrapSplits } = await import('./data/bootstrap/index.ts');
      const { loadProblemsFor, parseSearchQuota } = await import('./data/problems.ts');
      const cap = a.perSource === undefined ? 'all' : parseSearchQuota(String(a.perSource));
      if (cap === null) throw new Error(`train-policy: --per-source must be a whole number ≥ 0, all, or source=N pairs (deepmind=15000,*=all), got ${a.perSource}`);
      if (!(Number.isInteger(a.schemas) && a.schemas >= 0)) throw new Error(`train-policy: --schemas must be a whole number ≥ 0, got ${a.schemas}`);
      const repeat = a.repeat === undefined ? {} : parseSearchQuota(String(a.repeat));
      if (repeat === null || typeof repeat !== 'object' || Object.values(repeat).some((n) => n === 'all' || n < 1)) {
        throw new Error(`train-policy: --repeat must be segment=N pairs with N ≥ 1 (measurement__conversion=4,numbers__base_conversion=2), got ${a.repeat}`);
      }
      const mix = a.mix === undefined ? undefined : parseMix(String(a.mix));
      if (mix === null) throw new Error(`train-policy: --mix must be source=weight pairs with weights ≥ 0, one > 0 (mawps=0.3,deepmind=0.5,*=0.2), got ${a.mix}`);
      if (!(a.distractors >= 0 && a.distractors <= 1)) throw new Error(`train-policy: --distractors must be in [0, 1], got ${a.distractors}`);
      if (a.data && (a.schemas || a.distractors || a.perSource !== undefined || a.split !== 'fixed' || mix)) throw new Error('train-policy: --schemas, --distractors, --per-source, --mix and --split choose the bootstrap data; --data is already chosen');
      let train, dev;
      if (a.data) {
        train = await readSFTFile(a.data);
        dev = a.devData ? await readSFTFile(a.devData) : [];
      } else {
        const datasets = listOf(a.datasets, []);
        // the same problems a self-evolve run on these datasets adds (problems.ts loadProblemsFor)
        const { synthetic } = loadProblemsFor({ datasets, distractors: a.distractors, seed: a.seed, schemas: a.schemas, devSet: a.split });
        const b = await bootstrapSplits({ dir: path.join(a.out, 'bootstrap'), datasets, grouped: a.split === 'grouped', extraTrain: synthetic });
        const capped = capPerSource(b.train, cap, a.seed);
        train = examplesFromTrajectories(mix ? mixBySource(capped, mix, a.seed) : capped);
        dev = examplesFromTrajectories(b.dev);
      }
      train = repeatMatching(train, repeat as Record<string, number>);
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
        .option('split', { choices: ['fixed', 'grouped'] as const, default: 'fixed' as const, describe: "without --pairs: word-problem datasets' fixed dev split, or the grouped one" })
        .option('steps', { type: 'number', default: TRAIN_PPM.steps })
        .option('head-init', { type: 'number', describe: "std of the linear head's initial weights (default 0.02); 0: the score starts as the policy's own step likelihood, tanh(2ℓ + 0.5)" })
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
        const b = await bootstrapSplits({ dir: path.join(a.out, 'bootstrap'), datasets: listOf(a.datasets, []), grouped: a.split === 'grouped' });
        const { promptNumbersAt } = await import('./model/load.ts');
        pairs = corruptionPairs(b.train, { seed: a.seed, numbers: promptNumbersAt(a.init) });
      }
      const { train, dev } = splitPairs(pairs);
      if (a.headInit !== undefined && !(a.headInit >= 0)) throw new Error(`train-ppm: --head-init must be a number ≥ 0, got ${a.headInit}`);
      const r = await trainPPM(train, dev, { init: a.init, out: a.out, steps: a.steps, batchPairs: a.batchPairs, lr: a.lr, evalEvery: a.evalEvery, seed: a.seed, resume: a.resume, tokenizer: a.tokenizer, headInitStd: a.headInit });
      console.log(JSON.stringify({ trainPairs: r.train, heldOutPairs: r.dev, steps: r.steps, firstAccuracy: r.firstMetric, bestAccuracy: r.bestMetric, bestStep: r.bestStep, finalAccuracy: r.lastMetric, best: r.bestDir }));
    },
  )
  .command(
    'average <checkpoints..>',
    'weight-average checkpoints of one kind and architecture fine-tuned from one ancestor (e.g. PPMs trained with several seeds) into one',
    (y) =>
      y.positional('checkpoints', { type: 'string', array: true, demandOption: true, describe: 'checkpoint folders' })
        .option('out', { type: 'string', demandOption: true }),
    async (a) => {
      const dirs = (a.checkpoints as string[]).flatMap((c) => listOf(c, []));
      const { averageCheckpoints } = await import('./model/checkpoint.ts');
      averageCheckpoints(dirs, a.out);
      console.log(`wrote ${a.out}: the weight average of ${dirs.length} checkpoints`);
    },
  )
  .command(
    'solve <question>',
    'solve one question with PPM-guided MCTS; prints each step, its output and PPM score',
    (y) =>
      withBackend(y)
        .positional('question', { type: 'string', demandOption: true })
        .option('policy', { type: 'string', default: SHIPPED.policy, describe: 'policy checkpoint or hf:<folder>; several comma-separated propose MCTS steps together (default: the shipped ensemble)' })
        .option('ppm', { type: 'string', default: SHIPPED.ppm })
        .option('rollouts', { type: 'number', default: SEARCH.rollouts })
        .option('k', { type: 'number', default: SEARCH.k })
        .option('max-depth', { type: 'number', default: SEARCH.maxDepth, describe: 'most steps in a trajectory' })
        .option('greedy-anchor', { type: 'number', default: SEARCH.greedyAnchor, describe: "answer the policy's greedy answer when a terminal giving it scores within this of the top score (0: the top-scoring terminal)" })
        .option('path-score', { choices: ['min', 'terminal'] as const, default: SEARCH.pathScore, describe: "what the final choice ranks terminals by: the lowest PPM score along the path (min) or the terminal's Q (terminal, rStar-Math's)" })
        .option('widen', { type: 'number', default: SEARCH.widen, describe: "search again with this many times k candidates where the answer differs from the policy's greedy answer (1: off)" })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: policy folder without one' }),
    async (a) => {
      await backend(a.backend);
      const { solveOne } = await import('./search/solve.ts');
      await solveOne(a.question!, { policy: a.policy, ppm: a.ppm, rollouts: a.rollouts, k: a.k, maxDepth: a.maxDepth, seed: a.seed, tokenizer: a.tokenizer, greedyAnchor: a.greedyAnchor, pathScore: a.pathScore, widen: a.widen });
    },
  )
  .command(
    'eval',
    'accuracy over a JSONL of question/answer lines (System 1: greedy, maj, best-of-n; System 2: mcts)',
    (y) =>
      withBackend(y)
        .option('data', { type: 'string', describe: 'JSONL with question + answer (default: a dataset\'s dev split)' })
        .option('dataset', { choices: ['mawps', 'gsm8k', 'deepmind', 'math', 'deepmind-interpolate', 'deepmind-extrapolate', 'deepmind-sample'] as const, default: 'mawps' as const, describe: 'dev split used when --data is not given (deepmind: the interpolate + extrapolate test regimes)' })
        .option('dev', { choices: ['fixed', 'unseen', 'grouped'] as const, default: 'grouped' as const, describe: "dev problems of --dataset: the fixed split; those with no similar training problem (unseen); a split that keeps near-duplicates together (grouped)" })
        .option('distractor', { type: 'boolean', default: false, describe: 'word-problem dev: each problem with one irrelevant sentence of a training problem added (those with no fitting donor left out)' })
        .option('mode', { choices: ['greedy', 'maj', 'best-of-n', 'mcts'] as const, default: 'greedy' as const })
        .option('policy', { type: 'string', describe: 'policy checkpoint(s), comma-separated: the first alone writes greedy / sampled solutions, all propose MCTS steps (default: the shipped checkpoints/policy, the one policy for every source)' })
        .option('ppm', { type: 'string', describe: 'PPM checkpoint (default: the one shipped beside --policy\'s default)' })
        .option('n', { type: 'number', default: EVAL.n, describe: 'samples for maj / best-of-n' })
        .option('runs', { type: 'number', default: EVAL.runs, describe: 'independent MCTS runs voting (mcts)' })
        .option('temperature', { type: 'number', default: EVAL.temperature, describe: 'sampling temperature (maj, best-of-n, mcts expansions)' })
        .option('rollouts', { type: 'number', default: SEARCH.rollouts })
        .option('k', { type: 'number', default: SEARCH.k })
        .option('max-depth', { type: 'number', default: SEARCH.maxDepth, describe: 'most steps in a trajectory (mcts)' })
        .option('limit', { type: 'number', describe: 'first N problems' })
        .option('check-comments', { type: 'boolean', default: true, describe: 'mcts: drop steps whose code contradicts their operation comment (--no-check-comments: keep them)' })
        .option('check-undo', { type: 'boolean', default: true, describe: 'mcts: drop steps that undo an earlier step or cancel a name with itself (--no-check-undo: keep them)' })
        .option('check-reuse', { type: 'boolean', default: SEARCH.checkReuse, describe: 'mcts: drop steps of the bootstrap grammar that use a question number a second time (--no-check-reuse: keep them)' })
        .option('copy-bias', { type: 'number', default: SEARCH.copyBias, describe: 'logit bonus for tokens that continue a string or comment as a copy of the question (0: off)' })
        .option('loop-repeats', { type: 'number', default: SEARCH.loopRepeats, describe: `end a decode once its last tokens are one block of >= ${SEARCH.loopMinTokens} tokens written this many times running (0: off)` })
        .option('greedy-anchor', { type: 'number', default: SEARCH.greedyAnchor, describe: "mcts: answer the policy's greedy answer when a terminal giving it scores within this of the top score (0: the top-scoring terminal)" })
        .option('path-score', { choices: ['min', 'terminal'] as const, default: SEARCH.pathScore, describe: "mcts: what the final choice ranks terminals by: the lowest PPM score along the path (min) or the terminal's Q (terminal, rStar-Math's)" })
        .option('widen', { type: 'number', default: SEARCH.widen, describe: "mcts: search again with this many times k candidates where the answer differs from the policy's greedy answer (1: off)" })
        .option('out', { type: 'string', describe: 'per-problem results (.arrow)' })
        .option('trees', { type: 'string', describe: 'mcts: write the searched trees here (JSONL, one per problem and run)' })
        .option('json', { type: 'boolean', default: false, describe: 'last line: {"mode","n","correct","accuracy"}' })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: policy folder without one' }),
    async (a) => {
      // bad input (your file, or --distractor with it) fails first, with its one error line and nothing before it
      if (a.data) (await import('./data/problems.ts')).evalProblems({ data: a.data, distractor: a.distractor, seed: a.seed });
      await backend(a.backend);
      const { runEval } = await import('./search/solve.ts');
      const s = await runEval({ data: a.data, dataset: a.dataset, dev: a.dev, distractor: a.distractor, mode: a.mode, policy: a.policy ?? SHIPPED.policy, ppm: a.ppm ?? SHIPPED.ppm, n: a.n, runs: a.runs, rollouts: a.rollouts, k: a.k, maxDepth: a.maxDepth, limit: a.limit, out: a.out, seed: a.seed, tokenizer: a.tokenizer, temperature: a.temperature, checkComments: a.checkComments, checkUndo: a.checkUndo, checkReuse: a.checkReuse, copyBias: a.copyBias, loopRepeats: a.loopRepeats, trees: a.trees, greedyAnchor: a.greedyAnchor, pathScore: a.pathScore, widen: a.widen });
      const pct = (x: number) => (100 * x).toFixed(1);
      console.log(`${s.mode}: ${s.correct}/${s.n} = ${pct(s.accuracy)}% (95% CI ${pct(s.ci95[0])}–${pct(s.ci95[1])}%)${s.coverage !== undefined ? `, coverage ${pct(s.coverage)}%` : ''}${s.runRate !== undefined ? `, ran without error ${pct(s.runRate)}%` : ''}${s.accuracyQVote !== undefined ? `; Q-weighted vote over the tree ${pct(s.accuracyQVote)}%` : ''}${s.tooLong ? `; ${s.tooLong} questions longer than the policy's context (counted wrong)` : ''}`);
      // where MCTS + PPM stands: answers never written vs written but not picked
      if (s.breakdown) console.log((await import('./search/breakdown.ts')).formatBreakdown(s.breakdown, s.mode));
      if (s.trees) console.log(`trees: only right ${s.trees.onlyRight}, only wrong ${s.trees.onlyWrong}, right and wrong ${s.trees.mixedPicked + s.trees.mixedMissed} (chosen terminal right in ${s.trees.mixedPicked}), no answer ${s.trees.none}${s.anchored !== undefined ? `; greedy's answer chosen over the top score in ${s.anchored}` : ''}`);
      if (s.widened) console.log(`widened (k ${s.widened.k}, the answer differed from greedy's): ${s.widened.searches} searches; right only after ${s.widened.gained}, only before ${s.widened.lost} (p = ${(await import('./search/evaluate.ts')).mcnemarExact(s.widened.gained, s.widened.lost).toPrecision(2)})`);
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
        .option('preset', { choices: ['default', 'mawps', 'demo', 'tiny', 'deepmind'] as const, default: 'default' as const })
        .option('datasets', { type: 'string', describe: "datasets searched and trained on, comma-separated (default: the preset's)" })
        .option('sft0-steps', { type: 'number', describe: "round-0 SFT steps (default: the preset's); 0 with --policy: policy-r0 is that policy as it is (and the run has one policy, not an ensemble of copies)" })
        .option('workers', { type: 'number', default: 2, describe: 'search/training processes (cores)' })
        .option('ship', { type: 'string', describe: 'copy the final policy, PPM and rounds.md here (e.g. checkpoints)' })
        .option('distractors', { type: 'number', describe: "share of training problems also trained on with an irrelevant sentence added (default: the preset's)" })
        .option('schemas', { type: 'number', describe: 'schema problems (change, combine, compare, rate, chains…) added to the training problems, and as many more, known only by their answers, searched every round (new ones each round with a fresh-draw preset); default: none' })
        .option('pretrain', { type: 'string', describe: "round 0 first pretrains on these datasets' verified trajectories (comma-separated, e.g. gsm8k); default: none" })
        .option('pretrain-steps', { type: 'number', default: 600 })
        .option('search-problems', { type: 'string', describe: "training problems each round searches: N, all, or per source, e.g. deepmind=300,gsm8k=200,*=all (default: the preset's)" })
        .option('bootstrap-per-source', { type: 'string', describe: "bootstrap trajectories every round's SFT keeps, per source: a seeded choice of problems, N for every source or e.g. deepmind=6000,*=all (default: the preset's)" })
        .option('sft-mix', { type: 'string', describe: "each source family's share of every round's SFT characters (≈ tokens), relative weights, e.g. mawps=0.3,mawps-synth=0.2,deepmind=0.45,gsm8k=0.05 (default: the preset's; none: each source's own size)" })
        .option('dev-problems', { type: 'number', describe: "dev problems per source each round evaluates, the first N (default: the preset's; 0: all)" })
        .option('chance-check', { type: 'number', describe: "training searches: number variants of each MAWPS/ASDiv-A and GSM8K problem with a reference program; a terminal with the known answer counts right only if it answers them as the reference does (default: the preset's; 0: off)" })
        .option('ppm-seeds', { type: 'number', describe: "PPM-rK = the weight average of this many PPMs trained with different seeds (default: the preset's; 1: one PPM)" })
        .option('r0-member', { type: 'boolean', describe: "policy-r0, unchanged, proposes beside policy-rK in every search from round 1 and ships as an ensemble member (default: the preset's; --no-r0-member: not)" })
        .option('dev-set', { choices: ['fixed', 'unseen', 'grouped'] as const, describe: "word-problem datasets' dev: the fixed split, its part with no similar training problem, or a grouped split (the run then trains on its other part); default: the preset's" })
        .option('data', { type: 'string', describe: 'your training problems: JSONL file(s), comma-separated, with question + answer (default: the preset\'s datasets)' })
        .option('dev', { type: 'string', describe: 'your dev problems (JSONL); default with --data: a fixed 10 % of it' })
        .option('policy', { type: 'string', describe: 'policy-r0 to fine-tune in round 0: a checkpoint or hf:<folder> (default: a new GPT)' })
        .option('ppm', { type: 'string', describe: "a trained PPM for PPM-r1 to continue, and each later round's PPM its predecessor (default: every PPM-rK starts from policy-rK's backbone)" })
        .option('tokenizer', { type: 'string', describe: 'tokenizer file for an hf: --policy folder without one' })
        .option('queue', { type: 'string', describe: 'redis://HOST:PORT: search stages become jobs for `rstar worker`s (default: local processes)' })
        .option('queue-batch', { type: 'number', default: 8, describe: 'problems per search job (--queue)' }),
    async (a) => {
      if (a.distractors !== undefined && !(a.distractors >= 0 && a.distractors <= 1)) throw new Error(`self-evolve: --distractors must be in [0, 1], got ${a.distractors}`);
      if (a.schemas !== undefined && !(Number.isInteger(a.schemas) && a.schemas >= 0)) throw new Error(`self-evolve: --schemas must be a whole number ≥ 0, got ${a.schemas}`);
      const { DATASETS } = await import('./data/datasets.ts');
      const { parseSearchQuota } = await import('./data/problems.ts');
      const pretrain = a.pretrain === undefined ? undefined : listOf(a.pretrain, []);
      const unknown = (pretrain ?? []).filter((d) => !Object.hasOwn(DATASETS, d)); // not `in`: 'toString' is in every object
      if (pretrain && (!pretrain.length || unknown.length)) throw new Error(`self-evolve: --pretrain expects datasets from ${Object.keys(DATASETS).join(', ')}, got ${JSON.stringify(a.pretrain)}`);
      const datasets = a.datasets === undefined ? undefined : listOf(a.datasets, []);
      const unknownSets = (datasets ?? []).filter((d) => !Object.hasOwn(DATASETS, d));
      if (datasets && (!datasets.length || unknownSets.length)) throw new Error(`self-evolve: --datasets expects datasets from ${Object.keys(DATASETS).join(', ')}, got ${JSON.stringify(a.datasets)}`);
      if (a.sft0Steps !== undefined && !(Number.isInteger(a.sft0Steps) && a.sft0Steps >= 0)) throw new Error(`self-evolve: --sft0-steps must be a whole number ≥ 0, got ${a.sft0Steps}`);
      if (a.devProblems !== undefined && !(Number.isInteger(a.devProblems) && a.devProblems >= 0)) throw new Error(`self-evolve: --dev-problems must be a whole number ≥ 0, got ${a.devProblems}`);
      if (a.chanceCheck !== undefined && !(Number.isInteger(a.chanceCheck) && a.chanceCheck >= 0)) throw new Error(`self-evolve: --chance-check must be a whole number ≥ 0, got ${a.chanceCheck}`);
      if (a.ppmSeeds !== undefined && !(Number.isInteger(a.ppmSeeds) && a.ppmSeeds >= 1)) throw new Error(`self-evolve: --ppm-seeds must be a whole number ≥ 1, got ${a.ppmSeeds}`);
      const searchProblems = a.searchProblems === undefined ? undefined : parseSearchQuota(String(a.searchProblems));
      if (searchProblems === null) throw new Error(`self-evolve: --search-problems must be a whole number ≥ 0, all, or source=N pairs (deepmind=300,*=all), got ${a.searchProblems}`);
      const bootParsed = a.bootstrapPerSource === undefined ? undefined : parseSearchQuota(String(a.bootstrapPerSource));
      if (bootParsed === null) throw new Error(`self-evolve: --bootstrap-per-source must be a whole number, all, or source=N pairs (deepmind=6000,*=all), got ${a.bootstrapPerSource}`);
      const { parseMix } = await import('./train/sft.ts');
      const sftMix = a.sftMix === undefined ? undefined : parseMix(String(a.sftMix));
      if (sftMix === null) throw new Error(`self-evolve: --sft-mix must be source=weight pairs with weights ≥ 0, one > 0 (mawps=0.3,deepmind=0.5,*=0.2), got ${a.sftMix}`);
      const bootQuota = bootParsed === undefined || typeof bootParsed === 'object' ? bootParsed : { '*': bootParsed };
      const { PRESETS } = await import('./train/presets.ts');
      if (a.sft0Steps === 0 && !a.policy && !PRESETS[a.preset].start) throw new Error('self-evolve: --sft0-steps 0 keeps policy-r0 as given: give --policy');
      if (!(Number.isInteger(a.pretrainSteps) && a.pretrainSteps > 0)) throw new Error(`self-evolve: --pretrain-steps must be a positive integer, got ${a.pretrainSteps}`);
      const override = {
        ...(a.distractors === undefined ? {} : { distractors: a.distractors }),
        ...(datasets ? { datasets } : {}),
        ...(a.sft0Steps === undefined ? {} : { sft0Steps: a.sft0Steps, ...(a.sft0Steps === 0 ? { policies: 1 } : {}) }),
        ...(searchProblems === undefined ? {} : { searchProblems }),
        ...(bootQuota === undefined ? {} : { bootstrapLimit: bootQuota }),
        ...(sftMix === undefined ? {} : { sftMix }),
        ...(a.devProblems === undefined ? {} : { devProblems: a.devProblems }),
        ...(a.ppmSeeds === undefined ? {} : { ppmSeeds: a.ppmSeeds }),
        ...(a.chanceCheck === undefined ? {} : { chanceCheck: a.chanceCheck }),
        ...(a.r0Member === undefined ? {} : { r0Member: a.r0Member }),
        ...(a.devSet === undefined ? {} : { devSet: a.devSet }),
        ...(a.schemas ? { schemas: { round0: a.schemas, perRound: a.schemas } } : {}),
        ...(pretrain ? { pretrain: { datasets: pretrain, steps: a.pretrainSteps } } : {}),
      };
      if (a.pretrain && a.policy) throw new Error('self-evolve: --pretrain and --policy both give round 0 a starting policy; give one');
      if (a.ppm) {
        const { readCheckpointConfig } = await import('./model/checkpoint.ts');
        const kind = readCheckpointConfig(a.ppm).kind;
        if (kind !== 'ppm') throw new Error(`${path.join(a.ppm, 'config.json')}: kind is ${kind}; --ppm expects a PPM checkpoint`);
      }
      if (a.dev && !a.data) throw new Error('self-evolve: --dev needs --data (the preset\'s datasets have their own dev split)');
      // bad data fails first, with its file:line and nothing written
      const { loadProblemFiles } = await import('./data/problems.ts');
      const data = a.data === undefined ? undefined : listOf(a.data, []);
      if (data) loadProblemFiles({ data, dev: a.dev });
      const queue = a.queue ? await (await import('./train/queue/coordinator.ts')).RedisSearchQueue.open({ url: a.queue, batch: a.queueBatch }) : undefined;
      try {
        await backend(a.backend);
        const { selfEvolve } = await import('./train/self-evolve.ts');
        const r = await selfEvolve({
          out: a.out, rounds: a.rounds, preset: a.preset, seed: a.seed, backend: a.backend, workers: a.workers, ship: a.ship, ...(Object.keys(override).length ? { override } : {}),
          data, dev: a.dev, policy: a.policy, tokenizer: a.tokenizer, ppm: a.ppm, queue,
        });
        console.log(r.table);
        const report = path.join(a.out, 'report', 'index.html');
        if (fs.existsSync(report)) console.log(`report: ${report}`);
      } finally {
        await queue?.close();
      }
    },
  )
  .command(
    'worker',
    'take search and evaluation jobs of `self-evolve --queue` off Redis until stopped (Ctrl-C: after the current job)',
    (y) =>
      y.option('queue', { type: 'string', demandOption: true, describe: 'redis://HOST:PORT[/DB], as the coordinator\'s' })
        .option('backend', { choices: BACKENDS, default: 'auto' as BackendName, describe: 'TensorFlow.js backend' })
        .option('cache', { type: 'string', describe: 'folder for models fetched from Redis (default: <tmp>/rstar-models)' })
        .option('lock-ms', { type: 'number', default: 30_000, describe: 'a killed worker\'s job goes back to the queue after this long' })
        .option('stalled-ms', { type: 'number', default: 30_000, describe: 'how often to look for jobs of killed workers' })
        .option('verbose', { type: 'boolean', default: false, describe: 'a line per job started and finished' }),
    async (a) => {
      await backend(a.backend);
      const { runWorker } = await import('./train/queue/worker.ts');
      await runWorker({ url: a.queue, cache: a.cache, lockMs: a.lockMs, stalledMs: a.stalledMs, verbose: a.verbose });
    },
  )
  .command(
    'report <run>',
    'write <run>/report/index.html: plots per round, an MCTS tree explorer and per-problem dev results (one file, opens from disk)',
    (y) =>
      y.positional('run', { type: 'string', demandOption: true, describe: 'a self-evolve run folder (--out)' })
        .option('out', { type: 'string', describe: 'the HTML file (default: <run>/report/index.html)' })
        .option('dev-trees', { type: 'number', describe: 'most dev problems whose trees the page carries (default 400)' })
        .option('train-trees', { type: 'number', describe: 'training problems sampled for their trees (default 40)' }),
    async (a) => {
      for (const [flag, v] of [['--dev-trees', a.devTrees], ['--train-trees', a.trainTrees]] as const) {
        if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`report: ${flag} must be a non-negative integer, got ${v}`);
      }
      const { writeReport } = await import('./train/report/index.ts');
      const r = await writeReport({ run: a.run!, out: a.out, trees: { ...(a.devTrees === undefined ? {} : { devTrees: a.devTrees }), ...(a.trainTrees === undefined ? {} : { trainTrees: a.trainTrees }) } });
      console.log(`wrote ${r.file} (${(r.bytes / 1e6).toFixed(2)} MB, ${r.plots} plots, ${r.trees} trees: ${r.treeNote})`);
    },
  )
  .command(
    'serve',
    'serve the browser solve page: type a question, watch the MCTS tree grow (models, PPM and sandbox run in the page)',
    (y) =>
      y
        .option('port', { type: 'number', default: 8080, describe: 'port (0: any free one)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (0.0.0.0: the network)' })
        .option('checkpoints', { type: 'string', default: 'checkpoints', describe: 'folder of checkpoint folders (policy, policy-m1, ppm)' }),
    async (a) => {
      const { serveWeb } = await import('./web/server.ts');
      const s = await serveWeb({ port: a.port, host: a.host, checkpoints: a.checkpoints });
      console.log(`rstar: solve page at ${s.url} (Ctrl-C stops)`);
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
