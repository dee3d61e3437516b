// Loading what search and training use: a policy (our checkpoint directory or `hf:<folder>`, a
// Hugging Face model), several policies proposing together, a PPM, and the prompt style each reads.
// The prompt style is read from a checkpoint here and nowhere else.
import path from 'node:path';
import type { CausalLM } from './lm.ts';
import { Tokenizer } from './tokenizer.ts';
import { assignWeights, buildLM, loadPolicy, readCheckpointConfig, readTensorFile, CheckpointError, type CheckpointConfig } from './checkpoint.ts';
import { PPM, PPM_HEAD_A, PPM_HEAD_V, type PPMOptions } from './ppm.ts';
import { isPromptNumbers, MARK, PROMPT_NUMBERS_NEW, type PromptNumbers } from '../data/steps.ts';

/** What the rest of the system needs of a tokenizer (ours, or a checkpoint's HF tokenizer). */
export interface TokenizerLike {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly vocabSize: number;
  pieceId(piece: string): number;
  readonly sha256: string;
}

export interface PolicyHandle {
  lm: CausalLM;
  tokenizer: TokenizerLike;
  tokenizerFile: string;
  /** Where it came from (for metadata). */
  spec: string;
  /** How its prompts show the question's numbers (steps.ts PromptNumbers). */
  promptNumbers: PromptNumbers;
}

/** The prompt style a checkpoint was trained with: meta.promptNumbers (format @1 checkpoints without it: 'values'). */
export function promptNumbersOf(cfg: CheckpointConfig, dir: string): PromptNumbers {
  const v = cfg.meta?.promptNumbers;
  if (v === undefined && cfg.format === 'rstar-ts/checkpoint@1') return 'values';
  if (!isPromptNumbers(v)) throw new CheckpointError(`${path.join(dir, 'config.json')}: meta.promptNumbers: expected "values" or "names", got ${JSON.stringify(v)}`);
  return v;
}

/** The prompt style of the policy at `spec` (a checkpoint folder or `hf:<folder>`; pretrained models read names). */
export function promptNumbersAt(spec: string): PromptNumbers {
  if (spec.startsWith('hf:')) return PROMPT_NUMBERS_NEW;
  return promptNumbersOf(readCheckpointConfig(spec), spec);
}

/** Tokenizer by file: SentencePiece .model (ours) or a Hugging Face tokenizer.json / folder. */
export async function loadTokenizer(file: string): Promise<TokenizerLike> {
  if (file.endsWith('.json')) {
    const { HFTokenizer } = await import('./hf/hf-tokenizer.ts');
    return HFTokenizer.load(file);
  }
  return Tokenizer.load(file);
}

/**
 * `tokenizer` overrides the tokenizer of an `hf:` folder (for checkpoints shipped without one, like the
 * test fixtures): a SentencePiece .model or a tokenizer.json.
 */
export async function loadPolicyAny(spec: string, o: { allowPPM?: boolean; tokenizer?: string } = {}): Promise<PolicyHandle> {
  if (spec.startsWith('hf:')) {
    const folder = spec.slice(3);
    const { loadHF } = await import('./hf/hf.ts');
    const { HFTokenizer } = await import('./hf/hf-tokenizer.ts');
    const lm = await loadHF(folder);
    const tokenizer = await HFTokenizer.load(o.tokenizer ?? folder);
    if (tokenizer.vocabSize > lm.vocabSize) {
      lm.dispose();
      throw new Error(`${o.tokenizer ?? folder}: tokenizer has ${tokenizer.vocabSize} ids, the model ${spec} only ${lm.vocabSize}`);
    }
    return { lm, tokenizer, tokenizerFile: tokenizer.file, spec, promptNumbers: PROMPT_NUMBERS_NEW };
  }
  const promptNumbers = promptNumbersAt(spec); // clear error first if it isn't a checkpoint
  const p = await loadPolicy(spec, { allowPPM: o.allowPPM });
  const tokenizer = await loadTokenizer(p.tokenizerFile);
  if (tokenizer.sha256 !== p.cfg.tokenizer.sha256) {
    p.lm.dispose();
    throw new Error(`${path.join(spec, p.cfg.tokenizer.file)}: tokenizer file does not match the sha256 in config.json`);
  }
  return { lm: p.lm, tokenizer, tokenizerFile: p.tokenizerFile, spec, promptNumbers };
}

/**
 * `--policy A[,B,...]`: the first policy, and the others as ensemble members proposing MCTS steps
 * with it (EnsembleProposer); all must share the tokenizer and prompt style.
 */
export async function loadPolicies(spec: string, tokenizer?: string): Promise<{ pol: PolicyHandle; members: CausalLM[] }> {
  const [first, ...rest] = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (!first) throw new Error('--policy is empty');
  const pol = await loadPolicyAny(first, { tokenizer });
  const members: CausalLM[] = [];
  for (const dir of rest) {
    const m = await loadPolicyAny(dir, { tokenizer });
    members.push(m.lm);
    if (m.tokenizer.sha256 !== pol.tokenizer.sha256 || m.promptNumbers !== pol.promptNumbers) {
      [pol.lm, ...members].forEach((lm) => lm.dispose());
      throw new Error(`${dir}: not the tokenizer and prompt style of ${first} (prompt numbers "${m.promptNumbers}" vs "${pol.promptNumbers}")`);
    }
  }
  return { pol, members };
}

/** PPM options for a tokenizer: where steps start, for the step log-likelihood input. */
export function ppmOptions(tok: TokenizerLike, loglik: boolean, values = false): PPMOptions {
  return { loglik, values, boundaryIds: [tok.pieceId(MARK.solution), tok.pieceId(MARK.endStep)], newlineId: tok.pieceId('\n') };
}

export interface LoadedPPM {
  ppm: PPM;
  tokenizer: TokenizerLike;
  dir: string;
  /** The prompt style of the policy it was initialised from (steps.ts PromptNumbers). */
  promptNumbers: PromptNumbers;
}

/** A PPM reads texts in its policy's prompt style: refuse a policy and a PPM trained on different ones. */
export function checkPromptNumbers(policy: { spec: string; promptNumbers: PromptNumbers }, ppm: LoadedPPM | null): void {
  if (ppm && ppm.promptNumbers !== policy.promptNumbers) {
    throw new Error(`${ppm.dir}: PPM trained on prompts with numbers as "${ppm.promptNumbers}", policy ${policy.spec} on "${policy.promptNumbers}"`);
  }
}

/** Load a PPM checkpoint (kind 'ppm'). */
export async function loadPPM(dir: string): Promise<LoadedPPM> {
  const cfg = readCheckpointConfig(dir);
  const file = path.join(dir, 'config.json');
  if (cfg.kind !== 'ppm') throw new CheckpointError(`${file}: kind is ${cfg.kind}, expected ppm`);
  promptNumbersOf(cfg, dir); // a bad prompt style fails before any weights are read
  const lm = await buildLM(cfg.model, file);
  const stored = readTensorFile(dir, 'weights');
  const tokenizer = await loadTokenizer(path.join(dir, cfg.tokenizer.file));
  return ppmFromParts(dir, cfg, lm, stored, tokenizer);
}

/** A PPM from its config, an empty backbone, the stored weights and the tokenizer (no file access: the
 *  browser page loads fetched checkpoints with it). `dir` names the checkpoint in errors. */
export function ppmFromParts(dir: string, cfg: CheckpointConfig, lm: CausalLM, stored: Map<string, { shape: number[]; data: Float32Array }>, tokenizer: TokenizerLike): LoadedPPM {
  const promptNumbers = promptNumbersOf(cfg, dir);
  // PPMs from before the likelihood input have no PPM_HEAD_A: they score from the hidden state alone
  const ppm = new PPM(lm, undefined, ppmOptions(tokenizer, stored.has(PPM_HEAD_A), stored.has(PPM_HEAD_V)));
  assignWeights(dir, ppm.namedWeights(), stored);
  if (tokenizer.sha256 !== cfg.tokenizer.sha256) throw new CheckpointError(`${path.join(dir, cfg.tokenizer.file)}: tokenizer file does not match the sha256 in config.json`);
  return { ppm, tokenizer, dir, promptNumbers };
}
