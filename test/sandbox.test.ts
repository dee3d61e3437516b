import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { SandboxPool } from '../src/sandbox/sandbox.ts';
import { formatNumber } from '../src/sandbox/worker.ts';

// One pool for the file: workers take ~1 s to start (tsx + wasm), evaluations take well under 1 ms.
const pool = new SandboxPool({ workers: 2 });
// Small budgets for the limit tests, one worker so they are cheap to start.
const small = new SandboxPool({ workers: 1, maxOutput: 50, timeoutMs: 300, hardKillMs: 2000 });
afterAll(async () => {
  await pool.close();
  await small.close();
});

describe('cumulative steps', () => {
  test('a step sees the constants and functions of earlier steps', async () => {
    const r = await pool.run(['const a = 48 / 2;', 'function twice(x) { return 2 * x; }', 'const b = twice(a) + 1;', 'print(a + b);']);
    expect(r).toMatchObject({ ok: true, answer: '73', output: '73', stepOutput: '73' });
    expect(r.error).toBeUndefined();
  });

  test('a candidate that redeclares an earlier const fails, and says which step', async () => {
    const r = await pool.run(['const a = 1;', 'const b = a + 1;', 'const a = 2;\nprint(a);']);
    expect(r.ok).toBe(false);
    expect(r.failedStep).toBe(2);
    expect(r.error).toMatch(/^SyntaxError: redeclaration of 'a'/);
    expect(r.answer).toBeUndefined();
  });

  test('a failing middle step stops the trajectory: later steps do not run', async () => {
    const r = await pool.run(['print("one");', 'const x = undefinedName + 1;', 'print("three");']);
    expect(r).toMatchObject({ ok: false, failedStep: 1, output: 'one', stepOutput: '' });
    expect(r.error).toMatch(/^ReferenceError: 'undefinedName' is not defined/);
  });

  test('each step must parse on its own', async () => {
    const r = await pool.run(['function f() {', 'return 1; }']);
    expect(r).toMatchObject({ ok: false, failedStep: 0 });
    expect(r.error).toMatch(/^SyntaxError/);
  });

  test('a trajectory of 5,000 steps runs', async () => {
    const steps = Array.from({ length: 5000 }, (_, i) => (i === 0 ? 'let s = 0;' : `s += ${i};`));
    steps.push('print(s);');
    const r = await pool.run(steps);
    expect(r).toMatchObject({ ok: true, answer: String((4999 * 5000) / 2) });
  });

  test('no steps is a clean no-op', async () => {
    expect(await pool.run([])).toMatchObject({ ok: true, output: '', stepOutput: '' });
  });
});

describe('output', () => {
  test('stepOutput is what the last step printed; output is everything', async () => {
    const r = await pool.run(['print("first");', 'const n = 2;', 'print(1); print(n, 3);']);
    expect(r.output).toBe('first\n1\n2 3');
    expect(r.stepOutput).toBe('1\n2 3');
    // the last value of the last print() of the last step
    expect(r.answer).toBe('3');
  });

  test('a last step that prints nothing has no answer, even if earlier steps printed', async () => {
    const r = await pool.run(['print(5);', 'const y = 1;']);
    expect(r).toMatchObject({ ok: true, output: '5', stepOutput: '' });
    expect(r.answer).toBeUndefined();
  });

  test('print() with no arguments prints an empty line and keeps the previous answer', async () => {
    const r = await pool.run(['print(7); print();']);
    expect(r).toMatchObject({ ok: true, stepOutput: '7\n', answer: '7' });
  });

  // [code, expected answer]: the last argument of the last print()
  const table: [string, string][] = [
    ['print(0.1 + 0.2)', '0.3'],
    ['print(7)', '7'],
    ['print(-0)', '0'],
    ['print(1 / 3)', '0.333333333333'],
    ['print(4.35 * 100)', '435'],
    ['print(2 ** 53 + 2)', '9007199254740994'],
    ['print(123456789012345)', '123456789012345'],
    ['print(1e21)', '1e+21'],
    ['print(3e-20)', '3e-20'],
    ['print(-2.5)', '-2.5'],
    ['print(0 / 0)', 'NaN'],
    ['print(1 / 0)', 'Infinity'],
    ['print(-1 / 0)', '-Infinity'],
    ['print("abc")', 'abc'],
    ['print(true, false)', 'false'],
    ['print(null)', 'null'],
    ['print(undefined)', 'undefined'],
    ['print(10n ** 20n)', '100000000000000000000'],
    ['print([1, 0.1 + 0.2, "x", -0])', '[1, 0.3, "x", 0]'],
    ['print({a: 1, "b c": [2, 1/3]})', '{a: 1, "b c": [2, 0.333333333333]}'],
    ['print(new Map([["k", 1]]))', 'Map {"k" => 1}'],
    ['print(new Set([1, 2]))', 'Set {1, 2}'],
    ['const o = {}; o.self = o; print(o)', '{self: [Circular]}'],
    ['print([[[[[1]]]]])', '[[[[[Array]]]]]'],
    ['print(function foo() {})', '[Function foo]'],
    ['print(Symbol("s"))', 'Symbol(s)'],
    ['print(new RangeError("boom"))', 'RangeError: boom'],
    ['print("total:", 12)', '12'],
  ];
  test.each(table)('%s -> %s', async (code, answer) => {
    const r = await pool.run([code]);
    expect(r.ok).toBe(true);
    expect(r.answer).toBe(answer);
  });

  test('formatNumber matches the in-VM formatter', async () => {
    const xs = [0.1 + 0.2, -0, 1 / 3, 4.35 * 100, 2 ** 53 + 2, 1e21, 3e-20, -2.5, NaN, Infinity, 1234.5678901234];
    const r = await pool.run([`print([${xs.map((x) => (Object.is(x, -0) ? '-0' : String(x))).join(', ')}])`]);
    expect(r.answer).toBe(`[${xs.map(formatNumber).join(', ')}]`);
  });

  test('long arrays are cut at 100 items', async () => {
    const r = await pool.run(['print(Array.from({length: 150}, (_, i) => i))']);
    expect(r.answer).toMatch(/^\[0, 1, 2, .*, 99, \.\.\. 50 more\]$/);
  });

  test('printing past maxOutput is an error with the output cut to maxOutput', async () => {
    const r = await small.run(['print("ok");', 'for (let i = 0; i < 100; i++) print("line " + i);']);
    expect(r).toMatchObject({ ok: false, outputTruncated: true, failedStep: 1 });
    expect(r.error).toBe('OutputLimit: printed more than 50 characters');
    expect(r.output.length).toBe(50);
    expect(r.output.startsWith('ok\nline 0\nline 1\n')).toBe(true);
    expect(r.stepOutput.startsWith('line 0\n')).toBe(true);
    // exactly at the budget is fine
    const fits = await small.run([`print("${'y'.repeat(50)}")`]);
    expect(fits).toMatchObject({ ok: true, answer: 'y'.repeat(50) });
  });

  test('catching the output-limit error does not let a step keep printing', async () => {
    const r = await small.run(['let n = 0; for (;;) { try { print("xxxxxxxxxx"); } catch (e) { n++; } }']);
    expect(r).toMatchObject({ ok: false, outputTruncated: true });
  });
});

describe('environment', () => {
  test('Math.random is seeded: the same numbers in every evaluation', async () => {
    const code = ['print([Math.random(), Math.random()])'];
    const [a, b] = await pool.runMany([code, code]);
    expect(a!.answer).toBe(b!.answer);
    const [x, y] = JSON.parse(a!.answer!) as number[];
    expect(x).not.toBe(y);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThan(1);
  });

  test('only print exists: no console, Date, require, process', async () => {
    const r = await pool.run(['print([typeof console, typeof Date, typeof require, typeof process, typeof print])']);
    expect(r.answer).toBe('["undefined", "undefined", "undefined", "undefined", "function"]');
  });

  test('promise jobs never run', async () => {
    const r = await pool.run(['Promise.resolve(1).then(() => print("late")); (async () => { await 0; print("after await"); })(); print("now")']);
    expect(r).toMatchObject({ ok: true, output: 'now', answer: 'now' });
  });
});

describe('pool', () => {
  test('nothing leaks between evaluations on a reused worker', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await small.run([`print(typeof leaked, ${i}); globalThis.leaked = 1; Object.prototype.polluted = 1;`]);
      expect(r.output).toBe(`undefined ${i}`);
    }
    expect((await small.run(['print(({}).polluted)'])).answer).toBe('undefined');
  });

  test('runMany keeps input order across workers, including failures', async () => {
    const batch = Array.from({ length: 300 }, (_, i) =>
      i % 7 === 3 ? ['const a = 1;', `throw new Error("bad ${i}")`] : [`const a = ${i};`, 'const b = a * a;', 'print(b - a);'],
    );
    const rs = await pool.runMany(batch);
    expect(rs).toHaveLength(300);
    rs.forEach((r, i) => {
      if (i % 7 === 3) expect(r).toMatchObject({ ok: false, error: `Error: bad ${i}`, failedStep: 1 });
      else expect(r).toMatchObject({ ok: true, answer: String(i * i - i) });
    });
  });

  test('steps that are not strings are rejected up front', async () => {
    await expect(pool.run([1 as unknown as string])).rejects.toThrow(TypeError);
    expect((await pool.run(['print(1)'])).answer).toBe('1');
  });

  test('concurrent run() calls all resolve with their own results', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run([`print(${i} * 2)`])));
    expect(rs.map((r) => r.answer)).toEqual(Array.from({ length: 50 }, (_, i) => String(i * 2)));
  });

  test('close rejects queued and running work and later calls', async () => {
    const p = new SandboxPool({ workers: 1, timeoutMs: 5000 });
    const first = await p.run(['print(1)']);
    expect(first.answer).toBe('1');
    const running = p.run(['for (;;) {}']);
    const queued = p.run(['print(2)']);
    // attach the expectations first: close() rejects them synchronously
    const rejected = [expect(running).rejects.toThrow(/closed/), expect(queued).rejects.toThrow(/closed/)];
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    await Promise.all(rejected);
    await expect(p.run(['print(3)'])).rejects.toThrow(/closed/);
    await p.close(); // idempotent
  });

  test('workers also load under plain `node --import tsx`', async () => {
    const script = `
      import { SandboxPool } from './src/sandbox/sandbox.ts';
      const p = new SandboxPool({ workers: 1 });
      const r = await p.run(['const a = 48 / 2;', 'print(a + 48);']);
      await p.close();
      process.stdout.write(JSON.stringify(r));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
    });
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, answer: '72' });
  });
});

describe('exact-maths prelude in the worker', () => {
  test('a step that names a prelude function gets it; print shows exact values in the dataset format', async () => {
    const r = await pool.run(['const E = { n0: 4, n1: 6 };', 'const x = ev("-n0/n1", E);', 'print(x, P("2 - 5*x + x**2"), [Q(1, 2), Q(3)], fmt(x.mul(3)));']);
    expect(r).toMatchObject({ ok: true, output: '-2/3 x**2 - 5*x + 2 1/2, 3 -2', answer: '-2' });
    // exact past 2^53 (a 20-digit number arrives as a BigInt from the question's numbers)
    const big = await pool.run(['const n0 = 12345678901234567890n;', 'print(Q(n0).add(1), gcd(n0, 10n));']);
    expect(big.output).toBe('12345678901234567891 10');
  });

  test('plain values print as before, and only exact values go through fmt', async () => {
    const r = await pool.run(['print(fmt(true), [1, 2], { a: Q(1, 2).toNumber() }, [Q(1), 2]);']);
    expect(r.output).toMatch(/^True \[1, 2\] \{a: 0\.5\} \[\{/);
  });

  test('steps that name no prelude function do not get it (and pay nothing)', async () => {
    // the scan for prelude names reads identifiers anywhere (strings too), so spell them in pieces
    const r = await pool.run(['print(typeof globalThis["g" + "cd"], typeof globalThis["f" + "mt"]);']);
    expect(r.output).toBe('undefined undefined');
  });

  test('a step may shadow a prelude name; print still formats exact values', async () => {
    const r = await pool.run(['const fmt = (x) => "mine"; const round = 7;', 'print(Q(-3, 9), fmt(1), round);']);
    expect(r.output).toBe('-1/3 mine 7');
  });

  test('prelude errors are ordinary step errors, and the next evaluation is clean', async () => {
    const r = await pool.run(['const a = Q(1, 0);']);
    expect(r).toMatchObject({ ok: false, error: 'RangeError: division by zero', failedStep: 0 });
    expect(await pool.run(['print(fmt(Q(1, 3).add(Q(1, 6))));'])).toMatchObject({ ok: true, answer: '1/2' });
  });

  test('nothing a step does to the shared prelude realm reaches the next evaluation', async () => {
    const attacks = [
      'Object.getPrototypeOf(Q(1)).toString = () => "pwned"; print(fmt(Q(1, 2)));',
      '"use strict"; Object.getPrototypeOf(Q(1)).toString = () => "pwned";',
      'gcd.constructor("globalThis.fmt = () => \'pwned\'")(); print(fmt(1));',
      'gcd.constructor("return Object.prototype")().pwned = 1;',
      'Object.getPrototypeOf(primeFactors(6)).map = () => ["pwned"];',
      'print(gcd.constructor("return typeof Math.random")());',
      'ev("0", {}).n = 5n; P("x").coeff("x").n = 7n;',
    ];
    const rs = await pool.runMany(attacks.map((a) => [a]));
    expect(rs[1]!.ok).toBe(false); // frozen: strict-mode assignment throws
    expect(rs[5]!.output).toBe('undefined'); // the realm has no Math.random to share state through
    for (let i = 0; i < 4; i++) {
      const after = await pool.run(['print(fmt(Q(1, 2)), fmt(primeFactors(12)), P("x*x"), gcd.constructor("return typeof Object.prototype.pwned")());']);
      expect(after.output).toBe('1/2 2, 3 x**2 undefined');
    }
    // the poly module's own 0 and 1, which steps get back from constant() and coeff(), are frozen too
    expect((await pool.run(['print(fmt(ev("0", {})), fmt(P("x").coeff("x")));'])).output).toBe('0 1');
  });

  test('prelude values cross as stubs: methods, fields, instanceof, printing', async () => {
    const r = await pool.run([
      'const a = Q(3, 4), b = new R(1n, 4n), p = P("x**2 - 1", {});',
      'print(a.add(b), a.n, a.d, a instanceof R, p instanceof Poly, `${a}`, a + 1, p.factor(), surd("sqrt(8)", {}));',
    ]);
    expect(r).toMatchObject({ ok: true, output: '1 3 4 true true 3/4 1.75 (x - 1)*(x + 1) 2*sqrt(2)' });
  });

  test("a step's env is read where the text names it, and its own objects come back as themselves", async () => {
    const r = await pool.run([
      'const E = { n0: 4, n1: 6, get boom() { throw new Error("read boom"); } };',
      'const items = [{ label: "a", value: ev("-n0", E) }, { label: "b", value: ev("n1/n0", E) }];',
      'const [first] = sortExact(items, true, (it) => it.value);',
      'print(first === items[1], first.label, fmt(solveLinear2(["x + y = n1", "x - y = n0"], E).x));',
    ]);
    expect(r).toMatchObject({ ok: true, output: 'true b 5' });
  });

  test("a prelude call reads each own name of a step's env once; inherited names only where called", async () => {
    const r = await pool.run([
      'let reads = 0; const E = Object.create({ f: fn("x", "x + 1", {}) }, { n0: { get() { reads++; return 3; }, enumerable: true } });',
      'print(fmt(ev("n0 + n0*n0 + f(n0)", E)), reads, fmt(ev("f", E)));',
    ]);
    expect(r).toMatchObject({ ok: true, output: '16 1 f' });
  });

  test("errors keep their class and message; a callback's own error comes back as itself", async () => {
    const r = await pool.run([
      'try { Q(1, 0); } catch (e) { print(e.name, e.message); }',
      'const mine = new RangeError("mine");',
      'try { sortExact([1, 2], false, () => { throw mine; }); } catch (e) { print(e === mine); }',
    ]);
    expect(r.output).toBe('RangeError division by zero\ntrue');
  });

  test('a look-alike of a prelude value is not one', async () => {
    const r = await pool.run(['const fake = Object.create(Object.getPrototypeOf(Q(1)));', 'fake.add(1);']);
    expect(r).toMatchObject({ ok: false, error: 'TypeError: R.add called on something that is not a R' });
    // a plain copy of one carries nothing of it
    const copy = await pool.run(['print(Q(Object.assign({}, Q(1, 2))));']);
    expect(copy).toMatchObject({ ok: false, error: 'TypeError: Q: cannot convert object' });
  });

  test('thousands of prelude evaluations on one worker stay sound', async () => {
    // quickjs-emscripten's getOwnPropertyNames corrupted wasm memory after ~1,300 calls; nothing here uses it
    const one = new SandboxPool({ workers: 1 });
    try {
      const code = ['const E = { n0: 3, n1: 5 };', 'E.f = fn("x", "x**2 + n0", E);', 'print(fmt(ev("f(n1)", E)), fmt(solveLinear("n0*x = n1", "x", E)));'];
      const rs = await one.runMany(Array.from({ length: 3000 }, () => code));
      expect(rs.filter((r) => r.output !== '28 5/3')).toEqual([]);
    } finally {
      await one.close();
    }
  });

  test('a prelude call that loops or explodes is stopped like any step', async () => {
    const loop = await small.run(['print(sortExact([1, 2, 3], false, (x) => { for (;;) {} }));']);
    expect(loop).toMatchObject({ ok: false, timedOut: true });
    const huge = await small.run(['print(fmt(factorial(1e7)));']);
    expect(huge.ok).toBe(false);
    expect(await small.run(['print(fmt(Q(2).pow(64)));'])).toMatchObject({ ok: true, answer: '18446744073709551616' });
  });
});
