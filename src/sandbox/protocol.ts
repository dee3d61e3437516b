// The sandbox's contract: what one evaluation returns and the messages between the pool (sandbox.ts)
// and its worker threads (worker.ts). Both import this file; neither imports the other.

export interface RunResult {
  ok: boolean;
  /** 'Name: message' of what stopped the evaluation ('Uncaught <value>' for thrown non-Errors). */
  error?: string;
  /** Everything printed, one line per print() call, joined by '\n' (cut to maxOutput). */
  output: string;
  /** What the last step printed. */
  stepOutput: string;
  /** The last argument of the last print() in the last step, formatted; absent if it printed nothing. */
  answer?: string;
  /** The interrupt deadline or the wall-clock kill stopped the evaluation. */
  timedOut?: boolean;
  /** Index (0-based) of the step that failed. */
  failedStep?: number;
  /** The output budget was exceeded (the result is then an error). */
  outputTruncated?: boolean;
  /** Time spent on this evaluation, in ms. */
  ms: number;
}

export interface EvalLimits {
  timeoutMs: number;
  memoryBytes: number;
  stackBytes: number;
  maxOutput: number;
}

export interface WorkerInit {
  limits: EvalLimits;
  /** Int32 slot 0: evaluations started so far; the pool's watchdog reads it to find a stuck one. */
  progress: SharedArrayBuffer;
}
export type ToWorker = { type: 'run'; batch: string[][] };
export type FromWorker = { type: 'ready' } | { type: 'done'; results: RunResult[] };
