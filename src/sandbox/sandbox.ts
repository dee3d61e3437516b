// Step-execution sandbox: runs a trajectory's code steps (JavaScript) in QuickJS/wasm inside
// worker_threads. rStar-Math keeps a candidate step only if it runs together with all earlier steps
// of its trajectory; `run(codeSteps)` answers exactly that, with what the last step printed.
//
// Layers of defence, innermost first (see worker.ts for the evaluation semantics):
//   1. QuickJS itself: no host objects exist in the VM (no require/process/fetch/console/import loader),
//      a fresh context per evaluation, so nothing a step does survives into the next evaluation.
//   2. Runtime limits: memory limit, max stack size, and an interrupt deadline (timeoutMs).
//   3. Output budget: printing more than maxOutput characters is an ERROR result (ok:false,
//      error 'OutputLimit: ...', outputTruncated:true, output cut to maxOutput). A flooding step is
//      a broken step, and its answer would be noise.
//   4. Wall clock (here, on the main thread): one long built-in call (`'x'.repeat(1e9)`,
//      `Array(1e8).fill(0)`, a prelude call the host runs, `factorial(1e7)`) does not poll the interrupt
//      handler, so a worker that makes no progress for hardKillMs is terminated and replaced; its
//      evaluation gets a timedOut error result. The worker's V8 heap is capped (the prelude runs there).

import { Worker } from 'node:worker_threads';
import type { FromWorker, RunResult, ToWorker, WorkerInit } from './protocol.ts';

export type { RunResult } from './protocol.ts';

export interface SandboxOptions {
  /** Worker threads (default 2). */
  workers?: number;
  /** Interrupt deadline per evaluation, all steps together, in ms (default 1000). */
  timeoutMs?: number;
  /** Wall-clock kill of a worker stuck on one evaluation, in ms (default 3000). */
  hardKillMs?: number;
  /** QuickJS runtime memory limit (default 32 MiB). */
  memoryBytes?: number;
  /** QuickJS max stack size (default 512 KiB). */
  stackBytes?: number;
  /** Output budget in characters (default 2000). */
  maxOutput?: number;
}


interface Job {
  steps: string[];
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  progress: Int32Array;
  ready: boolean;
  batch: Job[] | null;
  /** progress counter when the batch was sent */
  base: number;
  /** last progress value the watchdog saw, and when it changed */
  seen: number;
  seenAt: number;
  dead: boolean;
}

const MAX_BATCH = 32;
const MAX_START_FAILURES = 3;
const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
// The worker is TypeScript. `execArgv: ['--import', 'tsx']` does not give a Node 20 worker the tsx
// hooks, so a tiny eval'd bootstrap loads it through tsx's API instead; this works the same under
// vitest and under `node --import tsx`.
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then((m) => m.tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(WORKER_URL)}))`;

export class SandboxPool {
  private readonly opts: Required<SandboxOptions>;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private pumpScheduled = false;
  private closed = false;
  private startFailures = 0;

  constructor(opts: SandboxOptions = {}) {
    this.opts = {
      workers: opts.workers ?? 2,
      timeoutMs: opts.timeoutMs ?? 1000,
      hardKillMs: opts.hardKillMs ?? 3000,
      memoryBytes: opts.memoryBytes ?? 32 << 20,
      stackBytes: opts.stackBytes ?? 512 << 10,
      maxOutput: opts.maxOutput ?? 2000,
    };
    if (this.opts.workers < 1) throw new Error('SandboxPool: workers must be >= 1');
  }

  /** Runs steps 1..k cumulatively in a fresh context; the last step is the candidate. */
  run(codeSteps: string[]): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error('SandboxPool is closed'));
    // Checked here: a non-string reaching QuickJS would be a host error inside the worker.
    if (!Array.isArray(codeSteps) || codeSteps.some((s) => typeof s !== 'string')) {
      return Promise.reject(new TypeError('SandboxPool.run: codeSteps must be an array of strings'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ steps: codeSteps.slice(), resolve, reject });
      this.schedule();
    });
  }

  /** Runs many trajectories spread over the workers; results are in input order. */
  runMany(batch: string[][]): Promise<RunResult[]> {
    return Promise.all(batch.map((steps) => this.run(steps)));
  }

  /** Stops all workers. Evaluations still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('SandboxPool is closed');
    for (const job of this.queue.splice(0)) job.reject(err);
    const stopping: Promise<number>[] = [];
    for (const s of this.slots) {
      for (const job of s.batch ?? []) job.reject(err);
      s.batch = null;
      s.dead = true;
      stopping.push(s.worker.terminate());
    }
    this.slots.length = 0;
    this.stopWatchdog();
    await Promise.all(stopping);
  }

  // Dispatch on a microtask so that run() calls made in the same tick are batched together.
  private schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    // Start workers lazily, only as many as the queue can keep busy.
    while (this.slots.length < this.opts.workers && this.queue.length > this.slots.filter((s) => !s.batch).length) {
      this.spawn();
    }
    for (const s of this.slots) {
      if (this.queue.length === 0) break;
      if (!s.ready || s.batch || s.dead) continue;
      // Split the queue evenly between workers, in chunks small enough to keep them all busy.
      const n = Math.max(1, Math.min(MAX_BATCH, Math.ceil(this.queue.length / this.opts.workers)));
      const batch = this.queue.splice(0, n);
      s.batch = batch;
      s.base = Atomics.load(s.progress, 0);
      s.seen = s.base;
      s.seenAt = performance.now();
      s.worker.ref();
      s.worker.postMessage({ type: 'run', batch: batch.map((j) => j.steps) } satisfies ToWorker);
      this.startWatchdog();
    }
  }

  private spawn(): void {
    const progress = new SharedArrayBuffer(4);
    const init: WorkerInit = {
      limits: {
        timeoutMs: this.opts.timeoutMs,
        memoryBytes: this.opts.memoryBytes,
        stackBytes: this.opts.stackBytes,
        maxOutput: this.opts.maxOutput,
      },
      progress,
    };
    // QuickJS's stack limit counts the wasm shadow stack, but wasm frames also use the thread's native
    // stack; 4 MB of native stack per 512 KiB of QuickJS stack keeps QuickJS's own check the one that
    // fires (on a 1 MB main-thread stack V8 overflows first and leaves the wasm module unusable).
    const stackSizeMb = Math.max(4, Math.ceil((8 * this.opts.stackBytes) / (1 << 20)));
    // The prelude's own work runs in the worker's V8 heap (prelude/realm.ts), outside QuickJS's memory
    // limit: a step that makes it build something huge crashes this worker, not the process.
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { rstarSandbox: init },
      resourceLimits: { stackSizeMb, maxOldGenerationSizeMb: 512 },
    });
    const slot: Slot = {
      worker,
      progress: new Int32Array(progress),
      ready: false,
      batch: null,
      base: 0,
      seen: 0,
      seenAt: 0,
      dead: false,
    };
    // Ref'd while starting or busy, unref'd while idle: a pool nobody closed never holds the process open.
    this.slots.push(slot);
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onDeath(slot, `SandboxCrash: ${err.message}`));
    worker.on('exit', (code) => this.onDeath(slot, `SandboxCrash: worker exited with code ${code}`));
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (slot.dead) return;
    if (msg.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      slot.worker.unref();
    } else {
      const batch = slot.batch ?? [];
      slot.batch = null;
      batch.forEach((job, i) => {
        const r = msg.results[i];
        if (r) job.resolve(r);
      });
      // A worker that found its wasm module broken returns early and exits; redo the rest elsewhere.
      if (msg.results.length < batch.length) this.queue.unshift(...batch.slice(msg.results.length));
      slot.worker.unref();
    }
    this.pump(); // re-refs the worker if it gets another batch
  }

  /** The worker is gone (killed by us, crashed, or exited): settle its current job, re-queue the rest. */
  private onDeath(slot: Slot, reason: string, culpritResult?: RunResult): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    const batch = slot.batch ?? [];
    slot.batch = null;
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      // Workers cannot even start (broken install?): fail loudly instead of respawning forever.
      const err = new Error(`SandboxPool: workers fail to start: ${reason}`);
      for (const job of [...batch, ...this.queue.splice(0)]) job.reject(err);
      return;
    }
    // The job that was running when the worker died gets the error; the others were innocent.
    const started = Atomics.load(slot.progress, 0) - slot.base;
    const culprit = started - 1;
    const requeue: Job[] = [];
    batch.forEach((job, k) => {
      if (k === culprit) job.resolve(culpritResult ?? { ok: false, error: reason, output: '', stepOutput: '', ms: 0 });
      else requeue.push(job);
    });
    this.queue.unshift(...requeue);
    if (!this.closed) this.schedule();
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    const tick = Math.max(10, Math.min(100, this.opts.hardKillMs / 5));
    this.watchdog = setInterval(() => this.checkWorkers(), tick);
    // Busy workers are ref'd and keep the process alive; the timer itself need not.
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private checkWorkers(): void {
    const now = performance.now();
    let busy = false;
    for (const s of [...this.slots]) {
      if (!s.batch) continue;
      busy = true;
      const p = Atomics.load(s.progress, 0);
      if (p !== s.seen) {
        s.seen = p;
        s.seenAt = now;
      } else if (now - s.seenAt > this.opts.hardKillMs) {
        const ms = now - s.seenAt;
        this.onDeath(s, 'killed', {
          ok: false,
          error: `Timeout: killed after ${Math.round(ms)} ms without finishing (uninterruptible call)`,
          output: '',
          stepOutput: '',
          timedOut: true,
          ms,
        });
      }
    }
    if (!busy) this.stopWatchdog();
  }
}
