// `rstar worker --queue redis://HOST:PORT`: takes search / evaluation jobs off the queue, fetches the
// job's models from the store (content-addressed, redis.ts), runs the problems through the same
// per-problem code as a local shard (shards.ts runShardProblems) and returns their lines.
// One job at a time per process (the model's compute holds the thread); start one per core.
import os from 'node:os';
import path from 'node:path';
import { Worker, type Job } from 'bullmq';
import { closeShardModels, loadShardModels, runShardProblems, type EvalLine, type SearchLine, type ShardModels } from '../shards.ts';
import { fmtTime } from '../../util/progress.ts';
import { DEFAULT_QUEUE_NAME, fetchModel, openQueue, parseQueueUrl, type QueueJobData, type QueueJobResult } from './redis.ts';

export interface WorkerOptions {
  url: string;
  name?: string;
  /** Where fetched models are kept (one folder per hash). */
  cache?: string;
  /** A job's lock lasts this long unless renewed (every half of it); a killed worker's job is taken back after it. */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (of killed workers). */
  stalledMs?: number;
  /** Print a progress line this often. */
  reportEveryMs?: number;
  /** A line per job started and finished. */
  verbose?: boolean;
  /** Stop after this many jobs (benchmarks). */
  maxJobs?: number;
}

export const WORKER_DEFAULTS = { lockMs: 30_000, stalledMs: 30_000, reportEveryMs: 10_000 };

export interface WorkerStats {
  jobs: number;
  problems: number;
  failed: number;
}

/** Run until SIGINT / SIGTERM (or maxJobs); resolves with what it did. */
export async function runWorker(o: WorkerOptions): Promise<WorkerStats> {
  const name = o.name ?? DEFAULT_QUEUE_NAME;
  const id = `${os.hostname()}:${process.pid}`;
  const cache = o.cache ?? path.join(os.tmpdir(), 'rstar-models');
  const store = await openQueue(o.url, name);
  const log = (s: string) => console.error(`worker ${id}: ${s}`);
  const stats: WorkerStats = { jobs: 0, problems: 0, failed: 0 };
  let loaded: { key: string; models: ShardModels } | null = null;
  const t0 = Date.now();
  let current = '';

  const modelsFor = async (d: QueueJobData): Promise<ShardModels> => {
    const key = JSON.stringify(d.models);
    if (loaded?.key === key) return loaded.models;
    if (loaded) await closeShardModels(loaded.models);
    loaded = null;
    const policy = await fetchModel(store, d.models.policy, cache);
    const members = await Promise.all(d.models.members.map((m) => fetchModel(store, m, cache)));
    const ppm = d.models.ppm ? await fetchModel(store, d.models.ppm, cache) : undefined;
    loaded = { key, models: await loadShardModels({ policy, members, ppm }) };
    return loaded.models;
  };

  const process_ = async (job: Job<QueueJobData>): Promise<QueueJobResult> => {
    const d = job.data;
    const started = Date.now();
    current = d.label;
    if (o.verbose) log(`start ${job.id} (${d.problems.length} problems, ${d.label})`);
    const models = await modelsFor(d);
    const lines: (SearchLine | EvalLine)[] = [];
    await runShardProblems(models, { ...d.work, policy: d.models.policy.path }, d.problems, (l) => lines.push(l));
    const ms = Date.now() - started;
    if (o.verbose) log(`done ${job.id} in ${ms} ms`);
    return { lines, worker: id, ms };
  };

  const worker = new Worker<QueueJobData, QueueJobResult>(name, process_, {
    connection: parseQueueUrl(o.url),
    concurrency: 1,
    lockDuration: o.lockMs ?? WORKER_DEFAULTS.lockMs,
    stalledInterval: o.stalledMs ?? WORKER_DEFAULTS.stalledMs,
    // a job whose workers keep dying is failed after this many stalls (then split / reported)
    maxStalledCount: 2,
    name: id,
    autorun: false,
  });
  worker.on('error', (e) => log(`error: ${e.message}`));
  worker.on('failed', (job, e) => {
    stats.failed++;
    log(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${e.message.split('\n')[0]}`);
  });
  let finish: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { finish = resolve; });
  worker.on('completed', (job) => {
    stats.jobs++;
    stats.problems += job.data.problems.length;
    if (o.maxJobs && stats.jobs >= o.maxJobs) finish();
  });
  const report = setInterval(() => {
    const s = (Date.now() - t0) / 1000;
    log(`${stats.jobs} jobs (${stats.problems} problems) done, ${(stats.problems / s).toFixed(2)} problems/s, ${stats.failed} failed, up ${fmtTime(s)}${current ? `; last: ${current}` : ''}`);
  }, o.reportEveryMs ?? WORKER_DEFAULTS.reportEveryMs);
  report.unref();
  const onSignal = () => {
    log('stopping after the current job (again to stop now)');
    process.once('SIGINT', () => process.exit(130));
    process.once('SIGTERM', () => process.exit(143));
    finish();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`taking jobs from ${name} at ${o.url.replace(/\/\/[^@]*@/, '//***@')}; models cached in ${cache}`);
  void worker.run();
  await stopped;
  clearInterval(report);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await worker.close();
  if (loaded) await closeShardModels((loaded as { models: ShardModels }).models);
  await store.close();
  log(`stopped: ${stats.jobs} jobs (${stats.problems} problems), ${stats.failed} failed`);
  return stats;
}
