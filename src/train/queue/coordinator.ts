// The coordinator side of distributed search: a stage's problems (a round's MCTS, a dev evaluation,
// a cross-fit search: whatever runSharded runs) become BullMQ jobs on Redis, `rstar worker`
// processes anywhere take them (worker.ts), and the results land in the stage folder as JSON lines,
// the shard files' format, which mergeShards reads.
//
// Exactly once, under faults:
//   - job ids are fixed by the plan (stage id + group), so re-adding a job that still exists is a
//     no-op; a restarted coordinator re-adds only groups with problems lacking a result;
//   - a result is appended to queue.jsonl before its job is removed; a problem already in the file
//     is skipped (a duplicate result is merged once), a torn last line is cut (readShardLines);
//   - a worker killed mid-job stops renewing its lock: BullMQ's stalled check (in the live workers)
//     puts the job back in the queue and another worker runs it;
//   - a job that fails `attempts` times is split into one job per problem; a problem that still
//     fails is written to queue-failed.jsonl, printed, and left out of the stage's results.
// Search results do not depend on which worker ran a problem: every expansion is seeded by
// (problem id, node id, stage seed) and evaluation chunks carry their seeds (evalSeedOffsets), so
// the merged files equal a local run's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Job, QueueEvents, type Queue } from 'bullmq';
import { evalSeedOffsets, readShardLines, type SearchQueue, type ShardedRun, type ShardJob } from '../shards.ts';
import { Progress } from '../../util/progress.ts';
import { readJson, writeJsonAtomic } from '../../util/fsx.ts';
import { DEFAULT_QUEUE_NAME, openQueue, parseQueueUrl, publishModel, type ModelRef, type QueueJobData, type QueueJobResult } from './redis.ts';

export interface QueueOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  /** BullMQ queue name (workers must use the same). */
  name?: string;
  /** Problems per search job (an evaluation job is one seed chunk of up to 16). */
  batch?: number;
  /** Tries of a job before it is split (or, for one problem, reported). */
  attempts?: number;
  /** Models up to this many bytes travel through Redis; larger ones by shared path (redis.ts). */
  inlineBytes?: number;
  /** How often the queue's state is printed. */
  statusEveryMs?: number;
  quiet?: boolean;
}

export const QUEUE_DEFAULTS = { batch: 8, attempts: 3, inlineBytes: 128 << 20, statusEveryMs: 10_000 };

interface Group {
  id: string;
  problems: ShardJob['problems'];
}

/** SearchQueue on Redis: `runStage` plans, queues, waits for and merges one stage's jobs. */
export class RedisSearchQueue implements SearchQueue {
  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly o: Required<Omit<QueueOptions, 'quiet'>> & { quiet: boolean },
  ) {}

  static async open(o: QueueOptions): Promise<RedisSearchQueue> {
    const name = o.name ?? DEFAULT_QUEUE_NAME;
    const queue = await openQueue(o.url, name);
    const events = new QueueEvents(name, { connection: parseQueueUrl(o.url) });
    events.on('error', () => {});
    await events.waitUntilReady();
    const batch = o.batch ?? QUEUE_DEFAULTS.batch;
    if (!(Number.isInteger(batch) && batch > 0)) throw new Error(`--queue-batch must be a positive integer, got ${batch}`);
    return new RedisSearchQueue(queue, events, { ...QUEUE_DEFAULTS, ...o, name, batch, quiet: o.quiet ?? false });
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }

  async runStage(run: ShardedRun): Promise<string[]> {
    const { dir, job: work, problems, workers, label } = run;
    const quiet = run.quiet || this.o.quiet;
    fs.mkdirSync(dir, { recursive: true });
    const resultsFile = path.join(dir, 'queue.jsonl');
    const failedFile = path.join(dir, 'queue-failed.jsonl');
    const logFile = path.join(dir, 'queue-jobs.jsonl');
    const splitFile = path.join(dir, 'queue-split.json');
    // problems a local run finished in this folder count as done too
    const prior = fs.readdirSync(dir).filter((f) => /^shard-\d+\.jsonl$/.test(f)).map((f) => path.join(dir, f));
    const done = new Set<string>();
    for (const f of [...prior, resultsFile]) for (const l of readShardLines<{ problemId: string }>(f)) done.add(l.problemId);
    const failed = new Set(readShardLines<{ problemId: string }>(failedFile).map((l) => l.problemId));
    const split = new Set(fs.existsSync(splitFile) ? readJson<string[]>(splitFile) : []);

    const models = {
      policy: await publishModel(this.queue, work.policy, this.o.inlineBytes),
      members: await Promise.all((work.members ?? []).map((m) => publishModel(this.queue, m, this.o.inlineBytes))),
      ...(work.ppm ? { ppm: await publishModel(this.queue, work.ppm, this.o.inlineBytes) } : {}),
    } satisfies QueueJobData['models'];
    const { policy: _p, members: _m, ppm: _ppm, ...rest } = work;
    const shape = { ...rest, models: { policy: models.policy.sha256, members: models.members.map((m: ModelRef) => m.sha256), ppm: models.ppm?.sha256 } };
    const stage = crypto.createHash('sha256').update(JSON.stringify({ dir: path.resolve(dir), shape })).digest('hex').slice(0, 16);

    // the plan: evaluation jobs are the chunks a local run evaluates together (same seed, same
    // batch), search jobs `batch` problems in order; a split group is one job per problem
    const groups: Group[] = [];
    if (work.kind === 'eval') {
      const at = evalSeedOffsets(problems.length, workers);
      const by = new Map<string, ShardJob['problems']>();
      problems.forEach((p, g) => {
        const key = `e${at[g]!.shard}-${at[g]!.seedOffset}`;
        if (!by.has(key)) by.set(key, []);
        by.get(key)!.push({ ...p, seedOffset: at[g]!.seedOffset });
      });
      // a (shard, offset) key holds at most EVAL_CHUNK problems by construction
      for (const [key, ps] of by) groups.push({ id: `${stage}.${key}`, problems: ps });
    } else {
      for (let i = 0; i < problems.length; i += this.o.batch) groups.push({ id: `${stage}.s${i / this.o.batch}`, problems: problems.slice(i, i + this.o.batch) });
    }
    const jobsOf = (g: Group): Group[] => {
      const todo = g.problems.filter((p) => !done.has(p.id) && !failed.has(p.id));
      if (!todo.length) return [];
      return split.has(g.id) ? todo.map((p) => ({ id: `${g.id}.p${g.problems.indexOf(p)}`, problems: [p] })) : [{ id: g.id, problems: todo }];
    };
    const pending = new Map<string, Group & { parent: string }>();
    const add = async (js: (Group & { parent: string })[]) => {
      if (!js.length) return;
      for (const j of js) pending.set(j.id, j);
      await this.queue.addBulk(js.map((j) => ({
        name: label,
        data: { stage, label, work: rest, models, problems: j.problems } satisfies QueueJobData,
        opts: { jobId: j.id, attempts: this.o.attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false },
      })));
    };
    await add(groups.flatMap((g) => jobsOf(g).map((j) => ({ ...j, parent: g.id }))));

    const total = problems.length;
    const startDone = problems.filter((p) => done.has(p.id)).length;
    const prog = quiet ? null : new Progress({ label: `${label} [queue ${this.o.name}]`, total, unit: 'problem', start: startDone, everyMs: this.o.statusEveryMs });
    const workersSeen = new Set<string>();
    let duplicates = 0;
    let harvested = 0;
    const t0 = Date.now();

    const harvest = async (job: Job, entry: Group & { parent: string }) => {
      const r = (job.returnvalue as QueueJobResult | null) ?? { lines: [], worker: '?', ms: 0 };
      const fresh = r.lines.filter((l) => !done.has(l.problemId));
      for (const l of fresh) done.add(l.problemId);
      duplicates += r.lines.length - fresh.length;
      // logged, then appended, then removed: a coordinator killed in between harvests the job again
      // (its results once, its log line twice), so every result has its job's log line
      fs.appendFileSync(logFile, JSON.stringify({ job: job.id, worker: r.worker, ms: r.ms, problems: entry.problems.length, duplicates: r.lines.length - fresh.length, attemptsMade: job.attemptsMade, stalled: job.stalledCounter ?? 0 }) + '\n');
      if (fresh.length) fs.appendFileSync(resultsFile, fresh.map((l) => JSON.stringify(l)).join('\n') + '\n');
      workersSeen.add(r.worker);
      harvested++;
      const missing = entry.problems.filter((p) => !done.has(p.id));
      pending.delete(entry.id);
      await job.remove().catch(() => {});
      if (missing.length) await report(missing, entry.id, `the worker returned no line for ${missing.length} problem(s)`, job.attemptsMade);
      prog?.tick(fresh.length);
    };
    const report = async (ps: ShardJob['problems'], jobId: string, reason: string, attempts: number) => {
      for (const p of ps) {
        failed.add(p.id);
        fs.appendFileSync(failedFile, JSON.stringify({ problemId: p.id, job: jobId, reason, attempts }) + '\n');
        console.error(`${label}: problem ${p.id} failed ${attempts} time(s) (${reason}); reported in ${failedFile}, left out of the results`);
      }
    };
    const fail = async (job: Job, entry: Group & { parent: string }) => {
      pending.delete(entry.id);
      await job.remove().catch(() => {});
      const reason = (job.failedReason || 'no reason given').split('\n')[0]!;
      if (entry.problems.length > 1) {
        // one bad problem must not take its batch down: one job per problem from here on
        split.add(entry.parent);
        writeJsonAtomic(splitFile, [...split]);
        if (!quiet) console.error(`${label}: job ${entry.id} failed ${job.attemptsMade} time(s) (${reason}); its ${entry.problems.length} problems go one per job`);
        await add(entry.problems.map((p) => ({ id: `${entry.parent}.p${groups.find((g) => g.id === entry.parent)!.problems.findIndex((q) => q.id === p.id)}`, problems: [p], parent: entry.parent })));
      } else await report(entry.problems, entry.id, reason, job.attemptsMade);
    };

    // completions arrive as events; a sweep over every pending job catches what happened while no
    // one listened (a restarted coordinator) and anything an event missed
    const dirty = new Set<string>();
    let wake: (() => void) | null = null;
    const onEvent = ({ jobId }: { jobId: string }) => {
      if (pending.has(jobId)) {
        dirty.add(jobId);
        wake?.();
      }
    };
    this.events.on('completed', onEvent);
    this.events.on('failed', onEvent);
    const check = async (id: string) => {
      const entry = pending.get(id);
      if (!entry) return;
      // the state first, then the job: a job read before its final attempt failed would report a stale
      // attemptsMade (a retry can fail between two reads)
      const state = await this.queue.getJobState(id);
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      const job = await Job.fromId(this.queue, id);
      if (!job) {
        // gone without a result (removed by hand, Redis flushed): queue it again
        pending.delete(id);
        await add([entry]);
        return;
      }
      if (state === 'completed') await harvest(job, entry);
      else if (state === 'failed') await fail(job, entry);
    };
    let lastSweep = 0;
    let lastStatus = Date.now();
    try {
      while (pending.size) {
        const sweep = Date.now() - lastSweep > 2000;
        const ids = sweep ? [...pending.keys()] : [...dirty];
        dirty.clear();
        if (sweep) lastSweep = Date.now();
        for (let i = 0; i < ids.length; i += 64) await Promise.all(ids.slice(i, i + 64).map(check));
        if (!pending.size) break;
        // the queue's state rides on the progress line, refreshed as often as it is printed
        if (prog && Date.now() - lastStatus > this.o.statusEveryMs / 2) {
          lastStatus = Date.now();
          prog.tick(0, await this.state(workersSeen, harvested, failed.size));
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 500);
          wake = () => { clearTimeout(t); resolve(); };
          if (dirty.size) wake();
        });
        wake = null;
      }
    } finally {
      this.events.off('completed', onEvent);
      this.events.off('failed', onEvent);
    }
    prog?.finish(await this.state(workersSeen, harvested, failed.size));
    if (!quiet) {
      const s = (Date.now() - t0) / 1000;
      const n = problems.filter((p) => done.has(p.id)).length - startDone;
      console.error(`${label}: ${n} problems by ${workersSeen.size} worker(s) in ${s.toFixed(1)} s (${(n / Math.max(s, 1e-3)).toFixed(2)} problems/s)${duplicates ? `, ${duplicates} duplicate result(s) merged once` : ''}${failed.size ? `, ${failed.size} failed (${failedFile})` : ''}`);
    }
    return [...prior, resultsFile];
  }

  /** The queue's state for the progress line: jobs waiting and running (the whole queue), this stage's jobs done and problems failed, workers. */
  private async state(seen: Set<string>, done: number, failed: number): Promise<string> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed');
    const connected = await this.queue.getWorkersCount().catch(() => -1);
    return `jobs waiting ${c.waiting! + c.delayed!}, active ${c.active}, done ${done}; problems failed ${failed}; workers ${connected >= 0 ? `${connected} connected, ` : ''}${seen.size} seen`;
  }
}
