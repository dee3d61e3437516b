// Training throughput of our GPT (forward + backward + AdamW) against the identical model in
// PyTorch on CPU (bench/torch_gpt.py, 2 threads), both measured in this run.
//   npm run bench -- train [--backend wasm] [--config S|M|S,M] [--steps N] [--warmup N]
//                          [--workers N] [--no-torch] [--torch-threads 2] [--profile] [--prod] [--no-blas]
//                          [--batch B] [--torch-device cpu|cuda]
// On webgpu the batches are the GPU issue's (S 64, M 32, L 16) and PyTorch runs on CUDA, fp32.
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
import { setupBackend, type BackendName } from '../src/model/backends/backend.ts';
import { blas, blasStatus, setBlasEnabled } from '../src/model/backends/blas.ts';
import { GPT, GPT_PRESETS } from '../src/model/gpt.ts';
import { AdamW } from '../src/train/optim.ts';
import { DataParallel, type Batch } from '../src/train/data-parallel.ts';
import { trainFlops } from './gpu/probe.ts';

const BATCH = { S: 16, M: 8, L: 16 } as const;
/** On a GPU, the batches the WebGPU issue measured the plain version and PyTorch at. */
const GPU_BATCH = { S: 64, M: 32, L: 16 } as const;
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

async function oursTokS(name: ConfigName, B: number, steps: number, warmup: number, workers: number, backend: BackendName, profile: boolean) {
  const cfg = GPT_PRESETS[name];
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

// Debian's python3-torch on CPU; on a GPU machine whatever `python3` holds a CUDA torch
// (RSTAR_PYTHON overrides either).
const python = (device: string) => process.env.RSTAR_PYTHON ?? (device === 'cuda' ? 'python3' : '/usr/bin/python3');

function torchAvailable(device: string): boolean {
  const probe = device === 'cuda' ? 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' : 'import torch';
  return spawnSync(python(device), ['-c', probe], { stdio: 'ignore' }).status === 0;
}

function torchTokS(name: ConfigName, B: number, steps: number, warmup: number, threads: number, device: string): { tok_s: number; blas: string; blas_libs: string[]; threads: number } | null {
  const r = spawnSync(
    python(device),
    [path.join(here, 'torch_gpt.py'), '--mode', 'train', '--config', name, '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads),
      '--device', device, '--train-batch', String(B)],
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
  const used = await setupBackend(backend);
  // the peer runs where we run: PyTorch on CUDA beside webgpu, on CPU beside wasm/cpu
  const torchDevice = flag(argv, 'torch-device', used === 'webgpu' ? 'cuda' : 'cpu');
  const useTorch = !argv.includes('--no-torch') && torchAvailable(torchDevice);
  if (!argv.includes('--no-torch') && !useTorch) console.log(`torch (${torchDevice}) not available: no ratio`);
  console.log(`matmul BLAS: ${used === 'wasm' ? blasStatus() : 'n/a'}`);
  console.log(`backend ${used}, workers ${workers}, steps ${steps} (+${warmup} warm-up), load avg ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores`);
  for (const c of configs) {
    const B = Number(flag(argv, 'batch', '0')) || (used === 'webgpu' ? GPU_BATCH : BATCH)[c];
    const ours = await oursTokS(c, B, steps, warmup, workers, used as BackendName, profile);
    const torch = useTorch ? torchTokS(c, B, Math.max(steps, 5), warmup, torchThreads, torchDevice) : null;
    const ratio = torch ? ours.tokS / torch.tok_s : null;
    const torchTflops = torch ? (trainFlops(GPT_PRESETS[c], B, GPT_PRESETS[c].blockSize) * torch.tok_s) / (B * GPT_PRESETS[c].blockSize) / 1e12 : null;
    console.log(
      `${c} (batch ${B}): ours ${ours.tokS.toFixed(0)} tok/s, ${ours.tflops.toFixed(3)} TFLOP/s (${ours.cpuTokS.toFixed(0)} per CPU-second; ${ours.stepMs.toFixed(0)} ms/step, loss ${ours.loss.toFixed(3)})` +
        (torch ? `, torch ${torch.tok_s.toFixed(0)} tok/s = ${torchTflops!.toFixed(3)} TFLOP/s (${torchDevice}, ${torch.threads} threads, BLAS ${torch.blas}: ${torch.blas_libs.join(' ')}), ratio ${ratio!.toFixed(3)}` : ', torch n/a'),
    );
    const result = {
      config: c,
      batch: B,
      backend: used,
      workers,
      ours_tok_s: Math.round(ours.tokS),
      ours_cpu_tok_s: Math.round(ours.cpuTokS),
      ours_tflops: Number(ours.tflops.toFixed(4)),
      prod: tf.env().getBool('PROD'),
      blas: used === 'wasm' && blas() !== null,
      blas_threads: used === 'wasm' ? (blas()?.getThreads() ?? null) : null,
      torch_tok_s: torch ? Math.round(torch.tok_s) : null,
      torch_device: torch ? torchDevice : null,
      torch_tflops: torchTflops === null ? null : Number(torchTflops.toFixed(3)),
      ratio: ratio === null ? null : Number(ratio.toFixed(4)),
      torch_blas: torch?.blas ?? null,
      load1: Number(os.loadavg()[0]!.toFixed(2)),
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  }
}
