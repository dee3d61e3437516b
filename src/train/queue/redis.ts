// The Redis side of distributed search: the --queue URL, the job and result shapes coordinator and
// worker agree on, and the model store (checkpoints content-addressed by sha256).
//
// Model store: a checkpoint folder is named by the sha256 of its files (names and bytes). Up to
// `inlineBytes` (default 128 MiB; the default preset's policy is 4.4 MB) its files travel as
// base64 strings in Redis (`<prefix>:model:<sha>:<file>`, then the manifest `<prefix>:model:<sha>`,
// written last so a present manifest means a complete model; both expire after 7 days). A worker
// writes them once into its cache folder (temp + rename) and checks the hash. Larger folders travel
// by path only: the manifest names the coordinator's folder, which workers must reach at the same
// path (a shared directory), and they check the same hash before loading it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { EvalLine, SearchLine, ShardJob, ShardWork } from '../shards.ts';

export const DEFAULT_QUEUE_NAME = 'rstar-search';
const PREFIX = 'rstar';
const MODEL_TTL_S = 7 * 24 * 3600;

/** `redis://[user:password@]host:port[/db]` (rediss:// for TLS) → BullMQ connection options. */
export function parseQueueUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: expected redis://HOST:PORT[/DB], got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: expected redis://HOST:PORT[/DB], got ${JSON.stringify(url)}`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error(`--queue: the database after the port must be a number, got ${JSON.stringify(db)} in ${url}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // a worker's blocking connection needs it; no command should fail for a reconnect either
    maxRetriesPerRequest: null,
  };
}

/** A Queue handle whose first command has answered, or one clear error line within `timeoutMs`. */
export async function openQueue(url: string, name: string, timeoutMs = 5000): Promise<Queue> {
  const queue = new Queue(name, { connection: parseQueueUrl(url) });
  let lastError = '';
  queue.on('error', (e: Error) => { lastError = e.message; });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      queue.waitUntilReady().then(() => queue.getJobCounts('waiting')),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${url}: no answer from Redis within ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ''}`)), timeoutMs); }),
    ]);
  } catch (e) {
    await queue.close().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return queue;
}

/** A model as a job names it: the hash of its files, and where the coordinator has it (logs, shared-directory mode). */
export interface ModelRef {
  sha256: string;
  path: string;
  /** An `hf:` folder (a Hugging Face checkpoint) rather than one of our checkpoints. */
  hf?: boolean;
}

/** One queue job: some problems of one stage, and everything a worker needs to run them. */
export interface QueueJobData {
  /** The stage's id (hash of its folder and work): job ids start with it. */
  stage: string;
  label: string;
  work: Omit<ShardWork, 'policy' | 'members' | 'ppm'>;
  models: { policy: ModelRef; members: ModelRef[]; ppm?: ModelRef };
  problems: ShardJob['problems'];
}

export interface QueueJobResult {
  lines: (SearchLine | EvalLine)[];
  /** Which worker ran it (host:pid). */
  worker: string;
  ms: number;
}

/** Files of a model folder that make the model (training state is left out). */
function modelFiles(dir: string): string[] {
  const skip = new Set(['optimizer.bin', 'optimizer.json', 'optimizer-step.json', 'loop-state.json']);
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && !skip.has(e.name) && !e.name.includes('.tmp-')).map((e) => e.name).sort();
}

/** sha256 over the folder's model files, names and bytes. */
export function hashModelDir(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of modelFiles(dir)) {
    const b = fs.readFileSync(path.join(dir, f));
    h.update(`${f}\u0000${b.length}\u0000`);
    h.update(b);
  }
  return h.digest('hex');
}

interface Manifest {
  files: { name: string; bytes: number }[];
  path: string;
  inline: boolean;
}

const modelKey = (sha: string) => `${PREFIX}:model:${sha}`;

/** Publish a model folder (or `hf:<folder>`) to the store; the ref names it by hash. */
export async function publishModel(queue: Queue, spec: string, inlineBytes: number): Promise<ModelRef> {
  const hf = spec.startsWith('hf:');
  const dir = path.resolve(hf ? spec.slice(3) : spec);
  if (!fs.existsSync(dir)) throw new Error(`${dir}: model folder not found`);
  const sha256 = hashModelDir(dir);
  const client = await queue.getBackend().client;
  const ref = { sha256, path: dir, ...(hf ? { hf } : {}) };
  if (await client.get(modelKey(sha256))) return ref;
  const files = modelFiles(dir).map((name) => ({ name, bytes: fs.statSync(path.join(dir, name)).size }));
  const inline = files.reduce((a, f) => a + f.bytes, 0) <= inlineBytes;
  if (inline) for (const f of files) await client.set(`${modelKey(sha256)}:${f.name}`, fs.readFileSync(path.join(dir, f.name)).toString('base64'), { EX: MODEL_TTL_S });
  await client.set(modelKey(sha256), JSON.stringify({ files, path: dir, inline } satisfies Manifest), { EX: MODEL_TTL_S });
  return ref;
}

/** A local folder holding the model `ref` names, fetched into `cache` once; its hash is checked. */
export async function fetchModel(queue: Queue, ref: ModelRef, cache: string): Promise<string> {
  const spec = (dir: string) => (ref.hf ? `hf:${dir}` : dir);
  const dir = path.join(cache, ref.sha256);
  if (fs.existsSync(dir)) return spec(dir);
  const client = await queue.getBackend().client;
  const raw = await client.get(modelKey(ref.sha256));
  if (!raw) throw new Error(`model ${ref.sha256.slice(0, 12)} (coordinator's ${ref.path}): not in the Redis store (expired or flushed); restart the coordinator to publish it again`);
  const m = JSON.parse(raw) as Manifest;
  if (!m.inline) {
    // shared-directory mode: the coordinator's folder, reached at the same path
    if (!fs.existsSync(m.path)) throw new Error(`model ${ref.sha256.slice(0, 12)}: too large for the Redis store and ${m.path} is not reachable from this worker (mount the coordinator's run folder at the same path)`);
    const got = hashModelDir(m.path);
    if (got !== ref.sha256) throw new Error(`${m.path}: files hash to ${got.slice(0, 12)}, the job expects ${ref.sha256.slice(0, 12)} (changed since the job was queued)`);
    return spec(m.path);
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of m.files) {
    const b64 = await client.get(`${modelKey(ref.sha256)}:${f.name}`);
    if (b64 === null) throw new Error(`model ${ref.sha256.slice(0, 12)}: file ${f.name} missing from the Redis store`);
    fs.writeFileSync(path.join(tmp, f.name), Buffer.from(b64, 'base64'));
  }
  const got = hashModelDir(tmp);
  if (got !== ref.sha256) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`model ${ref.sha256.slice(0, 12)}: fetched files hash to ${got.slice(0, 12)}`);
  }
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    // another worker on this machine fetched it first
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw e;
  }
  return spec(dir);
}
