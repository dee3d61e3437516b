// Messages between the page's WebSandbox (web-sandbox.ts) and its Web Worker (sandbox-worker.ts).
import type { EvalLimits, RunResult } from '../sandbox/protocol.ts';

export type ToSandboxWorker =
  | { type: 'init'; limits: EvalLimits; wasm: string }
  | { type: 'run'; id: number; steps: string[] };

export type FromSandboxWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: RunResult }
  /** The QuickJS module failed (Evaluator.broken): the page replaces the worker. */
  | { type: 'broken' }
  | { type: 'error'; message: string };
