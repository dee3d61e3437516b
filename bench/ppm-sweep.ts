// PPM sweep (issue #5): reproduces the round-4 PPM train / held-out split of `self-evolve` exactly
// (MCTS pairs of rounds 1-4, deduplicated, split by problem with splitPairs; + as many corrupted-step
// pairs of non-held-out problems), then measures held-out MCTS pair accuracy of
//
//   data       label ceiling: held-out pairs whose pos/neg step text or code is identical, Q gaps, ...
//   baseline   the policy's mean / sum token log-prob of the candidate step given question + prefix
//   probe      frozen backbone: last-token hidden states computed once, the linear + tanh head trained
//              on them with the pairwise loss (fast; one RESULT per head config)
//   train      trainPPM (full fine-tune or frozen backbone) with the given options
//
// One `RESULT {json}` line per configuration on stdout. Examples:
//   node --import tsx bench/ppm-sweep.ts data
//   node --import tsx bench/ppm-sweep.ts baseline
//   node --import tsx bench/ppm-sweep.ts probe
//   node --import tsx bench/ppm-sweep.ts train --lr 1.5e-4 --steps 600 --mcts-only
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../src/model/backends/backend.ts';
import { readPairs, readTrajectories, type PairRow, type TrajectoryRow } from '../src/data/arrow.ts';
import { parseStep } from '../src/data/steps.ts';
import { loadPolicyAny, promptNumbersAt } from '../src/model/load.ts';
import { corruptionPairs } from '../src/train/pairs.ts';
import { splitPairs, trainPPM, type TrainPPMOptions } from '../src/train/ppm.ts';
import { dedupe, dedupePairs } from '../src/data/arrow.ts';
import { hash32, mulberry32, shuffle } from '../src/util/rng.ts';

// ------------------------------------------------------------------------------------------------
// args

const argv = process.argv.slice(2);
const mode = argv[0] ?? 'data';
function arg(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const flag = (name: string) => argv.includes(`--${name}`);
const num = (name: string, d: number) => (arg(name) !== undefined ? Number(arg(name)) : d);

const RUN = arg('run') ?? 'runs/default';
const K = num('round', 4);
const SEED = num('seed', 1234); // run.json of runs/default
const POLICY = arg('policy') ?? path.join(RUN, `round-${K}`, 'policy');

const result = (o: Record<string, unknown>) => console.log(`RESULT ${JSON.stringify(o)}`);

// ------------------------------------------------------------------------------------------------
// the round-K split, exactly as src/train/self-evolve.ts builds it for PPM-rK

export function roundSplit(run = RUN, k = K, seed = SEED) {
  const allPairs = dedupePairs(Array.from({ length: k }, (_, j) => readPairs(path.join(run, `round-${j + 1}`, 'pairs.arrow'))).flat());
  const { train: mctsTrain, dev: held } = splitPairs(allPairs);
  const heldIds = new Set(held.map((p) => p.problemId));
  const sft = readTrajectories(path.join(run, `round-${k}`, 'sft.arrow'));
  const bootTrain = readTrajectories(path.join(run, 'round-0', 'bootstrap-train.arrow'));
  const policy = path.join(run, `round-${k}`, 'policy');
  const extra = corruptionPairs(dedupe([...sft, ...bootTrain]).filter((t) => !heldIds.has(t.problemId)), { seed: seed + k, round: k, numbers: promptNumbersAt(policy) });
  const corrupted = extra.slice(0, Math.max(mctsTrain.length, 1000));
  return { mctsTrain, held, corrupted, train: [...mctsTrain, ...corrupted] };
}

const codeKey = (s: string) => {
  const st = parseStep(s);
  return st ? st.code.replace(/\s+/g, '') : s;
};
/** Code with identifiers renamed in order of appearance (v0, v1, ...): same computation, other names. */
const codeShape = (s: string) => {
  const c = codeKey(s);
  const names = new Map<string, string>();
  const kw = new Set(['const', 'let', 'var', 'print', 'Math', 'return', 'n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
  return c.replace(/[A-Za-z_$][\w$]*/g, (w) => (kw.has(w) || /^Math\./.test(w) ? w : (names.get(w) ?? (names.set(w, `v${names.size}`), `v${names.size - 1}`))));
};

// ------------------------------------------------------------------------------------------------
// modes

async function modeData(): Promise<void> {
  const s = roundSplit();
  const h = s.held;
  const share = (f: (p: PairRow) => boolean) => h.filter(f).length;
  const heldProblems = new Set(h.map((p) => p.problemId)).size;
  const sameText = share((p) => p.positive === p.negative);
  const sameCode = share((p) => codeKey(p.positive) === codeKey(p.negative));
  const sameShape = share((p) => codeShape(p.positive) === codeShape(p.negative));
  // a step that is the positive of one held-out pair and the negative of another after the same prefix
  const posSet = new Set(h.map((p) => p.prefix + '\u0000' + p.positive));
  const contradict = share((p) => posSet.has(p.prefix + '\u0000' + p.negative));
  const posCodeSet = new Set(h.map((p) => p.prefix + '\u0000' + codeKey(p.positive)));
  const contradictCode = share((p) => posCodeSet.has(p.prefix + '\u0000' + codeKey(p.negative)));
  const term = (x: string) => x.includes('<end_of_solution>');
  const trivial = {
    longerWins: share((p) => p.positive.length > p.negative.length) / h.length,
    shorterWins: share((p) => p.positive.length < p.negative.length) / h.length,
    posTerminal: share((p) => term(p.positive)) / h.length,
    negTerminal: share((p) => term(p.negative)) / h.length,
    nonTerminalWins: share((p) => !term(p.positive) && term(p.negative)) / h.length,
    terminalWins: share((p) => term(p.positive) && !term(p.negative)) / h.length,
  };
  const trainSameCode = s.mctsTrain.filter((p) => codeKey(p.positive) === codeKey(p.negative)).length;
  const qgap = h.map((p) => p.qPos - p.qNeg).sort((a, b) => a - b);
  const byRound = [1, 2, 3, 4].map((r) => h.filter((p) => p.round === r).length);
  result({
    mode: 'data', trainPairs: s.train.length, mctsTrainPairs: s.mctsTrain.length, corruptedPairs: s.corrupted.length,
    heldOutMctsPairs: h.length, heldOutProblems: heldProblems, heldByRound: byRound,
    heldSameText: sameText, heldSameCode: sameCode, heldSameCodeUpToNames: sameShape,
    heldContradictedText: contradict, heldContradictedCode: contradictCode,
    ceilingSameCode: 1 - sameCode / h.length / 2, ceilingSameShape: 1 - sameShape / h.length / 2,
    trainSameCode, trainSameCodeShare: trainSameCode / s.mctsTrain.length,
    qGapMedian: qgap[Math.floor(qgap.length / 2)], qGapP10: qgap[Math.floor(qgap.length * 0.1)],
    trivial,
  });
  if (flag('show')) {
    for (const p of h.slice(0, num('show', 8))) console.log(`--- ${p.problemId} q+ ${p.qPos.toFixed(2)} q- ${p.qNeg.toFixed(2)}\nPREFIX ${p.prefix.slice(-200)}\nPOS ${p.positive}\nNEG ${p.negative}`);
  }
}

interface Scored {
  /** last-token hidden state per sequence [n, D] */
  feats: Float32Array[];
  sumLogp: number[];
  meanLogp: number[];
}

/** One forward per sequence (batched by length): last-token hidden state + log-prob of the candidate step tokens. */
async function scoreSeqs(lm: Awaited<ReturnType<typeof loadPolicyAny>>['lm'], seqs: { ids: number[]; stepStart: number }[], withLogp: boolean, label: string): Promise<Scored> {
  const n = seqs.length;
  const feats = new Array<Float32Array>(n);
  const sumLogp = new Array<number>(n).fill(0);
  const meanLogp = new Array<number>(n).fill(0);
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]!.ids.length - seqs[b]!.ids.length);
  const budget = 4096;
  const t0 = Date.now();
  let i = 0;
  while (i < n) {
    let j = i;
    let T = 0;
    while (j < n) {
      const t = Math.max(T, seqs[order[j]!]!.ids.length);
      if (j > i && t * (j - i + 1) > budget) break;
      T = t;
      j++;
    }
    const rows = order.slice(i, j);
    const ids = new Int32Array(rows.length * T);
    rows.forEach((r, b) => ids.set(seqs[r]!.ids, b * T));
    const idsT = tf.tensor2d(ids, [rows.length, T], 'int32');
    const h = lm.hidden(idsT);
    const D = h.shape[2];
    const hv = await h.data();
    rows.forEach((r, b) => {
      const L = seqs[r]!.ids.length;
      feats[r] = Float32Array.from(hv.subarray((b * T + L - 1) * D, (b * T + L) * D));
    });
    if (withLogp) {
      const lp = tf.tidy(() => tf.logSoftmax(lm.head(h), -1));
      const lv = await lp.data();
      const V = lp.shape[2];
      rows.forEach((r, b) => {
        const s = seqs[r]!;
        let acc = 0;
        let cnt = 0;
        // token t is predicted at position t-1
        for (let t = Math.max(1, s.stepStart); t < s.ids.length; t++) {
          acc += lv[(b * T + t - 1) * V + s.ids[t]!]!;
          cnt++;
        }
        sumLogp[r] = acc;
        meanLogp[r] = cnt ? acc / cnt : 0;
      });
      lp.dispose();
    }
    h.dispose();
    idsT.dispose();
    i = j;
    if (!process.env.RSTAR_QUIET) process.stderr.write(`\r${label}: ${i}/${n} sequences ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  }
  if (!process.env.RSTAR_QUIET) process.stderr.write('\n');
  return { feats, sumLogp, meanLogp };
}

async function encodeForScoring(pairs: PairRow[]) {
  const pol = await loadPolicyAny(POLICY);
  const maxLen = pol.lm.maxPositions;
  const seqs: { ids: number[]; stepStart: number }[] = [];
  const kept: PairRow[] = [];
  for (const p of pairs) {
    const pre = pol.tokenizer.encode(p.prefix);
    const pos = [...pre, ...pol.tokenizer.encode(p.positive)];
    const neg = [...pre, ...pol.tokenizer.encode(p.negative)];
    if (pos.length > maxLen || neg.length > maxLen) continue;
    kept.push(p);
    seqs.push({ ids: pos, stepStart: pre.length }, { ids: neg, stepStart: pre.length });
  }
  return { pol, seqs, kept };
}

async function modeBaseline(): Promise<void> {
  const s = roundSplit();
  const t0 = Date.now();
  const { pol, seqs, kept } = await encodeForScoring(s.held);
  const sc = await scoreSeqs(pol.lm, seqs, true, 'held-out');
  let mean = 0;
  let sum = 0;
  let meanTie = 0;
  for (let i = 0; i < kept.length; i++) {
    if (sc.meanLogp[2 * i]! > sc.meanLogp[2 * i + 1]!) mean++;
    if (sc.sumLogp[2 * i]! > sc.sumLogp[2 * i + 1]!) sum++;
    if (sc.meanLogp[2 * i]! === sc.meanLogp[2 * i + 1]!) meanTie++;
  }
  result({ mode: 'baseline', policy: POLICY, heldOut: kept.length, meanLogpAcc: mean / kept.length, sumLogpAcc: sum / kept.length, ties: meanTie, wallS: (Date.now() - t0) / 1000 });
  pol.lm.dispose();
}

/** Frozen backbone: features once (cached), then heads trained on them with the PPM's pairwise loss. */
async function modeProbe(): Promise<void> {
  const s = roundSplit();
  const cache = path.join(os.tmpdir(), `ppm-sweep-feats-${hash32(POLICY + RUN + K)}.json`);
  let F: { tr: number[][]; trC: number[][]; held: number[][]; D: number };
  const t0 = Date.now();
  if (fs.existsSync(cache)) F = JSON.parse(fs.readFileSync(cache, 'utf8'));
  else {
    const feat = async (pairs: PairRow[], label: string) => {
      const { pol, seqs } = await encodeForScoring(pairs);
      const sc = await scoreSeqs(pol.lm, seqs, false, label);
      pol.lm.dispose();
      return sc.feats.map((f) => Array.from(f));
    };
    const held = await feat(s.held, 'held');
    const tr = await feat(s.mctsTrain, 'mcts-train');
    const trC = await feat(s.corrupted, 'corrupted');
    F = { tr, trC, held, D: held[0]!.length };
    fs.writeFileSync(cache, JSON.stringify(F));
  }
  const featS = (Date.now() - t0) / 1000;
  const toT = (rows: number[][]) => {
    const n = rows.length / 2;
    const a = new Float32Array(n * F.D);
    const b = new Float32Array(n * F.D);
    for (let i = 0; i < n; i++) {
      a.set(rows[2 * i]!, i * F.D);
      b.set(rows[2 * i + 1]!, i * F.D);
    }
    return { pos: tf.tensor2d(a, [n, F.D]), neg: tf.tensor2d(b, [n, F.D]), n };
  };
  const held = toT(F.held);
  const sets = { mcts: toT(F.tr), mctsCorrupt: toT([...F.tr, ...F.trC]) };
  const configs = [
    { data: 'mcts', lr: 1e-2, initStd: 0.02, wd: 0.01 },
    { data: 'mcts', lr: 3e-3, initStd: 0.02, wd: 0.01 },
    { data: 'mcts', lr: 1e-2, initStd: 0.02, wd: 0.1 },
    { data: 'mctsCorrupt', lr: 1e-2, initStd: 0.02, wd: 0.01 },
    { data: 'mcts', lr: 1e-2, initStd: 0, wd: 0.01 },
  ] as const;
  for (const c of configs) {
    const t1 = Date.now();
    const X = sets[c.data];
    const w = tf.variable(c.initStd ? tf.randomNormal([F.D, 1], 0, c.initStd, 'float32', 4242) : tf.zeros([F.D, 1]));
    const b = tf.variable(tf.zeros([1]));
    const opt = tf.train.adam(c.lr, 0.9, 0.95);
    const score = (x: tf.Tensor2D) => tf.reshape(tf.tanh(tf.add(tf.matMul(x, w), b)), [-1]);
    const acc = () => tf.tidy(() => (tf.mean(tf.cast(tf.greater(score(held.pos), score(held.neg)), 'float32')).dataSync()[0]!));
    const trainAcc = () => tf.tidy(() => (tf.mean(tf.cast(tf.greater(score(X.pos), score(X.neg)), 'float32')).dataSync()[0]!));
    const B = 64;
    const epochs = num('epochs', 30);
    const curve: number[] = [acc()];
    const rand = mulberry32(7);
    for (let e = 0; e < epochs; e++) {
      const order = shuffle(Array.from({ length: X.n }, (_, i) => i), rand);
      for (let k = 0; k < X.n; k += B) {
        const idx = tf.tensor1d(order.slice(k, k + B), 'int32');
        tf.tidy(() => {
          const p = tf.gather(X.pos, idx) as tf.Tensor2D;
          const q = tf.gather(X.neg, idx) as tf.Tensor2D;
          opt.minimize(() => tf.add(tf.mean(tf.softplus(tf.neg(tf.sub(score(p), score(q))))), tf.mul(c.wd, tf.sum(tf.square(w)))) as tf.Scalar);
        });
        idx.dispose();
      }
      curve.push(acc());
    }
    const best = Math.max(...curve);
    result({ mode: 'probe', ...c, epochs, heldOut: held.n, first: curve[0], best, bestEpoch: curve.indexOf(best), final: curve[curve.length - 1], trainAcc: trainAcc(), curve: curve.map((x) => +x.toFixed(3)), featS, wallS: (Date.now() - t1) / 1000 });
    w.dispose();
    b.dispose();
  }
}

async function modeTrain(): Promise<void> {
  const s = roundSplit();
  const train = flag('mcts-only') ? s.mctsTrain : flag('corrupt-only') ? s.corrupted : s.train;
  const out = arg('out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ppm-sweep-'));
  const o: TrainPPMOptions = {
    init: POLICY, out, steps: num('steps', 300), lr: num('lr', 5e-4), batchPairs: num('batch', 16),
    evalEvery: num('eval-every', 30), seed: num('train-seed', SEED + K), quiet: !flag('progress'),
    freezeBackbone: flag('freeze'), headInitStd: arg('head-init') !== undefined ? num('head-init', 0.02) : undefined,
    dropout: arg('dropout') !== undefined ? num('dropout', 0) : undefined,
    weightDecay: arg('wd') !== undefined ? num('wd', 0.01) : undefined,
    minLr: arg('min-lr') !== undefined ? num('min-lr', 0) : undefined,
  };
  const t0 = Date.now();
  const r = await trainPPM(train, s.held, o);
  const curve = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; kind: string; metric?: number })
    .filter((x) => x.kind === 'eval').map((x) => [x.step, +x.metric!.toFixed(3)]);
  result({
    mode: 'train', data: flag('mcts-only') ? 'mcts' : flag('corrupt-only') ? 'corrupt' : 'mcts+corrupt', trainPairs: r.train, heldOut: r.dev,
    lr: o.lr, steps: o.steps, batch: o.batchPairs, freeze: o.freezeBackbone, headInitStd: o.headInitStd, dropout: o.dropout, wd: o.weightDecay, minLr: o.minLr,
    first: r.firstMetric, best: r.bestMetric, bestStep: r.bestStep, final: r.lastMetric, curve, tokPerSec: Math.round(r.tokensPerSec), wallS: (Date.now() - t0) / 1000, out,
  });
  if (!arg('out')) fs.rmSync(out, { recursive: true, force: true });
}

await setupBackend((arg('backend') ?? 'auto') as BackendName);
if (mode === 'data') await modeData();
else if (mode === 'baseline') await modeBaseline();
else if (mode === 'probe') await modeProbe();
else if (mode === 'train') await modeTrain();
else throw new Error(`unknown mode ${mode} (data | baseline | probe | train)`);
