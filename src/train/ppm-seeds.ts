// Several PPM trainings at once, one worker thread per core. trainPPM runs on one thread (the PPM's
// pair loss has no data-parallel path), so a round's seeds trained one after another leave the other
// core idle; here each seed is one trainPPM call in its own thread, with the same inputs and hence
// the same weights as when run alone.
//
// This one file is also the worker's entry point (see the bottom).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, type BackendName } from '../model/backends/backend.ts';
import { tsWorker } from '../util/worker.ts';
import type { PreferencePair } from './pairs.ts';
import { trainPPM, type TrainPPMOptions, type TrainPPMResult } from './ppm.ts';

/** Train one PPM per options object, at most `parallel` at a time (default 2: both cores), each in a
 *  worker thread on this thread's backend; results in the order of `jobs`. parallel 1 trains them
 *  here, one after another. */
export async function trainPPMs(train: PreferencePair[], dev: PreferencePair[], jobs: TrainPPMOptions[], o: { parallel?: number; backend?: BackendName } = {}): Promise<TrainPPMResult[]> {
  const parallel = Math.max(1, Math.min(o.parallel ?? 2, jobs.length));
  if (parallel === 1) {
    const out: TrainPPMResult[] = [];
    for (const j of jobs) out.push(await trainPPM(train, dev, j));
    return out;
  }
  const backend = o.backend ?? ((tf.getBackend() as BackendName | undefined) ?? 'auto');
  const results: TrainPPMResult[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      try {
        results[i] = await inWorker(train, dev, jobs[i]!, backend);
      } catch (e) {
        next = jobs.length; // no new training starts once one has failed
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return results;
}

function inWorker(train: PreferencePair[], dev: PreferencePair[], job: TrainPPMOptions, backend: BackendName): Promise<TrainPPMResult> {
  return new Promise((resolve, reject) => {
    // the worker runs this same file
    const w = tsWorker(import.meta.url, { rstarPPMSeed: true, backend, train, dev, job });
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void w.terminate();
    };
    w.on('message', (m: { type: string; result?: TrainPPMResult; error?: string }) => {
      if (m.type === 'done') done(() => resolve(m.result!));
      else if (m.type === 'error') done(() => reject(new Error(`PPM training (${job.out}): ${m.error}`)));
    });
    w.once('error', (e) => done(() => reject(e)));
    w.once('exit', (code) => done(() => reject(new Error(`PPM training (${job.out}): worker exited with code ${code}`))));
  });
}

// ---- worker side ---------------------------------------------------------------------------

async function workerMain(data: { backend: BackendName; train: PreferencePair[]; dev: PreferencePair[]; job: TrainPPMOptions }) {
  const port = parentPort!;
  try {
    await setupBackend(data.backend);
    const result = await trainPPM(data.train, data.dev, data.job);
    port.postMessage({ type: 'done', result });
  } catch (e) {
    port.postMessage({ type: 'error', error: String((e as Error).stack ?? e) });
  }
}

if (!isMainThread && (workerData as { rstarPPMSeed?: boolean } | null)?.rstarPPMSeed) {
  void workerMain(workerData);
}
