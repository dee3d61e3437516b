// Checkpoints: a folder with
//   config.json   {format, kind: 'policy'|'ppm', model: LMConfig, tokenizer: {sha256, file}, meta}
//   weights.json  [{name, shape, offset}]  (float32, little endian, offsets in floats)
//   weights.bin
//   tokenizer.model  (a copy, so a checkpoint is self-contained)
//   optimizer.bin/.json (optional; training state for --resume)
// Written to `<dir>.tmp-<pid>` and renamed into place, so an interrupted save never leaves a torn
// checkpoint. Loading checks every weight's name and shape against the config, and the tokenizer hash
// against what the caller expects, and fails with one line naming the file and the mismatch.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, LMConfig } from './lm.ts';
import type { PromptNumbers } from '../data/steps.ts';
import { readJson, replaceDir, writeJsonAtomic } from '../util/fsx.ts';

/** @2: meta.promptNumbers is required. @1 checkpoints (promptNumbers absent = 'values') still load. */
export const CHECKPOINT_FORMAT = 'rstar-ts/checkpoint@2';
const READABLE_FORMATS = ['rstar-ts/checkpoint@1', CHECKPOINT_FORMAT];

export type CheckpointKind = 'policy' | 'ppm';

export interface CheckpointConfig {
  format: string;
  kind: CheckpointKind;
  model: LMConfig & Record<string, unknown>;
  tokenizer: { sha256: string; file: string };
  /** Free-form: round, training step, dev loss, source checkpoint… */
  meta: Record<string, unknown>;
}

export class CheckpointError extends Error {}

interface WeightEntry {
  name: string;
  shape: number[];
  offset: number;
}

/** Named arrays in one binary file + an index: used for weights and optimizer moments alike. */
export function writeTensorFile(dir: string, stem: string, named: [string, number[], Float32Array][]): void {
  const index: WeightEntry[] = [];
  let offset = 0;
  for (const [name, shape] of named.map((x) => [x[0], x[1]] as const)) {
    index.push({ name, shape: [...shape], offset });
    offset += shape.reduce((a, b) => a * b, 1);
  }
  const buf = new Float32Array(offset);
  named.forEach(([, , data], i) => buf.set(data, index[i]!.offset));
  fs.writeFileSync(path.join(dir, `${stem}.bin`), new Uint8Array(buf.buffer));
  fs.writeFileSync(path.join(dir, `${stem}.json`), JSON.stringify(index) + '\n');
}

export function readTensorFile(dir: string, stem: string): Map<string, { shape: number[]; data: Float32Array }> {
  const idxFile = path.join(dir, `${stem}.json`);
  const binFile = path.join(dir, `${stem}.bin`);
  if (!fs.existsSync(idxFile) || !fs.existsSync(binFile)) throw new CheckpointError(`${idxFile}: missing (expected ${stem}.json + ${stem}.bin)`);
  return parseTensorFile(fs.readFileSync(idxFile, 'utf8'), fs.readFileSync(binFile), { index: idxFile, bin: binFile });
}

/** The arrays of a tensor file from its index text and binary bytes (no file access: the browser page
 *  uses it on fetched bytes). `where` names the two files in errors. */
export function parseTensorFile(indexText: string, bytes: Uint8Array, where: { index: string; bin: string }): Map<string, { shape: number[]; data: Float32Array }> {
  let index: WeightEntry[];
  try {
    index = JSON.parse(indexText) as WeightEntry[];
  } catch (e) {
    throw new CheckpointError(`${where.index}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(index)) throw new CheckpointError(`${where.index}: expected an array of {name, shape, offset}`);
  if (bytes.byteLength % 4 !== 0) throw new CheckpointError(`${where.bin}: ${bytes.byteLength} bytes, not a whole number of float32s`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of index) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + n > all.length) throw new CheckpointError(`${where.bin}: truncated (weight ${e.name} needs floats ${e.offset}..${e.offset + n}, file has ${all.length})`);
    out.set(e.name, { shape: e.shape, data: all.subarray(e.offset, e.offset + n) });
  }
  return out;
}

export interface SaveOptions {
  kind: CheckpointKind;
  tokenizerFile: string;
  tokenizerSha256: string;
  /** The prompt style the model reads (steps.ts PromptNumbers): stored as meta.promptNumbers. */
  promptNumbers: PromptNumbers;
  meta?: Record<string, unknown>;
  /** Extra weights beyond the LM's (the PPM head). */
  extra?: Map<string, tf.Variable>;
  /** Optimizer state for --resume. */
  optimizer?: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> };
}

/** Save `lm` (+ extra weights) atomically into `dir`. */
export async function saveCheckpoint(dir: string, lm: CausalLM, o: SaveOptions): Promise<void> {
  const tmp = `${dir.replace(/\/+$/, '')}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await writeCheckpointFiles(tmp, lm, o);
  } catch (e) {
    // a failed save leaves the old checkpoint as it was and no half-written copy beside it
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  replaceDir(tmp, dir);
}

async function writeCheckpointFiles(tmp: string, lm: CausalLM, o: SaveOptions): Promise<void> {
  const weights = new Map([...lm.namedWeights(), ...(o.extra ?? new Map())]);
  const named: [string, number[], Float32Array][] = [];
  for (const [name, v] of weights) named.push([name, v.shape, (await v.data()) as Float32Array]);
  writeTensorFile(tmp, 'weights', named);
  // keep the extension: .model is SentencePiece, .json a Hugging Face tokenizer
  const tokName = o.tokenizerFile.endsWith('.json') ? 'tokenizer.json' : 'tokenizer.model';
  fs.copyFileSync(o.tokenizerFile, path.join(tmp, tokName));
  const cfg: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    kind: o.kind,
    model: lm.config as CheckpointConfig['model'],
    tokenizer: { sha256: o.tokenizerSha256, file: tokName },
    meta: { savedAt: new Date().toISOString(), ...(o.meta ?? {}), promptNumbers: o.promptNumbers },
  };
  if (o.optimizer) {
    const opt: [string, number[], Float32Array][] = [];
    for (const [k, a] of Object.entries(o.optimizer.m)) opt.push([`m/${k}`, [a.length], a]);
    for (const [k, a] of Object.entries(o.optimizer.v)) opt.push([`v/${k}`, [a.length], a]);
    writeTensorFile(tmp, 'optimizer', opt);
    fs.writeFileSync(path.join(tmp, 'optimizer-step.json'), JSON.stringify({ step: o.optimizer.step }) + '\n');
  }
  writeJsonAtomic(path.join(tmp, 'config.json'), cfg);
}

export function readCheckpointConfig(dir: string): CheckpointConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new CheckpointError(`${file}: no checkpoint here (config.json missing)`);
  return parseCheckpointConfig(fs.readFileSync(file, 'utf8'), file);
}

/** A checkpoint's config.json from its text, checked (no file access; `file` names it in errors). */
export function parseCheckpointConfig(text: string, file: string): CheckpointConfig {
  let cfg: CheckpointConfig;
  try {
    cfg = JSON.parse(text) as CheckpointConfig;
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!READABLE_FORMATS.includes(cfg.format)) throw new CheckpointError(`${file}: format is ${JSON.stringify(cfg.format)}, expected one of ${READABLE_FORMATS.join(', ')}`);
  if (cfg.kind !== 'policy' && cfg.kind !== 'ppm') throw new CheckpointError(`${file}: kind is ${JSON.stringify(cfg.kind)}, expected "policy" or "ppm"`);
  if (!cfg.model || typeof cfg.model.arch !== 'string') throw new CheckpointError(`${file}: model.arch missing`);
  return cfg;
}

/** Check the checkpoint's tokenizer against the one the caller uses. */
export function checkTokenizer(dir: string, cfg: CheckpointConfig, expectedSha256?: string): void {
  if (expectedSha256 && cfg.tokenizer.sha256 !== expectedSha256) {
    throw new CheckpointError(
      `${path.join(dir, 'config.json')}: tokenizer mismatch: checkpoint was trained with tokenizer sha256 ${cfg.tokenizer.sha256.slice(0, 12)}…, this run uses ${expectedSha256.slice(0, 12)}…`,
    );
  }
}

/** Copy stored weights into `weights` (names and shapes must match exactly, both ways). */
export function assignWeights(dir: string, weights: Map<string, tf.Variable>, stored = readTensorFile(dir, 'weights'), allowMissing: string[] = []): void {
  const file = path.join(dir, 'weights.json');
  for (const [name, v] of weights) {
    const s = stored.get(name);
    if (!s) {
      if (allowMissing.includes(name)) continue;
      throw new CheckpointError(`${file}: weight ${name} missing (the config expects shape [${v.shape}])`);
    }
    if (s.shape.join(',') !== v.shape.join(',')) {
      throw new CheckpointError(`${file}: weight ${name} has shape [${s.shape}], the config expects [${v.shape}]`);
    }
    v.assign(tf.tensor(s.data, v.shape, 'float32'));
  }
}

export function unexpectedWeights(stored: Map<string, unknown>, known: Iterable<string>): string[] {
  const k = new Set(known);
  return [...stored.keys()].filter((n) => !k.has(n));
}

/** Build an empty model of the right architecture from a stored config. */
export async function buildLM(config: LMConfig & Record<string, unknown>, where: string): Promise<CausalLM> {
  if (config.arch === 'gpt') {
    const { GPT } = await import('./gpt.ts');
    return new GPT(config as unknown as ConstructorParameters<typeof GPT>[0]);
  }
  if (['llama', 'qwen2', 'phi3'].includes(config.arch)) {
    const hf = (await import('./hf/hf.ts')) as unknown as { buildHFFromConfig?: (c: unknown) => CausalLM };
    if (!hf.buildHFFromConfig) throw new CheckpointError(`${where}: arch ${config.arch} not supported by this build`);
    return hf.buildHFFromConfig(config);
  }
  throw new CheckpointError(`${where}: unknown model.arch ${JSON.stringify(config.arch)} (expected gpt, llama, qwen2 or phi3)`);
}

export interface LoadedPolicy {
  lm: CausalLM;
  cfg: CheckpointConfig;
  dir: string;
  tokenizerFile: string;
}

/** Load a policy checkpoint (or the backbone of a PPM checkpoint with `allowPPM`). */
export async function loadPolicy(dir: string, o: { tokenizerSha256?: string; allowPPM?: boolean } = {}): Promise<LoadedPolicy> {
  const cfg = readCheckpointConfig(dir);
  checkPolicyConfig(dir, cfg, o);
  const lm = await policyFromParts(dir, cfg, readTensorFile(dir, 'weights'));
  return { lm, cfg, dir, tokenizerFile: path.join(dir, cfg.tokenizer.file) };
}

/** What loadPolicy checks of a config before reading weights: the kind and the tokenizer hash. */
export function checkPolicyConfig(dir: string, cfg: CheckpointConfig, o: { tokenizerSha256?: string; allowPPM?: boolean } = {}): void {
  if (cfg.kind !== 'policy' && !o.allowPPM) throw new CheckpointError(`${path.join(dir, 'config.json')}: kind is ${cfg.kind}, expected policy`);
  checkTokenizer(dir, cfg, o.tokenizerSha256);
}

/** The policy model of a parsed config and its stored weights (no file access: the browser page loads
 *  fetched checkpoints with it). `dir` names the checkpoint in errors. */
export async function policyFromParts(dir: string, cfg: CheckpointConfig, stored: Map<string, { shape: number[]; data: Float32Array }>): Promise<CausalLM> {
  const lm = await buildLM(cfg.model, path.join(dir, 'config.json'));
  try {
    assignWeights(dir, lm.namedWeights(), stored);
    if (cfg.kind === 'policy') {
      const extra = unexpectedWeights(stored, lm.namedWeights().keys());
      if (extra.length) throw new CheckpointError(`${path.join(dir, 'weights.json')}: unexpected weights for a ${cfg.model.arch} policy: ${extra.slice(0, 3).join(', ')}`);
    }
  } catch (e) {
    lm.dispose();
    throw e;
  }
  return lm;
}

export function readOptimizerState(dir: string): { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> } | null {
  if (!fs.existsSync(path.join(dir, 'optimizer.json'))) return null;
  const t = readTensorFile(dir, 'optimizer');
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [k, x] of t) {
    if (k.startsWith('m/')) m[k.slice(2)] = x.data;
    else if (k.startsWith('v/')) v[k.slice(2)] = x.data;
  }
  const { step } = readJson<{ step: number }>(path.join(dir, 'optimizer-step.json'));
  return { step, m, v };
}

/**
 * Uniform weight average ("model soup") of checkpoints of one kind, architecture and tokenizer, written
 * atomically to `out`. Meant for models fine-tuned from one ancestor (the PPMs of a run's rounds all
 * descend from policy-r0), where the average of the weights scores like an ensemble of the models.
 * The first checkpoint's config and tokenizer are kept; meta holds the prompt style, the sources and `meta`.
 */
export function averageCheckpoints(dirs: string[], out: string, meta: Record<string, unknown> = {}): void {
  if (dirs.length === 0) throw new CheckpointError(`${out}: nothing to average (no checkpoints given)`);
  const cfgs = dirs.map(readCheckpointConfig);
  // the init seed of the model config does not change what the weights mean
  const arch = (c: CheckpointConfig) => JSON.stringify({ ...c.model, seed: undefined });
  cfgs.forEach((c, i) => {
    const file = path.join(dirs[i]!, 'config.json');
    if (c.kind !== cfgs[0]!.kind) throw new CheckpointError(`${file}: kind ${c.kind}, expected ${cfgs[0]!.kind} (as ${dirs[0]})`);
    if (arch(c) !== arch(cfgs[0]!)) throw new CheckpointError(`${file}: model ${arch(c)} differs from ${dirs[0]}'s ${arch(cfgs[0]!)}`);
    if (c.tokenizer.sha256 !== cfgs[0]!.tokenizer.sha256) throw new CheckpointError(`${file}: tokenizer ${c.tokenizer.sha256} differs from ${dirs[0]}'s`);
    // a model trained on another prompt style reads other inputs (load.ts promptNumbers)
    if (c.meta?.promptNumbers !== cfgs[0]!.meta?.promptNumbers) throw new CheckpointError(`${file}: meta.promptNumbers ${JSON.stringify(c.meta?.promptNumbers)} differs from ${dirs[0]}'s ${JSON.stringify(cfgs[0]!.meta?.promptNumbers)}`);
  });
  const stored = dirs.map((d) => readTensorFile(d, 'weights'));
  stored.forEach((s, i) => {
    if (s.size !== stored[0]!.size) throw new CheckpointError(`${path.join(dirs[i]!, 'weights.json')}: ${s.size} weights, ${dirs[0]} has ${stored[0]!.size}`);
  });
  const named: [string, number[], Float32Array][] = [];
  for (const [name, { shape, data }] of stored[0]!) {
    const sum = new Float64Array(data.length);
    stored.forEach((s, i) => {
      const w = s.get(name);
      if (!w || w.shape.join(',') !== shape.join(',')) throw new CheckpointError(`${path.join(dirs[i]!, 'weights.json')}: weight ${name} ${w ? `has shape [${w.shape}]` : 'missing'}, expected [${shape}] (as ${dirs[0]})`);
      for (let j = 0; j < sum.length; j++) sum[j] += w.data[j]!;
    });
    named.push([name, shape, Float32Array.from(sum, (x) => x / dirs.length)]);
  }
  const tmp = `${out.replace(/\/+$/, '')}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  writeTensorFile(tmp, 'weights', named);
  fs.copyFileSync(path.join(dirs[0]!, cfgs[0]!.tokenizer.file), path.join(tmp, cfgs[0]!.tokenizer.file));
  const promptNumbers = cfgs[0]!.meta?.promptNumbers;
  writeJsonAtomic(path.join(tmp, 'config.json'), { ...cfgs[0]!, meta: { savedAt: new Date().toISOString(), ...(promptNumbers === undefined ? {} : { promptNumbers }), averageOf: dirs, ...meta } });
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  replaceDir(tmp, out);
}

/** Copy a checkpoint folder for inference, atomically (temp + rename); training state stays behind. */
export function copyCheckpoint(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(from, tmp, { recursive: true });
  // the copy is for inference: optimizer state stays with the training folder
  for (const f of ['optimizer.bin', 'optimizer.json', 'optimizer-step.json', 'loop-state.json']) fs.rmSync(path.join(tmp, f), { force: true });
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.renameSync(tmp, to);
}
