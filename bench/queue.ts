// Search throughput through the Redis queue vs local shard processes, at 1 and 2 workers, and the
// queue's per-job overhead. Starts its own redis-server on a free loopback port (no persistence) and
// `rstar worker` processes; the queue is timed with its workers already connected (long-lived, as
// deployed), the local path with its child processes' start included (as self-evolve runs it).
//   npm run bench -- queue [--policy DIR] [--problems 24] [--rollouts 4] [--k 4] [--batch 4] [--backend wasm]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeShards, runSharded, type SearchLine, type ShardedRun } from '../src/train/shards.ts';
import { RedisSearchQueue } from '../src/train/queue/coordinator.ts';
import { setupBackend } from '../src/model/backends/backend.ts';
import { benchPolicy, benchProblems } from './mcts.ts';
import { startRedis } from '../test/redis.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function flag(argv: string[], name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}

export async function main(argv: string[]): Promise<void> {
  const backend = flag(argv, 'backend', 'wasm');
  await setupBackend(backend as 'wasm');
  const n = Number(flag(argv, 'problems', '24'));
  const batch = Number(flag(argv, 'batch', '4'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-bench-queue-'));
  const policy = await benchPolicy(argv, dir);
  const problems = benchProblems(n);
  const job: ShardedRun['job'] = { kind: 'search', policy, seed: 1, round: 1, search: { rollouts: Number(flag(argv, 'rollouts', '4')), k: Number(flag(argv, 'k', '4')), maxDepth: 8, mode: 'terminal' } };
  const { url, proc: redis } = await startRedis(dir);
  const results: Record<string, unknown>[] = [];
  let reference: SearchLine[] | null = null;
  const workers: ChildProcess[] = [];
  try {
    for (const w of [1, 2]) {
      // local: one child process per worker, started by runSharded
      const localDir = path.join(dir, `local-${w}`);
      let t0 = Date.now();
      const lf = await runSharded({ dir: localDir, job, problems, workers: w, label: 'bench local', backend, quiet: true });
      const localS = (Date.now() - t0) / 1000;
      const local = mergeShards<SearchLine>(lf, problems);
      reference ??= local;

      // queue: w long-lived `rstar worker` processes, connected before the clock starts
      while (workers.length < w) {
        workers.push(spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli.ts'), 'worker', '--queue', url, '--backend', backend, '--cache', path.join(dir, `cache-${workers.length}`)], {
          cwd: REPO, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, RSTAR_QUIET: '1' },
        }));
      }
      const q = await RedisSearchQueue.open({ url, batch, quiet: true });
      try {
        const { Queue } = await import('bullmq');
        const probe = new Queue('rstar-search', { connection: (await import('../src/train/queue/redis.ts')).parseQueueUrl(url) });
        while ((await probe.getWorkersCount()) < w) await new Promise((r) => setTimeout(r, 200));
        await probe.close();
        const queueDir = path.join(dir, `queue-${w}`);
        t0 = Date.now();
        const qf = await q.runStage({ dir: queueDir, job, problems, workers: w, label: 'bench queue', backend, quiet: true });
        const queueS = (Date.now() - t0) / 1000;
        const queued = mergeShards<SearchLine>(qf, problems);
        const jobs = fs.readFileSync(path.join(queueDir, 'queue-jobs.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ms: number });
        const busy = jobs.reduce((a, j) => a + j.ms, 0) / 1000;
        const same = JSON.stringify(queued.map((l) => [l.problemId, l.trajectories, l.pairs])) === JSON.stringify(reference.map((l) => [l.problemId, l.trajectories, l.pairs]));
        const r = {
          bench: 'queue', workers: w, problems: queued.length, jobs: jobs.length, batch,
          local_s: +localS.toFixed(1), queue_s: +queueS.toFixed(1),
          local_problems_per_s: +(local.length / localS).toFixed(2), queue_problems_per_s: +(queued.length / queueS).toFixed(2),
          // wall time not spent inside a job's processing, per job (dispatch, fetch, harvest; the first job also loads the model)
          overhead_ms_per_job: Math.round(((queueS * w - busy) / jobs.length) * 1000),
          same_results_as_local: same,
        };
        console.log(`${w} worker(s): local ${r.local_problems_per_s} problems/s (${r.local_s} s, process start included), queue ${r.queue_problems_per_s} problems/s (${r.queue_s} s, ${r.jobs} jobs of ${batch}); overhead ${r.overhead_ms_per_job} ms/job; results equal the local run's: ${same}`);
        console.log(`RESULT ${JSON.stringify(r)}`);
        results.push(r);
      } finally {
        await q.close();
      }
    }
  } finally {
    for (const c of workers) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const c of workers) if (c.exitCode === null) c.kill('SIGKILL');
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
