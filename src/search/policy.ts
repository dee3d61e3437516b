// Glue between the models and the search: the policy proposes candidate steps (one batched,
// KV-cached decode for all pending expansions), the PPM scores prefix + step.
import type { CausalLM } from '../model/lm.ts';
import type { TokenizerLike } from '../model/load.ts';
import { sampleMany } from '../model/generate.ts';
import { valueFeatures, type PPM } from '../model/ppm.ts';
import { MARK, promptQuestion } from '../data/steps.ts';
import type { ProposeRequest, StepProposer, StepScorer } from './mcts.ts';
import type { SandboxPool } from '../sandbox/sandbox.ts';
import { stepValues } from './values.ts';
import { hash32 } from '../util/rng.ts';
import { SEARCH } from '../config.ts';
import { copyBiasHook } from './copy-bias.ts';

export interface ProposerOptions {
  temperature: number;
  topP: number;
  /** Most tokens in one step. */
  maxStepTokens: number;
  seed: number;
  /** Logit bonus for continuing a copy of the question (copy-bias.ts); 0 = off. */
  copyBias: number;
  /** End a candidate caught in a loop after this many repeats (generate.ts loop); 0 = off. */
  loopRepeats: number;
}

export const DEFAULT_PROPOSER: ProposerOptions = { temperature: 0.8, topP: 0.95, maxStepTokens: SEARCH.maxStepTokens, seed: 0, copyBias: SEARCH.copyBias, loopRepeats: SEARCH.loopRepeats };

/** generate.ts's loop option for a number of repeats (0: none). */
export const loopOption = (repeats: number) => (repeats > 1 ? { repeats, minTokens: SEARCH.loopMinTokens } : undefined);

/** Token sequences that end a step (markers are single tokens in our tokenizer, several in others). */
export function stopSequences(tok: TokenizerLike): number[][] {
  return [MARK.endStep, MARK.endSolution].map((m) => {
    const id = tok.pieceId(m);
    return id >= 0 ? [id] : tok.encode(m);
  });
}

/** The shortest step worth decoding: `print(x);` and an end marker. */
const MIN_STEP_TOKENS = 8;

export class PolicyProposer implements StepProposer {
  readonly o: ProposerOptions;
  /** Generated tokens so far (for throughput figures). */
  generatedTokens = 0;
  calls = 0;
  private readonly stop: number[][];

  constructor(private readonly lm: CausalLM, private readonly tok: TokenizerLike, o: Partial<ProposerOptions> = {}) {
    this.o = { ...DEFAULT_PROPOSER, ...o };
    this.stop = stopSequences(tok);
  }

  async propose(reqs: ProposeRequest[]): Promise<string[][]> {
    this.calls++;
    const out: string[][] = reqs.map(() => []);
    // requests whose prefix leaves no room for a step get no candidates (a dead end for MCTS); a step
    // may use what the context leaves, at most maxStepTokens (generate.ts bounds each row by its own prompt)
    const room = this.lm.maxPositions - MIN_STEP_TOKENS;
    const live: { i: number; ids: number[]; k: number }[] = [];
    reqs.forEach((r, i) => {
      const ids = this.tok.encode(r.prefix);
      if (ids.length <= room) live.push({ i, ids, k: r.k });
    });
    // one decode per distinct k (normally one): k rows per prompt share its prefill
    const ks = [...new Set(live.map((l) => l.k))];
    for (const k of ks) {
      const group = live.filter((l) => l.k === k);
      const seed = (reqs[group[0]!.i]!.seed ?? this.o.seed) >>> 0;
      // each request's own seed: its candidates must not depend on which batch it lands in
      const seeded = group.every((g) => reqs[g.i]!.seed !== undefined);
      const res = await sampleMany(this.lm, group.map((g) => g.ids), k, {
        maxNewTokens: this.o.maxStepTokens,
        temperature: this.o.temperature,
        topP: this.o.topP,
        stop: this.stop,
        seed,
        seeds: seeded ? group.map((g) => reqs[g.i]!.seed! >>> 0) : undefined,
        logitsHook: copyBiasHook(this.tok, group.map((g) => promptQuestion(reqs[g.i]!.prefix)), this.o.copyBias),
        loop: loopOption(this.o.loopRepeats),
      });
      group.forEach((g, p) => {
        for (let j = 0; j < k; j++) {
          const row = p * k + j;
          const toks = res.tokens[row]!;
          this.generatedTokens += toks.length;
          // a step that ran out of tokens without an end marker is incomplete: drop it
          if (res.stopped[row]) out[g.i]!.push(this.tok.decode(toks));
        }
      });
    }
    return out;
  }
}

/**
 * Several policies propose together: each expansion's k candidates are split among them (member m
 * gets ⌊k/M⌋, the first k mod M one more), member 0 with the request's own seed. Independently
 * trained policies make different mistakes, so one tree holds a right answer more often than a
 * tree of either alone at the same k. All members share the tokenizer and prompt style.
 */
export class EnsembleProposer implements StepProposer {
  constructor(readonly members: StepProposer[]) {
    if (members.length === 0) throw new Error('EnsembleProposer: no policies');
  }

  async propose(reqs: ProposeRequest[]): Promise<string[][]> {
    const M = this.members.length;
    const out: string[][] = reqs.map(() => []);
    for (let m = 0; m < M; m++) {
      const mine = reqs.map((r, i) => ({ i, r: { ...r, k: Math.floor(r.k / M) + (m < r.k % M ? 1 : 0), seed: m === 0 || r.seed === undefined ? r.seed : hash32(`member${m}`, r.seed) } }))
        .filter((x) => x.r.k > 0);
      if (mine.length === 0) continue;
      const got = await this.members[m]!.propose(mine.map((x) => x.r));
      mine.forEach((x, j) => out[x.i]!.push(...got[j]!));
    }
    return out;
  }
}

/** One policy's PolicyProposer, or an EnsembleProposer over several (member m seeded seed + 7919·m). */
export function policyProposer(lms: CausalLM[], tok: TokenizerLike, o: Partial<ProposerOptions> = {}): StepProposer {
  const one = (lm: CausalLM, m: number) => new PolicyProposer(lm, tok, { ...o, seed: (o.seed ?? DEFAULT_PROPOSER.seed) + 7919 * m });
  return lms.length === 1 ? one(lms[0]!, 0) : new EnsembleProposer(lms.map(one));
}

export class PPMScorer implements StepScorer {
  scored = 0;
  /** `sandbox`: needed by a PPM that reads step values (src/search/values.ts). */
  constructor(private readonly ppm: PPM, private readonly tok: TokenizerLike, private readonly sandbox?: Pick<SandboxPool, 'runMany'>) {
    if (ppm.usesValues && !sandbox) throw new Error('PPMScorer: this PPM reads step values and needs the sandbox');
  }

  async score(texts: string[], questions?: string[]): Promise<number[]> {
    this.scored += texts.length;
    const max = this.ppm.backbone.maxPositions;
    const seqs = texts.map((t) => this.tok.encode(t));
    const ok = seqs.map((s) => s.length <= max);
    const kept = texts.filter((_, i) => ok[i]);
    const values = this.ppm.usesValues ? (await stepValues(this.sandbox!, kept, questions?.filter((_, i) => ok[i]))).map(valueFeatures) : undefined;
    const scores = await this.ppm.score(seqs.filter((_, i) => ok[i]), { values });
    let j = 0;
    // too long to score: the most pessimistic value
    return seqs.map((_, i) => (ok[i] ? scores[j++]! : -1));
  }
}
