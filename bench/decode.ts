// KV-cached decode throughput of our GPT (config S by default, random weights) at batch 1 and 8, and
// the same model in PyTorch on CPU (2 threads, bench/torch_gpt.py) when Debian's python3-torch is
// installed. Timings are best-of-reps wall time of a whole generate() call (prefill included).
//   npm run bench -- decode [--backend wasm] [--config S] [--prompt 32] [--new 96] [--batch 1,8]
//                           [--temperature 0] [--reps 3] [--prod] [--no-blas]
// --prod runs tf.enableProdMode(); --no-blas keeps the native BLAS matmuls (src/model/blas.ts) off.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { GPT, GPT_PRESETS } from '../src/model/gpt.ts';
import { generate, mulberry32 } from '../src/model/generate.ts';
import { setupBackend, type BackendName } from '../src/model/backends/backend.ts';
import { blas, blasStatus, setBlasEnabled } from '../src/model/backends/blas.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function flag(argv: string[], name: string, def: string): string {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[i + 1] ?? def);
}

interface Measure {
  tokS: number;
  /** tokens per second of this process's CPU time: less sensitive to a shared, loaded machine */
  cpuTokS: number;
  prefillMs: number;
  totalMs: number;
}

async function measure(
  model: GPT, batch: number, promptLen: number, newTokens: number, reps: number, temperature: number,
): Promise<Measure> {
  const rand = mulberry32(batch);
  const prompts = Array.from({ length: batch }, () =>
    Array.from({ length: promptLen }, () => Math.floor(rand() * model.vocabSize)),
  );
  const opts = { maxNewTokens: newTokens, temperature, seed: 1 };
  await generate(model, prompts, { ...opts, maxNewTokens: 4 }); // warm-up: kernels, shapes
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await generate(model, prompts, opts);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (out.tokens.some((t) => t.length !== newTokens)) throw new Error('a row stopped early');
    best = Math.min(best, ms);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  // prefill alone: generate one token (the prefill plus one host sample)
  let prefillMs = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await generate(model, prompts, { ...opts, maxNewTokens: 1 });
    prefillMs = Math.min(prefillMs, performance.now() - t0);
  }
  return { tokS: (batch * newTokens) / (best / 1000), cpuTokS: (batch * newTokens) / (bestCpu / 1000), prefillMs, totalMs: best };
}

function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tokens/s of the identical model in PyTorch (CPU, 2 threads, bench/torch_gpt.py), or null. */
function torchDecode(config: string, batch: number, promptLen: number, newTokens: number): number | null {
  const script = path.join(HERE, 'torch_gpt.py');
  if (!existsSync(script) || !hasTorch()) return null;
  try {
    const out = execFileSync('/usr/bin/python3', [
      script, '--mode', 'decode', '--config', config, '--batch', String(batch),
      '--prompt-len', String(promptLen), '--new-tokens', String(newTokens), '--threads', '2',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const line = out.split('\n').reverse().find((l) => l.trim().startsWith('{'));
    const j = line ? (JSON.parse(line) as { tok_s?: number }) : null;
    return j && typeof j.tok_s === 'number' ? j.tok_s : null;
  } catch (e) {
    console.log(`  PyTorch run failed: ${String(e).split('\n')[0]}`);
    return null;
  }
}

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--prod')) tf.enableProdMode();
  if (argv.includes('--no-blas')) setBlasEnabled(false);
  const backend = await setupBackend(flag(argv, 'backend', 'wasm') as BackendName);
  const configName = flag(argv, 'config', 'S') as keyof typeof GPT_PRESETS;
  const cfg = GPT_PRESETS[configName];
  if (!cfg) throw new Error(`unknown config ${configName} (S|M)`);
  // S has a 128-token context: by default a 32-token prompt and the rest of the context (96 new)
  const promptLen = Number(flag(argv, 'prompt', '32'));
  const newTokens = Number(flag(argv, 'new', String(Math.min(128, cfg.blockSize - promptLen))));
  if (promptLen + newTokens > cfg.blockSize) throw new Error(`prompt + new tokens > context ${cfg.blockSize}`);
  const reps = Number(flag(argv, 'reps', '3'));
  const batches = flag(argv, 'batch', '1,8').split(',').map(Number);
  // greedy by default, like the PyTorch twin; sampling adds a softmax per row on the host
  const temperature = Number(flag(argv, 'temperature', '0'));
  const model = new GPT({ ...cfg, seed: 1 });
  if (backend === 'wasm') console.log(`matmul BLAS: ${blasStatus()}`);
  console.log(`decode: GPT ${configName} on ${backend}, prompt ${promptLen}, ${newTokens} new tokens, best of ${reps}`);
  for (const batch of batches) {
    const m = await measure(model, batch, promptLen, newTokens, reps, temperature);
    const torch = torchDecode(configName, batch, promptLen, newTokens);
    console.log(
      `  batch ${batch}: ${m.tokS.toFixed(0)} tok/s (${m.cpuTokS.toFixed(0)} per CPU-second; ${m.totalMs.toFixed(0)} ms total, prefill ${m.prefillMs.toFixed(1)} ms)` +
        (torch ? `; PyTorch cpu x2 ${torch.toFixed(0)} tok/s` : '; PyTorch: not available'),
    );
    console.log(
      'RESULT ' +
        JSON.stringify({
          bench: 'decode', config: configName, backend, batch, prompt: promptLen, new_tokens: newTokens,
          ours_tok_s: Math.round(m.tokS), ours_cpu_tok_s: Math.round(m.cpuTokS), prefill_ms: +m.prefillMs.toFixed(2),
          torch_tok_s: torch === null ? null : Math.round(torch),
          prod: tf.env().getBool('PROD'), blas: backend === 'wasm' && blas() !== null, load1: +os.loadavg()[0]!.toFixed(2),
          ratio: torch === null ? null : +(m.tokS / torch).toFixed(3),
        }),
    );
  }
  model.dispose();
  if (tf.memory().numTensors > 0) console.log(`  (${tf.memory().numTensors} tensors still allocated)`);
}
