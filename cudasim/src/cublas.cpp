// cuBLAS's float32 GEMM from its documented semantics (column-major storage):
//
//   C = alpha * op(A) * op(B) + beta * C,   op(A) m x k, op(B) k x n, C m x n,
//   element (i, j) of a matrix X with leading dimension ldx at X[i + j * ldx].
//
// The arguments are checked as cuBLAS checks them (a leading dimension shorter than the
// rows it must hold is CUBLAS_STATUS_INVALID_VALUE). When the work runs, each matrix's
// extent must lie in one device allocation, or the work faults as a GPU read outside an
// allocation would. Each element is a float32 fused multiply-add chain over k; with TF32
// allowed (CUBLAS_COMPUTE_32F_FAST_TF32, or CUBLAS_COMPUTE_32F on a handle in
// CUBLAS_TF32_TENSOR_OP_MATH) the inputs are first rounded to TF32, as tensor cores do.
// With beta == 0, C is not read (a NaN there does not propagate).
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "internal.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

using namespace cudasim::detail;  // NOLINT: this file implements part of the simulator

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    return CUBLAS_STATUS_NOT_INITIALIZED;
  }
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode < CUBLAS_DEFAULT_MATH || mode > CUBLAS_TF32_TENSOR_OP_MATH)
    return CUBLAS_STATUS_INVALID_VALUE;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetProperty(libraryPropertyType type, int* value) {
  if (!value) return CUBLAS_STATUS_INVALID_VALUE;
  *value = type == MAJOR_VERSION   ? CUBLAS_VER_MAJOR
           : type == MINOR_VERSION ? CUBLAS_VER_MINOR
                                   : CUBLAS_VER_PATCH;
  return CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusName(cublasStatus_t s) {
  static const Named<cublasStatus_t> kTable[] = {
      CUDASIM_NAMED(CUBLAS_STATUS_SUCCESS), CUDASIM_NAMED(CUBLAS_STATUS_NOT_INITIALIZED),
      CUDASIM_NAMED(CUBLAS_STATUS_INVALID_VALUE), CUDASIM_NAMED(CUBLAS_STATUS_NOT_SUPPORTED),
      CUDASIM_NAMED(CUBLAS_STATUS_EXECUTION_FAILED)};
  return text_of(s, kTable, "CUBLAS_STATUS_INTERNAL_ERROR");
}

namespace {

// One column-major operand as the work reads it.
struct Operand {
  const float* p;
  int ld;
  bool trans;
  int rows, cols;                 // of the stored matrix
  float at(int i, int j) const {  // element (i, j) of op(X)
    return trans ? p[j + static_cast<size_t>(i) * ld] : p[i + static_cast<size_t>(j) * ld];
  }
  size_t bytes() const {
    return rows == 0 || cols == 0 ? 0 : (static_cast<size_t>(cols - 1) * ld + rows) * sizeof(float);
  }
};

cublasStatus_t gemm_f32(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                        int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                        const float* beta, float* C, int ldc, bool tf32, const char* name) {
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (ta > CUBLAS_OP_C || tb > CUBLAS_OP_C || m < 0 || n < 0 || k < 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool at = ta != CUBLAS_OP_N, bt = tb != CUBLAS_OP_N;  // C == T for real matrices
  if (lda < std::max(1, at ? k : m) || ldb < std::max(1, bt ? n : k) || ldc < std::max(1, m)) {
    explain(std::string(name) + ": a leading dimension is shorter than its matrix's rows (lda " +
            std::to_string(lda) + ", ldb " + std::to_string(ldb) + ", ldc " + std::to_string(ldc) +
            " for m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " +
            std::to_string(k) + ")");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  const Operand a{A, lda, at, at ? k : m, at ? m : k};
  const Operand b{B, ldb, bt, bt ? n : k, bt ? k : n};
  const float al = *alpha, be = *beta;  // host scalars: read now
  const std::string label = name;
  auto work = [=] {
    const Operand c_shape{C, ldc, false, m, n};
    if (!readable_extent(A, a.bytes(), label + " A") ||
        !readable_extent(B, b.bytes(), label + " B") ||
        !readable_extent(C, c_shape.bytes(), label + " C"))
      return;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        float acc = 0.f;
        for (int p = 0; p < k; ++p) {
          float x = a.at(i, p), y = b.at(p, j);
          if (tf32) x = round_tf32(x), y = round_tf32(y);
          acc = std::fma(x, y, acc);
        }
        float& out = C[i + static_cast<size_t>(j) * ldc];
        out = be == 0.f ? al * acc : al * acc + be * out;
      }
  };
  if (enqueue(h->stream, label, work) != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa,
                            cublasOperation_t transb, int m, int n, int k, const void* alpha,
                            const void* A, cudaDataType Atype, int lda, const void* B,
                            cudaDataType Btype, int ldb, const void* beta, void* C,
                            cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                            cublasGemmAlgo_t) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (Atype != CUDA_R_32F || Btype != CUDA_R_32F || Ctype != CUDA_R_32F) {
    explain("cublasGemmEx: only float32 matrices (CUDA_R_32F) are simulated");
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  bool tf32 = false;
  switch (computeType) {
    case CUBLAS_COMPUTE_32F:
      tf32 = handle->math == CUBLAS_TF32_TENSOR_OP_MATH;
      break;
    case CUBLAS_COMPUTE_32F_PEDANTIC:
      break;
    case CUBLAS_COMPUTE_32F_FAST_TF32:
      tf32 = true;
      break;
    default:
      explain("cublasGemmEx: only the float32 compute types are simulated");
      return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  return gemm_f32(handle, transa, transb, m, n, k, static_cast<const float*>(alpha),
                  static_cast<const float*>(A), lda, static_cast<const float*>(B), ldb,
                  static_cast<const float*>(beta), static_cast<float*>(C), ldc, tf32,
                  "cublasGemmEx");
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  return gemm_f32(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                  handle->math == CUBLAS_TF32_TENSOR_OP_MATH, "cublasSgemm");
}
