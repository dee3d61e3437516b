// Data-parallel gradients over worker threads. tfjs's wasm backend is single-threaded
// under Node, so on an N-core machine N replicas (this thread + N-1 workers) each take a
// shard of the batch: every step the workers receive the current weights (one
// transferable Float32Array) and their shard, return loss + gradients, and this thread
// averages them (weighted by each shard's share of the loss denominator, so the result
// equals the full-batch gradient) for the caller's optimizer.
//
// This one file is also the worker's entry point (see the bottom).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../model/backends/backend.ts';
import { GPT, type GPTConfig } from '../model/gpt.ts';
import { tsWorker } from '../util/worker.ts';

/** A named input of a batch, row-major, sharded along its first axis. */
export interface BatchTensor {
  data: Int32Array | Float32Array;
  shape: number[];
  dtype: 'int32' | 'float32';
}
export type Batch = Record<string, BatchTensor>;

/** Anything with named trainable weights. */
export interface Trainable {
  namedWeights(): Map<string, tf.Variable>;
  dispose(): void;
}

/** A loss a replica can compute. The full-batch loss must be Σ_shards weight·loss / Σ weight
 *  (e.g. a masked mean: weight = number of unmasked tokens). */
export interface LossSpec<M extends Trainable = Trainable> {
  /** Build a replica's model from the serialisable config the main thread passes. */
  build(config: unknown): M;
  loss(model: M, batch: Record<string, tf.Tensor>): tf.Scalar;
  weight(batch: Batch): number;
}

const LOSSES = new Map<string, LossSpec>();

/** Register a loss by name (in every module the workers import: see `modules`). */
export function registerLoss<M extends Trainable>(name: string, spec: LossSpec<M>): void {
  LOSSES.set(name, spec as unknown as LossSpec);
}
export function getLoss(name: string): LossSpec {
  const s = LOSSES.get(name);
  if (!s) throw new Error(`unknown loss "${name}" (registered: ${[...LOSSES.keys()].join(', ')})`);
  return s;
}

// 'lm': masked next-token cross-entropy of our GPT; batch {ids, targets, mask} all [B,T].
registerLoss<GPT>('lm', {
  build: (config) => new GPT(config as GPTConfig),
  // dropoutSeed [B]: row r's seed; a shard uses its first row's, so replicas draw different masks
  loss: (model, b) => model.lmLoss(b.ids as tf.Tensor2D, b.targets as tf.Tensor2D, b.mask as tf.Tensor2D, { training: true, dropoutSeed: b.dropoutSeed?.dataSync()[0] }),
  weight: (b) => {
    let s = 0;
    for (const v of b.mask!.data) s += v;
    return Math.max(s, 1);
  },
});

/** Rows [lo, hi) of every tensor of the batch. */
export function shardBatch(batch: Batch, lo: number, hi: number): Batch {
  const out: Batch = {};
  for (const [k, t] of Object.entries(batch)) {
    const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
    out[k] = { data: t.data.slice(lo * row, hi * row), shape: [hi - lo, ...t.shape.slice(1)], dtype: t.dtype };
  }
  return out;
}

function toTensors(batch: Batch): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(batch)) out[k] = tf.tensor(t.data, t.shape, t.dtype);
  return out;
}

/** Loss and flattened gradients (in `names` order) of one replica's shard. */
function shardGrads(spec: LossSpec, model: Trainable, names: string[], batch: Batch): { loss: number; grads: Float32Array } {
  const params = model.namedWeights();
  const vars = names.map((n) => params.get(n)!);
  const total = vars.reduce((s, v) => s + v.size, 0);
  const grads = new Float32Array(total);
  let loss = 0;
  tf.tidy(() => {
    const inputs = toTensors(batch);
    const { value, grads: g } = tf.variableGrads(() => spec.loss(model, inputs), vars);
    loss = value.dataSync()[0]!;
    let off = 0;
    for (const v of vars) {
      const gv = g[v.name];
      if (gv) grads.set(gv.dataSync(), off);
      off += v.size;
    }
  });
  return { loss, grads };
}

function flattenWeights(vars: tf.Variable[]): Float32Array {
  const out = new Float32Array(vars.reduce((s, v) => s + v.size, 0));
  let off = 0;
  for (const v of vars) {
    out.set(v.dataSync() as Float32Array, off);
    off += v.size;
  }
  return out;
}

export interface DataParallelOptions {
  /** Registered loss name ('lm', or one a `modules` entry registers). */
  loss: string;
  /** Passed to the loss's build() in each worker: the model config. */
  config: unknown;
  /** Total replicas including this thread (default 2). */
  replicas?: number;
  /** Backend for the workers (default: the one this thread uses). */
  backend?: BackendName;
  /** Module URLs the workers import first (to register more losses). */
  modules?: string[];
}

interface Pending {
  resolve: (r: { loss: number; grads: Float32Array }) => void;
  reject: (e: Error) => void;
}

/**
 * Replicas of `model` in worker threads. `grads(batch)` returns the full-batch loss and
 * gradients (tensors the caller disposes) computed over all replicas at once.
 */
export class DataParallel {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<Worker, Pending>();
  private readonly names: string[];
  private readonly spec: LossSpec;
  private closed = false;

  private constructor(private readonly model: Trainable, private readonly opts: DataParallelOptions) {
    this.names = [...model.namedWeights().keys()];
    this.spec = getLoss(opts.loss);
  }

  static async create(model: Trainable, opts: DataParallelOptions): Promise<DataParallel> {
    const dp = new DataParallel(model, opts);
    await dp.start();
    return dp;
  }

  get replicas(): number {
    return this.workers.length + 1;
  }

  private async start(): Promise<void> {
    const n = Math.max(1, this.opts.replicas ?? 2) - 1;
    const backend = this.opts.backend ?? ((tf.getBackend() as BackendName | undefined) ?? 'auto');
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      // workers run this same file
      const w = tsWorker(import.meta.url, { rstarDataParallel: true, backend, loss: this.opts.loss, config: this.opts.config, names: this.names, modules: this.opts.modules ?? [] });
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: { type: string; error?: string }) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') reject(new Error(`data-parallel worker: ${m.error}`));
            w.off('message', onMsg);
          };
          w.on('message', onMsg);
          w.once('error', reject);
        }),
      );
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(w, new Error(`data-parallel worker exited with code ${code}`));
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await this.close();
      throw e;
    }
    for (const w of this.workers) {
      w.on('message', (m: { type: string; loss?: number; grads?: Float32Array; error?: string }) => {
        const p = this.pending.get(w);
        if (!p) return;
        this.pending.delete(w);
        if (m.type === 'grads') p.resolve({ loss: m.loss!, grads: m.grads! });
        else p.reject(new Error(`data-parallel worker: ${m.error}`));
      });
    }
  }

  private fail(w: Worker, e: Error) {
    const p = this.pending.get(w);
    if (p) {
      this.pending.delete(w);
      p.reject(e);
    }
  }

  /** Full-batch loss and gradients (name → tensor, shaped like the weights). */
  async grads(batch: Batch): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> {
    if (this.closed) throw new Error('DataParallel is closed');
    const rows = Object.values(batch)[0]!.shape[0]!;
    const R = Math.min(this.replicas, rows);
    const bounds = Array.from({ length: R + 1 }, (_, i) => Math.round((i * rows) / R));
    const shards = Array.from({ length: R }, (_, i) => shardBatch(batch, bounds[i]!, bounds[i + 1]!));
    const params = this.model.namedWeights();
    const vars = this.names.map((n) => params.get(n)!);
    const weights = flattenWeights(vars);
    const ws = shards.map((sh) => this.spec.weight(sh)); // before the shards are transferred
    // Send the workers their shards first, so they run while this thread does shard 0.
    const remote = shards.slice(1).map((shard, i) => {
      const w = this.workers[i]!;
      const copy = weights.slice();
      const transfer = [copy.buffer, ...Object.values(shard).map((t) => t.data.buffer)];
      return new Promise<{ loss: number; grads: Float32Array }>((resolve, reject) => {
        this.pending.set(w, { resolve, reject });
        w.postMessage({ type: 'step', weights: copy, batch: shard }, transfer as ArrayBuffer[]);
      });
    });
    const local = shardGrads(this.spec, this.model, this.names, shards[0]!);
    const results = [local, ...(await Promise.all(remote))];
    const wsum = ws.reduce((a, b) => a + b, 0);
    const acc = new Float32Array(weights.length);
    let loss = 0;
    results.forEach((r, i) => {
      const f = ws[i]! / wsum;
      loss += f * r.loss;
      const g = r.grads;
      for (let j = 0; j < acc.length; j++) acc[j]! += f * g[j]!;
    });
    const grads = new Map<string, tf.Tensor>();
    let off = 0;
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i]!;
      grads.set(this.names[i]!, tf.tensor(acc.subarray(off, off + v.size), v.shape, 'float32'));
      off += v.size;
    }
    return { loss, grads };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

// ---- worker side ---------------------------------------------------------------------------

async function workerMain(data: { backend: BackendName; loss: string; config: unknown; names: string[]; modules: string[] }) {
  const port = parentPort!;
  try {
    for (const m of data.modules) await import(m);
    await setupBackend(data.backend);
    const spec = getLoss(data.loss);
    const model = spec.build(data.config);
    const params = model.namedWeights();
    const vars = data.names.map((n) => {
      const v = params.get(n);
      if (!v) throw new Error(`replica has no weight "${n}"`);
      return v;
    });
    port.on('message', (m: { type: string; weights: Float32Array; batch: Batch }) => {
      if (m.type !== 'step') return;
      try {
        tf.tidy(() => {
          let off = 0;
          for (const v of vars) {
            v.assign(tf.tensor(m.weights.subarray(off, off + v.size), v.shape, 'float32'));
            off += v.size;
          }
        });
        const r = shardGrads(spec, model, data.names, m.batch);
        port.postMessage({ type: 'grads', loss: r.loss, grads: r.grads }, [r.grads.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ type: 'error', error: String((e as Error).stack ?? e) });
      }
    });
    port.postMessage({ type: 'ready' });
  } catch (e) {
    port.postMessage({ type: 'error', error: String((e as Error).stack ?? e) });
  }
}

if (!isMainThread && (workerData as { rstarDataParallel?: boolean } | null)?.rstarDataParallel) {
  void workerMain(workerData);
}
