// A minimal QuickJS evaluation loop with the sandbox worker's per-evaluation costs (fresh context with
// the same intrinsics, host print, runtime reused across clean evaluations), for the prelude's tests
// and benchmark. Not a sandbox: no deadline, no output budget.
import {
  newQuickJSWASMModuleFromVariant,
  DefaultIntrinsics,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { PRELUDE_SOURCE, preludeFor, preludeNames } from './index.ts';
import { PreludeRealm } from './realm.ts';

const INTRINSICS = { ...DefaultIntrinsics, Date: false, TypedArrays: false };

/** none; all: the whole source per context; auto: the modules the code names, per context;
 * shared: PreludeRealm, installed when the code names a prelude global. */
export type PreludeMode = 'none' | 'all' | 'auto' | 'shared';

export interface MiniResult {
  ok: boolean;
  error?: string;
  /** print() lines */
  lines: string[];
  /** last argument of the last print() */
  answer?: string;
}

export class MiniEvaluator {
  private rt: QuickJSRuntime | null = null;
  private realm: PreludeRealm | null = null;
  private uses = 0;
  /** runtimes started (each shared-mode runtime loads the realm once) */
  runtimes = 0;
  private constructor(private readonly module: QuickJSWASMModule) {}

  static async create(): Promise<MiniEvaluator> {
    return new MiniEvaluator(await newQuickJSWASMModuleFromVariant(import('@jitl/quickjs-wasmfile-release-sync')));
  }

  private runtime(): QuickJSRuntime {
    if (this.rt && this.uses < 256) return this.rt;
    this.retire();
    this.runtimes++;
    this.rt = this.module.newRuntime();
    this.rt.setMemoryLimit(32 << 20);
    this.rt.setMaxStackSize(512 << 10);
    this.uses = 0;
    return this.rt;
  }

  run(steps: string[], mode: PreludeMode = 'auto'): MiniResult {
    const rt = this.runtime();
    this.uses++;
    const ctx = rt.newContext({ intrinsics: INTRINSICS });
    const lines: string[] = [];
    let answer: string | undefined;
    let error: string | undefined;
    try {
      const onPrint = (args: QuickJSHandle[]): void => {
        const parts = args.map((h) => (this.realm && ctx.typeof(h) === 'object' ? this.realm.format(h) : undefined) ?? show(ctx, h));
        lines.push(parts.join(' '));
        if (parts.length) answer = parts[parts.length - 1];
      };
      if (mode === 'shared') {
        // the realm brings print (and Math.random), and the prelude when the code names it
        this.realm ??= PreludeRealm.create(rt, INTRINSICS);
        this.realm.hooks = { print: onPrint, random: () => 0.5 };
        this.realm.install(ctx, preludeNames(steps), true);
      } else {
        const print = ctx.newFunction('print', (...args) => onPrint(args));
        ctx.defineProp(ctx.global, 'print', { value: print, configurable: false, enumerable: false });
        print.dispose();
      }
      const prelude = mode === 'none' || mode === 'shared' ? '' : mode === 'all' ? PRELUDE_SOURCE : preludeFor(steps);
      const all = prelude ? [prelude, ...steps] : steps;
      for (let k = 0; k < all.length; k++) {
        const r = ctx.evalCode(all[k]!, k === 0 && prelude ? 'prelude.js' : `step${k}.js`, { type: 'global' });
        if (r.error) {
          const e = ctx.dump(r.error);
          r.error.dispose();
          error = e && typeof e === 'object' && 'message' in e ? `${e.name}: ${e.message}` : `Uncaught ${String(e)}`;
          break;
        }
        r.value.dispose();
      }
    } finally {
      this.realm?.release();
      ctx.dispose();
    }
    if (error !== undefined && this.retireOnError) this.retire();
    return error !== undefined ? { ok: false, error, lines } : { ok: true, lines, answer };
  }

  /** The worker retires its runtime after any error; false keeps it (see README). */
  retireOnError = true;

  private retire(): void {
    this.realm?.dispose();
    this.realm = null;
    this.rt?.dispose();
    this.rt = null;
  }

  dispose(): void {
    this.retire();
  }
}

// primitives as the worker prints them; objects through their toString (enough for tests)
function show(ctx: QuickJSContext, h: QuickJSHandle): string {
  const t = ctx.typeof(h);
  if (t === 'number') {
    const x = ctx.getNumber(h);
    return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(12)));
  }
  if (t === 'string') return ctx.getString(h);
  if (t === 'bigint') return ctx.getBigInt(h).toString();
  if (t === 'boolean') return ctx.eq(h, ctx.true) ? 'true' : 'false';
  return String(ctx.dump(h));
}
