// One search shard process (started by shards.ts runSharded): `node --import tsx shard-main.ts JOB BACKEND`.
// Its own entry point, so the way from a round's plan to searchMany runs through library code only.
import { setupBackend, type BackendName } from '../model/backends/backend.ts';
import { runSearchShard } from './shards.ts';

const [job, backend = 'auto'] = process.argv.slice(2);
if (!job) {
  console.error('usage: shard-main.ts JOB.json [BACKEND]');
  process.exit(2);
}
// started by runSharded: exit with it (a SIGKILLed run would otherwise leave shards appending to
// the files its rerun resumes); unref so that the channel does not keep a finished shard alive
process.on('disconnect', () => process.exit(1));
process.channel?.unref();
await setupBackend(backend as BackendName);
await runSearchShard(job);
