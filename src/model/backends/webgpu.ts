// TensorFlow.js's WebGPU backend in Node, on Dawn (npm `webgpu`, which ships dawn.node).
//
// Two ways to an adapter, tried in this order:
//   * hardware: Dawn's default backend (Vulkan on Linux) with a real GPU;
//   * software: Dawn's OpenGL ES backend on Mesa's llvmpipe through EGL (CI and machines without a
//     GPU run the very same kernels there, slowly). That backend only offers WebGPU's
//     "compatibility" feature level, which tfjs 4.22 never asks for, so requestAdapter is wrapped
//     to ask for it; EGL needs EGL_PLATFORM=surfaceless without a display.
// A software Vulkan adapter (lavapipe, SwiftShader) is the last resort.
//
// Environment: RSTAR_WEBGPU=auto|hardware|software forces a path; RSTAR_DAWN_FLAGS adds
// space-separated Dawn options (e.g. `enable-dawn-features=skip_validation`);
// RSTAR_WEBGPU_SUBMIT_BATCH sets dispatches per queue submit (default 64, tfjs's own is 15).
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export type WebGPUPath = 'hardware' | 'software';

/** What initWebGPU picked. */
export interface WebGPUInfo {
  path: WebGPUPath;
  /** Dawn options the GPU object was created with. */
  flags: string[];
  featureLevel: 'core' | 'compatibility';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** true for CPU renderers (llvmpipe, lavapipe, SwiftShader). */
  software: boolean;
}

interface Candidate {
  gpu: GPU;
  adapter: GPUAdapter;
  info: WebGPUInfo;
}

type DawnModule = { create: (flags: string[]) => GPU; globals: object };

let dawn: DawnModule | null = null;
let chosen: Candidate | null = null;
let hardwareProbe: Promise<Candidate | null> | null = null;

const SOFTWARE_RE = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render/i;

/** true when the adapter is a CPU renderer rather than a GPU. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  return SOFTWARE_RE.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

function extraFlags(): string[] {
  return (process.env.RSTAR_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  // EGL reads EGL_PLATFORM when Dawn first initialises it (at adapter discovery, not at load), so
  // setting it here, before any adapter is requested, is early enough. Without a display server,
  // only the surfaceless platform initialises.
  if (!process.env.EGL_PLATFORM && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) process.env.EGL_PLATFORM = 'surfaceless';
  const mod = (await import('webgpu')) as unknown as DawnModule;
  // WebGPU's constants and classes (GPUBufferUsage, GPUMapMode, …) are globals in a browser, and
  // tfjs-backend-webgpu uses them as such.
  Object.assign(globalThis, mod.globals);
  dawn = mod;
  return mod;
}

/**
 * Can Dawn's Vulkan backend find a loader at all? Checking the usual library directories first
 * avoids loading dawn.node (and its "Couldn't load Vulkan" warning) on every `auto` start on
 * machines without one.
 */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu',
    '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib', '/usr/local/nvidia/lib64', '/usr/local/nvidia/lib',
  ];
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
}

function describe(adapter: GPUAdapter, path: WebGPUPath, flags: string[], featureLevel: 'core' | 'compatibility'): WebGPUInfo {
  // dawn.node's info fields are prototype getters: read them one by one (a spread copies nothing)
  const raw = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const fields = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    device: raw.device ?? '',
    description: raw.description ?? '',
    isFallbackAdapter: raw.isFallbackAdapter ?? (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  };
  const { isFallbackAdapter: _, ...names } = fields;
  return { path, flags, featureLevel, ...names, software: isSoftwareAdapter(fields) };
}

async function tryAdapter(path: WebGPUPath, flags: string[], featureLevel: 'core' | 'compatibility'): Promise<Candidate | null> {
  const { create } = await loadDawn();
  let gpu: GPU;
  try {
    gpu = create(flags);
  } catch {
    return null; // e.g. an unknown backend name in flags
  }
  const opts: GPURequestAdapterOptions & { featureLevel?: string } = { powerPreference: 'high-performance' };
  if (featureLevel === 'compatibility') opts.featureLevel = 'compatibility';
  const adapter = await gpu.requestAdapter(opts).catch(() => null);
  if (!adapter) return null;
  return { gpu, adapter, info: describe(adapter, path, flags, featureLevel) };
}

/** Dawn's default backend (Vulkan on Linux); null when it offers no adapter. */
function probeDefault(): Promise<Candidate | null> {
  hardwareProbe ??= vulkanLoaderPresent() ? tryAdapter('hardware', extraFlags(), 'core') : Promise.resolve(null);
  return hardwareProbe;
}

/** Whether a hardware (non-software) WebGPU adapter is available. Never throws. */
export async function hasHardwareGPU(): Promise<boolean> {
  try {
    const c = await probeDefault();
    return !!c && !c.info.software;
  } catch {
    return false;
  }
}

async function choose(): Promise<Candidate> {
  const want = (process.env.RSTAR_WEBGPU ?? 'auto').toLowerCase();
  if (!['auto', 'hardware', 'software'].includes(want)) throw new Error(`RSTAR_WEBGPU=${want}: expected auto|hardware|software`);
  const tried: string[] = [];
  const def = want === 'software' ? null : await probeDefault();
  if (def && !def.info.software) return def;
  if (want === 'hardware') {
    throw new Error(`RSTAR_WEBGPU=hardware but Dawn found no hardware adapter (${def ? `only ${def.info.device || def.info.description}` : 'no Vulkan adapter'}); is the Vulkan loader (libvulkan1) and a driver ICD installed?`);
  }
  tried.push(def ? `default: software ${def.info.device}` : 'default (Vulkan): no adapter');
  const gles = await tryAdapter('software', ['backend=opengles', ...extraFlags()], 'compatibility');
  if (gles) return gles;
  tried.push('opengles/compatibility: no adapter');
  if (def) return def; // a software Vulkan adapter still beats nothing
  throw new Error(
    `no WebGPU adapter (${tried.join('; ')}). Without a GPU, install Mesa's EGL/GLES software renderer: ` +
      'apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri',
  );
}

/** Install `gpu` as navigator.gpu; on the compatibility path every requestAdapter asks for that level. */
function installNavigator(c: Candidate): void {
  const native = c.gpu;
  const compat = c.info.featureLevel === 'compatibility';
  const gpu = {
    requestAdapter: (o?: GPURequestAdapterOptions) =>
      native.requestAdapter(compat ? ({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions) : o),
    getPreferredCanvasFormat: () => native.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return native.wgslLanguageFeatures;
    },
  };
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * Pick an adapter (hardware first, else Mesa's software renderer), and register tfjs's 'webgpu'
 * backend on it. The caller (backend.ts) then does tf.setBackend('webgpu'). Idempotent.
 */
export async function initWebGPU(): Promise<void> {
  if (chosen && tf.findBackendFactory('webgpu')) return;
  const c = await choose();
  installNavigator(c);
  // The module registers its own factory at import time when navigator.gpu exists; it asks for a
  // fresh adapter without our feature level and, if imported before we set navigator.gpu, is
  // missing altogether. Register ours, on the adapter chosen above, in either case.
  const wg = await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  const adapter = c.adapter;
  tf.registerBackend(
    'webgpu',
    async () => {
      const l = adapter.limits;
      const features: GPUFeatureName[] = [];
      if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
      // the same limits tfjs's own factory raises to the adapter's maxima
      const device = await adapter.requestDevice({
        requiredFeatures: features,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          // more inputs per AddN dispatch (see patchAddN); the default is 8
          maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        },
      });
      // Validation errors (an invalid pipeline, an out-of-limit binding) do not throw in WebGPU: the
      // dispatch is dropped and results are silently wrong. Keep them so callers and tests can check.
      device.addEventListener('uncapturederror', (ev) => {
        const msg = (ev as GPUUncapturedErrorEvent).error?.message ?? String(ev);
        if (errors.length < 100) errors.push(msg);
        if (errors.length === 1) console.error(`webgpu: ${msg}`);
      });
      return new wg.WebGPUBackend(device, adapter.info);
    },
    3,
  );
  patchAddN();
  patchUpload(wg.WebGPUBackend.prototype as unknown as UploadingBackend);
  // tfjs submits a command buffer every 15 dispatches by default; a training step is ~1000-2000
  // dispatches, and every submit costs a trip through Dawn. Fewer, larger submits.
  const batch = Number(process.env.RSTAR_WEBGPU_SUBMIT_BATCH ?? 64);
  if (batch > 0) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
  chosen = c;
}

const errors: string[] = [];
/** WebGPU validation/out-of-memory errors seen so far (each means some kernel produced garbage). */
export function webgpuErrors(): string[] {
  return [...errors];
}

interface UploadingBackend {
  device: GPUDevice;
  tensorMap: { get(id: object): { dtype: string; shape: number[]; values: ArrayLike<number> | null; resource: unknown } | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  uploadToGPU(dataId: object): void;
}

let uploadPatched = false;
/**
 * Host values (every scalar constant an op or a gradient makes, token ids) reach the GPU through
 * tfjs's uploadToGPU, which creates a fresh mapped staging buffer per tensor and ends the compute
 * pass to copy from it: on the H100 createBuffer alone was the largest host cost of a training step
 * once the Sum/Mean gradients stopped uploading arrays of ones. queue.writeBuffer into a pooled
 * buffer does the same without a new buffer or a pass break. It is ordered correctly: it runs
 * before the commands still being encoded, none of which can use a buffer that is back in the
 * pool (tfjs returns buffers only at submit), and after everything already submitted.
 */
function patchUpload(proto: UploadingBackend): void {
  if (uploadPatched) return;
  const orig = proto.uploadToGPU;
  proto.uploadToGPU = function (this: UploadingBackend, dataId: object) {
    const t = this.tensorMap.get(dataId);
    if (!t || t.resource != null || !t.values || t.dtype === 'complex64' || t.dtype === 'string') return orig.call(this, dataId);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.bufferManager.acquireBuffer(4 * n, usage);
    // bool and int32 live as int32 on webgpu, everything else as float32
    const data = t.dtype === 'float32'
      ? (t.values instanceof Float32Array ? t.values : Float32Array.from(t.values))
      : (t.values instanceof Int32Array ? t.values : Int32Array.from(t.values));
    if (n > 0) this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, 4 * n);
    t.values = null;
    t.resource = buffer;
  };
  uploadPatched = true;
}

let addNPatched = false;
/**
 * tfjs's AddN binds every input as a storage buffer in one shader, so more than
 * maxStorageBuffersPerShaderStage - 1 inputs (7 by default; AdamW's global norm sums one term per
 * weight) make an invalid pipeline. Sum in chunks that fit instead.
 */
function patchAddN(): void {
  if (addNPatched) return;
  const orig = tf.getKernel('AddN', 'webgpu');
  if (!orig) return;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const backend = args.backend as unknown as { device: GPUDevice; disposeData(id: object): void };
      const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
      let inputs = args.inputs as unknown as tf.TensorInfo[];
      const made: tf.TensorInfo[] = [];
      while (inputs.length > max) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < inputs.length; i += max) {
          const part = inputs.slice(i, i + max);
          if (part.length === 1) next.push(part[0]!);
          else {
            const r = orig.kernelFunc({ ...args, inputs: part as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
            made.push(r);
            next.push(r);
          }
        }
        inputs = next;
      }
      const out = orig.kernelFunc({ ...args, inputs: inputs as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
      for (const t of made) backend.disposeData(t.dataId);
      return out;
    },
  });
  addNPatched = true;
}

/** The adapter initWebGPU chose (null before). */
export function webgpuInfo(): WebGPUInfo | null {
  return chosen ? { ...chosen.info } : null;
}

/** GPU work `fn` caused: compute dispatches, queue submits and buffer read-backs (mapAsync). */
export interface DispatchCount {
  dispatches: number;
  submits: number;
  reads: number;
}

/**
 * Count the GPU commands issued while `fn` runs, by wrapping the WebGPU prototypes (dispatches are
 * what per-op overhead scales with; read-backs are the host syncs). Not reentrant.
 */
export async function countDispatches(fn: () => Promise<void> | void): Promise<DispatchCount> {
  const g = (await loadDawn()).globals as Record<string, { prototype: Record<string, unknown> }>;
  const count: DispatchCount = { dispatches: 0, submits: 0, reads: 0 };
  const hooks: [string, string, keyof DispatchCount][] = [
    ['GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches'],
    ['GPUQueue', 'submit', 'submits'],
    ['GPUBuffer', 'mapAsync', 'reads'],
  ];
  const saved = hooks.map(([cls, method, key]) => {
    const proto = g[cls]!.prototype;
    const orig = proto[method] as (...a: unknown[]) => unknown;
    proto[method] = function (this: unknown, ...a: unknown[]) {
      count[key]++;
      return orig.apply(this, a);
    };
    return () => {
      proto[method] = orig;
    };
  });
  try {
    await fn();
  } finally {
    saved.forEach((restore) => restore());
  }
  return count;
}

/** Hyper-parameters of one AdamW update (bias corrections bc = 1 - beta^t precomputed). */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta1^t */
  bc1: number;
  /** 1 - beta2^t */
  bc2: number;
  /** Decoupled weight decay, already restricted by the caller (0 for biases and gains). */
  weightDecay: number;
}

type WebGPUProgramLike = {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  getUserCode(): string;
};
type WebGPUBackendLike = {
  runWebGPUProgram(p: WebGPUProgramLike, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: string; data: number[] }[]): tf.TensorInfo;
};

/**
 * One program per output (a tfjs WebGPU program writes one tensor): each recomputes the moments,
 * which is cheaper than the ~17 elementwise dispatches the op-by-op update costs.
 */
function adamwProgram(n: number, out: 'm' | 'v' | 'p'): WebGPUProgramLike {
  const wg = 256;
  const store = { m: 'm2', v: 'v2', p: 'P * uniforms.decay - (m2 / uniforms.bc1) / (sqrt(v2 / uniforms.bc2) + uniforms.eps) * uniforms.lr' }[out];
  return {
    variableNames: ['P', 'M', 'V', 'G', 'S'],
    outputShape: [n],
    shaderKey: `rstar_adamw_${out}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(n / wg), 1, 1],
    workgroupSize: [wg, 1, 1],
    size: true,
    uniforms: 'lr : f32, beta1 : f32, beta2 : f32, eps : f32, bc1 : f32, bc2 : f32, decay : f32,',
    // `fn main(index : i32)` is the entry tfjs wraps with its own bindings and uniforms header
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let gc = getG(index) * getS();
          let P = getP(index);
          let m2 = getM(index) * uniforms.beta1 + gc * (1.0 - uniforms.beta1);
          let v2 = getV(index) * uniforms.beta2 + gc * gc * (1.0 - uniforms.beta2);
          setOutputAtIndex(index, ${store});
        }
      }`,
  };
}

/**
 * AdamW update of one parameter on the WebGPU backend in 3 dispatches: m ← β1·m + (1-β1)·g·scale,
 * v ← β2·v + (1-β2)·(g·scale)², p ← p·(1 - lr·wd) - lr·(m/bc1)/(√(v/bc2) + eps); the same arithmetic
 * as src/train/optim.ts AdamW. `scale` (a scalar tensor, the clip factor) stays on the GPU.
 */
export function adamwUpdate(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, scale: tf.Scalar, s: AdamWStep): void {
  if (tf.getBackend() !== 'webgpu') throw new Error('adamwUpdate runs on the webgpu backend only');
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const n = p.size;
  const flat = (t: tf.Tensor) => tf.reshape(t, [n]);
  const inputs = [flat(p), flat(m), flat(v), flat(g), tf.reshape(scale, [])];
  // one entry per uniform field, in the order the program declares them
  const uniforms = [s.lr, s.beta1, s.beta2, s.eps, s.bc1, s.bc2, 1 - s.lr * s.weightDecay].map((x) => ({ type: 'float32', data: [x] }));
  // all three read the old moments: compute every output before assigning any
  const outs = (['m', 'v', 'p'] as const).map((o) =>
    tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(adamwProgram(n, o), inputs, 'float32', uniforms)),
  );
  tf.dispose(inputs);
  [m, v, p].forEach((target, i) => {
    const r = tf.reshape(outs[i]!, target.shape);
    target.assign(r);
    r.dispose();
  });
  tf.dispose(outs);
}

/**
 * AdamW.apply (src/train/optim.ts) on the WebGPU backend with the fused update: global-norm clip,
 * then adamwUpdate per parameter. `step` is the 1-based step after increment. Decay applies to
 * tensors of rank ≥ 2 only, as in AdamW. Returns the pre-clip global norm (caller disposes).
 */
export function adamwApplyFused(
  params: Map<string, tf.Variable>,
  m: Map<string, tf.Variable>,
  v: Map<string, tf.Variable>,
  grads: Map<string, tf.Tensor>,
  cfg: { beta1: number; beta2: number; eps: number; weightDecay: number; clip: number },
  step: number,
  lr: number,
  lrScale?: Record<string, number>,
): tf.Scalar {
  const { beta1, beta2, eps, weightDecay, clip } = cfg;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  return tf.tidy(() => {
    const sq = [...grads.values()].map((x) => tf.sum(tf.mul(x, x)));
    const norm = tf.sqrt(tf.addN(sq.length ? sq : [tf.scalar(0)]));
    const scale = clip > 0 ? tf.minimum(tf.scalar(1), tf.div(tf.scalar(clip), tf.add(norm, 1e-6))) : tf.scalar(1);
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      const wd = p.shape.length >= 2 ? weightDecay : 0;
      adamwUpdate(p, m.get(name)!, v.get(name)!, g, scale as tf.Scalar, { lr: lr * (lrScale?.[name] ?? 1), beta1, beta2, eps, bc1, bc2, weightDecay: wd });
    }
    return tf.keep(norm) as tf.Scalar;
  });
}
