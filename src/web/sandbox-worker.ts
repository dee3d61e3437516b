// The page's sandbox: a Web Worker running the CLI's own Evaluator (src/sandbox/worker.ts) on QuickJS
// compiled to wasm. One evaluation at a time, each answered as soon as it is done, so the page can
// tell which one is stuck (web-sandbox.ts terminates a worker that stops answering).
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant } from 'quickjs-emscripten-core';
import variantModule from '@jitl/quickjs-wasmfile-release-sync';
import { Evaluator } from '../sandbox/worker.ts';
import type { FromSandboxWorker, ToSandboxWorker } from './sandbox-protocol.ts';

// the package's typings are CommonJS, which NodeNext mistypes as a module object; bundled, it is the variant
const variant = variantModule as unknown as QuickJSSyncVariant;
const scope = self as unknown as { postMessage(m: FromSandboxWorker): void; onmessage: ((e: MessageEvent<ToSandboxWorker>) => void) | null; close(): void };
let evaluator: Evaluator | null = null;
const pending: ToSandboxWorker[] = [];

async function init(msg: Extract<ToSandboxWorker, { type: 'init' }>): Promise<void> {
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmLocation: msg.wasm }));
  const ev = new Evaluator(module, msg.limits);
  // the same warm-up as the Node worker: cold wasm paths and the prelude realm, outside any deadline
  ev.run(['const a = [1, 2.5];', 'print(a, {b: a}, 0.1 + 0.2)']);
  ev.run(['throw new Error("warm-up")']);
  ev.run(['const e = P("n0*x**2 - 3", { n0: 2 });', 'print(e, Q(-4, 6), fmt(gcd(12, 18)));']);
  evaluator = ev;
  scope.postMessage({ type: 'ready' });
  for (const m of pending.splice(0)) handle(m);
}

function handle(msg: ToSandboxWorker): void {
  if (msg.type === 'init') {
    init(msg).catch((e: unknown) => scope.postMessage({ type: 'error', message: `sandbox worker failed to start: ${e instanceof Error ? e.message : String(e)}` }));
    return;
  }
  if (!evaluator) {
    pending.push(msg);
    return;
  }
  const result = evaluator.run(msg.steps);
  scope.postMessage({ type: 'result', id: msg.id, result });
  if (evaluator.broken) {
    scope.postMessage({ type: 'broken' });
    scope.close();
  }
}

scope.onmessage = (e) => handle(e.data);
