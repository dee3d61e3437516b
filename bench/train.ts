// Training throughput of our GPT (forward + backward + AdamW) against the identical model in
// PyTorch on CPU (bench/torch_gpt.py, 2 threads), both measured in this run.
//   npm run bench -- train [--backend wasm] [--config S|M|S,M] [--steps N] [--warmup N]
//                          [--workers N] [--no-torch] [--torch-threads 2] [--profile] [--prod] [--no-blas]
// Prints one `RESULT {json}` line per config. `ours_cpu_tok_s` divides by this process's CPU
// time (user + system) instead of wall time: steadier on a shared, loaded machine (with
// --workers > 1 the replicas' CPU time is not in it). --prod runs tf.enableProdMode(); --no-blas keeps the native
// BLAS addon (src/model/blas.ts) off even when it is built (with --workers the replicas follow
// RSTAR_BLAS=0 instead).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../src/model/backend.ts';
import { blas, blasStatus, setBlasEnabled } from '../src/model/blas.ts';
import { GPT, GPT_PRESETS } from '../src/model/gpt.ts';
import { AdamW } from '../src/train/optim.ts';
import { DataParallel, type Batch } from '../src/train/data-parallel.ts';
import { trainFlops } from './gpu/probe.ts';

const BATCH = { S: 16, M: 8, L: 16 } as const;
type ConfigName = keyof typeof BATCH;
const here = path.dirname(fileURLToPath(import.meta.url));

function flag(argv: string[], name: string, def: string): string {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[i + 1] ?? def);
}

function randomBatch(V: number, B: number, T: number, seed: number): Batch {
  let s = seed >>> 0;
  const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return {
    ids: { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * V)), shape: [B, T], dtype: 'int32' },
    targets: { data: Int32Array.from({ length: B * T }, () => Math.floor(r() * V)), shape: [B, T], dtype: 'int32' },
    mask: { data: new Float32Array(B * T).fill(1), shape: [B, T], dtype: 'float32' },
  };
}

async function oursTokS(name: ConfigName, steps: number, warmup: number, workers: number, backend: BackendName, profile: boolean) {
  const cfg = GPT_PRESETS[name];
  const B = BATCH[name];
  const T = cfg.blockSize;
  const model = new GPT(cfg);
  const params = model.namedWeights();
  const opt = new AdamW(params);
  const batch = randomBatch(cfg.vocabSize, B, T, 1);
  const dp = workers > 1 ? await DataParallel.create(model, { loss: 'lm', config: cfg, replicas: workers, backend }) : null;
  const ids = tf.tensor2d(batch.ids!.data, [B, T], 'int32');
  const tgt = tf.tensor2d(batch.targets!.data, [B, T], 'int32');
  const mask = tf.tensor2d(batch.mask!.data, [B, T], 'float32');
  const vars = [...params.values()];
  let lastLoss = NaN;
  const step = async () => {
    let grads: Map<string, tf.Tensor>;
    if (dp) {
      const r = await dp.grads(batch);
      grads = r.grads;
      lastLoss = r.loss;
    } else {
      const { value, grads: g } = tf.variableGrads(() => model.lmLoss(ids, tgt, mask, { training: true }), vars);
      grads = new Map([...params].map(([n, v]) => [n, g[v.name]!]));
      lastLoss = (await value.data())[0]!;
      value.dispose();
    }
    const norm = opt.apply(grads);
    await norm.data(); // wait for the update
    norm.dispose();
    for (const g of grads.values()) g.dispose();
  };
  for (let i = 0; i < warmup; i++) await step();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - t0) / steps;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000 / steps;
  if (profile && !dp) {
    // several steps, so one preempted kernel on a loaded machine does not lead the table
    const reps = 3;
    const agg = new Map<string, { ms: number; n: number }>();
    const byName = new Map<string, { ms: number; n: number }>();
    const add = (m: Map<string, { ms: number; n: number }>, key: string, ms: number) => {
      const e = m.get(key) ?? { ms: 0, n: 0 };
      e.ms += ms / reps;
      e.n += 1 / reps;
      m.set(key, e);
    };
    for (let r = 0; r < reps; r++) {
      const info = await tf.profile(async () => step());
      for (const k of info.kernels) {
        const ms = Number(k.kernelTimeMs) || 0;
        add(agg, `${k.name} ${JSON.stringify(k.inputShapes)}`, ms);
        add(byName, k.name, ms);
      }
    }
    const show = (title: string, m: Map<string, { ms: number; n: number }>, top: number) => {
      console.log(`profile (${name}, mean of ${reps} steps): ${title}`);
      for (const [k, e] of [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
        console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${e.n.toFixed(0).padStart(4)}x ${k}`);
      }
    };
    show('top kernels by time', agg, 25);
    show('per kernel name', byName, 20);
  }
  await dp?.close();
  ids.dispose();
  tgt.dispose();
  mask.dispose();
  opt.dispose();
  model.dispose();
  // achieved model FLOP/s (forward + backward = 3x forward), the figure the GPU issue asks for
  return { tokS: (B * T * 1000) / ms, cpuTokS: (B * T * 1000) / cpuMs, stepMs: ms, loss: lastLoss, tflops: (trainFlops(cfg, B, T) * 1000) / ms / 1e12 };
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function torchTokS(name: ConfigName, steps: number, warmup: number, threads: number): { tok_s: number; blas: string; blas_libs: string[]; threads: number } | null {
  const r = spawnSync(
    '/usr/bin/python3',
    [path.join(here, 'torch_gpt.py'), '--mode', 'train', '--config', name, '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    console.error(`torch_gpt.py failed: ${r.stderr.slice(-2000)}`);
    return null;
  }
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line);
}

export async function main(argv: string[]): Promise<void> {
  const backend = flag(argv, 'backend', 'wasm') as BackendName;
  const configs = flag(argv, 'config', 'S,M').split(',').map((c) => c.trim().toUpperCase()) as ConfigName[];
  for (const c of configs) if (!(c in BATCH)) throw new Error(`unknown --config ${c} (S|M|L)`);
  const steps = Number(flag(argv, 'steps', '5'));
  const warmup = Number(flag(argv, 'warmup', '2'));
  const workers = Number(flag(argv, 'workers', '1'));
  const profile = argv.includes('--profile');
  // On a shared, loaded machine PyTorch's 2 spinning threads collapse (10x slower than 1);
  // --torch-threads 1 gives a steadier per-core reference.
  const torchThreads = Number(flag(argv, 'torch-threads', '2'));
  if (argv.includes('--prod')) tf.enableProdMode();
  if (argv.includes('--no-blas')) setBlasEnabled(false);
  const useTorch = !argv.includes('--no-torch') && torchAvailable();
  const used = await setupBackend(backend);
  console.log(`matmul BLAS: ${used === 'wasm' ? blasStatus() : 'n/a'}`);
  console.log(`backend ${used}, workers ${workers}, steps ${steps} (+${warmup} warm-up), load avg ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores`);
  for (const c of configs) {
    const ours = await oursTokS(c, steps, warmup, workers, used as BackendName, profile);
    const torch = useTorch ? torchTokS(c, Math.max(steps, 5), warmup, torchThreads) : null;
    const ratio = torch ? ours.tokS / torch.tok_s : null;
    console.log(
      `${c}: ours ${ours.tokS.toFixed(0)} tok/s (${ours.cpuTokS.toFixed(0)} per CPU-second; ${ours.stepMs.toFixed(0)} ms/step, loss ${ours.loss.toFixed(3)})` +
        (torch ? `, torch ${torch.tok_s.toFixed(0)} tok/s (${torch.threads} threads, BLAS ${torch.blas}: ${torch.blas_libs.join(' ')}), ratio ${ratio!.toFixed(3)}` : ', torch n/a'),
    );
    const result = {
      config: c,
      backend: used,
      workers,
      ours_tok_s: Math.round(ours.tokS),
      ours_cpu_tok_s: Math.round(ours.cpuTokS),
      ours_tflops: Number(ours.tflops.toFixed(4)),
      prod: tf.env().getBool('PROD'),
      blas: used === 'wasm' && blas() !== null,
      blas_threads: used === 'wasm' ? (blas()?.getThreads() ?? null) : null,
      torch_tok_s: torch ? Math.round(torch.tok_s) : null,
      ratio: ratio === null ? null : Number(ratio.toFixed(4)),
      torch_blas: torch?.blas ?? null,
      load1: Number(os.loadavg()[0]!.toFixed(2)),
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  }
}
