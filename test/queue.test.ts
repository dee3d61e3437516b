// Distributed search on BullMQ + Redis: a real redis-server on a free loopback port, real worker
// processes (`rstar worker`), a real coordinator (`selfEvolve` with a RedisSearchQueue) in a child
// process. One worker is SIGKILLed mid-job and the coordinator is SIGKILLed and started again; the
// round's Arrow files must equal those of a local run with the same seed, every problem once.
//
// Round 0 is prepared by hand as in self-evolve.test.ts (test/fixtures/hand-built-run.ts): a small
// synthetic bootstrap set and a bigram-machine policy whose trees reach answers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../src/model/backends/backend.ts';
import { loadDataset, splitDev } from '../src/data/datasets.ts';
import { readPairs, readTrajectories } from '../src/data/arrow.ts';
import { loadProblemFiles } from '../src/data/problems.ts';
import type { Preset } from '../src/train/presets.ts';
import { mergeShards, readShardLines, type SearchLine } from '../src/train/shards.ts';
import { RedisSearchQueue } from '../src/train/queue/coordinator.ts';
import { parseQueueUrl } from '../src/train/queue/redis.ts';
import { finish } from './child.ts';
import { freePort, startRedis } from './redis.ts';
import { prepareRoundZero, searchedProblems } from './fixtures/hand-built-run.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SEED = 1234;
const SEARCH = 8;
const OVERRIDE: Partial<Preset> = {
  searchProblems: SEARCH, devProblems: 2, sftSteps: 1, ppmSteps: 1, bootstrapLimit: 8,
  k: 2, maxDepth: 3, rounds: [{ rollouts: 4, mode: 'terminal' }], testSearch: { rollouts: 2, k: 2, maxDepth: 3 },
};

let root: string;
let base: string;
let redis: ChildProcess | null = null;
let url: string;
const workers: { c: ChildProcess; log: string[] }[] = [];

function startWorker(i: number): { c: ChildProcess; log: string[] } {
  // small lock and stalled-check times: a killed worker's job is back in the queue within ~2 s
  const c = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'worker', '--queue', url, '--backend', 'wasm', '--verbose',
    '--lock-ms', '1500', '--stalled-ms', '500', '--cache', path.join(root, `cache-${i}`)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' } });
  const w = { c, log: [] as string[] };
  let buf = '';
  c.stderr!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    w.log.push(...parts);
  });
  c.stdout!.on('data', () => {});
  workers.push(w);
  return w;
}

function spawnRun(out: string, queued: boolean): ChildProcess {
  const script = `
    import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
    import { selfEvolve } from ${JSON.stringify(path.join(REPO, 'src/train/self-evolve.ts'))};
    import { RedisSearchQueue } from ${JSON.stringify(path.join(REPO, 'src/train/queue/coordinator.ts'))};
    await setupBackend('wasm');
    const queue = ${queued ? `await RedisSearchQueue.open({ url: ${JSON.stringify(url)}, batch: 1, quiet: true })` : 'undefined'};
    try {
      const r = await selfEvolve({ out: ${JSON.stringify(out)}, rounds: 1, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true, override: ${JSON.stringify(OVERRIDE)}, queue });
      console.log(r.table);
    } finally {
      await queue?.close();
    }`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RSTAR_QUIET: '1' },
  });
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));




beforeAll(async () => {
  await setupBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-queue-'));
  const redisDir = path.join(root, 'redis');
  fs.mkdirSync(redisDir);
  ({ url, proc: redis } = await startRedis(redisDir));
  for (let i = 0; i < 3; i++) startWorker(i);
  base = path.join(root, 'base');
  await prepareRoundZero(base, { seed: SEED, search: SEARCH });
}, 60_000);

afterAll(async () => {
  for (const w of workers) if (w.c.exitCode === null && w.c.signalCode === null) w.c.kill('SIGKILL');
  if (redis) redis.kill('SIGKILL');
  await sleep(200);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('search as BullMQ jobs on Redis', () => {
  it('3 workers, one SIGKILLed mid-job, the coordinator killed and restarted: the round equals a local run, every problem once', async () => {
    const local = path.join(root, 'local');
    const queued = path.join(root, 'queued');
    for (const d of [local, queued]) fs.cpSync(base, d, { recursive: true });
    const localRun = finish(spawnRun(local, false));
    const results = path.join(queued, 'round-1', 'search', 'queue.jsonl');

    const first = spawnRun(queued, true);
    const firstDone = finish(first);
    // SIGKILL the first worker seen starting a round-1 MCTS job, while it runs it
    let victim: { c: ChildProcess; log: string[] } | undefined;
    let killedJob = '';
    const t0 = Date.now();
    while (!victim && Date.now() - t0 < 60_000 && first.exitCode === null) {
      for (const w of workers) {
        const start = w.log.find((l) => / start \S+ \(\d+ problems, round 1 MCTS/.test(l));
        if (start) {
          killedJob = / start (\S+)/.exec(start)![1]!;
          if (!w.log.some((l) => l.includes(`done ${killedJob}`))) {
            w.c.kill('SIGKILL');
            victim = w;
          }
          break;
        }
      }
      await sleep(5);
    }
    expect(victim, `no worker started a round-1 job:\n${workers.map((w) => w.log.join('\n')).join('\n---\n')}`).toBeDefined();
    // then the coordinator, once some results are in
    while (Date.now() - t0 < 90_000 && first.exitCode === null && lines(results).length < 2) await sleep(20);
    process.kill(-first.pid!, 'SIGKILL');
    const killed = await firstDone;
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(fs.existsSync(path.join(queued, 'round-1', 'sft.arrow'))).toBe(false);
    const before = lines(results).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(SEARCH);

    const second = await finish(spawnRun(queued, true));
    expect(second.code, second.stderr).toBe(0);
    const ref = await localRun;
    expect(ref.code, ref.stderr).toBe(0);

    // every problem exactly once in the coordinator's results
    const got = readShardLines<SearchLine>(results);
    expect(got.map((l) => l.problemId).sort()).toEqual(searchedProblems(SEED, SEARCH).map((p) => p.id).sort());
    // the killed worker's job was finished by another worker, after a stall
    const jobs = lines(path.join(queued, 'round-1', 'search', 'queue-jobs.jsonl')).map((l) => JSON.parse(l) as { job: string; worker: string; stalled: number });
    const redone = jobs.find((j) => j.job === killedJob);
    expect(redone, `job ${killedJob} never harvested: ${JSON.stringify(jobs)}`).toBeDefined();
    expect(redone!.worker).not.toBe(`${os.hostname()}:${victim!.c.pid}`);
    // the round's data equal the local run's, row for row
    for (const [name, read] of [['trajectories.arrow', readTrajectories], ['sft.arrow', readTrajectories], ['pairs.arrow', readPairs]] as const) {
      const a = read(path.join(queued, 'round-1', name));
      const b = read(path.join(local, 'round-1', name));
      expect(a, name).toEqual(b);
      expect(new Set(a.map((r) => JSON.stringify(r))).size, `${name} has duplicate rows`).toBe(a.length);
    }
    expect(readTrajectories(path.join(local, 'round-1', 'trajectories.arrow')).some((t) => t.correct)).toBe(true);
    expect(readPairs(path.join(local, 'round-1', 'pairs.arrow')).length).toBeGreaterThan(0);
    // and so do the dev evaluations, which also ran as jobs
    expect(lines(path.join(queued, 'round-1', 'eval-greedy', 'queue.jsonl')).length).toBe(2);
    const m = JSON.parse(fs.readFileSync(path.join(queued, 'round-1', 'metrics.json'), 'utf8'));
    const mRef = JSON.parse(fs.readFileSync(path.join(local, 'round-1', 'metrics.json'), 'utf8'));
    for (const k of ['problemsSearched', 'solved', 'sftTrajectories', 'pairs', 'devGreedy', 'devMcts', 'devPairs']) expect(m[k], k).toEqual(mRef[k]);
  }, 240_000);

  it('a problem that crashes the worker is retried, split from its batch, then reported; the others finish', async () => {
    const dir = path.join(root, 'crash');
    const good = searchedProblems(SEED, SEARCH).slice(0, 2).map((p) => ({ id: p.id, question: p.question, answer: p.answer, source: p.source }));
    // no answer: terminal-guided MCTS throws for it in the worker
    const bad = { id: 'no-answer', question: 'Tom has 3 apples. How many apples?', answer: null as unknown as string, source: 'mawps' };
    const problems = [good[0]!, bad, good[1]!];
    const q = await RedisSearchQueue.open({ url, batch: 3, attempts: 2, quiet: true });
    try {
      const files = await q.runStage({
        dir, problems, workers: 1, label: 'crash test', backend: 'wasm', quiet: true,
        job: { kind: 'search', policy: path.join(base, 'round-0', 'policy'), seed: 7, round: 1, search: { rollouts: 2, k: 2, maxDepth: 3, mode: 'terminal' } },
      });
      const merged = mergeShards<SearchLine>(files, problems);
      expect(merged.map((l) => l.problemId)).toEqual(good.map((p) => p.id));
      const failed = lines(path.join(dir, 'queue-failed.jsonl')).map((l) => JSON.parse(l));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ problemId: 'no-answer', attempts: 2 });
      expect(failed[0].reason).toContain('needs the known answer');
      // run again (a restarted coordinator): nothing is queued, the failure stays reported
      const again = await q.runStage({
        dir, problems, workers: 1, label: 'crash test', backend: 'wasm', quiet: true,
        job: { kind: 'search', policy: path.join(base, 'round-0', 'policy'), seed: 7, round: 1, search: { rollouts: 2, k: 2, maxDepth: 3, mode: 'terminal' } },
      });
      expect(mergeShards<SearchLine>(again, problems)).toEqual(merged);
      expect(lines(path.join(dir, 'queue-failed.jsonl'))).toHaveLength(1);
    } finally {
      await q.close();
    }
    // the workers print their progress
    expect(workers.some((w) => w.log.some((l) => /\d+ jobs \(\d+ problems\) done|done \S+ in \d+ ms/.test(l)))).toBe(true);
  }, 60_000);

  it('a bad or unreachable --queue fails with one line', async () => {
    expect(() => parseQueueUrl('http://localhost:6379')).toThrow(/expected redis:\/\/HOST:PORT/);
    expect(() => parseQueueUrl('redis://localhost:6379/x')).toThrow(/database after the port must be a number/);
    const port = await freePort();
    await expect(RedisSearchQueue.open({ url: `redis://127.0.0.1:${port}` })).rejects.toThrow(new RegExp(`redis://127.0.0.1:${port}: no answer from Redis`));
  }, 20_000);
});

describe('your own problem files', () => {
  it('--data files train, --dev evaluates; a bad line or an id in two files fails naming file:line', () => {
    const dir = path.join(root, 'data');
    fs.mkdirSync(dir, { recursive: true });
    const f = (name: string, rows: unknown[]) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
      return p;
    };
    const a = f('a.jsonl', [{ id: 'a1', question: 'q1?', answer: '1' }, { id: 'a2', question: 'q2?', answer: 2 }]);
    const b = f('b.jsonl', [{ question: 'q3?', answer: '3' }]);
    const dev = f('dev.jsonl', [{ id: 'd1', question: 'q4?', answer: '4' }]);
    const got = loadProblemFiles({ data: [a, b], dev });
    expect(got.train.map((p) => p.id)).toEqual(['a1', 'a2', 'b-1']);
    expect(got.dev.map((p) => p.id)).toEqual(['d1']);
    const broken = f('broken.jsonl', [{ question: 'ok?', answer: '1' }, '', '{"question": "no answer"}']);
    expect(() => loadProblemFiles({ data: [broken], dev })).toThrow(`${broken}:3: expected a "answer" field`);
    const clash = f('clash.jsonl', [{ question: 'x?', answer: '1' }, { id: 'a2', question: 'again?', answer: '2' }]);
    expect(() => loadProblemFiles({ data: [a], dev: clash })).toThrow(`${clash}:2: expected an id not used before, but "a2" is also in ${a}`);
    // without --dev: the fixed 10 % split of the data
    const many = f('many.jsonl', Array.from({ length: 100 }, (_, i) => ({ question: `q${i}?`, answer: String(i) })));
    const split = loadProblemFiles({ data: [many] });
    expect(split.train.length + split.dev.length).toBe(100);
    expect(split.dev.length).toBeGreaterThan(3);
    expect(loadProblemFiles({ data: [many] })).toEqual(split);
  });
});

describe('your own pretrained policy', () => {
  const FIX = path.join(REPO, 'test', 'fixtures', 'hf-tiny');
  const mawpsRows = (from: number, n: number, source = 'mawps') => splitDev(loadDataset('mawps')).train.slice(from, from + n)
    .map((p) => JSON.stringify({ id: p.id, question: p.question, answer: p.answer, solution: p.solution, source }));

  it('--policy hf:<folder> --data: round 0 fine-tunes the Hugging Face policy on the data\'s bootstrap trajectories', async () => {
    const dir = path.join(root, 'own');
    fs.mkdirSync(dir, { recursive: true });
    const train = path.join(dir, 'train.jsonl');
    const dev = path.join(dir, 'dev.jsonl');
    fs.writeFileSync(train, mawpsRows(0, 24).join('\n') + '\n');
    fs.writeFileSync(dev, mawpsRows(100, 4).join('\n') + '\n');
    const out = path.join(dir, 'run');
    const policy = `hf:${path.join(FIX, 'llama')}`;
    const script = `
      import { setupBackend } from ${JSON.stringify(path.join(REPO, 'src/model/backends/backend.ts'))};
      import { selfEvolve } from ${JSON.stringify(path.join(REPO, 'src/train/self-evolve.ts'))};
      await setupBackend('wasm');
      await selfEvolve({ out: ${JSON.stringify(out)}, rounds: 0, preset: 'tiny', seed: ${SEED}, backend: 'wasm', workers: 1, quiet: true,
        data: [${JSON.stringify(train)}], dev: ${JSON.stringify(dev)}, policy: ${JSON.stringify(policy)}, tokenizer: ${JSON.stringify(path.join(FIX, 'spm512', 'tokenizer.model'))} });`;
    const r = await finish(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(r.code, r.stderr).toBe(0);
    // the bootstrap read the user's lines: every training trajectory is one of them
    const boot = readTrajectories(path.join(out, 'round-0', 'bootstrap-train.arrow'));
    const ids = new Set(mawpsRows(0, 24).map((l) => JSON.parse(l).id as string));
    expect(boot.length).toBeGreaterThan(15);
    for (const t of boot) expect(ids.has(t.problemId), t.problemId).toBe(true);
    expect(readTrajectories(path.join(out, 'round-0', 'bootstrap-dev.arrow')).length).toBeGreaterThan(0);
    // policy-r0: the Llama fixture, fine-tuned, as our checkpoint with the given tokenizer inside
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'round-0', 'policy', 'config.json'), 'utf8'));
    expect(cfg.model.arch).toBe('llama');
    expect(cfg.meta).toMatchObject({ round: 0, from: policy, promptNumbers: 'names' });
    expect(fs.readFileSync(path.join(out, 'round-0', 'policy', 'tokenizer.model')).equals(fs.readFileSync(path.join(FIX, 'spm512', 'tokenizer.model')))).toBe(true);
    const losses = fs.readFileSync(path.join(out, 'round-0', 'sft-train', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(losses.length).toBeGreaterThan(0);
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ data: [train], dev, policy });
  }, 120_000);

  it('data without reference solutions: a clear error without --policy, the policy unchanged with it', async () => {
    const dir = path.join(root, 'own-bare');
    fs.mkdirSync(dir, { recursive: true });
    const train = path.join(dir, 'train.jsonl');
    fs.writeFileSync(train, mawpsRows(0, 12, 'mine').join('\n') + '\n');
    const { selfEvolve } = await import('../src/train/self-evolve.ts');
    await expect(selfEvolve({ out: path.join(dir, 'run'), rounds: 0, preset: 'tiny', seed: SEED, backend: 'cpu', workers: 1, quiet: true, data: [train] }))
      .rejects.toThrow(/no bootstrap trajectories to train policy-r0 on .* give --policy/);
    const out = path.join(dir, 'run-policy');
    const policy = path.join(base, 'round-0', 'policy');
    await selfEvolve({ out, rounds: 0, preset: 'tiny', seed: SEED, backend: 'cpu', workers: 1, quiet: true, data: [train], policy });
    const a = (await import('../src/model/checkpoint.ts')).readTensorFile(policy, 'weights');
    const b = (await import('../src/model/checkpoint.ts')).readTensorFile(path.join(out, 'round-0', 'policy'), 'weights');
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(Array.from(b.get(k)!.data)).toEqual(Array.from(v.data));
  }, 60_000);
});
