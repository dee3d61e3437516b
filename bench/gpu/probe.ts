// What the WebGPU backend does on this machine: the adapter, a matmul's TFLOP/s, and per training
// step / decode step the kernels tfjs runs and the GPU commands they become (dispatches, submits,
// read-backs), plus training throughput and TFLOP/s for GPT configs S, M and L.
//   node --import tsx bench/gpu/probe.ts [--backend webgpu] [--config S,M,L] [--steps N] [--matmul 1024,4096]
//                                        [--fused] [--no-profile] [--rows 16,64]
// Bundled as .gpu/probe.mjs by bench/gpu/pack.sh. Prints one `RESULT {json}` line per measurement.
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../../src/model/backends/backend.ts';
import { GPT, GPT_PRESETS, type GPTConfig } from '../../src/model/gpt.ts';
import { AdamW } from '../../src/train/optim.ts';
import { adamwApplyFused, countDispatches, webgpuErrors, webgpuInfo, type DispatchCount } from '../../src/model/backends/webgpu.ts';

/** Configs with their training batch; L is the issue's GPU-sized model. */
const CONFIGS: Record<string, { cfg: GPTConfig; batch: number }> = {
  S: { cfg: GPT_PRESETS.S, batch: 64 },
  M: { cfg: GPT_PRESETS.M, batch: 32 },
  L: { cfg: GPT_PRESETS.L, batch: 16 },
};

function flag(argv: string[], name: string, def: string): string {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[i + 1] ?? def);
}

/** Model FLOPs of one training step (forward + backward = 3x forward), attention computed densely. */
export function trainFlops(c: GPTConfig, B: number, T: number): number {
  const { nLayer: L, nEmbd: d, vocabSize: V } = c;
  const perToken = 2 * (12 * L * d * d) + 2 * V * d + 2 * 2 * L * T * d;
  return 3 * perToken * B * T;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Where a step's GPU time goes: per WGSL program (timestamp queries through tf.time), vs wall time. */
async function gpuTime(what: string, fn: () => void): Promise<void> {
  const t0 = performance.now();
  // the webgpu backend's timing info carries per-program times behind getExtraProfileInfo
  const info = (await tf.time(fn)) as unknown as { getExtraProfileInfo?: () => { name: string; ms: number }[] };
  const wall = performance.now() - t0;
  // tfjs 4.22 returns "Program: ms, Program: ms, …" here, not a list
  const raw: unknown = info.getExtraProfileInfo?.();
  const per: { name: string; ms: number }[] = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw.split(', ').filter(Boolean).map((e) => {
          const i = e.lastIndexOf(': ');
          return { name: e.slice(0, i), ms: Number(e.slice(i + 2)) };
        })
      : [];
  if (!per.length) {
    console.log(`${what}: no GPU timestamps (no timestamp-query; Dawn hides it without RSTAR_DAWN_FLAGS=enable-dawn-features=allow_unsafe_apis)`);
    return;
  }
  const by = new Map<string, { ms: number; n: number }>();
  for (const p of per) {
    const e = by.get(p.name) ?? { ms: 0, n: 0 };
    e.ms += p.ms;
    e.n += 1;
    by.set(p.name, e);
  }
  const gpu = per.reduce((a, p) => a + p.ms, 0);
  console.log(`${what}: GPU busy ${gpu.toFixed(1)} ms of ${wall.toFixed(1)} ms wall, ${per.length} programs; by program:`);
  for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 18)) {
    console.log(`  ${e.ms.toFixed(2).padStart(9)} ms ${String(e.n).padStart(5)}x ${k}`);
  }
  console.log(`RESULT ${JSON.stringify({ what: 'gpu_time', of: what, gpu_ms: Number(gpu.toFixed(2)), wall_ms: Number(wall.toFixed(2)), programs: per.length, top: [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8).map(([k, e]) => [k, Number(e.ms.toFixed(2)), e.n]) })}`);
}

async function kernelsOf(fn: () => Promise<void>): Promise<{ kernels: number; byName: Record<string, number> }> {
  const info = await tf.profile(fn);
  const byName: Record<string, number> = {};
  for (const k of info.kernels) byName[k.name] = (byName[k.name] ?? 0) + 1;
  return { kernels: info.kernels.length, byName };
}

async function matmul(n: number, reps: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const run = async (k: number) => {
    let last: tf.Tensor | null = null;
    for (let i = 0; i < k; i++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    const s = tf.slice(last!.reshape([-1]), [0], [1]);
    await s.data(); // one tiny read waits for every queued product
    tf.dispose([s, last!]);
  };
  await run(1);
  const t0 = performance.now();
  await run(reps);
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / s / 1e12;
}

async function train(name: string, steps: number, profile: boolean, fused: boolean) {
  const { cfg, batch: B } = CONFIGS[name]!;
  const T = cfg.blockSize;
  const model = new GPT(cfg);
  const params = model.namedWeights();
  const opt = new AdamW(params);
  // --fused: the optimizer step through webgpu.ts's fused AdamW (what optim.ts would call on webgpu)
  const m = new Map([...params].map(([k, p]) => [k, tf.variable(tf.zerosLike(p), false)]));
  const v = new Map([...params].map(([k, p]) => [k, tf.variable(tf.zerosLike(p), false)]));
  let t = 0;
  const r = lcg(1);
  const ids = tf.tensor2d(Int32Array.from({ length: B * T }, () => Math.floor(r() * cfg.vocabSize)), [B, T], 'int32');
  const tgt = tf.tensor2d(Int32Array.from({ length: B * T }, () => Math.floor(r() * cfg.vocabSize)), [B, T], 'int32');
  const mask = tf.ones([B, T], 'float32') as tf.Tensor2D;
  const vars = [...params.values()];
  const names = new Map([...params].map(([n, v]) => [v.name, n]));
  // one step as the training loop runs it; the loss is read back once per `readEvery` steps
  let pending: tf.Scalar | null = null;
  let loss = NaN;
  const dispatch = () => {
    const { value, grads } = tf.variableGrads(() => model.lmLoss(ids, tgt, mask, { training: true }), vars);
    const named = new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, g]));
    if (fused) adamwApplyFused(params, m, v, named, opt.cfg, ++t, 1e-4).dispose();
    else opt.apply(named, 1e-4).dispose();
    for (const g of named.values()) g.dispose();
    pending?.dispose();
    pending = value;
  };
  const step = async (read: boolean) => {
    dispatch();
    if (read) loss = (await pending!.data())[0]!;
  };
  await step(true); // warm-up: shader compilation
  if (profile && tf.getBackend() === 'webgpu') await gpuTime(`${name} train`, dispatch);
  let counts: DispatchCount | null = null;
  let kernels: { kernels: number; byName: Record<string, number> } | null = null;
  if (profile) {
    if (tf.getBackend() === 'webgpu') counts = await countDispatches(() => step(true));
    kernels = await kernelsOf(() => step(true));
  }
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step(i === steps - 1);
  const ms = (performance.now() - t0) / steps;
  const flops = trainFlops(cfg, B, T);
  const out = {
    what: 'train', config: name, backend: tf.getBackend(), fused_adamw: fused, batch: B, seq: T, step_ms: Number(ms.toFixed(1)),
    tok_s: Math.round((B * T * 1000) / ms), tflop_s: Number(((flops * 1000) / ms / 1e12).toFixed(3)), loss: Number(loss.toFixed(4)),
    kernels: kernels?.kernels ?? null, ...(counts ?? {}),
  };
  console.log(
    `${name}: ${out.step_ms} ms/step, ${out.tok_s} tok/s, ${out.tflop_s} TFLOP/s (model FLOPs ${(flops / 1e9).toFixed(1)} G/step), loss ${out.loss}` +
      (kernels ? `; per step ${kernels.kernels} kernels` : '') + (counts ? `, ${counts.dispatches} dispatches, ${counts.submits} submits, ${counts.reads} reads` : ''),
  );
  if (kernels) {
    const top = Object.entries(kernels.byName).sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(`  kernels by name: ${top.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  console.log(`RESULT ${JSON.stringify(out)}`);
  tf.dispose([ids, tgt, mask]);
  (pending as tf.Scalar | null)?.dispose();
  opt.dispose();
  tf.dispose([...m.values(), ...v.values()]);
  model.dispose();
}

async function decode(name: string, rows: number, tokens: number, profile: boolean) {
  const { cfg } = CONFIGS[name]!;
  const model = new GPT(cfg);
  const r = lcg(2);
  const P = Math.min(32, cfg.blockSize - tokens - 2);
  const cache = model.newCache(rows, P + tokens + 2);
  const prompt = tf.tensor2d(Int32Array.from({ length: rows * P }, () => Math.floor(r() * cfg.vocabSize)), [rows, P], 'int32');
  (await model.step(cache, prompt, { last: true }).data());
  const next = () => tf.tensor2d(Int32Array.from({ length: rows }, () => Math.floor(r() * cfg.vocabSize)), [rows, 1], 'int32');
  const one = async () => {
    const x = next();
    const l = model.step(cache, x, { last: true });
    await l.data(); // decoding samples on the host: one read per step
    tf.dispose([x, l]);
  };
  await one();
  let counts: DispatchCount | null = null;
  let kernels: { kernels: number } | null = null;
  if (profile) {
    if (tf.getBackend() === 'webgpu') counts = await countDispatches(one);
    kernels = await kernelsOf(one);
  }
  const t0 = performance.now();
  for (let i = 0; i < tokens - 4; i++) await one();
  const ms = (performance.now() - t0) / (tokens - 4);
  const out = { what: 'decode', config: name, backend: tf.getBackend(), rows, step_ms: Number(ms.toFixed(2)), tok_s: Math.round((rows * 1000) / ms), kernels: kernels?.kernels ?? null, ...(counts ?? {}) };
  console.log(`${name} decode, ${rows} rows: ${out.step_ms} ms/token-step, ${out.tok_s} tok/s` + (kernels ? `; per step ${kernels.kernels} kernels` : '') + (counts ? `, ${counts.dispatches} dispatches, ${counts.reads} reads` : ''));
  console.log(`RESULT ${JSON.stringify(out)}`);
  tf.dispose(prompt);
  cache.dispose();
  model.dispose();
}

export async function main(argv: string[]): Promise<void> {
  const backend = flag(argv, 'backend', 'webgpu') as BackendName;
  const configs = flag(argv, 'config', 'S').split(',').map((c) => c.trim().toUpperCase());
  for (const c of configs) if (!(c in CONFIGS)) throw new Error(`unknown --config ${c} (${Object.keys(CONFIGS).join('|')})`);
  const steps = Number(flag(argv, 'steps', '5'));
  const profile = !argv.includes('--no-profile');
  const sizes = flag(argv, 'matmul', '').split(',').filter(Boolean).map(Number);
  const used = await setupBackend(backend);
  console.log(`backend ${used}${used === 'webgpu' ? ` ${JSON.stringify(webgpuInfo())}` : ''}`);
  for (const n of sizes) {
    const t = await matmul(n, Math.min(50, Math.max(2, Math.round(20 * (2048 / n) ** 3))));
    console.log(`matmul ${n}x${n}x${n} f32: ${t.toFixed(2)} TFLOP/s`);
    console.log(`RESULT ${JSON.stringify({ what: 'matmul', n, backend: used, tflop_s: Number(t.toFixed(3)) })}`);
  }
  for (const c of configs) {
    await train(c, steps, profile, argv.includes('--fused') && used === 'webgpu');
    for (const rows of flag(argv, 'rows', '16').split(',').map(Number)) await decode(c, rows, Math.max(8, steps + 4), profile);
  }
  const errs = used === 'webgpu' ? webgpuErrors() : [];
  if (errs.length) {
    console.error(`webgpu errors (results above are wrong): ${errs.slice(0, 5).join(' | ')}`);
    process.exitCode = 1;
  }
}

// run directly (tsx or the bundle), not when imported
if (process.argv[1] && /probe\.(ts|mjs)$/.test(process.argv[1])) await main(process.argv.slice(2));
