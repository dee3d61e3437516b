// The prelude compiled once per QuickJS runtime, shared by every fresh context on that runtime.
//
// Parsing is what costs (this wasm build parses ~6 KB/ms, so the whole prelude is ~10 ms against a
// ~0.2 ms context), and quickjs-emscripten 0.32 cannot run stored bytecode (compileOnly returns a
// function value with no API to evaluate it, and the binary-JSON calls write no bytecode). Instead the
// prelude runs in one extra context, its "realm", and each evaluation's fresh context gets the same
// function objects as configurable globals: one host call, ~20 us.
//
// Functions keep their own realm, so a step can reach the realm's intrinsics (gcd.constructor is the
// realm's Function). Everything reachable there is therefore frozen after loading (globals, prototypes,
// the intrinsics only syntax reaches, the prelude's own classes), Math.random is removed from it and
// the global object made non-extensible: nothing a step does can survive into the next evaluation
// through the realm, which is the sandbox's fresh-context promise.
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, Intrinsics } from 'quickjs-emscripten-core';
import { PRELUDE_MODULES, PRELUDE_SOURCE } from './index.ts';

const EXPORTS = PRELUDE_MODULES.flatMap((m) => m.exports);

// Runs in the realm after the prelude; returns install(target) that defines the exports on a global.
const LOCKDOWN = `(function (names) {
  'use strict';
  const G = globalThis;
  // captured before the freeze; one native defineProperties call installs them all in ~40 us (defining
  // them one by one from script cost ~150 us per context, a tenth of a DeepMind evaluation)
  const descriptors = Object.create(null);
  for (const k of names) descriptors[k] = Object.freeze({ value: G[k], writable: true, configurable: true, enumerable: false });
  Object.freeze(descriptors);
  const defineAll = Object.defineProperties;
  const fmt = G.fmt, isExact = G.__exact.isExact, isArray = Array.isArray;
  delete Math.random;
  const hidden = [
    Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
    Object.getPrototypeOf([][Symbol.iterator]()), Object.getPrototypeOf(new Map()[Symbol.iterator]()),
    Object.getPrototypeOf(new Set()[Symbol.iterator]()), Object.getPrototypeOf(''[Symbol.iterator]()),
    Object.getPrototypeOf(/a/[Symbol.matchAll]('')),
    Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
    (function () { return Object.getOwnPropertyDescriptor(arguments, 'callee').get; })(),
    Object.getPrototypeOf((function* () {})()), Object.getPrototypeOf((async function* () {})()),
  ];
  const seen = new Set();
  const stack = [G, ...hidden];
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    Object.freeze(o);
    stack.push(Object.getPrototypeOf(o));
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      if ('value' in d) stack.push(d.value); else stack.push(d.get, d.set);
    }
  }
  // print()'s view of a value: fmt text for an exact value or a non-empty array of them, else undefined
  function format(v) {
    if (isExact(v)) return fmt(v);
    if (isArray(v) && v.length > 0) {
      for (let i = 0; i < v.length; i++) if (!isExact(v[i])) return undefined;
      return fmt(v);
    }
    return undefined;
  }
  return [function install(target) { defineAll(target, descriptors); }, format];
})`;

export class PreludeRealm {
  private constructor(
    private readonly realm: QuickJSContext,
    private readonly installer: QuickJSHandle,
    private readonly formatter: QuickJSHandle,
  ) {}

  /** Loads the whole prelude into a new context of rt (~10-15 ms); one per runtime. */
  static create(rt: QuickJSRuntime, intrinsics?: Intrinsics): PreludeRealm {
    const realm = rt.newContext(intrinsics ? { intrinsics } : undefined);
    // every handle is released on failure too: one left alive trips QuickJS's leak assertion when the
    // runtime is freed
    const temp: QuickJSHandle[] = [];
    const keep = <T extends QuickJSHandle>(h: T): T => (temp.push(h), h);
    try {
      keep(realm.unwrapResult(realm.evalCode(PRELUDE_SOURCE, 'prelude.js', { type: 'global' })));
      const lock = keep(realm.unwrapResult(realm.evalCode(LOCKDOWN, 'prelude-lockdown.js', { type: 'global' })));
      const names = keep(realm.unwrapResult(realm.evalCode(JSON.stringify(EXPORTS), 'names.js')));
      const pair = keep(realm.unwrapResult(realm.callFunction(lock, realm.undefined, names)));
      const installer = realm.getProp(pair, 0);
      const formatter = realm.getProp(pair, 1);
      return new PreludeRealm(realm, installer, formatter);
    } catch (e) {
      for (const h of temp.splice(0)) h.dispose();
      realm.dispose();
      throw e;
    } finally {
      for (const h of temp) h.dispose();
    }
  }

  /** Defines the prelude's globals in ctx (a context of the same runtime). */
  install(ctx: QuickJSContext): void {
    const r = ctx.callFunction(this.installer, ctx.undefined, ctx.global);
    if (r.error) {
      const why = ctx.dump(r.error);
      r.error.dispose();
      throw new Error(`prelude install failed: ${JSON.stringify(why)}`);
    }
    r.value.dispose();
  }

  /**
   * The dataset's text for a prelude value (R, Poly, or a non-empty array of them) from a context of the
   * same runtime; undefined for anything else, or when formatting threw (a hostile look-alike).
   */
  format(h: QuickJSHandle): string | undefined {
    const r = this.realm.callFunction(this.formatter, this.realm.undefined, h);
    if (r.error) {
      r.error.dispose();
      return undefined;
    }
    const s = this.realm.typeof(r.value) === 'string' ? this.realm.getString(r.value) : undefined;
    r.value.dispose();
    return s;
  }

  /** Dispose before the runtime. */
  dispose(): void {
    this.formatter.dispose();
    this.installer.dispose();
    this.realm.dispose();
  }
}
