// Optional native BLAS for the wasm backend's matrix products: native/ is a small N-API addon
// around OpenBLAS's cblas_sgemm (build: scripts in native/README.md). The wasm heap is a plain
// ArrayBuffer, so the addon multiplies tensors where they lie, transposes included (the wasm
// path has to copy transposed operands and repack B on every call). Missing or broken addon:
// blas() is null and the wasm kernels run as before.
//   RSTAR_BLAS=0            never load it
//   RSTAR_BLAS_THREADS=n    OpenBLAS threads (default 1: data-parallel training runs one
//                           process per core, and two threads per process would oversubscribe)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BlasAddon {
  /** For each of `batch` slices i: C_i = op(A_i)·op(B_i) + beta·C_i, operands at element offsets
   *  offX + i·strideX of `heap` (stride 0 broadcasts); offBias >= 0 first fills every row of C_i
   *  with heap[offBias .. offBias+N) and accumulates onto it. Throws on out-of-range operands. */
  gemm(
    heap: Float32Array, transA: number, transB: number, M: number, N: number, K: number,
    offA: number, lda: number, offB: number, ldb: number, offC: number, ldc: number, beta: number,
    batch: number, strideA: number, strideB: number, strideC: number, offBias: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** OpenBLAS build string (version, target core). */
  config(): string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where node-gyp puts the addon (native/build/Release). */
export const ADDON_PATH = path.resolve(here, '../../../native/build/Release/rstar_blas.node');

let addon: BlasAddon | null | undefined;
let failure = '';
let enabled = true;

/** The loaded addon, or null (not built, failed to load, or RSTAR_BLAS=0); loads once. */
export function loadBlas(): BlasAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.RSTAR_BLAS === '0') {
    failure = 'disabled by RSTAR_BLAS=0';
    return null;
  }
  try {
    const mod = createRequire(import.meta.url)(ADDON_PATH) as BlasAddon;
    const threads = Number(process.env.RSTAR_BLAS_THREADS ?? '1');
    mod.setThreads(Number.isInteger(threads) && threads > 0 ? threads : 1);
    addon = mod;
  } catch (e) {
    failure = `native BLAS addon not loaded (${ADDON_PATH}): ${String((e as Error).message ?? e).split('\n')[0]}`;
  }
  return addon;
}

/** The addon when loaded and enabled: what the kernels consult on every call. */
export function blas(): BlasAddon | null {
  return enabled ? loadBlas() : null;
}

/** Switch the BLAS path off/on at run time (A/B benches and tests); returns the previous setting. */
export function setBlasEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** One line for logs and bench output. */
export function blasStatus(): string {
  const a = loadBlas();
  if (!a) return failure;
  return `OpenBLAS ${a.config().trim()}, ${a.getThreads()} thread(s)${enabled ? '' : ' (disabled)'}`;
}
