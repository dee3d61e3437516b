// Hostile step code. For every case: the host survives, hostile code gets an error result (or, where
// noted, is inert: it runs but can reach nothing), and the NEXT evaluation on the same pool is clean.
import { afterAll, expect, test } from 'vitest';
import { SandboxPool, type RunResult } from '../src/sandbox/sandbox.ts';

// Small limits keep the suite fast: bombs hit 16 MiB quickly, loops stop at 1 s (legitimate heavy
// cases, 100,000 nested objects, take up to 0.65 s on a loaded 2-core machine), and a worker stuck in
// one uninterruptible built-in is killed after 3 s.
const pool = new SandboxPool({ workers: 2, timeoutMs: 1000, hardKillMs: 3000, memoryBytes: 16 << 20, maxOutput: 2000 });
afterAll(() => pool.close());

const SANE = ['const x = 6 * 7;', 'print(x);'];
// Names that exist in Node/browsers but must not exist in the sandbox.
const HOST_NAMES = ['process', 'require', 'module', 'exports', 'Buffer', 'console', 'fetch', 'setTimeout', 'setInterval',
  'queueMicrotask', 'WebAssembly', 'Worker', 'XMLHttpRequest', 'std', 'os', 'scriptArgs', '__filename', 'global',
  'Deno', 'Bun', 'SharedArrayBuffer', 'Atomics'];
const PROBE = `[${HOST_NAMES.map((n) => `typeof g.${n}`).join(', ')}].filter((t) => t !== 'undefined').length`;

type Expect = 'error' | 'timeout' | 'ok';
interface Case {
  name: string;
  steps: string[];
  expect: Expect;
  /** extra assertions on the hostile result */
  check?: (r: RunResult) => void;
  /** the evaluation after it (default SANE) and its answer */
  next?: [string[], string];
}

const cases: Case[] = [
  // --- reaching for the host
  { name: 'require', steps: ['const fs = require("fs");'], expect: 'error', check: (r) => expect(r.error).toMatch(/ReferenceError/) },
  { name: 'process.exit', steps: ['process.exit(1);'], expect: 'error', check: (r) => expect(r.error).toMatch(/ReferenceError/) },
  { name: 'fs through globalThis', steps: ['globalThis.fs.readFileSync("/etc/passwd");'], expect: 'error' },
  { name: 'fetch', steps: ['fetch("http://example.com");'], expect: 'error' },
  { name: 'static import', steps: ['import fs from "fs";'], expect: 'error', check: (r) => expect(r.error).toMatch(/SyntaxError/) },
  { name: 'top-level await import()', steps: ['const m = await import("fs");'], expect: 'error' },
  {
    // inert: the import promise never settles because promise jobs never run
    name: 'dynamic import() is inert',
    steps: ['import("fs").then((m) => print("LEAK", Object.keys(m)), (e) => print("ERR", e));', 'print("done");'],
    expect: 'ok',
    check: (r) => expect(r.output).toBe('done'),
  },
  {
    name: 'no host names on the global object',
    steps: ['const g = globalThis;', `print(${PROBE});`],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('0'),
  },
  {
    name: 'Function constructor reaches only the sandbox global',
    steps: ['const g = Function("return this")();', `print(${PROBE}, g === globalThis);`],
    expect: 'ok',
    check: (r) => expect(r.output).toBe('0 true'),
  },
  {
    name: 'constructor.constructor from print reaches only the sandbox global',
    steps: ['const g = print.constructor.constructor("return globalThis")();', `print(${PROBE});`],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('0'),
  },
  {
    name: 'constructor.constructor escape to require child_process',
    steps: ['const g = (() => {}).constructor.constructor("return this")();', 'g.process.mainModule.require("child_process").execSync("id");'],
    expect: 'error',
    check: (r) => expect(r.error).toMatch(/TypeError/),
  },
  {
    name: 'error stacks show no host paths',
    steps: ['try { null.x; } catch (e) { print(String(e.stack)); }'],
    expect: 'ok',
    check: (r) => expect(r.output).not.toMatch(/node_modules|\/work\/|node:|file:/),
  },
  // --- pollution that tries to leak into the next evaluation
  {
    name: 'Object.prototype pollution',
    steps: ['Object.prototype.polluted = 1; Object.prototype.toString = () => "hacked";'],
    expect: 'ok',
    next: [['print(({}).polluted, String({}))'], '[object Object]'],
  },
  {
    name: 'Array.prototype.map override',
    steps: ['Array.prototype.map = function () { return ["hijacked"]; };'],
    expect: 'ok',
    next: [['print([1, 2].map((v) => v * 2))'], '[2, 4]'],
  },
  {
    name: 'globals left behind',
    steps: ['globalThis.answer = 999; var stale = 1;'],
    expect: 'ok',
    next: [['print(typeof answer, typeof stale)'], 'undefined'],
  },
  {
    // QuickJS lets defineProperty replace even a non-writable, non-configurable global; the damage
    // stays inside this evaluation
    name: 'redefining print',
    steps: ['Object.defineProperty(globalThis, "print", { value: () => {} });', 'print(13);'],
    expect: 'ok',
    check: (r) => expect(r.output).toBe(''),
    next: [['print(5)'], '5'],
  },
  { name: 'a print function declaration', steps: ['function print(x) {}'], expect: 'error' },
  {
    name: 'assigning print is ignored (sloppy mode), the real print still reports',
    steps: ['print = () => {};', 'print(12);'],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('12'),
  },
  {
    name: 'overriding number formatting does not change the answer',
    steps: ['Number.prototype.toPrecision = () => "999"; Number.prototype.toString = () => "999";', 'print(0.1 + 0.2);'],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('0.3'),
  },
  // --- CPU
  { name: 'while(true)', steps: ['while (true) {}'], expect: 'timeout' },
  { name: 'for(;;) inside a function', steps: ['function spin() { for (;;) {} }', 'spin();'], expect: 'timeout' },
  { name: 'catching the interrupt', steps: ['for (;;) { try { for (;;) {} } catch (e) {} }'], expect: 'timeout' },
  { name: 'eval of a loop', steps: ['eval("while (true) {}");'], expect: 'timeout' },
  { name: 'catastrophic regex backtracking', steps: ['/(a+)+$/.test("a".repeat(40) + "b");'], expect: 'timeout' },
  {
    // one built-in call that never polls the interrupt handler: only the wall-clock kill stops it
    name: 'uninterruptible built-in (sparse indexOf)',
    steps: ['const a = []; a[4e9] = 1;', 'a.indexOf(2);'],
    expect: 'timeout',
    check: (r) => expect(r.error).toMatch(/killed/),
  },
  // --- memory
  { name: 'typed-array bomb', steps: ['const big = new Float64Array(1e9);'], expect: 'error' },
  { name: 'ArrayBuffer bomb', steps: ['const b = new ArrayBuffer(2 ** 31);'], expect: 'error' },
  { name: 'string doubling', steps: ['let s = "ab"; for (;;) s += s;'], expect: 'error' },
  { name: 'new Array(1e9).fill(0)', steps: ['new Array(1e9).fill(0);'], expect: 'error' },
  { name: 'nested arrays', steps: ['const keep = []; for (;;) keep.push(new Array(1000).fill([1, 2, 3]));'], expect: 'error' },
  { name: 'object with endless keys', steps: ['const o = {}; for (let i = 0; ; i++) o["key" + i] = [i];'], expect: 'error' },
  { name: 'spreading a huge array into a call', steps: ['Math.max(...new Array(1e6).fill(1));'], expect: 'error' },
  // --- stack
  { name: 'deep recursion', steps: ['function f(n) { return f(n + 1) + 1; }', 'f(0);'], expect: 'error' },
  { name: 'mutual recursion', steps: ['function a() { return b(); } function b() { return a(); }', 'a();'], expect: 'error' },
  { name: 'recursion that retries on stack overflow', steps: ['function f() { try { f(); } catch (e) { f(); } }', 'f();'], expect: 'error' },
  { name: 'deeply nested JSON', steps: ['JSON.parse("[".repeat(1e6));'], expect: 'error' },
  // --- output
  { name: 'print in a loop', steps: ['for (;;) print("spam");'], expect: 'error', check: (r) => expect(r.outputTruncated).toBe(true) },
  { name: 'one giant print', steps: ['print("x".repeat(1e6));'], expect: 'error', check: (r) => expect(r.output.length).toBe(2000) },
  { name: 'many arguments', steps: ['print(...new Array(60000).fill(1));'], expect: 'error' },
  // --- promises and async
  {
    name: 'unresolved promise loop is inert',
    steps: ['function loop() { return Promise.resolve().then(loop); }', 'loop(); print(1);'],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('1'),
  },
  {
    name: 'pending job with an infinite loop never runs',
    steps: ['Promise.resolve().then(() => { for (;;) {} }); print("queued");'],
    expect: 'ok',
    check: (r) => expect(r.output).toBe('queued'),
  },
  {
    name: 'async recursion is inert',
    steps: ['async function f() { await f(); }', 'f(); print(2);'],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('2'),
  },
  { name: 'sync recursion inside an async function body', steps: ['async function f() { g(); } function g() { g(); }', 'await f();'], expect: 'error' },
  // --- weird values
  { name: 'throw a number', steps: ['throw 42;'], expect: 'error', check: (r) => expect(r.error).toBe('Uncaught 42') },
  { name: 'throw a string', steps: ['throw "nope";'], expect: 'error', check: (r) => expect(r.error).toBe('Uncaught "nope"') },
  { name: 'throw null', steps: ['throw null;'], expect: 'error', check: (r) => expect(r.error).toBe('Uncaught null') },
  { name: 'throw a Symbol', steps: ['throw Symbol("s");'], expect: 'error', check: (r) => expect(r.error).toBe('Uncaught Symbol(s)') },
  { name: 'throw an object with throwing getters', steps: ['throw { get name() { throw 1; }, get message() { throw 2; } };'], expect: 'error' },
  { name: 'throw an object whose getter loops', steps: ['throw { get message() { for (;;) {} }, name: "x" };'], expect: 'error' },
  { name: 'getter that throws on print', steps: ['print({ get x() { throw new Error("getter"); } });'], expect: 'error', check: (r) => expect(r.error).toMatch(/getter/) },
  { name: 'getter that loops on print', steps: ['print({ get x() { for (;;) {} } });'], expect: 'timeout' },
  { name: 'Symbol.toPrimitive that throws', steps: ['const o = { [Symbol.toPrimitive]() { throw new Error("prim"); } };', 'print(o + 1);'], expect: 'error' },
  { name: 'Proxy whose get trap throws', steps: ['print(new Proxy([1, 2], { get() { throw new Error("trap"); } }));'], expect: 'error' },
  { name: 'Proxy whose ownKeys trap loops', steps: ['print(new Proxy({}, { ownKeys() { for (;;) {} } }));'], expect: 'timeout' },
  { name: 'revoked Proxy', steps: ['const { proxy, revoke } = Proxy.revocable({}, {}); revoke();', 'print(proxy);'], expect: 'error' },
  {
    name: 'Proxy pretending to be a huge array',
    steps: ['print(new Proxy([], { get: (t, k) => (k === "length" ? 1e9 : 7) }));'],
    expect: 'ok',
    check: (r) => expect(r.answer).toMatch(/^\[7, 7, .*\.\.\. 999999900 more\]$/),
  },
  {
    name: 'an object nested 100,000 deep prints at depth 4',
    steps: ['let o = 1; for (let i = 0; i < 1e5; i++) o = { o };', 'print(o);'],
    expect: 'ok',
    check: (r) => expect(r.answer).toBe('{o: {o: {o: {o: [Object]}}}}'),
  },
  // --- volume
  { name: '5,000 steps that each print', steps: Array.from({ length: 5000 }, (_, i) => `print(${i});`), expect: 'error', check: (r) => expect(r.outputTruncated).toBe(true) },
  { name: '5,000 looping steps', steps: Array.from({ length: 5000 }, () => 'for (;;) {}'), expect: 'timeout', check: (r) => expect(r.failedStep).toBe(0) },
];

test('the suite is big enough', () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
});

test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
  const r = await pool.run(c.steps);
  if (c.expect === 'ok') {
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
  } else {
    expect(r.ok).toBe(false);
    expect(r.error).toBeTruthy();
    if (c.expect === 'timeout') expect(r.timedOut).toBe(true);
  }
  c.check?.(r);
  const [next, answer] = c.next ?? [SANE, '42'];
  const after = await pool.run(next);
  expect(after).toMatchObject({ ok: true, answer });
});

test('hostile evaluations batched with innocent ones do not change the innocent results', async () => {
  const hostile = cases.filter((c) => c.expect !== 'ok');
  const batch: string[][] = [];
  for (const c of hostile) batch.push(SANE, c.steps, SANE);
  const rs = await pool.runMany(batch);
  rs.forEach((r, i) => {
    if (i % 3 === 1) expect(r.ok, hostile[(i - 1) / 3]!.name).toBe(false);
    else expect(r).toMatchObject({ ok: true, answer: '42' });
  });
});
