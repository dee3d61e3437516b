// Self-evolution presets: what a run searches and trains, round by round. The default preset is the
// main job (`rstar self-evolve --rounds 4`); demo and tiny are the same loop at demo and test size.
import type { GPTConfig } from '../model/gpt.ts';
import type { SEARCH } from '../config.ts';
import type { DevSet, SearchQuota } from '../data/problems.ts';

export interface RoundPlan {
  /** Rollouts per problem. */
  rollouts: number;
  mode: 'terminal' | 'ppm';
  /** Round 4: extra fresh trees for unsolved problems until this many rollouts in all. */
  extraRollouts?: number;
}

export interface Preset {
  /** Datasets searched and trained on; dev accuracy is reported on each one's dev problems. */
  datasets: string[];
  /** Training problems searched per round (the first N of a seeded order), 'all', or 0: none (a round
   *  searches only its fresh schema problems); or per source, e.g. `{ deepmind: 300, '*': 'all' }`
   *  (problems.ts searchDraw). */
  searchProblems: SearchQuota;
  /** Round K searches problems (K-1)·N … K·N - 1 of the seeded order, and schema problems no earlier
   *  round searched (the paper's new problems per round); false = every round the same ones. */
  freshDraw: boolean;
  /** MAWPS/ASDiv-A's and GSM8K's dev problems: the fixed split, its part no training problem is
   *  similar to (unseen; the run trains on the fixed split's rest), or the grouped split's dev part
   *  (grouped: the run bootstraps, searches and trains on the grouped split's training part;
   *  problems.ts splitOf). */
  devSet: DevSet;
  /** Each round also measures the PPM's pair accuracy on dev problems (a terminal-guided search of
   *  them: a sixth of the demo's round). */
  devPairs: boolean;
  /** Dev problems evaluated per dataset (the first N of each one's dev problems, problems.ts devOf); 0 = all. */
  devProblems: number;
  model: Partial<GPTConfig>;
  sft0Steps: number;
  sftSteps: number;
  sftLr: number;
  ppmSteps: number;
  /** PPM learning rate (5e-4 let held-out accuracy fall after the first evaluations). */
  ppmLr: number;
  /** Pairs per PPM batch (both sides of each go through the backbone with gradients: at 512 tokens,
   *  16 pairs aborted the wasm backend at its memory limit). */
  ppmBatchPairs: number;
  batchTokens: number;
  /** Training rounds' search: candidates per expansion and most steps. */
  k: number;
  maxDepth: number;
  rounds: RoundPlan[];
  /** Dev evaluation's search, over config.ts SEARCH (the test-time settings `solve` and `eval` use);
   *  {} in the default preset, smaller in the demo and test presets. */
  testSearch: Partial<Pick<typeof SEARCH, 'rollouts' | 'k' | 'maxDepth'>>;
  /** Bootstrap trajectories kept in every round's SFT: each source's first N (0 = all), or per source
   *  a seeded choice of problems (`--bootstrap-per-source deepmind=6000,*=all`). */
  bootstrapLimit: number | Readonly<Record<string, number | 'all'>>;
  /** Each source family's share of every round's SFT characters (mixBySource, `--sft-mix`); null =
   *  each source's own size. */
  sftMix: Readonly<Record<string, number>> | null;
  /** Cross-fitted PPM pairs (see crossFitPairs): SFT steps of each half-data policy and rollouts of
   *  its terminal-guided search over the other half; null = none. */
  crossFit: { sftSteps: number; rollouts: number } | null;
  /** Share of training problems that also appear with an irrelevant sentence added (src/data/synth.ts):
   *  bootstrapped, searched and trained on like the others. 0 = none. */
  distractors: number;
  /** Round 0 starts with a pretraining SFT on other datasets' verified bootstrap trajectories (their
   *  training splits; never a dev problem), and policy-r0 and the cross-fit policies are fine-tuned
   *  from it; null = none. */
  pretrain: { datasets: string[]; steps: number } | null;
  /** PPM-rK used by search and evaluation = uniform weight average of the PPMs trained in rounds 1..K
   *  (each kept in round-J/ppm-trained); false = PPM-rK as trained. */
  ppmAverage: boolean;
  /** Policies trained side by side (different seeds, the same data each round); MCTS expansions split
   *  their k candidates among them (EnsembleProposer). 1 = one policy. */
  policies: number;
  /** policy-r0 proposes beside policy-rK (and the trained members) in every search and MCTS
   *  evaluation from round 1 on, unchanged, and ships as the last member: the start's mistakes differ
   *  from the fine-tuned policy's, so the trees hold more distinct answers (README). */
  r0Member: boolean;
  /** PPM-rK is the weight average of this many PPMs trained on the round's pairs with different seeds
   *  (1: one PPM). The seed alone moved MCTS + PPM by 18 of 314 problems; an average does not
   *  depend on one draw (README). */
  ppmSeeds: number;
  /** Schema problems (data/synth/schemas.ts): `round0` join the training problems (bootstrapped from
   *  their equations, searched every round), and every round adds `perRound` more to its search, known
   *  only by their answers (fresh ones each round with freshDraw); MCTS keeps those it solves (their
   *  trajectories reach SFT). None is near a dev problem. null = none. */
  schemas: { round0: number; perRound: number } | null;
  /** The trained models round 0 starts from when no --policy / --ppm is given (policy-r0 = policy
   *  unchanged with sft0Steps 0; PPM-r1 continues ppm when given, else every PPM-rK starts from
   *  policy-rK's backbone); null = a new GPT. */
  start: { policy: string; ppm?: string } | null;
  /** Step-pair files from earlier runs (e.g. the starting policy's trees) that join every round's PPM
   *  training beside the run's own MCTS pairs; pairs of dev problems are dropped. [] = none. */
  seedPairs: string[];
  /** Training searches: number variants of each MAWPS/ASDiv-A and GSM8K training problem whose
   *  reference program moves with its numbers; a terminal with the known answer counts right only if
   *  its program answers them as the reference does (search/variants.ts). 0 = answers alone. */
  chanceCheck: number;
}

const ROUNDS: RoundPlan[] = [
  { rollouts: 8, mode: 'terminal' },
  { rollouts: 16, mode: 'terminal' },
  { rollouts: 16, mode: 'ppm' },
  { rollouts: 16, mode: 'ppm', extraRollouts: 128 },
];

// The default run's search every round: the paper's 8 rollouts of round 1 in all four, and no extra
// trees in round 4, so that four all-source rounds fit in 2 h on 2 cores (README).
const ROUNDS_ALL: RoundPlan[] = [
  { rollouts: 8, mode: 'terminal' },
  { rollouts: 8, mode: 'terminal' },
  { rollouts: 8, mode: 'ppm' },
  { rollouts: 8, mode: 'ppm' },
];

export const PRESETS: Record<'default' | 'mawps' | 'demo' | 'tiny' | 'deepmind', Preset> = {
  // The main job: one policy for MAWPS/ASDiv-A, GSM8K, DeepMind Mathematics and schema problems, on
  // the grouped dev split. It starts from checkpoints/joint-ops's policy (the README's "GSM8K in the
  // operation grammar" commands, from joint-mix's lineage): from scratch, two cores need more than the
  // 2 h budget before MCTS has a policy worth searching with. Each round searches fresh problems of
  // every source (word problems first: they are where the PPM is short of pairs) and 120 new schema
  // problems; SFT keeps MAWPS/ASDiv-A's and the schema problems' shares of the joint-mix policy's mix
  // (27 %, 25 %) and gives GSM8K 30 % out of DeepMind's: the run with GSM8K at half the characters
  // (joint-ops's last fine-tune) lost 18 grouped MAWPS/ASDiv-A problems under MCTS + PPM (README).
  // PPM-rK is a new head on policy-rK's backbone, trained on the run's pairs and joint-mix's: a PPM
  // continued from an older backbone fell behind the policy (README). No distractor variants: the four-round run with half the word problems also trained on with one
  // (--distractors 0.5) nearly doubled greedy on a dev with an irrelevant sentence added (14.5 → 25.8 %)
  // but lost 6.7 points of MCTS + PPM on the plain grouped dev (README), the first bar.
  // 400 SFT steps a round: four fine-tunes of the shipped round-4 policy, 400 steps more each, raised
  // MCTS + PPM on the grouped dev from 178 to 180-193 of 314 (README "More SFT steps"); the full run
  // with it tied the 200-step run under MCTS + PPM (176 vs 178) and answered more greedily (154 vs
  // 144). The PPM seeds train two at a time to make room for it in the 2 h budget.
  default: {
    datasets: ['mawps', 'gsm8k', 'deepmind'], searchProblems: { mawps: 160, gsm8k: 40, deepmind: 80, '*': 0 }, freshDraw: true,
    devSet: 'grouped', devProblems: 40, devPairs: false,
    model: { blockSize: 512, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 0, sftSteps: 400, sftLr: 1e-3, ppmSteps: 200, ppmLr: 1.5e-4, ppmBatchPairs: 4, batchTokens: 4096,
    k: 8, maxDepth: 8, rounds: ROUNDS_ALL, testSearch: {}, bootstrapLimit: { deepmind: 6000, '*': 'all' },
    sftMix: { mawps: 0.27, 'mawps-synth': 0.25, deepmind: 0.18, gsm8k: 0.3 },
    crossFit: null, distractors: 0, pretrain: null, ppmAverage: false, policies: 1, r0Member: true, ppmSeeds: 4,
    schemas: { round0: 3000, perRound: 120 },
    start: { policy: 'checkpoints/joint-ops/policy' }, seedPairs: ['checkpoints/joint-mix/pairs-r1.arrow'], chanceCheck: 0,
  },
  // MAWPS/ASDiv-A alone from a new GPT (the default until the twenty-third session: 85 min here)
  mawps: {
    datasets: ['mawps'], searchProblems: 'all', freshDraw: false, devSet: 'fixed', devProblems: 0, devPairs: true,
    model: { blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 1000, sftSteps: 300, sftLr: 1e-3, ppmSteps: 100, ppmLr: 1.5e-4, ppmBatchPairs: 16, batchTokens: 4096,
    k: 8, maxDepth: 8, rounds: ROUNDS, testSearch: {}, bootstrapLimit: 0, sftMix: null,
    crossFit: { sftSteps: 500, rollouts: 16 }, distractors: 0.5, pretrain: null, ppmAverage: true,
    policies: 2, r0Member: false, ppmSeeds: 1, schemas: null, start: null, seedPairs: [], chanceCheck: 0,
  },
  // `npm run demo` starts it from the MAWPS-only models in checkpoints/mawps/ (--policy, --ppm, --sft0-steps 0): from
  // scratch, 10 minutes on 2 cores leave a policy too weak for the PPM to help (README). It searches
  // 200 schema problems known only by their answers, the same every round, of which the MAWPS-only
  // policy's MCTS solves 40 %: the MAWPS/ASDiv-A training problems it already solves (97 %) leave
  // coverage no room to rise. 300 bootstrap trajectories keep the reference style beside MCTS's.
  demo: {
    datasets: ['mawps'], searchProblems: 0, freshDraw: false, devSet: 'unseen', devProblems: 100, devPairs: false,
    model: { blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 200, sftSteps: 30, sftLr: 1e-3, ppmSteps: 15, ppmLr: 1.5e-4, ppmBatchPairs: 16, batchTokens: 4096,
    k: 4, maxDepth: 6, rounds: ROUNDS.map((r) => ({ ...r, rollouts: Math.min(r.rollouts, 8), extraRollouts: r.extraRollouts ? 16 : undefined })),
    testSearch: { rollouts: 8, k: 4, maxDepth: 6 }, bootstrapLimit: 300, sftMix: null, crossFit: null, distractors: 0, pretrain: null, ppmAverage: true,
    policies: 1, r0Member: false, ppmSeeds: 1, schemas: { round0: 0, perRound: 200 }, start: null, seedPairs: [], chanceCheck: 0,
  },
  // DeepMind Mathematics alone: 50,370 training problems, so each round searches 1,000 it has not
  // searched before; dev = 3 interpolation problems of each of the 56 modules and 168 extrapolation
  // problems (28 of each of its 6 modules); context 512 holds 99.6 %
  // of the bootstrap trajectories (composed questions run long)
  deepmind: {
    datasets: ['deepmind'], searchProblems: 1000, freshDraw: true, devSet: 'fixed', devProblems: 168, devPairs: true,
    model: { blockSize: 512, nLayer: 4, nHead: 4, nEmbd: 128 },
    sft0Steps: 2000, sftSteps: 300, sftLr: 1e-3, ppmSteps: 200, ppmLr: 1.5e-4, ppmBatchPairs: 4, batchTokens: 4096,
    k: 8, maxDepth: 8, rounds: ROUNDS, testSearch: {}, bootstrapLimit: 0, sftMix: null, crossFit: null, distractors: 0, pretrain: null, ppmAverage: true,
    policies: 1, r0Member: false, ppmSeeds: 1, schemas: null, start: null, seedPairs: [], chanceCheck: 0,
  },
  // for tests: seconds, not minutes
  tiny: {
    datasets: ['mawps'], searchProblems: 6, freshDraw: false, devSet: 'fixed', devProblems: 4, devPairs: true,
    model: { blockSize: 192, nLayer: 1, nHead: 2, nEmbd: 32 },
    sft0Steps: 6, sftSteps: 3, sftLr: 3e-3, ppmSteps: 3, ppmLr: 1.5e-4, ppmBatchPairs: 16, batchTokens: 1024,
    k: 2, maxDepth: 3, rounds: ROUNDS.map((r) => ({ ...r, rollouts: 2, extraRollouts: r.extraRollouts ? 4 : undefined })),
    testSearch: { rollouts: 2, k: 2, maxDepth: 3 }, bootstrapLimit: 40, sftMix: null, crossFit: null, distractors: 0, pretrain: null, ppmAverage: true,
    policies: 1, r0Member: false, ppmSeeds: 1, schemas: null, start: null, seedPairs: [], chanceCheck: 0,
  },
};
