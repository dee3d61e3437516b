// One sandbox worker: evaluates step trajectories in QuickJS (compiled to wasm), one fresh context per
// evaluation. The pool in sandbox.ts owns the wall-clock kill; everything in here is the cooperative
// part: memory limit, stack limit, interrupt deadline, output budget.
//
// Semantics (documented for the rest of the project):
// - Steps run in order as separate global scripts in one context, so step k sees the top-level
//   const/let/function of steps 1..k-1 and redeclaring one of them is a SyntaxError. Each step must be
//   syntactically complete on its own.
// - print(...args) is the only output: arguments are formatted (formatNumber, FORMATTER) and
//   space-joined, one line per call. `answer` is the last argument of the last print() call (with at
//   least one argument) made by the last step.
// - Promise jobs never run: `.then` callbacks and code after an `await` do not execute. Nothing can
//   run outside a step's own synchronous extent, so output attribution is exact and job loops are
//   impossible. Async functions still run synchronously up to their first await.
// - Math.random is a fixed-seed PRNG (same sequence in every evaluation) wherever the code names
//   `Math` (QuickJS builds Math on first touch, ~11 us, so it is not touched otherwise); Date, typed
//   arrays and ArrayBuffer are not defined (see INTRINSICS).
// - The exact-mathematics prelude (prelude/README.md: Q, gcd, P, convert, fmt, ...): an evaluation
//   gets the prelude globals its code names. They are stubs in one frozen realm per runtime; the
//   prelude itself runs in the host's JavaScript engine (prelude/realm.ts). print() of a prelude value
//   (R, Poly, Surd, or an array of R and Poly) prints fmt(value): -2/3.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  newQuickJSWASMModuleFromVariant,
  DefaultIntrinsics,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import type { EvalLimits, FromWorker, RunResult, ToWorker, WorkerInit } from './protocol.ts';
import { PreludeRealm } from './prelude/realm.ts';
import { preludeNames } from './prelude/index.ts';


// Left out: Date (determinism) and typed arrays/ArrayBuffer, which math steps do not need and which
// make up a third of the cost of creating a context (the dominant per-evaluation cost).
const INTRINSICS = { ...DefaultIntrinsics, Date: false, TypedArrays: false };

/**
 * How print() writes a number: integers exactly (String(x)); other finite numbers via toPrecision(12),
 * so float noise never reaches an answer (0.1+0.2 -> 0.3); -0 as 0; NaN/Infinity as themselves.
 * FORMATTER below repeats this for numbers nested in arrays/objects (the tests cover both paths).
 */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(12)));
}

// Formats non-primitive print() arguments inside the VM: arrays as [1, 2, "a"], objects as
// {a: 1, "b c": 2}, Map/Set as Map {k => v}/Set {v}, errors as Name: message, at most 100 entries and
// 4 levels deep, cycles as [Circular]. Compiling it costs ~0.5 ms, three times a whole math
// trajectory, so it is compiled only in the (rare) evaluations that print something non-primitive.
// It captures the built-ins it uses when compiled; a step that replaced them earlier in the same
// evaluation only garbles its own output.
const FORMATTER = `(function () {
  'use strict';
  const isArray = Array.isArray, isInteger = Number.isInteger, keys = Object.keys, stringify = JSON.stringify;
  const apply = Reflect.apply, toPrecision = Number.prototype.toPrecision, ErrorCtor = Error, StringCtor = String;
  const mapEntries = Map.prototype.entries, setValues = Set.prototype.values;
  const IDENT = /^[A-Za-z_$][\\w$]*$/;
  const MAX_ITEMS = 100, MAX_DEPTH = 4;
  function num(x) {
    if (x === 0) return '0';
    if (x !== x) return 'NaN';
    if (x === Infinity) return 'Infinity';
    if (x === -Infinity) return '-Infinity';
    if (isInteger(x)) return '' + x;
    return '' + +apply(toPrecision, x, [12]);
  }
  function join(parts) {
    let s = '';
    for (let i = 0; i < parts.length; i++) s += (i ? ', ' : '') + parts[i];
    return s;
  }
  function take(iter, n) {
    const out = [];
    for (const v of iter) { if (out.length === n) break; out[out.length] = v; }
    return out;
  }
  function more(n) { return n > 0 ? ['... ' + n + ' more'] : []; }
  function fmt(v, depth, seen) {
    switch (typeof v) {
      case 'number': return num(v);
      case 'string': return depth === 0 ? v : stringify(v);
      case 'bigint': return '' + v;
      case 'boolean': return v ? 'true' : 'false';
      case 'undefined': return 'undefined';
      case 'symbol': return StringCtor(v);
      case 'function': return '[Function ' + (typeof v.name === 'string' && v.name ? v.name : 'anonymous') + ']';
    }
    if (v === null) return 'null';
    if (seen.indexOf(v) >= 0) return '[Circular]';
    if (depth >= MAX_DEPTH) return isArray(v) ? '[Array]' : '[Object]';
    seen[seen.length] = v;
    const parts = [];
    let s;
    if (isArray(v)) {
      const n = v.length;
      for (let i = 0; i < n && i < MAX_ITEMS; i++) parts[i] = fmt(v[i], depth + 1, seen);
      s = '[' + join(parts.concat(more(n - MAX_ITEMS))) + ']';
    } else if (v instanceof ErrorCtor) {
      s = StringCtor(v.name) + ': ' + StringCtor(v.message);
    } else if (v instanceof Map) {
      for (const e of take(apply(mapEntries, v, []), MAX_ITEMS)) parts[parts.length] = fmt(e[0], depth + 1, seen) + ' => ' + fmt(e[1], depth + 1, seen);
      s = 'Map {' + join(parts.concat(more(v.size - MAX_ITEMS))) + '}';
    } else if (v instanceof Set) {
      for (const e of take(apply(setValues, v, []), MAX_ITEMS)) parts[parts.length] = fmt(e, depth + 1, seen);
      s = 'Set {' + join(parts.concat(more(v.size - MAX_ITEMS))) + '}';
    } else {
      const ks = keys(v);
      for (let i = 0; i < ks.length && i < MAX_ITEMS; i++) {
        const k = ks[i];
        parts[i] = (IDENT.test(k) ? k : stringify(k)) + ': ' + fmt(v[k], depth + 1, seen);
      }
      s = '{' + join(parts.concat(more(ks.length - MAX_ITEMS))) + '}';
    }
    seen.length--;
    return s;
  }
  return function format(v, nested) { return fmt(v, nested ? 1 : 0, []); };
})()`;

// Errors after which the runtime is not reused: stack overflow and other engine errors, out of memory,
// host-side failures, and errors the worker could not even read.
const UNSOUND = /^(InternalError|SandboxError|Uncaught)|out of memory|stack overflow|call stack|could not be described/i;

/** Evaluates trajectories one at a time on one QuickJS wasm module. Not thread-safe (one per worker). */
export class Evaluator {
  private rt: QuickJSRuntime | null = null;
  /** The prelude's realm on rt, built by the first evaluation that names a prelude global. */
  private realm: PreludeRealm | null = null;
  /** Whether this evaluation's context has the prelude (print then formats its values). */
  private preludeInstalled = false;
  /** Set while the prelude realm is built: trusted code, outside any evaluation's deadline. */
  private buildingRealm = false;
  private evalsOnRuntime = 0;
  // Per-evaluation state shared with the interrupt handler and the host functions.
  private deadline = 0;
  private timedOut = false;
  private flooded = false;
  private lines: string[][] = [];
  private chars = 0;
  private nLines = 0;
  private step = 0;
  private lastPrinted: (string | undefined)[] = [];
  private seed = 0;
  private formatter: QuickJSHandle | null = null;
  /** The context of the evaluation running now. */
  private ctx: QuickJSContext | null = null;
  /** Set when the wasm module itself failed; the worker then exits and the pool starts a fresh one. */
  broken = false;

  constructor(private readonly module: QuickJSWASMModule, private readonly limits: EvalLimits) {}

  static async create(limits: EvalLimits): Promise<Evaluator> {
    // Dynamic import: the variant package's typings are CommonJS, which a static default import
    // mistypes under NodeNext; PromisedDefault accepts the module promise as is.
    return new Evaluator(await newQuickJSWASMModuleFromVariant(import('@jitl/quickjs-wasmfile-release-sync')), limits);
  }

  // A runtime is cheap (~30 us) but its realm (print and the prelude's stubs, frozen) is not (~20 ms),
  // so it is reused across evaluations, including ones whose step threw an ordinary error (MCTS makes
  // many). Anything that can leave it unsound (timeout or output flood mid-allocation, out of memory,
  // stack overflow, a host failure, pending promise jobs that still hold the old context) retires it.
  // A periodic refresh only bounds what an unforeseen leak could build up.
  private runtime(): QuickJSRuntime {
    if (this.rt && this.evalsOnRuntime < 8192) return this.rt;
    this.retireRuntime();
    const rt = this.module.newRuntime();
    rt.setMemoryLimit(this.limits.memoryBytes);
    rt.setMaxStackSize(this.limits.stackBytes);
    rt.setInterruptHandler(() => {
      if (this.flooded) return true;
      if (this.buildingRealm) return false;
      if (performance.now() > this.deadline) return (this.timedOut = true);
      return false;
    });
    this.rt = rt;
    this.evalsOnRuntime = 0;
    return rt;
  }

  private retireRuntime(): void {
    const rt = this.rt;
    this.rt = null;
    this.realm?.dispose(); // before its runtime
    this.realm = null;
    rt?.dispose();
  }

  run(steps: string[]): RunResult {
    const t0 = performance.now();
    this.deadline = t0 + this.limits.timeoutMs;
    this.timedOut = false;
    this.flooded = false;
    this.lines = steps.map(() => []);
    this.lastPrinted = steps.map(() => undefined);
    this.chars = 0;
    this.nLines = 0;
    this.step = 0;
    this.seed = 0x2f6b7a1d;
    this.preludeInstalled = false;

    let error: string | undefined;
    let failedStep: number | undefined;
    try {
      const rt = this.runtime();
      this.evalsOnRuntime++;
      if (!this.realm) {
        // ~2 ms once per runtime (more on a cold or busy machine): not charged to the steps
        const b0 = performance.now();
        this.buildingRealm = true;
        try {
          this.realm = PreludeRealm.create(rt, INTRINSICS);
          this.realm.hooks = this.hooks;
        } finally {
          this.buildingRealm = false;
          this.deadline += performance.now() - b0;
        }
      }
      const realm = this.realm;
      const ctx = rt.newContext({ intrinsics: INTRINSICS });
      this.ctx = ctx;
      try {
        const names = preludeNames(steps);
        try {
          realm.install(ctx, names, steps.some((t) => t.includes('Math')));
          this.preludeInstalled = names !== '';
        } catch (e) {
          if (!this.timedOut) throw e;
          error = `Timeout: ran past ${this.limits.timeoutMs} ms`;
          failedStep = 0;
        }
        for (let k = 0; k < steps.length && error === undefined; k++) {
          this.step = k;
          const r = ctx.evalCode(steps[k]!, `step${k + 1}.js`, { type: 'global' });
          if (r.error) {
            error = this.describe(ctx, r.error);
            r.error.dispose();
            failedStep = k;
            break;
          }
          r.value.dispose();
        }
      } finally {
        this.formatter?.dispose();
        this.formatter = null;
        realm.release();
        this.ctx = null;
        ctx.dispose();
      }
      // an ordinary thrown error (TypeError, RangeError from the prelude, ...) leaves the runtime sound
      const unsound = this.timedOut || this.flooded || (error !== undefined && UNSOUND.test(error));
      if (unsound || rt.hasPendingJob()) this.retireRuntime();
    } catch (e) {
      // The host side of QuickJS failed (a wasm trap, a leaked handle): nothing here can be trusted.
      error = `SandboxError: ${e instanceof Error ? e.message : String(e)}`;
      failedStep = this.step;
      this.broken = true;
    }

    const last = steps.length - 1;
    const result: RunResult = {
      ok: error === undefined,
      output: this.lines.flat().join('\n').slice(0, this.limits.maxOutput),
      stepOutput: last >= 0 ? this.lines[last]!.join('\n').slice(0, this.limits.maxOutput) : '',
      ms: performance.now() - t0,
    };
    if (error !== undefined) {
      result.error = error;
      result.failedStep = failedStep;
    } else if (last >= 0 && this.lastPrinted[last] !== undefined) {
      result.answer = this.lastPrinted[last];
    }
    if (this.timedOut) result.timedOut = true;
    if (this.flooded) result.outputTruncated = true;
    return result;
  }

  /** print and Math.random of the evaluation running now: stubs in the realm call these. */
  private readonly hooks = {
    print: (args: QuickJSHandle[]): void => {
      const ctx = this.ctx!;
      const parts = args.map((h) => this.format(ctx, h, false));
      this.emit(parts.join(' '), parts.length > 0 ? parts[parts.length - 1] : undefined);
    },
    // mulberry32: the same sequence in every evaluation
    random: (): number => {
      this.seed = (this.seed + 0x6d2b79f5) | 0;
      let t = Math.imul(this.seed ^ (this.seed >>> 15), 1 | this.seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };

  private emit(line: string, last: string | undefined): void {
    this.chars += line.length + (this.nLines++ > 0 ? 1 : 0);
    this.lines[this.step]!.push(line.length > this.limits.maxOutput ? line.slice(0, this.limits.maxOutput) : line);
    if (last !== undefined) this.lastPrinted[this.step] = last;
    if (this.chars > this.limits.maxOutput) {
      // Sticky: the interrupt handler now stops the evaluation even if the step catches this error.
      this.flooded = true;
      throw new Error(`OutputLimit: printed more than ${this.limits.maxOutput} characters`);
    }
  }

  /** One print() argument as text; strings nested in containers are quoted. */
  private format(ctx: QuickJSContext, h: QuickJSHandle, nested: boolean): string {
    switch (ctx.typeof(h)) {
      case 'number':
        return formatNumber(ctx.getNumber(h));
      case 'string':
        return nested ? JSON.stringify(ctx.getString(h)) : ctx.getString(h);
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return ctx.eq(h, ctx.true) ? 'true' : 'false';
      case 'bigint':
        return ctx.getBigInt(h).toString();
      case 'object':
        if (ctx.eq(h, ctx.null)) return 'null';
    }
    if (this.preludeInstalled && this.realm) {
      const s = this.realm.format(h);
      if (s !== undefined) return s;
    }
    if (!this.formatter) this.formatter = ctx.unwrapResult(ctx.evalCode(FORMATTER, 'format.js', { type: 'global' }));
    const r = ctx.callFunction(this.formatter, ctx.undefined, h, nested ? ctx.true : ctx.false);
    if (r.error) {
      const why = this.describe(ctx, r.error);
      r.error.dispose();
      throw new Error(why);
    }
    const s = ctx.getString(r.value);
    r.value.dispose();
    return s;
  }

  /** A thrown value as 'Name: message', or 'Uncaught <value>' for non-errors. */
  private describe(ctx: QuickJSContext, err: QuickJSHandle): string {
    // Our own verdicts first: after an interrupt no more VM code can run anyway.
    if (this.flooded) return `OutputLimit: printed more than ${this.limits.maxOutput} characters`;
    if (this.timedOut) return `Timeout: ran past ${this.limits.timeoutMs} ms`;
    try {
      if (ctx.typeof(err) === 'object' && !ctx.eq(err, ctx.null)) {
        // Reading name/message may run a hostile getter; the deadline still bounds it.
        const name = ctx.getProp(err, 'name');
        const message = ctx.getProp(err, 'message');
        const text =
          ctx.typeof(name) === 'string' && ctx.typeof(message) === 'string'
            ? `${ctx.getString(name)}: ${ctx.getString(message)}`
            : undefined;
        name.dispose();
        message.dispose();
        if (text !== undefined) return text.slice(0, 500);
      }
      return `Uncaught ${this.format(ctx, err, true)}`.slice(0, 500);
    } catch (e) {
      if (this.timedOut) return `Timeout: ran past ${this.limits.timeoutMs} ms`;
      // e.g. no memory left to read the error with
      return `Error: uncaught exception that could not be described (${e instanceof Error ? e.message : e})`.slice(0, 500);
    }
  }

  dispose(): void {
    this.retireRuntime();
  }
}

// ---- worker entry --------------------------------------------------------------------------------


if (!isMainThread && parentPort && (workerData as { rstarSandbox?: WorkerInit } | null)?.rstarSandbox) {
  const init = (workerData as { rstarSandbox: WorkerInit }).rstarSandbox;
  const port = parentPort;
  const progress = new Int32Array(init.progress);
  const evaluator = await Evaluator.create(init.limits);
  // Warm the wasm code paths (lazy compilation makes a cold first evaluation ~100 ms) before the
  // pool's wall-clock watchdog starts timing us; the first run also builds the realm (outside any
  // evaluation's deadline) and the host prelude.
  evaluator.run(['const a = [1, 2.5];', 'print(a, {b: a}, 0.1 + 0.2)']);
  evaluator.run(['throw new Error("warm-up")']);
  // the prelude's stubs and the host side of the membrane
  evaluator.run(['const e = P("n0*x**2 - 3", { n0: 2 });', 'print(e, Q(-4, 6), fmt(gcd(12, 18)));']);
  port.on('message', (msg: ToWorker) => {
    const results: RunResult[] = [];
    for (const steps of msg.batch) {
      Atomics.add(progress, 0, 1);
      results.push(evaluator.run(steps));
      if (evaluator.broken) break;
    }
    port.postMessage({ type: 'done', results } satisfies FromWorker);
    // The pool sees the exit, re-queues the rest of the batch and starts a fresh worker.
    if (evaluator.broken) process.exit(1);
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
