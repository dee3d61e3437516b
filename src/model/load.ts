// One entry point for "a policy": our checkpoint directory or `hf:<folder>` (a Hugging Face model).
// Returns the decoder, its tokenizer, and the tokenizer file checkpoints copy.
import path from 'node:path';
import type { CausalLM } from './lm.ts';
import { Tokenizer } from './tokenizer.ts';
import { loadPolicy, readCheckpointConfig, CheckpointError, type CheckpointConfig } from './checkpoint.ts';
import { isPromptNumbers, PROMPT_NUMBERS_NEW, type PromptNumbers } from '../data/steps.ts';

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

/** The prompt style a checkpoint was trained with: meta.promptNumbers, 'values' for older checkpoints. */
export function promptNumbersOf(cfg: CheckpointConfig, dir: string): PromptNumbers {
  const v = cfg.meta?.promptNumbers;
  if (v === undefined) return 'values';
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
    const { HFTokenizer } = await import('./hf-tokenizer.ts');
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
    const { loadHF } = await import('./hf.ts');
    const { HFTokenizer } = await import('./hf-tokenizer.ts');
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
