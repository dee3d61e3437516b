// The prelude runs in the host's JavaScript engine; a step's fresh QuickJS context holds stubs.
//
// Interpreted by QuickJS (wasm), the prelude's own code was half of a DeepMind evaluation (~0.55 ms of
// ~1.1 ms); the host's JIT runs the same five files an order of magnitude faster (`ev("(-n0) / (n1)",
// E)`: ~95 -> ~7 us). So the prelude's functions run here, loaded once per thread, and each QuickJS
// runtime gets one frozen "stub realm": a context whose globals (Q, ev, P, R, Poly, ..., and print)
// are native functions, one per prelude function, method and field, that pass their arguments to the
// host and wrap what comes back. A fresh evaluation context gets print and the stubs its code names
// with one native defineProperties call.
//
// What crosses, and how (the membrane):
// - numbers, strings, BigInts, booleans, null and undefined by value;
// - a prelude value (an R, Poly or Surd) as a QuickJS HostRef object (unforgeable: only the host makes
//   one) whose prototype is the stub class's: its methods and fields are stubs too, `instanceof R` holds;
// - a step's arrays are copied; a step's other objects (the env `E`, sortExact's items) are read lazily
//   through a host Proxy, so a call reads only the names its text uses, each own one once (its own-ness
//   and value in one trip); the same object goes back out;
// - a step's functions (sortExact's key) become host functions that call back into QuickJS, under the
//   evaluation's interrupt deadline;
// - the prelude's arrays and plain objects (solveLinear2's `{x, y}`) come back as fresh QuickJS ones.
// Errors keep their name and message (`RangeError: division by zero`); an error a step's callback threw
// comes back out as itself.
//
// Isolation: a step never holds a host object, only stubs and copies, and no step code runs on the host
// side (callbacks run in QuickJS). The stub realm is frozen as the interpreted prelude's realm was
// (functions keep their realm: `gcd.constructor` is its Function). The host prelude is trusted code with
// step-supplied data; its one shared mutable state would be its own objects, which it never mutates
// after creating them. Host work is not interruptible by QuickJS: the pool's wall-clock kill
// (sandbox.ts) stops a call that runs away (`factorial(1e7)`).
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, Intrinsics } from 'quickjs-emscripten-core';
import { PRELUDE_EXPORTS as EXPORTS, PRELUDE_SOURCE } from './index.ts';

// ---- the host prelude (once per thread) ---------------------------------------------------------------

type AnyFn = (...a: unknown[]) => unknown;
type Ctor = new (...a: unknown[]) => object;

interface Op {
  kind: 'fn' | 'new' | 'method' | 'get' | 'print' | 'random';
  name: string;
  fn?: AnyFn;
  cls?: Ctor;
  /** the class's statics: call with the class as `this` */
  owner?: unknown;
}

interface HostPrelude {
  ops: Op[];
  classes: Ctor[];
  isExact: (v: unknown) => boolean;
  fmt: (v: unknown) => string;
  /** the stub realm's source: (call) => { protos } defines the globals */
  stubSource: string;
}

let host: HostPrelude | null = null;

function isClass(f: unknown): f is Ctor {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}

function loadHost(): HostPrelude {
  // The prelude files are scripts that define their globals on `globalThis`: given an object of ours
  // as that name, they define them there and nothing in this thread's global scope changes.
  const G: Record<string, unknown> = Object.create(null);
  new Function('globalThis', PRELUDE_SOURCE)(G);
  const exact = G.__exact as { isExact: (v: unknown) => boolean };
  const ops: Op[] = [];
  const classes: Ctor[] = [];
  const src: string[] = [];
  const op = (o: Op): number => ops.push(o) - 1;
  // a stub is the op's host function itself, fns[op] (a native function of the stub realm: no
  // interpreted frame, no rest array, no spread between a step and the host)
  for (const name of EXPORTS) {
    const v = G[name];
    if (isClass(v)) {
      const ci = classes.push(v) - 1;
      src.push(`const ${name} = class ${name} { constructor(...a) { return fns[${op({ kind: 'new', name, cls: v })}](...a); } };`);
      for (const k of Object.getOwnPropertyNames(v)) {
        if (k === 'length' || k === 'name' || k === 'prototype') continue;
        const f = (v as unknown as Record<string, unknown>)[k];
        if (typeof f !== 'function') continue;
        src.push(`def(${name}, ${JSON.stringify(k)}, { value: fns[${op({ kind: 'fn', name: `${name}.${k}`, fn: f as AnyFn, owner: v })}] });`);
      }
      const proto = v.prototype as Record<PropertyKey, unknown>;
      for (const k of Reflect.ownKeys(proto)) {
        if (k === 'constructor') continue;
        const d = Object.getOwnPropertyDescriptor(proto, k)!;
        const key = typeof k === 'symbol' ? (k === Symbol.toPrimitive ? 'Symbol.toPrimitive' : null) : JSON.stringify(k);
        if (key === null) continue;
        const label = `${name}.${String(k)}`;
        if (typeof d.value === 'function') {
          src.push(`def(${name}.prototype, ${key}, { value: fns[${op({ kind: 'method', name: label, fn: d.value as AnyFn, cls: v })}] });`);
        } else if (d.get) {
          src.push(`def(${name}.prototype, ${key}, { get: fns[${op({ kind: 'get', name: String(k), cls: v })}] });`);
        }
      }
      src.push(`protos[${ci}] = ${name}.prototype;`);
    } else if (typeof v === 'function') {
      src.push(`G.${name} = fns[${op({ kind: 'fn', name, fn: v as AnyFn })}];`);
      continue;
    } else {
      throw new Error(`prelude export ${name} is not a function`);
    }
    src.push(`G.${name} = ${name};`);
  }
  // instance fields (R's n, d, dec; Poly's terms) are own data properties on the host: getters on the stubs
  const samples: [string, object][] = [['R', (G.Q as AnyFn)(1) as object], ['Poly', (G.P as AnyFn)('x') as object], ['Surd', (G.surd as AnyFn)('1', {}) as object]];
  for (const [name, sample] of samples) {
    const cls = G[name] as Ctor;
    for (const k of Object.keys(sample)) {
      src.push(`def(${name}.prototype, ${JSON.stringify(k)}, { get: fns[${op({ kind: 'get', name: k, cls })}] });`);
    }
  }
  // the sandbox's own host functions, stubs like the rest: print(...args) and Math.random()
  const printId = op({ kind: 'print', name: 'print' });
  const randomId = op({ kind: 'random', name: 'random' });
  const stubSource = `(function (fns) {
  'use strict';
  const G = globalThis, protos = [];
  G.__print = fns[${printId}];
  G.__random = fns[${randomId}];
  const def = (o, k, d) => Object.defineProperty(o, k, 'value' in d ? { value: d.value, writable: true, configurable: true } : { get: d.get, configurable: true });
  ${src.join('\n  ')}
  const ERRORS = { __proto__: null, Error, RangeError, TypeError, SyntaxError, ReferenceError };
  const setProto = Object.setPrototypeOf, isArray = Array.isArray, stringify = JSON.stringify;
  const ownKeys = Object.keys, hasOwn = Object.prototype.hasOwnProperty;
  const apply = Reflect.apply, NONE = Object.freeze({});
  return [
    function adopt(ref, i) { setProto(ref, protos[i]); return ref; },
    function kind(v) { return isArray(v) ? 1 : 0; },
    // an object's own enumerable string keys as JSON: quickjs-emscripten 0.32's getOwnPropertyNames
    // corrupts wasm memory after ~1,300 calls
    function keys(o) { return stringify(ownKeys(o)); },
    function error(name, message) {
      const C = ERRORS[name];
      if (C) return new C(message);
      const e = new Error(message);
      Object.defineProperty(e, 'name', { value: name, writable: true, configurable: true });
      return e;
    },
    // an own property's value, or NONE: one trip for what the parsers ask of every name
    function lookup(o, k) { return apply(hasOwn, o, [k]) ? o[k] : NONE; },
    NONE,
  ];
})`;
  return { ops, classes, isExact: exact.isExact, fmt: G.fmt as (v: unknown) => string, stubSource };
}

function hostPrelude(): HostPrelude {
  return (host ??= loadHost());
}

// ---- freezing the stub realm ----------------------------------------------------------------------------

// Runs in the stub realm after the stubs; returns install(target), which defines them on a global.
const LOCKDOWN = `(function (names) {
  'use strict';
  const G = globalThis;
  // captured before the freeze; one native defineProperties call installs them all in ~40 us (defining
  // them one by one from script cost ~150 us per context)
  const descriptors = Object.create(null);
  for (const k of names) descriptors[k] = Object.freeze({ value: G[k], writable: true, configurable: true, enumerable: false });
  Object.freeze(descriptors);
  const defineAll = Object.defineProperties;
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
  // print is non-writable and non-configurable, so assigning it or declaring a \`function print\` fails
  const print = Object.freeze({ value: G.__print, writable: false, configurable: false, enumerable: false });
  const random = G.__random, define = Object.defineProperty;
  // the globals a step names, by their indices ('3,17'): defining all 47 cost ~35 us a context
  const picked = new Map(), split = String.prototype.split;
  // Math is built on first touch (QuickJS defines it lazily, ~11 us): replaced only when named
  return function install(target, which, math) {
    define(target, 'print', print);
    if (math) target.Math.random = random;
    if (which === '') return;
    let ds = picked.get(which);
    if (ds === undefined) {
      ds = Object.create(null);
      for (const i of split.call(which, ',')) ds[names[i]] = descriptors[names[i]];
      if (picked.size >= 4096) picked.clear();
      picked.set(which, ds);
    }
    defineAll(target, ds);
  };
})`;

/** An exception a step's callback threw, carried through host code back to QuickJS as itself. */
class GuestThrow extends Error {
  constructor(readonly handle: QuickJSHandle) {
    super('guest exception');
  }
}

/** quickjs-emscripten's C-to-host entry of a context: a host function called */
type CToHost = (ctx: number, thisPtr: number, argc: number, argv: number, fnId: number) => number;

/** The most arguments invoke() passes through its preallocated argument array. */
const ARGS_MAX = 8;

/** The most elements or keys copied across in one value: bounds what a hostile step can make us copy. */
const MAX_COPY = 100_000;

const READ_ONLY = "the prelude does not change a step's objects";

/** What PreludeRealm.lookup answers for a name that is not an own property. */
const ABSENT: unique symbol = Symbol('absent');

/** Proxy handler over a step's object (one per object: no closures, which tsx's keepNames makes costly).
 * Each own name is read once, on first use, with its own-ness in the same trip: the parsers ask
 * hasOwnProperty and then read, for every name in the text. */
class GuestObject implements ProxyHandler<object> {
  private readonly seen = new Map<string, unknown>();
  constructor(private readonly m: PreludeRealm, private readonly h: QuickJSHandle) {}
  private own(k: string): unknown {
    let v = this.seen.get(k);
    if (v === undefined && !this.seen.has(k)) this.seen.set(k, (v = this.m.lookup(this.h, k)));
    return v;
  }
  get(_: object, k: string | symbol): unknown {
    if (typeof k !== 'string') return undefined;
    const v = this.own(k);
    // not own: what the step's code would read (its prototype chain)
    return v === ABSENT ? this.m.read(this.h, k) : v;
  }
  has(_: object, k: string | symbol): boolean {
    return typeof k === 'string' && this.own(k) !== ABSENT;
  }
  getOwnPropertyDescriptor(_: object, k: string | symbol): PropertyDescriptor | undefined {
    if (typeof k !== 'string') return undefined;
    const v = this.own(k);
    return v === ABSENT ? undefined : { value: v, writable: true, enumerable: true, configurable: true };
  }
  ownKeys(): string[] {
    return this.m.ownKeys(this.h);
  }
  getPrototypeOf(): object {
    return Object.prototype;
  }
  set(): boolean {
    throw new TypeError(READ_ONLY);
  }
  defineProperty(): boolean {
    throw new TypeError(READ_ONLY);
  }
  deleteProperty(): boolean {
    throw new TypeError(READ_ONLY);
  }
}

export class PreludeRealm {
  /** handles that live until the evaluation ends (proxied objects, callbacks, errors in flight) */
  private held: QuickJSHandle[] = [];
  private readonly guestOf = new WeakMap<object, QuickJSHandle>();
  private readonly ffi: { QTS_GetHostRefId(v: unknown): number };
  /** the library internals fastCalls found (null: the library's own, slower paths) */
  private fast: {
    ctx: number;
    argvPtr: number;
    argv: Int32Array;
    heap(): Uint8Array;
    call(ctx: number, f: unknown, self: unknown, argc: number, argv: number): number;
    resolve(ctx: number, v: number): number;
    free(ctx: number, v: number): void;
    handle(ptr: number): QuickJSHandle;
    release(): void;
  } | null = null;

  private constructor(
    private readonly realm: QuickJSContext,
    private readonly host: HostPrelude,
    /** the stub realm's helpers */
    private readonly fns: Record<'installer' | 'adopt' | 'kind' | 'keys' | 'error' | 'lookup' | 'none', QuickJSHandle>,
  ) {
    // the one call quickjs-emscripten keeps protected: is this handle a HostRef (0 if not), without
    // the exception unwrapHostRef throws for every other object
    this.ffi = (realm as unknown as { ffi: { QTS_GetHostRefId(v: unknown): number } }).ffi;
  }

  /** The stub realm on rt (~1 ms; one per runtime). */
  static create(rt: QuickJSRuntime, intrinsics?: Intrinsics): PreludeRealm {
    const host = hostPrelude();
    const realm = rt.newContext(intrinsics ? { intrinsics } : undefined);
    // every handle is released on failure too: one left alive trips QuickJS's leak assertion when the
    // runtime is freed
    const temp: QuickJSHandle[] = [];
    const keep = <T extends QuickJSHandle>(h: T): T => (temp.push(h), h);
    let self: PreludeRealm | null = null;
    try {
      // one host function per op; the library's path calls them with `this` as the this handle
      const opOf = new Map<unknown, number>();
      const fns = keep(realm.newArray());
      host.ops.forEach((op, i) => {
        const f = function (this: QuickJSHandle, ...hs: QuickJSHandle[]) { return self!.onCall(i, this, hs); };
        opOf.set(f, i);
        const h = realm.newFunction(op.name.slice(op.name.lastIndexOf('.') + 1), f);
        realm.setProp(fns, i, h);
        h.dispose();
      });
      const make = keep(realm.unwrapResult(realm.evalCode(host.stubSource, 'prelude-stubs.js', { type: 'global' })));
      const helpers = keep(realm.unwrapResult(realm.callFunction(make, realm.undefined, fns)));
      const lock = keep(realm.unwrapResult(realm.evalCode(LOCKDOWN, 'prelude-lockdown.js', { type: 'global' })));
      const names = keep(realm.unwrapResult(realm.evalCode(JSON.stringify(EXPORTS), 'names.js')));
      const installer = keep(realm.unwrapResult(realm.callFunction(lock, realm.undefined, names)));
      const adopt = keep(realm.getProp(helpers, 0));
      const kind = keep(realm.getProp(helpers, 1));
      const keys = keep(realm.getProp(helpers, 2));
      const error = keep(realm.getProp(helpers, 3));
      const lookup = keep(realm.getProp(helpers, 4));
      const none = keep(realm.getProp(helpers, 5));
      self = new PreludeRealm(realm, host, {
        installer: installer.dup(), adopt: adopt.dup(), kind: kind.dup(), keys: keys.dup(),
        error: error.dup(), lookup: lookup.dup(), none: none.dup(),
      });
      self.fastCalls(opOf);
      return self;
    } catch (e) {
      for (const h of temp.splice(0)) if (h.alive) h.dispose();
      self?.fast?.release();
      realm.dispose();
      throw e;
    } finally {
      for (const h of temp) if (h.alive) h.dispose();
    }
  }

  /**
   * quickjs-emscripten runs every host function through its generator-based Scope machinery and a
   * WeakLifetime per argument: ~8 us a call, most of a stub call's cost. For the stub realm's own host
   * functions (one per op) the C-to-host entry is replaced by a direct one: arguments as owned handles,
   * `this` only for methods and getters, the result or the error handed back as the library does.
   * Checked against the library at creation; without the internals this relies on (another version),
   * calls take the library's path.
   */
  private fastCalls(opOf: Map<unknown, number>): void {
    const internals = this.realm as unknown as {
      cToHostCallbacks?: { callFunction?: CToHost };
      getFunction?: (id: number) => unknown;
      memory?: { heapValueHandle?: (ptr: number) => QuickJSHandle };
      module?: { _malloc?: (n: number) => number; _free?: (p: number) => void; HEAPU8?: Uint8Array };
      ctx?: { value: number };
      ffi: Record<string, unknown>;
    };
    const cb = internals.cToHostCallbacks;
    const heap = internals.memory?.heapValueHandle?.bind(internals.memory);
    const ffi = internals.ffi as {
      QTS_ArgvGetJSValueConstPointer?: (argv: number, i: number) => number;
      QTS_DupValuePointer?: (ctx: number, v: unknown) => number;
      QTS_Throw?: (ctx: number, v: unknown) => number;
      QTS_Call?: (ctx: number, f: unknown, self: unknown, argc: number, argv: number) => number;
      QTS_ResolveException?: (ctx: number, v: number) => number;
      QTS_FreeValuePointer?: (ctx: number, v: number) => void;
    };
    const { QTS_ArgvGetJSValueConstPointer: argAt, QTS_DupValuePointer: dup, QTS_Throw: throwIn } = ffi;
    const { QTS_Call: qcall, QTS_ResolveException: resolve, QTS_FreeValuePointer: free } = ffi;
    const mod = internals.module;
    const slow = cb?.callFunction;
    if (!cb || !slow || !heap || !argAt || !dup || !throwIn || !qcall || !resolve || !free) return;
    if (!mod?._malloc || !mod._free || !mod.HEAPU8 || typeof internals.ctx?.value !== 'number') return;
    if (typeof internals.getFunction !== 'function') return;
    const argvPtr = mod._malloc(4 * ARGS_MAX);
    const heapU8 = (): Uint8Array => mod.HEAPU8!;
    this.fast = {
      ctx: internals.ctx.value,
      argvPtr,
      argv: new Int32Array(heapU8().buffer, argvPtr, ARGS_MAX),
      heap: heapU8,
      call: qcall,
      resolve,
      free,
      handle: heap,
      release: () => mod._free!(argvPtr),
    };
    const getFunction = internals.getFunction.bind(this.realm);
    const ops = this.host.ops;
    // QuickJS calls a native function with its caller's context, so every evaluation context gets it too
    this.entry = (fallback) => (ctx, thisPtr, argc, argv, fnId) => {
      const op = opOf.get(getFunction(fnId));
      if (op === undefined) return fallback(ctx, thisPtr, argc, argv, fnId);
      this.directCalls++;
      const kind = ops[op]!.kind;
      const ownsThis = kind === 'method' || kind === 'get';
      const self = ownsThis ? heap(dup(ctx, thisPtr)) : this.realm.undefined;
      const hs: QuickJSHandle[] = new Array(argc);
      for (let i = 0; i < argc; i++) hs[i] = heap(dup(ctx, argAt(argv, i)));
      try {
        const r = this.onCall(op, self, hs);
        if ('error' in r) {
          try { return throwIn(ctx, r.error.value); } finally { r.error.dispose(); }
        }
        try { return dup(ctx, r.value); } finally { r.dispose(); }
      } finally {
        for (const h of hs) h.dispose();
        if (ownsThis) self.dispose();
      }
    };
    cb.callFunction = this.entry(slow);
  }

  /** f(a, b, ...) with `this` undefined; ~1 us where the library's callFunction, which builds its
   * argument array through fresh typed-array views of the wasm heap, takes ~2.5 us. */
  private invoke(f: QuickJSHandle, ...args: QuickJSHandle[]): { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle } {
    const fast = this.fast;
    if (!fast || args.length > ARGS_MAX) return this.realm.callFunction(f, this.realm.undefined, ...args);
    if (fast.argv.buffer !== fast.heap().buffer) fast.argv = new Int32Array(fast.heap().buffer, fast.argvPtr, ARGS_MAX);
    for (let i = 0; i < args.length; i++) fast.argv[i] = args[i]!.value as unknown as number;
    const ctx = fast.ctx;
    const result = fast.call(ctx, f.value, this.realm.undefined.value, args.length, fast.argvPtr);
    const error = fast.resolve(ctx, result);
    if (error) {
      fast.free(ctx, result);
      return { error: fast.handle(error) };
    }
    return { value: fast.handle(result) };
  }

  /** The direct C-to-host entry for the stub functions (fastCalls), given the context's own for others. */
  private entry: ((fallback: CToHost) => CToHost) | null = null;

  /** Stub calls that took the direct path (for tests: the fallback is correct but slower). */
  directCalls = 0;

  /** Whether stub calls take the direct path (fastCalls found the library internals it needs). */
  get fastPath(): boolean {
    return this.fast !== null;
  }

  /** The evaluation's print(...args) and Math.random(), set by whoever runs the contexts. */
  hooks: { print(args: QuickJSHandle[]): void; random(): number } = {
    print: () => {},
    random: () => 0,
  };

  /** Defines print, the prelude globals `which` lists (preludeNames: indices into PRELUDE_EXPORTS, ''
   * for none) and, when `math`, Math.random in ctx, a context of the same runtime. */
  install(ctx: QuickJSContext, which: string, math: boolean): void {
    const w = ctx.newString(which);
    const cbs = (ctx as unknown as { cToHostCallbacks?: { callFunction?: CToHost } }).cToHostCallbacks;
    if (this.entry && cbs?.callFunction) cbs.callFunction = this.entry(cbs.callFunction);
    const r = this.invoke(this.fns.installer, ctx.global, w, math ? ctx.true : ctx.false);
    w.dispose();
    if (r.error) {
      const why = ctx.dump(r.error);
      r.error.dispose();
      throw new Error(`prelude install failed: ${JSON.stringify(why)}`);
    }
    r.value.dispose();
  }

  /** Releases what the evaluation left crossing the membrane; call before disposing its context. */
  release(): void {
    for (const h of this.held.splice(0)) if (h.alive) h.dispose();
  }

  /**
   * The dataset's text for a prelude value (R, Poly, Surd) or a non-empty array of R and Poly, from a
   * context of the same runtime; undefined for anything else.
   */
  format(h: QuickJSHandle): string | undefined {
    const v = this.refOf(h);
    if (v !== undefined) return this.host.fmt(v);
    if (this.realm.typeof(h) !== 'object') return undefined;
    const n = this.lengthOf(h) ?? 0;
    if (n === 0 || n > MAX_COPY) return undefined;
    const xs: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const e = this.realm.getProp(h, i);
      const x = this.realm.typeof(e) === 'object' ? this.refOf(e) : undefined;
      e.dispose();
      if (x === undefined || !this.host.isExact(x)) return undefined;
      xs.push(x);
    }
    return this.host.fmt(xs);
  }

  /** Dispose before the runtime. */
  dispose(): void {
    this.release();
    this.fast?.release();
    this.fast = null;
    for (const h of Object.values(this.fns)) h.dispose();
    this.realm.dispose();
  }

  // ---- the membrane ---------------------------------------------------------------------------------

  /** A stub called: op `id` with `self` as this (undefined but for methods and getters) and args. */
  private onCall(id: number, self: QuickJSHandle, hs: QuickJSHandle[]): QuickJSHandle | { error: QuickJSHandle } {
    const realm = this.realm;
    const op = this.host.ops[id]!;
    try {
      if (op.kind === 'print') {
        this.hooks.print(hs);
        return realm.undefined;
      }
      if (op.kind === 'random') return realm.newNumber(this.hooks.random());
      const args: unknown[] = [];
      for (let i = 0; i < hs.length; i++) args.push(this.toHost(hs[i]!));
      let v: unknown;
      if (op.kind === 'fn') v = op.fn!.apply(op.owner, args);
      else if (op.kind === 'new') v = new op.cls!(...args);
      else {
        const that = realm.typeof(self) === 'object' ? this.refOf(self) : undefined;
        if (!(that instanceof op.cls!)) throw new TypeError(`${op.name} called on something that is not a ${op.cls!.name}`);
        v = op.kind === 'get' ? (that as Record<string, unknown>)[op.name] : op.fn!.apply(that, args);
      }
      return this.toGuest(v);
    } catch (e) {
      if (e instanceof GuestThrow) return { error: e.handle.dup() };
      // the prelude's own errors keep their class (made in the stub realm: its prototypes are frozen, so
      // quickjs-emscripten's newError, which assigns name and message, would lose them)
      const err = e instanceof Error ? e : new Error(String(e));
      const name = realm.newString(err.name), message = realm.newString(err.message);
      try {
        const r = this.invoke(this.fns.error, name, message);
        return { error: r.error ?? r.value };
      } finally { name.dispose(); message.dispose(); }
    }
  }

  private refOf(h: QuickJSHandle): unknown {
    return this.ffi.QTS_GetHostRefId(h.value) !== 0 ? this.realm.unwrapHostRef(h) : undefined;
  }

  /** An array's length (it is copied across); undefined for other objects. */
  private lengthOf(h: QuickJSHandle): number | undefined {
    const r = this.invoke(this.fns.kind, h);
    if (r.error) {
      r.error.dispose();
      return undefined;
    }
    const isArray = this.realm.getNumber(r.value) === 1;
    r.value.dispose();
    return isArray ? this.realm.getLength(h) : undefined;
  }

  /** Carries an exception QuickJS raised (owned by the caller) out through host code, as itself. */
  private rethrow(error: QuickJSHandle): never {
    this.held.push(error);
    throw new GuestThrow(error);
  }

  private hold(h: QuickJSHandle): QuickJSHandle {
    const d = h.dup();
    this.held.push(d);
    return d;
  }

  /** A QuickJS value as the host prelude takes it. */
  private toHost(h: QuickJSHandle): unknown {
    const realm = this.realm;
    switch (realm.typeof(h)) {
      case 'number': return realm.getNumber(h);
      case 'string': return realm.getString(h);
      case 'bigint': return realm.getBigInt(h);
      case 'boolean': return realm.eq(h, realm.true);
      case 'undefined': return undefined;
      case 'function': return this.callback(this.hold(h));
      case 'object': {
        if (realm.eq(h, realm.null)) return null;
        const v = this.refOf(h);
        if (v !== undefined) return v;
        const n = this.lengthOf(h);
        if (n !== undefined) {
          if (n > MAX_COPY) throw new RangeError(`array of ${n} elements is too long for the prelude`);
          const xs: unknown[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const e = realm.getProp(h, i);
            try { xs[i] = this.toHost(e); } finally { e.dispose(); }
          }
          return xs;
        }
        return this.proxy(this.hold(h));
      }
      default: throw new TypeError(`a ${realm.typeof(h)} cannot be passed to the prelude`);
    }
  }

  /** A step's object, read lazily: only the properties the prelude asks for cross. */
  private proxy(h: QuickJSHandle): object {
    const p = new Proxy(Object.create(null) as object, new GuestObject(this, h));
    this.guestOf.set(p, h);
    return p;
  }

  /** An own property of a step's object as the host prelude takes it, or ABSENT. */
  lookup(h: QuickJSHandle, k: string): unknown {
    const key = this.realm.newString(k);
    let r;
    try { r = this.invoke(this.fns.lookup, h, key); } finally { key.dispose(); }
    if (r.error) this.rethrow(r.error);
    try { return this.realm.eq(r.value, this.fns.none) ? ABSENT : this.toHost(r.value); } finally { r.value.dispose(); }
  }

  /** One property of a step's object (own or inherited), as the host prelude takes it. */
  read(h: QuickJSHandle, k: string): unknown {
    const e = this.realm.getProp(h, k);
    try { return this.toHost(e); } finally { e.dispose(); }
  }

  /** An object's own enumerable string keys. */
  ownKeys(h: QuickJSHandle): string[] {
    const realm = this.realm;
    const r = this.invoke(this.fns.keys, h);
    if (r.error) this.rethrow(r.error);
    const json = realm.getString(r.value);
    r.value.dispose();
    const ks = JSON.parse(json) as string[];
    if (ks.length > MAX_COPY) throw new RangeError('object has too many keys for the prelude');
    return ks;
  }

  /** A step's function as a host function: calls back into QuickJS (under its deadline). */
  private callback(f: QuickJSHandle): AnyFn {
    const realm = this.realm;
    const fn = (...xs: unknown[]): unknown => {
      const args = xs.map((x) => this.toGuest(x));
      let r;
      try { r = this.invoke(f, ...args); } finally { for (const a of args) if (a.alive) a.dispose(); }
      if (r.error) this.rethrow(r.error);
      try { return this.toHost(r.value); } finally { r.value.dispose(); }
    };
    this.guestOf.set(fn, f);
    return fn;
  }

  /** A host value as a new QuickJS handle (the caller owns it). */
  private toGuest(v: unknown): QuickJSHandle {
    const realm = this.realm;
    switch (typeof v) {
      case 'number': return realm.newNumber(v);
      case 'string': return realm.newString(v);
      case 'bigint': return realm.newBigInt(v);
      case 'boolean': return v ? realm.true : realm.false;
      case 'undefined': return realm.undefined;
    }
    if (v === null) return realm.null;
    if (typeof v === 'function' || typeof v === 'object') {
      const g = this.guestOf.get(v);
      if (g) {
        if (!g.alive) throw new TypeError('a value of an earlier evaluation cannot come back');
        return g.dup();
      }
    }
    if (typeof v !== 'object') throw new TypeError(`a ${typeof v} cannot leave the prelude`);
    const ci = this.host.classes.findIndex((c) => v instanceof c);
    if (ci >= 0) {
      const ref = realm.newHostRef(v);
      const i = realm.newNumber(ci);
      try {
        const r = this.invoke(this.fns.adopt, ref.handle, i);
        if (r.error) {
          r.error.dispose();
          throw new TypeError('prelude value could not cross');
        }
        return r.value;
      } finally { i.dispose(); ref.dispose(); }
    }
    if (Array.isArray(v)) {
      if (v.length > MAX_COPY) throw new RangeError(`array of ${v.length} elements is too long to leave the prelude`);
      const a = realm.newArray();
      for (let i = 0; i < v.length; i++) {
        const e = this.toGuest(v[i]);
        realm.setProp(a, i, e);
        e.dispose();
      }
      return a;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const o = realm.newObject();
      for (const k of Object.keys(v)) {
        const e = this.toGuest((v as Record<string, unknown>)[k]);
        realm.setProp(o, k, e);
        e.dispose();
      }
      return o;
    }
    throw new TypeError(`a ${proto?.constructor?.name ?? 'value'} cannot leave the prelude`);
  }
}
