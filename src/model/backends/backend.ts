// Picks and initialises the TensorFlow.js backend (process-global in tfjs).
// `auto`: tfjs-node(-gpu) when the user has it installed, else WebGPU when a real
// hardware adapter exists, else wasm with our kernel fixes. `cpu` is pure JS (tests).
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerGradients } from './grads.ts';

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
let active: string | null = null;
let inflight: Promise<string> | null = null;

/** Name of the backend set up by setupBackend (null before the first call). */
export function backendName(): string | null {
  return active;
}

/** Initialise `name` and make it tfjs's backend; returns the backend actually in use.
 *  Calling again with the same name (or 'auto' once any backend is up) is a no-op. */
export async function setupBackend(name: BackendName = 'auto'): Promise<string> {
  // Serialise: tf.setBackend is global, concurrent switches would race.
  while (inflight) await inflight.catch(() => undefined);
  if (active && (name === 'auto' || name === active) && tf.getBackend() === active) return active;
  // The tfjs union package registers every op's gradient (tfjs-core alone registers none);
  // the registry is global, so this also serves code that imports only tfjs-core.
  await import('@tensorflow/tfjs');
  registerGradients(); // Sum/Mean without host-side ones (grads.ts); must follow the line above
  inflight = pick(name);
  try {
    active = await inflight;
    return active;
  } finally {
    inflight = null;
  }
}

async function pick(name: BackendName): Promise<string> {
  switch (name) {
    case 'cpu':
      return use('cpu');
    case 'wasm':
      return setupWasm();
    case 'tensorflow':
      if (!(await loadTfjsNode())) {
        throw new Error('backend "tensorflow" needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node installed (npm i @tensorflow/tfjs-node)');
      }
      return use('tensorflow');
    case 'webgpu': {
      const mod = await loadWebGPUModule();
      if (!mod) throw new Error('backend "webgpu" is not available: src/model/webgpu.ts (initWebGPU) is missing');
      await mod.initWebGPU();
      return use('webgpu');
    }
    case 'auto': {
      if (await loadTfjsNode()) {
        try {
          return await use('tensorflow');
        } catch {
          /* a broken native install: fall through */
        }
      }
      const mod = await loadWebGPUModule();
      if (mod?.hasHardwareGPU && mod.initWebGPU) {
        try {
          if (await mod.hasHardwareGPU()) {
            await mod.initWebGPU();
            return await use('webgpu');
          }
        } catch {
          /* no usable adapter: wasm below */
        }
      }
      return setupWasm();
    }
    default:
      throw new Error(`unknown backend "${name as string}" (auto|tensorflow|webgpu|wasm|cpu)`);
  }
}

async function use(name: string): Promise<string> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend "${name}" failed to initialise`);
  return name;
}

let tfjsNodeTried: boolean | null = null;
async function loadTfjsNode(): Promise<boolean> {
  if (tfjsNodeTried !== null) return tfjsNodeTried;
  tfjsNodeTried = false;
  // Specifiers in variables: these packages are never dependencies, so neither tsc nor
  // bundlers should try to resolve them.
  for (const spec of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(spec);
      if (tf.findBackendFactory('tensorflow')) {
        tfjsNodeTried = true;
        break;
      }
    } catch {
      /* not installed */
    }
  }
  return tfjsNodeTried;
}

interface WebGPUModule {
  initWebGPU: () => Promise<void>;
  hasHardwareGPU?: () => Promise<boolean> | boolean;
}
async function loadWebGPUModule(): Promise<WebGPUModule | null> {
  try {
    // a literal specifier, so bundlers (bench/gpu/build.mjs) follow it
    return (await import('./webgpu.ts')) as WebGPUModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Failed to load url|does not exist/i.test(String(e))) return null;
    throw e;
  }
}

async function setupWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The .wasm binaries sit next to the package's main file; an absolute prefix makes
  // loading independent of the process cwd.
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  if (tf.engine().registryFactory['wasm'] && !tf.engine().registry['wasm']) {
    try {
      wasm.setWasmPaths(dist + path.sep);
    } catch {
      /* already initialised once in this process */
    }
  }
  const { registerWasmKernels } = await import('./wasm-kernels.ts');
  registerWasmKernels();
  return use('wasm');
}
