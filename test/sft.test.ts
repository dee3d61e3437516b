// SFT: the loss mask, length-bucketed batches, the per-epoch batch order, dev loss going down, and
// `train-policy --resume` after a SIGKILL continuing exactly like an uninterrupted run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { finish } from './child.ts';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { Tokenizer } from '../src/model/tokenizer.ts';
import { loadPolicy, readCheckpointConfig } from '../src/model/checkpoint.ts';
import { loadPolicyAny, promptNumbersAt } from '../src/model/load.ts';
import { promptFor, serializeStep } from '../src/data/steps.ts';
import {
  batchAt, bucketBatches, capPerSource, devLoss, mixBySource, mixKey, parseMix, repeatMatching, disposeBatch, encodeExamples, makeBatch, readSFTFile, trainPolicy, type SFTExample,
} from '../src/train/sft.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(REPO, 'src/cli.ts');
let tok: Tokenizer;
let root: string;

beforeAll(async () => {
  await setupBackend('wasm');
  tok = await Tokenizer.load();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-sft-'));
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Small arithmetic word problems with two-step solutions; `n` of them, varied lengths. */
function problems(n: number, offset = 0): { question: string; steps: string[] }[] {
  return Array.from({ length: n }, (_, j) => {
    const i = j + offset;
    const a = 3 + ((i * 7) % 40);
    const b = 2 + ((i * 11) % 30);
    const who = ['Tom', 'Ana', 'Li', 'Sofia', 'Ben'][i % 5]!;
    const pad = ' He keeps them in a box.'.repeat(i % 4);
    return {
      question: `${who} has ${a} apples and buys ${b} more.${pad} How many apples does ${who} have?`,
      steps: [
        serializeStep({ comment: [`${who} starts with ${a} apples.`], code: `const start = ${a};` }, false),
        serializeStep({ comment: [`Add the ${b} new apples.`], code: `const total = start + ${b};\nprint(total);` }, true),
      ],
    };
  });
}

const examples = (ps: { question: string; steps: string[] }[]): SFTExample[] =>
  ps.map((p, i) => ({ id: `p${i}`, question: p.question, solution: p.steps.join('') }));

function writeJsonl(name: string, rows: unknown[]): string {
  const f = path.join(root, name);
  fs.writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

describe('SFT batches', () => {
  it('the loss mask covers exactly the solution tokens', () => {
    const xs = examples(problems(5));
    const { enc, dropped } = encodeExamples(tok, xs, 256, 'values');
    expect(dropped).toBe(0);
    const b = makeBatch(enc, enc.map((_, i) => i));
    const [B, T] = b.ids.shape;
    const ids = b.ids.dataSync();
    const tg = b.targets.dataSync();
    const mask = b.mask.dataSync();
    for (let r = 0; r < B; r++) {
      const e = enc[r]!;
      const prompt = tok.encode(promptFor(xs[r]!.question, 'values'));
      const sol = tok.encode(xs[r]!.solution);
      expect(e.promptLen).toBe(prompt.length);
      expect(e.ids).toEqual([...prompt, ...sol]);
      const masked: number[] = [];
      for (let t = 0; t < T; t++) {
        if (mask[r * T + t]) masked.push(tg[r * T + t]!);
        // inputs are the sequence, targets the sequence shifted by one
        if (t < e.ids.length - 1) {
          expect(ids[r * T + t]).toBe(e.ids[t]);
          expect(tg[r * T + t]).toBe(e.ids[t + 1]);
        }
      }
      // the masked targets are the solution, all of it, and nothing else
      expect(masked).toEqual(sol);
      expect(tok.decode(masked)).toBe(tok.decode(sol));
      // the first masked position predicts the first solution token from the last prompt token
      expect(mask[r * T + e.promptLen - 2]).toBe(0);
      expect(mask[r * T + e.promptLen - 1]).toBe(1);
    }
    disposeBatch(b);
  });

  it('drops examples longer than the context instead of truncating them', () => {
    const xs = examples(problems(6));
    const lens = encodeExamples(tok, xs, 10_000, 'values').enc.map((e) => e.ids.length);
    const cut = [...lens].sort((a, b) => a - b)[3]! - 1;
    const { enc, dropped } = encodeExamples(tok, xs, cut, 'values');
    expect(dropped).toBe(lens.filter((n) => n > cut + 1).length);
    expect(enc.length + dropped).toBe(xs.length);
    for (const e of enc) expect(e.ids.length).toBeLessThanOrEqual(cut + 1);
  });

  it('bucketBatches respects the token budget and covers every example once', () => {
    const { enc } = encodeExamples(tok, examples(problems(40)), 256, 'values');
    for (const budget of [256, 512, 1000]) {
      const batches = bucketBatches(enc, budget, 7);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(enc.map((_, i) => i));
      for (const rows of batches) {
        const b = makeBatch(enc, rows);
        // the padded batch as the trainer builds it
        expect(b.ids.shape[0] * b.ids.shape[1]).toBeLessThanOrEqual(budget);
        disposeBatch(b);
      }
      // bucketing: batches hold similar lengths (sorted), so few padded tokens
      expect(batches.length).toBeGreaterThan(1);
    }
  });

  it('batchAt is deterministic and visits every batch once per epoch', () => {
    const { enc } = encodeExamples(tok, examples(problems(40)), 256, 'values');
    const batches = bucketBatches(enc, 256, 3);
    const n = batches.length;
    expect(n).toBeGreaterThanOrEqual(4);
    const orders: string[] = [];
    for (let e = 0; e < 3; e++) {
      const seen = Array.from({ length: n }, (_, k) => batches.indexOf(batchAt(batches, e * n + k, 99)));
      expect([...seen].sort((a, b) => a - b)).toEqual(batches.map((_, i) => i));
      orders.push(seen.join(','));
      // a pure function of (step, seed)
      for (let k = 0; k < n; k++) expect(batchAt(batches, e * n + k, 99)).toBe(batchAt(batches, e * n + k, 99));
    }
    // epochs are shuffled differently, and so are seeds
    expect(new Set(orders).size).toBeGreaterThan(1);
    const other = Array.from({ length: n }, (_, k) => batches.indexOf(batchAt(batches, k, 100))).join(',');
    expect(other).not.toBe(orders[0]);
  });

  it('readSFTFile reads {question, steps[]} and names file:line on a bad line', async () => {
    const ps = problems(3);
    const good = writeJsonl('good.jsonl', ps);
    const xs = await readSFTFile(good);
    expect(xs.map((x) => x.solution)).toEqual(ps.map((p) => p.steps.join('')));
    const bad = path.join(root, 'bad.jsonl');
    fs.writeFileSync(bad, [JSON.stringify(ps[0]), JSON.stringify(ps[1]), '{"question": "no steps"}'].join('\n'));
    await expect(readSFTFile(bad)).rejects.toThrow(`${bad}:3:`);
  });
});

describe('trainPolicy', () => {
  it('lowers the dev loss on a tiny set, keeps best/ and writes one metrics line per step', async () => {
    const out = path.join(root, 'train');
    const train = examples(problems(24));
    const dev = examples(problems(6, 100));
    const r = await trainPolicy(train, dev, {
      out, steps: 16, evalEvery: 8, lr: 3e-3, batchTokens: 1024, seed: 5, quiet: true,
      model: { blockSize: 128, nLayer: 1, nHead: 2, nEmbd: 32 },
    });
    expect(r.steps).toBe(16);
    expect(r.train).toBe(24);
    expect(r.dev).toBe(6);
    expect(r.bestMetric).toBeLessThan(r.firstMetric - 0.2);
    // best/ holds the weights that scored bestMetric
    const best = await loadPolicy(r.bestDir);
    // a new policy's prompts name the numbers without their values, and its checkpoint says so
    expect(best.cfg.meta.promptNumbers).toBe('names');
    expect(encodeExamples(tok, dev, 128, 'names').enc[0]!.ids).not.toEqual(encodeExamples(tok, dev, 128, 'values').enc[0]!.ids);
    const { enc } = encodeExamples(tok, dev, 128, 'names');
    expect(await devLoss(best.lm, enc, 1024)).toBeCloseTo(r.bestMetric, 4);
    expect(best.cfg.meta.step).toBe(r.bestStep);
    best.lm.dispose();
    const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(metrics.filter((m) => m.kind === 'eval').map((m) => m.step)).toEqual([0, 8, 16]);

    // format @2 requires the field: one line naming the file, no silent default
    const bare = path.join(root, 'bare-policy');
    fs.cpSync(r.bestDir, bare, { recursive: true });
    const bareCfg = JSON.parse(fs.readFileSync(path.join(bare, 'config.json'), 'utf8'));
    expect(bareCfg.format).toBe('rstar-ts/checkpoint@2');
    delete bareCfg.meta.promptNumbers;
    fs.writeFileSync(path.join(bare, 'config.json'), JSON.stringify(bareCfg));
    expect(() => promptNumbersAt(bare)).toThrow(`${path.join(bare, 'config.json')}: meta.promptNumbers: expected "values" or "names", got undefined`);
    // a format @1 checkpoint without the field is an older one, trained on prompts with values;
    // fine-tuning keeps the init's style, and asking for another one is refused
    const old = path.join(root, 'old-policy');
    fs.cpSync(r.bestDir, old, { recursive: true });
    const cfgFile = path.join(old, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    cfg.format = 'rstar-ts/checkpoint@1';
    delete cfg.meta.promptNumbers;
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const h = await loadPolicyAny(old);
    expect(h.promptNumbers).toBe('values');
    expect(promptNumbersAt(old)).toBe('values');
    expect(promptNumbersAt(r.bestDir)).toBe('names');
    expect(promptNumbersAt('hf:/no/such/folder')).toBe('names'); // pretrained models read names, no file needed
    h.lm.dispose();
    const small = { steps: 2, evalEvery: 2, batchTokens: 1024, quiet: true };
    await expect(trainPolicy(train, dev, { ...small, out: path.join(root, 'ft-bad'), init: old, promptNumbers: 'names' })).rejects.toThrow(/trained with prompt numbers "values", not "names"/);
    const ft = await trainPolicy(train, dev, { ...small, out: path.join(root, 'ft'), init: old });
    expect(readCheckpointConfig(ft.bestDir).meta.promptNumbers).toBe('values');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, meta: { ...cfg.meta, promptNumbers: 'digits' } }));
    await expect(loadPolicyAny(old)).rejects.toThrow(`${cfgFile}: meta.promptNumbers: expected "values" or "names", got "digits"`);
    expect(() => promptNumbersAt(old)).toThrow(`${cfgFile}: meta.promptNumbers: expected "values" or "names", got "digits"`);
  });

});

// ---------------------------------------------------------------------------------------------------
// --resume after SIGKILL

const STEPS = 12;
const EVERY = 4;

function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' } });
}

interface Metric {
  step: number;
  kind: 'train' | 'eval';
  loss?: number;
  metric?: number;
}
const readMetrics = (dir: string): Metric[] =>
  fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Metric);
const trainSteps = (ms: Metric[]) => ms.filter((m) => m.kind === 'train').map((m) => m.step);
const loopStep = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'last', 'loop-state.json'), 'utf8')) as { step: number }).step;

describe('train-policy --resume', () => {
  let data: string;
  let devData: string;
  const args = (out: string) => [
    'train-policy', '--out', out, '--data', data, '--dev-data', devData, '--steps', String(STEPS), '--eval-every', String(EVERY),
    '--backend', 'wasm', '--layers', '1', '--width', '32', '--heads', '2', '--context', '128', '--batch-tokens', '512',
    '--dropout', '0.1', // seeded masks: a resumed run still equals the uninterrupted one
  ];

  beforeAll(() => {
    data = writeJsonl('train.jsonl', problems(20));
    devData = writeJsonl('dev.jsonl', problems(4, 50));
  });

  it('SIGKILL after the first checkpoint, then --resume: same steps, same metrics, same final weights', async () => {
    const whole = path.join(root, 'whole');
    const cut = path.join(root, 'cut');
    const ref = finish(runCli(args(whole))); // the uninterrupted run, alongside
    const a = runCli(args(cut));
    const aDone = finish(a);
    const state = path.join(cut, 'last', 'loop-state.json');
    const t0 = Date.now();
    while (!fs.existsSync(state) && a.exitCode === null && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
    a.kill('SIGKILL');
    const killed = await aDone;
    expect(killed.signal, `the first run ended on its own:\n${killed.stderr}`).toBe('SIGKILL');
    const ckpt = loopStep(cut);
    expect(ckpt % EVERY).toBe(0);
    expect(ckpt).toBeGreaterThanOrEqual(EVERY);
    expect(ckpt).toBeLessThan(STEPS);
    const beforeResume = readMetrics(cut);
    fs.cpSync(cut, path.join(root, 'snapshot'), { recursive: true }); // for the next test

    const b = await finish(runCli([...args(cut), '--resume']));
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain(`resumed at step ${ckpt}/${STEPS}`);
    expect(JSON.parse(b.stdout.trim().split('\n').at(-1)!).steps).toBe(STEPS);
    const w = await ref;
    expect(w.code, w.stderr).toBe(0);

    const ms = readMetrics(cut);
    const wholeMs = readMetrics(whole);
    // each train step exactly once, and the same evaluations as the uninterrupted run
    expect(trainSteps(ms)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(ms.filter((m) => m.kind === 'eval').map((m) => m.step)).toEqual(wholeMs.filter((m) => m.kind === 'eval').map((m) => m.step));
    // nothing before the checkpoint ran again: those lines are the killed run's, kept as they were
    const kept = beforeResume.filter((m) => m.step <= ckpt);
    expect(ms.slice(0, kept.length)).toEqual(kept);
    expect(ms[kept.length]).toMatchObject({ kind: 'train', step: ckpt + 1 });
    // losses step by step and dev metrics equal the uninterrupted run's
    const loss = (xs: Metric[]) => xs.filter((m) => m.kind === 'train').map((m) => m.loss);
    const dev = (xs: Metric[]) => xs.filter((m) => m.kind === 'eval').map((m) => m.metric);
    expect(loss(ms)).toEqual(loss(wholeMs));
    expect(dev(ms)).toEqual(dev(wholeMs));
    // final weights: bit-identical
    const wa = fs.readFileSync(path.join(cut, 'last', 'weights.bin'));
    const wb = fs.readFileSync(path.join(whole, 'last', 'weights.bin'));
    expect(wa.length).toBe(wb.length);
    expect(wa.equals(wb)).toBe(true);
    expect(fs.readFileSync(path.join(cut, 'last', 'optimizer.bin')).equals(fs.readFileSync(path.join(whole, 'last', 'optimizer.bin')))).toBe(true);
    expect(fs.readFileSync(path.join(cut, 'best', 'weights.bin')).equals(fs.readFileSync(path.join(whole, 'best', 'weights.bin')))).toBe(true);
  }, 120_000);

  it('resumes from the checkpoint even when killed before loop-state.json was written', async () => {
    // the window between the checkpoint's rename and the loop-state.json write: the same killed run,
    // without loop-state.json (the loop state is also in last/config.json's meta)
    const dir = path.join(root, 'snapshot');
    const whole = path.join(root, 'whole');
    const ckpt = loopStep(dir);
    fs.rmSync(path.join(dir, 'last', 'loop-state.json'));
    // metrics of steps after the checkpoint already logged (as by a run killed a bit later)
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify({ step: ckpt + 1, kind: 'train', loss: 1 }) + '\n');
    const b = await finish(runCli([...args(dir), '--resume']));
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain(`resumed at step ${ckpt}/${STEPS}`);
    expect(trainSteps(readMetrics(dir))).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(fs.readFileSync(path.join(dir, 'last', 'weights.bin')).equals(fs.readFileSync(path.join(whole, 'last', 'weights.bin')))).toBe(true);
  }, 120_000);

  it('--resume with no checkpoint starts afresh and drops stale metrics', async () => {
    const dir = path.join(root, 'nolast');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify({ step: 3, kind: 'train', loss: 9 }) + '\n');
    const r = await trainPolicy(examples(problems(8)), [], {
      out: dir, steps: 2, evalEvery: 2, resume: true, quiet: true, batchTokens: 512,
      model: { blockSize: 128, nLayer: 1, nHead: 2, nEmbd: 32 },
    });
    expect(r.resumedFrom).toBe(0);
    expect(trainSteps(readMetrics(dir))).toEqual([1, 2]);
  });
});

describe('capPerSource', () => {
  const rows = [
    ...Array.from({ length: 40 }, (_, i) => ({ source: 'deepmind', problemId: `d${i}`, k: 0 })),
    ...Array.from({ length: 10 }, (_, i) => [0, 1].map((k) => ({ source: 'gsm8k', problemId: `g${i}`, k }))).flat(),
  ];
  it('keeps a seeded choice of problems per source, with all of each kept problem\'s trajectories, in input order', () => {
    const c = capPerSource(rows, { deepmind: 5, '*': 'all' }, 1);
    expect(c.filter((r) => r.source === 'deepmind')).toHaveLength(5);
    expect(c.filter((r) => r.source === 'gsm8k')).toHaveLength(20);
    expect(c).toEqual(rows.filter((r) => c.includes(r)));
    // not the first five: a seeded choice, the same for the same seed and any input order
    expect(c.filter((r) => r.source === 'deepmind').map((r) => r.problemId)).not.toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect(new Set(capPerSource([...rows].reverse(), { deepmind: 5 }, 1).map((r) => r.problemId))).toEqual(new Set(c.map((r) => r.problemId)));
    const g = capPerSource(rows, 3, 1).filter((r) => r.source === 'gsm8k');
    expect(g).toHaveLength(6);
    expect(new Set(g.map((r) => r.problemId)).size).toBe(3);
    expect(capPerSource(rows, 'all', 1)).toEqual(rows);
  });
});

describe('mixBySource', () => {
  // GSM8K-like long trajectories dominate by size; the mix gives each family its share of characters
  const row = (source: string, problemId: string, len: number, k = 0) => ({ source, problemId, question: 'q'.repeat(10), steps: ['s'.repeat(len - 10)], k });
  const rows = [
    ...Array.from({ length: 20 }, (_, i) => row('gsm8k', `g${i}`, 600)),
    ...Array.from({ length: 30 }, (_, i) => [0, 1].map((k) => row('mawps', `m${i}`, 100, k))).flat(),
    ...Array.from({ length: 30 }, (_, i) => row(`mawps-synth-${['rate', 'chain'][i % 2]}`, `s${i}`, 150)),
  ];
  const chars = (rs: typeof rows) => rs.reduce((a, r) => a + r.question.length + r.steps[0]!.length, 0);
  const share = (rs: typeof rows, f: (s: string) => boolean) => chars(rs.filter((r) => f(r.source))) / chars(rs);
  it('gives each key its share of the characters, the total kept, whole problems, a family prefix covering its sources', () => {
    const m = mixBySource(rows, { gsm8k: 0.1, mawps: 0.6, 'mawps-synth': 0.3 }, 7);
    expect(share(rows, (s) => s === 'gsm8k')).toBeGreaterThan(0.5);
    expect(share(m, (s) => s === 'gsm8k')).toBeCloseTo(0.1, 1);
    expect(share(m, (s) => s === 'mawps')).toBeCloseTo(0.6, 1);
    expect(share(m, (s) => s.startsWith('mawps-synth'))).toBeCloseTo(0.3, 1);
    expect(Math.abs(chars(m) - chars(rows)) / chars(rows)).toBeLessThan(0.05);
    // MAWPS is upsampled: every problem at least once, each with both its trajectories, as often
    const times = new Map<string, number>();
    for (const r of m.filter((r) => r.source === 'mawps')) times.set(`${r.problemId}/${r.k}`, (times.get(`${r.problemId}/${r.k}`) ?? 0) + 1);
    expect(times.size).toBe(60);
    for (let i = 0; i < 30; i++) expect(times.get(`m${i}/0`)).toBe(times.get(`m${i}/1`));
    // GSM8K downsampled to a seeded choice, not its first problems; the same for the same seed
    const g = m.filter((r) => r.source === 'gsm8k').map((r) => r.problemId);
    expect(g.length).toBeLessThan(20);
    expect(g).not.toEqual(Array.from({ length: g.length }, (_, i) => `g${i}`));
    expect(mixBySource(rows, { gsm8k: 0.1, mawps: 0.6, 'mawps-synth': 0.3 }, 7)).toEqual(m);
    expect(mixBySource(rows, { gsm8k: 0.1, mawps: 0.6, 'mawps-synth': 0.3 }, 8)).not.toEqual(m);
  });
  it('weights are relative over the keys present; 0 drops a key; * covers the rest; an uncovered source is an error', () => {
    // mawps covers mawps-synth-*; * and deepmind have no rows, so mawps is all
    const m = mixBySource(rows, { gsm8k: 0, mawps: 1, '*': 1, deepmind: 5 }, 1);
    expect(m.some((r) => r.source === 'gsm8k')).toBe(false);
    expect(m.filter((r) => r.source.startsWith('mawps-synth'))).not.toHaveLength(0);
    const star = mixBySource(rows, { gsm8k: 1, '*': 3 }, 1);
    expect(share(star, (s) => s === 'gsm8k')).toBeCloseTo(0.25, 1);
    expect(mixKey('mawps-synth-rate', { mawps: 1, 'mawps-synth': 1 })).toBe('mawps-synth');
    expect(mixKey('mawpsx', { mawps: 1 })).toBeUndefined();
    expect(() => mixBySource(rows, { mawps: 1 }, 1)).toThrow(/source gsm8k falls under no key/);
    expect(() => mixBySource(rows, { mawps: 0, gsm8k: 0, '*': 0 }, 1)).toThrow(/weight 0/);
  });
  it('parseMix reads key=weight pairs and refuses the rest', () => {
    expect(parseMix('mawps=0.3,mawps-synth=.2, deepmind=1, *=0')).toEqual({ mawps: 0.3, 'mawps-synth': 0.2, deepmind: 1, '*': 0 });
    for (const bad of ['mawps', 'mawps=-1', 'mawps=x', 'mawps=1,mawps=2', 'mawps=0', '']) expect(parseMix(bad), bad).toBeNull();
  });
});

describe('repeatMatching', () => {
  it('repeats the examples of the named path segments, whole segments only, the rest once', () => {
    const rows = ['dmtrain/train-easy/measurement__conversion/0', 'dmtrain/train-hard/measurement__time/1', 'dmtrain/train-easy/measurement__conversion_x/2', 'gsm8k/3'].map((id) => ({ id }));
    const r = repeatMatching(rows, { measurement__conversion: 3, measurement__time: 1 });
    expect(r.map((x) => x.id)).toEqual([...rows.map((x) => x.id), rows[0]!.id, rows[0]!.id]);
    expect(repeatMatching(rows, {})).toEqual(rows);
  });
});
