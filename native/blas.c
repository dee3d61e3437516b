// N-API addon: single-precision GEMM through OpenBLAS's CBLAS on a Float32Array, typically a
// view of the whole tfjs wasm heap, so products read and write tensors in place (no copies).
// Used by src/model/blas.ts; optional: everything falls back to the wasm kernels without it.
#include <cblas.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>

// OpenBLAS extensions (declared in its cblas.h on Debian, repeated to not depend on that).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "rstar_blas: N-API call failed");   \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// Last element index (exclusive) an operand of `rows` x `cols` (leading dim ld) spans, over
// `batch` slices `stride` apart; -1 on nonsense arguments.
static int64_t span(int64_t off, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  if (off < 0 || rows < 0 || cols < 0 || ld < cols || batch < 1 || stride < 0) return -1;
  if (rows == 0 || cols == 0) return off;
  return off + (batch - 1) * stride + (rows - 1) * ld + cols;
}

// gemm(heap, transA, transB, M, N, K, offA, lda, offB, ldb, offC, ldc, beta,
//      batch, strideA, strideB, strideC, offBias)
// For each of `batch` slices i: C_i = op(A_i) · op(B_i) + beta · C_i, where X_i starts at
// offX + i * strideX elements of heap (stride 0 broadcasts one matrix). With offBias >= 0,
// every row of C_i is first set to heap[offBias .. offBias + N) and beta is taken as 1.
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 18) {
    napi_throw_type_error(env, NULL, "rstar_blas.gemm: expected 18 arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buf;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buf, &byte_offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "rstar_blas.gemm: heap must be a Float32Array");
    return NULL;
  }
  int64_t v[17];
  for (int i = 0; i < 17; i++) {
    if (i == 11) continue;  // beta is a double
    if (!get_i64(env, argv[i + 1], &v[i])) {
      napi_throw_type_error(env, NULL, "rstar_blas.gemm: integer argument expected");
      return NULL;
    }
  }
  double beta_d;
  if (napi_get_value_double(env, argv[12], &beta_d) != napi_ok) {
    napi_throw_type_error(env, NULL, "rstar_blas.gemm: beta must be a number");
    return NULL;
  }
  const int ta = v[0] != 0, tb = v[1] != 0;
  const int64_t M = v[2], N = v[3], K = v[4];
  const int64_t offA = v[5], lda = v[6], offB = v[7], ldb = v[8], offC = v[9], ldc = v[10];
  const int64_t batch = v[12], sA = v[13], sB = v[14], sC = v[15], offBias = v[16];
  const int64_t n = (int64_t)length;
  // Bounds: every element any slice touches must lie inside the heap view.
  int64_t ea = ta ? span(offA, K, M, lda, batch, sA) : span(offA, M, K, lda, batch, sA);
  int64_t eb = tb ? span(offB, N, K, ldb, batch, sB) : span(offB, K, N, ldb, batch, sB);
  int64_t ec = span(offC, M, N, ldc, batch, sC);
  if (M < 0 || N < 0 || K < 0 || ea < 0 || eb < 0 || ec < 0 || ea > n || eb > n || ec > n ||
      (offBias >= 0 && offBias + N > n) || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX ||
      lda > INT32_MAX || ldb > INT32_MAX || ldc > INT32_MAX) {
    napi_throw_range_error(env, NULL, "rstar_blas.gemm: operand outside the heap or bad shape");
    return NULL;
  }
  float *heap = (float *)data;
  float beta = (float)beta_d;
  for (int64_t i = 0; i < batch; i++) {
    float *c = heap + offC + i * sC;
    if (offBias >= 0) {
      const float *bias = heap + offBias;
      for (int64_t r = 0; r < M; r++) memcpy(c + r * ldc, bias, (size_t)N * sizeof(float));
      beta = 1.0f;
    }
    if (M == 0 || N == 0) continue;
    if (K == 0) {
      if (offBias < 0) for (int64_t r = 0; r < M; r++) for (int64_t j = 0; j < N; j++) c[r * ldc + j] *= beta;
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, 1.0f, heap + offA + i * sA, (int)lda, heap + offB + i * sB, (int)ldb, beta, c, (int)ldc);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t t;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &t) != napi_ok || t < 1) {
    napi_throw_type_error(env, NULL, "rstar_blas.setThreads: positive integer expected");
    return NULL;
  }
  openblas_set_num_threads(t);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &r));
  return r;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  const char *c = openblas_get_config();
  CHECK(napi_create_string_utf8(env, c ? c : "", NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, get_config, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
