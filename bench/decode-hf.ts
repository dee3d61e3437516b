// KV-cached decode throughput of a Hugging Face decoder (src/model/hf.ts) through generate.ts, at
// batch 1 and 8, with peak memory. Either a real folder or a random checkpoint of a known shape,
// built in memory (no download):
//   npm run bench -- decode --model hf:<folder> [--backend wasm] [--prompt 16] [--new 16] [--batch 1,8]
//   npm run bench -- decode --model hf:random:qwen2.5-0.5b      (same as --random qwen2.5-0.5b)
//   node --import tsx bench/decode-hf.ts --random qwen2.5-0.5b [--plain-wasm]
// Prints human lines and one `RESULT {json}` line per measurement.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../src/model/backends/backend.ts';
import { generate, mulberry32 } from '../src/model/generate.ts';
import { HFModel, loadHF, parseHFConfig, parseModelSpec } from '../src/model/hf/hf.ts';

/** config.json of the real checkpoints, as published (only the fields the port reads matter). */
export const RANDOM_PRESETS: Record<string, Record<string, unknown>> = {
  'qwen2.5-0.5b': {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    vocab_size: 151936,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    use_sliding_window: false,
    sliding_window: 32768,
    bos_token_id: 151643,
    eos_token_id: 151643,
  },
};

function flag(argv: string[], name: string, def: string): string {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[i + 1] ?? def);
}

const MB = 1024 * 1024;
/** Current and peak resident memory (the OS's max RSS covers the wasm heap and JS arrays alike). */
function mem(): { rssMB: number; maxRssMB: number; tfMB: number; tfTensors: number } {
  const m = tf.memory();
  return {
    rssMB: Math.round(process.memoryUsage().rss / MB),
    maxRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
    tfMB: Math.round(m.numBytes / MB),
    tfTensors: m.numTensors,
  };
}

async function setupPlainWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(dist + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('decode-hf: the wasm backend failed to initialise');
  return 'wasm (shipped kernels)';
}

export async function main(argv: string[]): Promise<void> {
  const backend = flag(argv, 'backend', 'wasm') as BackendName;
  const promptLen = Number(flag(argv, 'prompt', '16'));
  const newTokens = Number(flag(argv, 'new', '16'));
  const batches = flag(argv, 'batch', '1,8').split(',').map(Number);
  let random = flag(argv, 'random', '');
  const spec = flag(argv, 'model', '');
  let folder = '';
  if (spec.startsWith('hf:random:')) random = spec.slice('hf:random:'.length);
  else if (spec) {
    const s = parseModelSpec(spec);
    if (s.kind !== 'hf') throw new Error(`decode-hf: expected --model hf:<folder>, got ${spec}`);
    folder = s.folder;
  }
  if (!random && !folder) throw new Error(`decode-hf: expected --model hf:<folder> or --random ${Object.keys(RANDOM_PRESETS).join('|')}`);
  if (random && !RANDOM_PRESETS[random]) throw new Error(`decode-hf: unknown --random ${random} (expected ${Object.keys(RANDOM_PRESETS).join('|')})`);
  if (!(newTokens >= 2 && promptLen >= 1)) throw new Error('decode-hf: expected --new >= 2 and --prompt >= 1');

  // --plain-wasm: tfjs-backend-wasm's shipped kernels without our overrides (wasm-kernels.ts), for
  // comparison: the shipped 2-D matmul caches one XNNPACK operator (with packed weights) per weight
  const plain = argv.includes('--plain-wasm');
  const used = plain ? await setupPlainWasm() : await setupBackend(backend);
  const name = random ? `random:${random}` : folder;
  const t0 = performance.now();
  const model = random ? new HFModel(parseHFConfig(RANDOM_PRESETS[random]!, `preset ${random}`)) : await loadHF(folder);
  const loadMs = performance.now() - t0;
  let params = 0;
  for (const v of model.namedWeights().values()) params += v.size;
  const threads = used.startsWith('wasm') ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : null;
  const load = { bench: 'decode-hf', phase: 'load', model: name, arch: model.config.arch, backend: used, params, loadMs: Math.round(loadMs), wasmThreads: threads, ...mem() };
  console.log(`${name} (${model.config.arch}, ${(params / 1e6).toFixed(1)}M params) on ${used}: built/loaded in ${(loadMs / 1000).toFixed(1)} s, rss ${load.rssMB} MB, tf ${load.tfMB} MB`);
  console.log(`RESULT ${JSON.stringify(load)}`);

  for (const B of batches) {
    const rand = mulberry32(1000 + B);
    const prompts = Array.from({ length: B }, () => Array.from({ length: promptLen }, () => Math.floor(rand() * model.vocabSize)));
    const opts = { temperature: 1, seed: 1 };
    // warm-up: creates the kernels/operators for the prefill and the one-token shapes
    await generate(model, prompts, { ...opts, maxNewTokens: 2 });
    let t = performance.now();
    await generate(model, prompts, { ...opts, maxNewTokens: 1 });
    const prefillMs = performance.now() - t;
    t = performance.now();
    const out = await generate(model, prompts, { ...opts, maxNewTokens: newTokens });
    const totalMs = performance.now() - t;
    if (out.tokens.some((r) => r.length !== newTokens)) throw new Error('decode-hf: a row stopped early');
    // decode rate: the tokens after the first, over the time after the prefill
    const decodeMs = Math.max(1, totalMs - prefillMs);
    const tokS = (B * (newTokens - 1)) / (decodeMs / 1000);
    const r = {
      bench: 'decode-hf', model: name, arch: model.config.arch, backend: used, batch: B, prompt: promptLen, newTokens,
      prefillMs: Math.round(prefillMs), msPerStep: Math.round(decodeMs / (newTokens - 1)), tokS: Number(tokS.toFixed(2)),
      endToEndTokS: Number(((B * newTokens) / (totalMs / 1000)).toFixed(2)), ...mem(),
    };
    console.log(`batch ${B}: prefill ${r.prefillMs} ms, ${r.msPerStep} ms/step, ${r.tokS} tok/s decode (${r.endToEndTokS} end to end), peak rss ${r.maxRssMB} MB, tf ${r.tfMB} MB in ${r.tfTensors} tensors`);
    console.log(`RESULT ${JSON.stringify(r)}`);
  }
  model.dispose();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
