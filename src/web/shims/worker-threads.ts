// node:worker_threads in the browser bundles (build.ts): no Node worker here, so the Node worker entry
// at the bottom of src/sandbox/worker.ts does not start; the browser's own entry is sandbox-worker.ts.
export const isMainThread = true;
export const parentPort = null;
export const workerData = null;
export class Worker {
  constructor() {
    throw new Error('node:worker_threads Worker is not available in the browser');
  }
}
export default { isMainThread, parentPort, workerData, Worker };
