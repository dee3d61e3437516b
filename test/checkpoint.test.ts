// Checkpoints: round trip, the tokenizer copy, one-line load errors, atomic save, optimizer state.
import type { PromptNumbers } from '../src/data/steps.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT, type GPTConfig } from '../src/model/gpt.ts';
import { DEFAULT_MODEL, Tokenizer } from '../src/model/tokenizer.ts';
import { PPM } from '../src/model/ppm.ts';
import {
  averageCheckpoints, CheckpointError, loadPolicy, readCheckpointConfig, readOptimizerState, readTensorFile, saveCheckpoint,
} from '../src/model/checkpoint.ts';
import { loadPolicyAny } from '../src/model/load.ts';
import { loadPPM } from '../src/model/load.ts';
import { AdamW } from '../src/train/optim.ts';

let tok: Tokenizer;
let root: string;
let cfg: GPTConfig;

beforeAll(async () => {
  await setupBackend('cpu');
  tok = await Tokenizer.load();
  cfg = { vocabSize: tok.vocabSize, blockSize: 128, nLayer: 1, nHead: 2, nEmbd: 32 };
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-ckpt-'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function weightsOf(m: Map<string, tf.Variable>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of m) out.set(k, (await v.data()) as Float32Array);
  return out;
}

/** Save a fresh tiny GPT policy into `dir`; returns the model (caller disposes). */
async function savePolicy(dir: string, seed = 7, meta: Record<string, unknown> = {}): Promise<GPT> {
  const lm = new GPT({ ...cfg, seed });
  await saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values', meta });
  return lm;
}

/** The error `fn` throws: a one-line message naming `file`. */
async function oneLineError(fn: () => Promise<unknown>, file: string, what: RegExp): Promise<string> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  expect(msg.startsWith(file + ':'), `"${msg}" should start with ${file}:`).toBe(true);
  expect(msg).toMatch(what);
  return msg;
}

function tmpDirsIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.includes('.tmp-') || n.includes('.old-'));
}

describe('checkpoint round trip', () => {
  it('restores weights bit for bit, the config and the meta', async () => {
    const dir = path.join(root, 'rt');
    const lm = await savePolicy(dir, 11, { round: 3, note: 'hello' });
    const loaded = await loadPolicy(dir, { tokenizerSha256: tok.sha256 });
    const a = await weightsOf(lm.namedWeights());
    const b = await weightsOf(loaded.lm.namedWeights());
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, x] of a) expect(Buffer.from(b.get(k)!.buffer, b.get(k)!.byteOffset, b.get(k)!.byteLength).equals(Buffer.from(x.buffer, x.byteOffset, x.byteLength)), k).toBe(true);
    expect(loaded.cfg.kind).toBe('policy');
    expect(loaded.cfg.model).toEqual(JSON.parse(JSON.stringify(lm.config)));
    expect(loaded.lm.maxPositions).toBe(cfg.blockSize);
    expect(loaded.cfg.meta.round).toBe(3);
    expect(loaded.cfg.meta.note).toBe('hello');
    // the same logits: the model is rebuilt with the stored config, not a default one
    const ids = tf.tensor2d([[5, 9, 200, 31]], [1, 4], 'int32');
    const l1 = lm.logits(ids).dataSync();
    const l2 = loaded.lm.logits(ids).dataSync();
    expect(Array.from(l2)).toEqual(Array.from(l1));
    ids.dispose();
    lm.dispose();
    loaded.lm.dispose();
  });

  it('copies the shipped tokenizer and records its sha256; a tampered copy is refused', async () => {
    const dir = path.join(root, 'tok');
    (await savePolicy(dir)).dispose();
    const c = readCheckpointConfig(dir);
    const copy = path.join(dir, c.tokenizer.file);
    expect(c.tokenizer.file).toBe('tokenizer.model');
    expect(fs.readFileSync(copy).equals(fs.readFileSync(DEFAULT_MODEL))).toBe(true);
    expect(c.tokenizer.sha256).toBe(sha256(DEFAULT_MODEL));
    const p = await loadPolicyAny(dir);
    expect(p.tokenizer.sha256).toBe(tok.sha256);
    expect(p.tokenizer.encode('const x = 48 / 2;')).toEqual(tok.encode('const x = 48 / 2;'));
    p.lm.dispose();
    // a different (valid) tokenizer under the same name: the sha check catches it
    fs.copyFileSync(path.join(import.meta.dirname, 'fixtures/hf-tiny/spm/tokenizer.model'), copy);
    await oneLineError(() => loadPolicyAny(dir), copy, /sha256/);
  });
});

describe('checkpoint load errors: one line naming the file and the mismatch', () => {
  let dir: string;
  beforeAll(async () => {
    dir = path.join(root, 'orig');
    (await savePolicy(dir)).dispose();
  });
  const copyOf = (name: string) => {
    const d = path.join(root, name);
    fs.cpSync(dir, d, { recursive: true });
    return d;
  };

  it('a mismatched tokenizer sha', async () => {
    const other = 'ab'.repeat(32);
    const msg = await oneLineError(() => loadPolicy(dir, { tokenizerSha256: other }), path.join(dir, 'config.json'), /tokenizer mismatch/);
    expect(msg).toContain(tok.sha256.slice(0, 12));
    expect(msg).toContain(other.slice(0, 12));
  });

  it('a weight with the wrong shape', async () => {
    const d = copyOf('shape');
    const idx = JSON.parse(fs.readFileSync(path.join(d, 'weights.json'), 'utf8')) as { name: string; shape: number[] }[];
    const e = idx.find((x) => x.name === 'h.0.mlp.fc.weight')!;
    e.shape = [e.shape[1]!, e.shape[0]!]; // same size, transposed
    fs.writeFileSync(path.join(d, 'weights.json'), JSON.stringify(idx));
    const msg = await oneLineError(() => loadPolicy(d), path.join(d, 'weights.json'), /h\.0\.mlp\.fc\.weight/);
    expect(msg).toContain('[128,32]');
    expect(msg).toContain('[32,128]');
  });

  it('a missing weight', async () => {
    const d = copyOf('missing');
    const idx = JSON.parse(fs.readFileSync(path.join(d, 'weights.json'), 'utf8')) as { name: string }[];
    fs.writeFileSync(path.join(d, 'weights.json'), JSON.stringify(idx.filter((x) => x.name !== 'ln_f.bias')));
    await oneLineError(() => loadPolicy(d), path.join(d, 'weights.json'), /ln_f\.bias missing/);
  });

  it('a wrong kind (policy as PPM, PPM as policy, unknown kind)', async () => {
    await oneLineError(() => loadPPM(dir), path.join(dir, 'config.json'), /kind is policy, expected ppm/);
    const ppmDir = path.join(root, 'a-ppm');
    const lm = new GPT({ ...cfg, seed: 3 });
    const ppm = new PPM(lm);
    await saveCheckpoint(ppmDir, lm, { kind: 'ppm', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values', extra: ppm.headWeights() });
    ppm.dispose();
    await oneLineError(() => loadPolicy(ppmDir), path.join(ppmDir, 'config.json'), /kind is ppm, expected policy/);
    const d = copyOf('kind');
    const c = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
    c.kind = 'optimizer';
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(c));
    await oneLineError(() => loadPolicy(d), path.join(d, 'config.json'), /kind is "optimizer"/);
  });

  it('a missing config.json', async () => {
    const d = copyOf('noconfig');
    fs.rmSync(path.join(d, 'config.json'));
    await oneLineError(() => loadPolicy(d), path.join(d, 'config.json'), /config\.json missing/);
    await oneLineError(() => loadPolicyAny(d), path.join(d, 'config.json'), /config\.json missing/);
    await oneLineError(() => loadPPM(d), path.join(d, 'config.json'), /config\.json missing/);
  });

  it('a truncated weights.bin', async () => {
    const d = copyOf('trunc');
    const bin = path.join(d, 'weights.bin');
    fs.truncateSync(bin, fs.statSync(bin).size - 64);
    await oneLineError(() => loadPolicy(d), bin, /truncated/);
  });
});

describe('atomic save', () => {
  it('leaves no temp folder after a successful save, and replaces an existing checkpoint whole', async () => {
    const parent = path.join(root, 'atomic-ok');
    const dir = path.join(parent, 'ckpt');
    (await savePolicy(dir, 1)).dispose();
    const first = fs.readFileSync(path.join(dir, 'weights.bin'));
    const lm2 = await savePolicy(dir, 2);
    expect(tmpDirsIn(parent)).toEqual([]);
    expect(fs.readdirSync(parent)).toEqual(['ckpt']);
    const second = fs.readFileSync(path.join(dir, 'weights.bin'));
    expect(second.equals(first)).toBe(false);
    const b = await loadPolicy(dir);
    const w = (await lm2.namedWeights().get('wte')!.data()) as Float32Array;
    expect(Array.from((await b.lm.namedWeights().get('wte')!.data()) as Float32Array)).toEqual(Array.from(w));
    lm2.dispose();
    b.lm.dispose();
  });

  it('a save that throws midway leaves the existing checkpoint intact', async () => {
    const parent = path.join(root, 'atomic-fail');
    const dir = path.join(parent, 'ckpt');
    (await savePolicy(dir, 1)).dispose();
    const before = new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
    const lm = new GPT({ ...cfg, seed: 99 });
    // the weights are written first; the tokenizer copy then fails
    await expect(
      saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: path.join(root, 'no-such-tokenizer.model'), tokenizerSha256: tok.sha256, promptNumbers: 'values' }),
    ).rejects.toThrow(/no-such-tokenizer/);
    lm.dispose();
    expect(fs.readdirSync(dir).sort()).toEqual([...before.keys()].sort());
    for (const [f, bytes] of before) expect(fs.readFileSync(path.join(dir, f)).equals(bytes), f).toBe(true);
    const ok = await loadPolicy(dir, { tokenizerSha256: tok.sha256 });
    ok.lm.dispose();
    // and the half-written temp folder is not left behind
    expect(tmpDirsIn(parent)).toEqual([]);
  });
});

describe('optimizer state', () => {
  it('AdamW state() → checkpoint → load() continues exactly like the original optimizer', async () => {
    const lm = new GPT({ ...cfg, seed: 5 });
    const params = lm.namedWeights();
    const opt = new AdamW(params, { lr: 1e-2 });
    const gradsFor = (k: number) => {
      const g = new Map<string, tf.Tensor>();
      let i = 0;
      for (const [name, p] of params) g.set(name, tf.randomNormal(p.shape, 0, 1, 'float32', 1000 * k + i++));
      return g;
    };
    for (let k = 0; k < 3; k++) {
      const g = gradsFor(k);
      opt.apply(g).dispose();
      for (const t of g.values()) t.dispose();
    }
    const dir = path.join(root, 'opt');
    await saveCheckpoint(dir, lm, { kind: 'policy', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, promptNumbers: 'values', optimizer: await opt.state() });
    const st = readOptimizerState(dir)!;
    expect(st.step).toBe(3);
    const orig = await opt.state();
    expect(Object.keys(st.m).sort()).toEqual([...params.keys()].sort());
    for (const k of params.keys()) {
      expect(Array.from(st.m[k]!)).toEqual(Array.from(orig.m[k]!));
      expect(Array.from(st.v[k]!)).toEqual(Array.from(orig.v[k]!));
    }
    // moments are not zero: the round trip above compares something
    expect(st.v['wte']!.some((x) => x > 0)).toBe(true);

    // a second model restored from the checkpoint + optimizer state takes the same next step
    const loaded = await loadPolicy(dir);
    const params2 = loaded.lm.namedWeights();
    const opt2 = new AdamW(params2, { lr: 1e-2 });
    opt2.load(st);
    expect(opt2.step).toBe(3);
    for (const o of [opt, opt2]) {
      const g = gradsFor(7);
      o.apply(g).dispose();
      for (const t of g.values()) t.dispose();
    }
    const a = await weightsOf(params);
    const b = await weightsOf(params2);
    for (const [k, x] of a) expect(Array.from(b.get(k)!), k).toEqual(Array.from(x));
    // without the moments the step differs (the state matters)
    const fresh = new AdamW(params2, { lr: 1e-2 });
    const g = gradsFor(8);
    fresh.apply(g).dispose();
    opt.apply(g).dispose();
    for (const t of g.values()) t.dispose();
    const a2 = await weightsOf(params);
    const b2 = await weightsOf(params2);
    expect(Array.from(b2.get('wte')!)).not.toEqual(Array.from(a2.get('wte')!));
    const t = readTensorFile(dir, 'optimizer');
    expect(t.size).toBe(2 * params.size);
    opt.dispose();
    opt2.dispose();
    fresh.dispose();
    lm.dispose();
    loaded.lm.dispose();
  });
});

it('CheckpointError is what load errors throw', async () => {
  await expect(loadPolicy(path.join(root, 'nowhere'))).rejects.toBeInstanceOf(CheckpointError);
});

describe('weight average of checkpoints (the loop\'s PPM-rK = mean of rounds 1..K)', () => {
  /** A PPM (GPT seed `seed`, head seed `seed`) saved in root/name with the given prompt style. */
  async function savePPM(name: string, seed: number, over: Partial<GPTConfig> = {}, promptNumbers: PromptNumbers = 'names'): Promise<string> {
    const dir = path.join(root, name);
    const lm = new GPT({ ...cfg, ...over, seed });
    const ppm = new PPM(lm, seed, { loglik: true, values: true });
    await saveCheckpoint(dir, lm, { kind: 'ppm', tokenizerFile: DEFAULT_MODEL, tokenizerSha256: tok.sha256, extra: ppm.headWeights(), promptNumbers, meta: { round: seed } });
    ppm.dispose();
    return dir;
  }

  it('every weight is the mean of the sources; loads as a PPM that scores; keeps the prompt style', async () => {
    const dirs = [await savePPM('avg-a', 1), await savePPM('avg-b', 2), await savePPM('avg-c', 3)];
    const out = path.join(root, 'avg-out');
    averageCheckpoints(dirs, out, { round: 3 });
    const src = dirs.map((d) => readTensorFile(d, 'weights'));
    const avg = readTensorFile(out, 'weights');
    expect([...avg.keys()].sort()).toEqual([...src[0]!.keys()].sort());
    expect(avg.has('ppm.head.loglik') && avg.has('ppm.head.value')).toBe(true);
    let maxErr = 0;
    let differs = 0;
    for (const [name, { data }] of avg) {
      for (let i = 0; i < data.length; i++) {
        const mean = (src[0]!.get(name)!.data[i]! + src[1]!.get(name)!.data[i]! + src[2]!.get(name)!.data[i]!) / 3;
        maxErr = Math.max(maxErr, Math.abs(data[i]! - mean));
        if (data[i] !== src[0]!.get(name)!.data[i]) differs++;
      }
    }
    expect(maxErr).toBeLessThan(1e-6);
    expect(differs).toBeGreaterThan(1000);
    const c = readCheckpointConfig(out);
    expect(c.kind).toBe('ppm');
    expect(c.meta.promptNumbers).toBe('names');
    expect(c.meta.round).toBe(3);
    expect(c.meta.averageOf).toEqual(dirs);
    const p = await loadPPM(out);
    const [s] = await p.ppm.score([p.tokenizer.encode('Tom has n0 apples.')], { values: [[0, 0, 0]] });
    expect(Number.isFinite(s) && Math.abs(s!) <= 1).toBe(true);
    p.ppm.dispose();
    expect(tmpDirsIn(root)).toEqual([]);
  });

  it('the average of one checkpoint is that checkpoint, bit for bit', async () => {
    const a = await savePPM('avg-one', 5);
    const out = path.join(root, 'avg-one-out');
    averageCheckpoints([a], out);
    expect(fs.readFileSync(path.join(out, 'weights.bin')).equals(fs.readFileSync(path.join(a, 'weights.bin')))).toBe(true);
  });

  it('refuses sources that do not match, in one line naming the file, and writes nothing', async () => {
    const a = await savePPM('avg-ok', 1);
    const wide = await savePPM('avg-wide', 2, { nEmbd: 64 });
    const values = await savePPM('avg-values', 3, {}, 'values');
    const policy = path.join(root, 'avg-policy');
    (await savePolicy(policy)).dispose();
    const out = path.join(root, 'avg-refused');
    const cases: [string[], string, RegExp][] = [
      [[a, wide], path.join(wide, 'config.json'), /model .* differs/],
      [[a, values], path.join(values, 'config.json'), /promptNumbers "values" differs/],
      [[a, policy], path.join(policy, 'config.json'), /kind policy, expected ppm/],
      [[a, path.join(root, 'nowhere')], path.join(root, 'nowhere', 'config.json'), /no checkpoint here/],
      [[], out, /nothing to average/],
    ];
    for (const [dirs, file, what] of cases) {
      await oneLineError(async () => averageCheckpoints(dirs, out), file, what);
      expect(fs.existsSync(out)).toBe(false);
    }
    expect(tmpDirsIn(root)).toEqual([]);
  });
});
