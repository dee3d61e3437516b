// The sandbox of the page: what SandboxPool (src/sandbox/sandbox.ts) is to the CLI, over a Web Worker
// (sandbox-worker.ts) instead of worker_threads. The same Evaluator and limits run every step; the
// wall clock is kept here: a worker that has not answered the evaluation it is on for hardKillMs (one
// long built-in call, which never polls QuickJS's interrupt handler) is terminated and replaced, that
// evaluation gets a timedOut error and the ones queued behind it run on the new worker.
import type { SandboxOptions } from '../sandbox/sandbox.ts';
import type { RunResult as SandboxRunResult, EvalLimits } from '../sandbox/protocol.ts';
import type { SandboxLike } from '../search/mcts.ts';
import type { FromSandboxWorker, ToSandboxWorker } from './sandbox-protocol.ts';

/** SandboxPool's limits (same defaults) but the stack, in one Web Worker. */
export interface WebSandboxOptions extends Omit<SandboxOptions, 'workers' | 'stackBytes'> {
  /** URL of the bundled sandbox-worker.js. */
  workerUrl: string;
  /** URL of QuickJS's emscripten-module.wasm. */
  wasmUrl: string;
  /** QuickJS stack limit (default 64 KiB, the CLI's is 512 KiB). A browser worker's native stack is
   *  fixed, and QuickJS's own check must fire before V8's, which leaves the wasm module unusable: in
   *  Chromium 156 with 128 KiB, `JSON.parse('['.repeat(1e6))` already overflows V8 first. */
  stackBytes?: number;
}

interface Job {
  id: number;
  steps: string[];
  resolve: (r: SandboxRunResult) => void;
  reject: (e: Error) => void;
}

const MAX_START_FAILURES = 3;

export class WebSandbox implements SandboxLike {
  private readonly limits: EvalLimits;
  private readonly hardKillMs: number;
  private worker: Worker | null = null;
  /** Sent to the current worker, in order; the first is the one it is running. */
  private inFlight: Job[] = [];
  private nextId = 1;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private ready: Promise<void> | null = null;
  private startFailures = 0;
  private closed = false;
  /** Workers replaced after a hard kill or a broken module (for tests and the page's status line). */
  restarts = 0;

  constructor(private readonly o: WebSandboxOptions) {
    this.limits = {
      timeoutMs: o.timeoutMs ?? 1000,
      memoryBytes: o.memoryBytes ?? 32 << 20,
      stackBytes: o.stackBytes ?? 64 << 10,
      maxOutput: o.maxOutput ?? 2000,
    };
    this.hardKillMs = o.hardKillMs ?? 3000;
  }

  /** Start the worker (QuickJS load and warm-up); run() does it on demand. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WebSandbox is closed'));
    this.ready ??= this.spawn();
    return this.ready;
  }

  run(codeSteps: string[]): Promise<SandboxRunResult> {
    if (!Array.isArray(codeSteps) || codeSteps.some((s) => typeof s !== 'string')) {
      return Promise.reject(new TypeError('WebSandbox.run: codeSteps must be an array of strings'));
    }
    return this.start().then(
      () =>
        new Promise<SandboxRunResult>((resolve, reject) => {
          const job: Job = { id: this.nextId++, steps: codeSteps.slice(), resolve, reject };
          this.send(job);
        }),
    );
  }

  runMany(batch: string[][]): Promise<SandboxRunResult[]> {
    return Promise.all(batch.map((s) => this.run(s)));
  }

  close(): void {
    this.closed = true;
    this.stopWatchdog();
    this.worker?.terminate();
    this.worker = null;
    const err = new Error('WebSandbox is closed');
    for (const j of this.inFlight.splice(0)) j.reject(err);
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w = new Worker(this.o.workerUrl, { type: 'module', name: 'rstar-sandbox' });
      this.worker = w;
      const fail = (why: string) => {
        if (this.worker !== w) return;
        w.terminate();
        this.worker = null;
        if (++this.startFailures >= MAX_START_FAILURES) {
          const err = new Error(`WebSandbox: worker fails to start: ${why}`);
          reject(err);
          for (const j of this.inFlight.splice(0)) j.reject(err);
        } else this.spawn().then(resolve, reject);
      };
      w.onerror = (e) => {
        e.preventDefault();
        fail(e.message || 'worker script error');
      };
      w.onmessage = (e: MessageEvent<FromSandboxWorker>) => {
        const m = e.data;
        if (m.type === 'ready') {
          this.startFailures = 0;
          resolve();
          // jobs re-queued from a replaced worker
          const again = this.inFlight.splice(0);
          for (const j of again) this.send(j);
        } else if (m.type === 'error') fail(m.message);
        else if (m.type === 'result') this.settle(m.id, m.result);
        else if (m.type === 'broken') this.replace();
      };
      w.postMessage({ type: 'init', limits: this.limits, wasm: this.o.wasmUrl } satisfies ToSandboxWorker);
    });
  }

  private send(job: Job): void {
    this.inFlight.push(job);
    if (!this.worker) return; // a replacement is starting; it sends the queue when ready
    this.worker.postMessage({ type: 'run', id: job.id, steps: job.steps } satisfies ToSandboxWorker);
    if (this.inFlight.length === 1) this.armWatchdog();
  }

  private settle(id: number, result: SandboxRunResult): void {
    const i = this.inFlight.findIndex((j) => j.id === id);
    if (i < 0) return;
    const [job] = this.inFlight.splice(i, 1);
    job!.resolve(result);
    this.stopWatchdog();
    if (this.inFlight.length) this.armWatchdog();
  }

  private armWatchdog(): void {
    this.stopWatchdog();
    const started = performance.now();
    this.watchdog = setTimeout(() => {
      const culprit = this.inFlight.shift();
      const ms = performance.now() - started;
      culprit?.resolve({ ok: false, error: `Timeout: killed after ${Math.round(ms)} ms without finishing (uninterruptible call)`, output: '', stepOutput: '', timedOut: true, ms });
      this.replace();
    }, this.hardKillMs);
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  /** Terminate the worker; a fresh one runs what is still queued. */
  private replace(): void {
    this.stopWatchdog();
    this.worker?.terminate();
    this.worker = null;
    this.restarts++;
    if (this.closed) return;
    this.ready = this.spawn();
    this.ready.catch(() => undefined);
  }
}
