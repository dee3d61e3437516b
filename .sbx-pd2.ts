import { SandboxPool } from './src/search/sandbox.ts';
const pool = new SandboxPool({ workers: 1, timeoutMs: 200, hardKillMs: 700, memoryBytes: 16 << 20 });
await pool.run(['print(1)']);
for (const c of [['function f() { try { f(); } catch (e) { f(); } }', 'f();'], ['const keep = []; for (;;) keep.push(new Array(1000).fill([1, 2, 3]));'], ['const o = {}; for (let i = 0; ; i++) o["key" + i] = [i];']]) {
  const t = performance.now(); const r = await pool.run(c); console.log(performance.now() - t, r);
}
await pool.close();
