// The training loop shared by SFT (policy) and PPM training: AdamW, warm-up + cosine, clipping,
// periodic dev evaluation with the best checkpoint kept, a resumable `last` checkpoint with optimizer
// state, progress (step, loss, tokens/s, ETA) and metrics as JSONL.
//
// Resumability: batch k of the run is a pure function of (seed, k), so a resumed run that restores
// weights + optimizer moments + step continues exactly where the checkpoint left off.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, lrAt, type AdamWConfig } from './optim.ts';
import { Progress } from '../util/progress.ts';
import { readJson, writeFileAtomic } from '../util/fsx.ts';
import { readOptimizerState } from '../model/checkpoint.ts';

export interface LoopOptions {
  out: string;
  steps: number;
  lr: number;
  minLr?: number;
  warmup?: number;
  weightDecay?: number;
  clip?: number;
  /** Per-parameter learning-rate multipliers (AdamWConfig.lrScale). */
  lrScale?: Record<string, number>;
  evalEvery: number;
  /** Save `last` (for --resume) every this many steps; default = evalEvery. */
  saveEvery?: number;
  resume?: boolean;
  label: string;
  /** Lower is better unless `higherIsBetter`. */
  higherIsBetter?: boolean;
  quiet?: boolean;
}

export interface LoopHooks<B> {
  params: Map<string, tf.Variable>;
  batch(step: number): B;
  /** Tokens in a batch (for tokens/s). */
  tokens(b: B): number;
  /** Loss (and optional extra scalars) for a batch; called inside variableGrads. */
  loss(b: B): tf.Scalar;
  /** Optional: replaces local gradient computation (data-parallel workers). */
  grads?(b: B): Promise<{ loss: number; grads: Map<string, tf.Tensor> }>;
  /** Free a batch's tensors after its step. */
  dispose?(b: B): void;
  /** Dev metric (e.g. dev loss, pair accuracy) + anything to log. */
  evaluate(): Promise<{ metric: number; [k: string]: number }>;
  save(dir: string, meta: Record<string, unknown>, optimizer?: Awaited<ReturnType<AdamW['state']>>): Promise<void>;
  /** Restore weights from a `last` checkpoint dir (resume). */
  restore(dir: string): Promise<void>;
}

export interface LoopResult {
  steps: number;
  firstMetric: number;
  bestMetric: number;
  lastMetric: number;
  bestStep: number;
  tokensPerSec: number;
  resumedFrom: number;
}

interface LoopState {
  step: number;
  firstMetric: number;
  bestMetric: number;
  bestStep: number;
  lastMetric: number;
}

/** The loop state of a `last` checkpoint: loop-state.json, else the copy in config.json's meta. */
function savedLoopState(lastDir: string): LoopState | null {
  const file = path.join(lastDir, 'loop-state.json');
  if (fs.existsSync(file)) return readJson<LoopState>(file);
  // killed between the checkpoint's rename and the loop-state.json write
  const cfg = path.join(lastDir, 'config.json');
  if (!fs.existsSync(cfg)) return null;
  return readJson<{ meta?: { loopState?: LoopState } }>(cfg).meta?.loopState ?? null;
}

export async function runLoop<B>(o: LoopOptions, h: LoopHooks<B>): Promise<LoopResult> {
  fs.mkdirSync(o.out, { recursive: true });
  const lastDir = path.join(o.out, 'last');
  const bestDir = path.join(o.out, 'best');
  const metricsFile = path.join(o.out, 'metrics.jsonl');
  const cfg: Partial<AdamWConfig> = { lr: o.lr, weightDecay: o.weightDecay ?? 0.1, clip: o.clip ?? 1.0, lrScale: o.lrScale };
  const opt = new AdamW(h.params, cfg);
  // no dev set (NaN metric): every evaluation counts as the best, i.e. best = latest
  const better = (a: number, b: number) => Number.isNaN(a) || (o.higherIsBetter ? a > b : a < b);
  let st: LoopState = { step: 0, firstMetric: NaN, bestMetric: o.higherIsBetter ? -Infinity : Infinity, bestStep: -1, lastMetric: NaN };

  const saved = o.resume ? savedLoopState(lastDir) : null;
  if (saved) {
    st = saved;
    await h.restore(lastDir);
    const os = readOptimizerState(lastDir);
    if (os) opt.load(os);
    // metrics logged after the checkpoint belong to steps that will run again: drop them
    if (fs.existsSync(metricsFile)) {
      const kept = fs.readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l && (JSON.parse(l) as { step: number }).step <= st.step);
      writeFileAtomic(metricsFile, kept.map((l) => l + '\n').join(''));
    }
    if (!o.quiet) console.error(`${o.label}: resumed at step ${st.step}/${o.steps} from ${lastDir}`);
  } else {
    // nothing to resume from: a fresh run, whose metrics must not follow an earlier attempt's
    fs.rmSync(metricsFile, { force: true });
  }
  const resumedFrom = st.step;
  const log = (rec: Record<string, unknown>) => fs.appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
  const sched = { lr: o.lr, minLr: o.minLr ?? o.lr / 10, warmup: o.warmup ?? Math.min(100, Math.ceil(o.steps / 20)), total: o.steps };

  const evalAndSave = async (step: number) => {
    const ev = await h.evaluate();
    st.lastMetric = ev.metric;
    if (Number.isNaN(st.firstMetric)) st.firstMetric = ev.metric;
    log({ step, kind: 'eval', ...ev });
    if (better(ev.metric, st.bestMetric)) {
      st.bestMetric = ev.metric;
      st.bestStep = step;
      await h.save(bestDir, { step, metric: ev.metric });
    }
    return ev;
  };
  const saveLast = async () => {
    // the loop state also goes into the checkpoint's meta, so it is saved atomically with the weights
    await h.save(lastDir, { step: st.step, loopState: st }, await opt.state());
    writeFileAtomic(path.join(lastDir, 'loop-state.json'), JSON.stringify(st) + '\n');
  };

  if (st.step === 0 && Number.isNaN(st.firstMetric)) await evalAndSave(0);
  const prog = o.quiet ? null : new Progress({ label: o.label, total: o.steps, unit: 'step', start: st.step });
  const t0 = Date.now();
  let toks = 0;
  let emaLoss = NaN;
  while (st.step < o.steps) {
    const b = h.batch(st.step);
    const lr = lrAt(st.step, sched);
    let lossVal: number;
    if (h.grads) {
      const g = await h.grads(b);
      lossVal = g.loss;
      opt.apply(g.grads, lr).dispose();
      for (const t of g.grads.values()) t.dispose();
    } else {
      const names = new Map([...h.params].map(([n, v]) => [v.name, n]));
      const { value, grads } = tf.variableGrads(() => h.loss(b), [...h.params.values()]);
      const named = new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, g]));
      opt.apply(named, lr).dispose();
      lossVal = (await value.data())[0]!;
      value.dispose();
      for (const g of named.values()) g.dispose();
    }
    st.step += 1;
    toks += h.tokens(b);
    h.dispose?.(b);
    emaLoss = Number.isNaN(emaLoss) ? lossVal : 0.9 * emaLoss + 0.1 * lossVal;
    const secs = (Date.now() - t0) / 1000;
    log({ step: st.step, kind: 'train', loss: lossVal, lr, tokPerSec: secs > 0 ? toks / secs : 0 });
    prog?.tick(1, `loss ${emaLoss.toFixed(4)} lr ${lr.toExponential(2)} ${(toks / Math.max(secs, 1e-9)).toFixed(0)} tok/s`);
    if (st.step % o.evalEvery === 0 || st.step === o.steps) {
      const ev = await evalAndSave(st.step);
      prog?.set(`dev ${ev.metric.toFixed(4)} best ${st.bestMetric.toFixed(4)}@${st.bestStep}`);
    }
    if (st.step % (o.saveEvery ?? o.evalEvery) === 0 || st.step === o.steps) await saveLast();
  }
  prog?.finish();
  const secs = (Date.now() - t0) / 1000;
  opt.dispose();
  return {
    steps: st.step,
    firstMetric: st.firstMetric,
    bestMetric: st.bestMetric,
    lastMetric: st.lastMetric,
    bestStep: st.bestStep,
    tokensPerSec: secs > 0 ? toks / secs : 0,
    resumedFrom,
  };
}
