// Checkpoints fetched by the page: the same parsing, checks and weight assignment as the CLI's loaders
// (model/checkpoint.ts, model/load.ts), on bytes from the server instead of files.
import { checkPolicyConfig, parseCheckpointConfig, parseTensorFile, policyFromParts, buildLM, type CheckpointConfig } from '../model/checkpoint.ts';
import { ppmFromParts, promptNumbersOf, type LoadedPPM, type PolicyHandle } from '../model/load.ts';
import { Tokenizer } from '../model/tokenizer.ts';
import { CheckpointError } from '../model/checkpoint.ts';
import { sha256Hex } from './sha256.ts';

/** GET /checkpoints/index.json: the checkpoint folders the server has, by kind. */
export interface CheckpointIndex {
  policies: string[];
  ppms: string[];
  /** The policies `rstar solve` ensembles by default (policy, policy-m1, ...). */
  ensemble: string[];
}

/** Bytes fetched so far (for the page's loading line). */
export type OnBytes = (n: number) => void;

async function get(url: string, onBytes?: OnBytes): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new CheckpointError(`${url}: HTTP ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  onBytes?.(bytes.length);
  return bytes;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const tokenizers = new Map<string, Promise<Tokenizer>>();

interface Fetched {
  base: string;
  cfg: CheckpointConfig;
  stored: ReturnType<typeof parseTensorFile>;
  tokenizer: Tokenizer;
}

async function fetchCheckpoint(base: string, onBytes?: OnBytes): Promise<Fetched> {
  const cfg = parseCheckpointConfig(text(await get(`${base}/config.json`, onBytes)), `${base}/config.json`);
  const [index, bin, tok] = await Promise.all([
    get(`${base}/weights.json`, onBytes),
    get(`${base}/weights.bin`, onBytes),
    get(`${base}/${cfg.tokenizer.file}`, onBytes),
  ]);
  const stored = parseTensorFile(text(index), bin, { index: `${base}/weights.json`, bin: `${base}/weights.bin` });
  const sha256 = await sha256Hex(tok);
  // checkpoints carry copies of one tokenizer: one SentencePiece instance serves them all
  let tokenizer = tokenizers.get(sha256);
  if (!tokenizer) tokenizers.set(sha256, (tokenizer = Tokenizer.fromBytes(tok, { sha256, modelPath: `${base}/${cfg.tokenizer.file}` })));
  if (sha256 !== cfg.tokenizer.sha256) throw new CheckpointError(`${base}/${cfg.tokenizer.file}: tokenizer file does not match the sha256 in config.json`);
  return { base, cfg, stored, tokenizer: await tokenizer };
}

/** A policy checkpoint at `base` (a URL path such as /checkpoints/policy). */
export async function fetchPolicy(base: string, onBytes?: OnBytes): Promise<PolicyHandle> {
  const f = await fetchCheckpoint(base, onBytes);
  const promptNumbers = promptNumbersOf(f.cfg, base);
  checkPolicyConfig(base, f.cfg);
  const lm = await policyFromParts(base, f.cfg, f.stored);
  return { lm, tokenizer: f.tokenizer, tokenizerFile: `${base}/${f.cfg.tokenizer.file}`, spec: base, promptNumbers };
}

/** A PPM checkpoint at `base`. */
export async function fetchPPM(base: string, onBytes?: OnBytes): Promise<LoadedPPM> {
  const f = await fetchCheckpoint(base, onBytes);
  if (f.cfg.kind !== 'ppm') throw new CheckpointError(`${base}/config.json: kind is ${f.cfg.kind}, expected ppm`);
  promptNumbersOf(f.cfg, base);
  return ppmFromParts(base, f.cfg, await buildLM(f.cfg.model, `${base}/config.json`), f.stored, f.tokenizer);
}
