// cuBLAS GEMM for row-major operands. cuBLAS is column-major, and a row-major matrix read
// as column-major is its transpose, so the row-major product C = op(A) op(B) is computed as
// the column-major product C^T = op(B)^T op(A)^T: swap the operands, keep each one's
// transpose flag, and the result lands in C's row-major layout with no copies.
//
// Precision: compute type CUBLAS_COMPUTE_32F is strict float32 (no tensor-core rounding of
// the inputs); CUBLAS_COMPUTE_32F_FAST_TF32 only when backend::set_tf32(true).
#include "cuda/blas.h"

#include <climits>

#include "cuda/check.h"
#include "cuda/context.h"

namespace maskoff::cuda {

void gemm(const float* a, bool trans_a, const float* b, bool trans_b, float* c, int64_t m,
          int64_t k, int64_t n) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty inner product is zero
    MASKOFF_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<size_t>(m * n) * sizeof(float), stream()));
    return;
  }
  MASKOFF_CHECK(m <= INT_MAX && k <= INT_MAX && n <= INT_MAX,
                "gemm: sizes " << m << " x " << k << " x " << n << " exceed cuBLAS's int range");
  const float one = 1.f, zero = 0.f;
  const int im = static_cast<int>(m), ik = static_cast<int>(k), in = static_cast<int>(n);
  // Column-major views: B^T is [n, k] with leading dimension n (or k when b is stored
  // [n, k]); A^T is [k, m] with leading dimension k (or m when a is stored [k, m]).
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldb = trans_b ? ik : in;
  const int lda = trans_a ? im : ik;
  const cublasComputeType_t compute = tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  MASKOFF_CUBLAS_CHECK(cublasGemmEx(cublas(), op_b, op_a, in, im, ik, &one, b, CUDA_R_32F, ldb, a,
                                    CUDA_R_32F, lda, &zero, c, CUDA_R_32F, in, compute,
                                    CUBLAS_GEMM_DEFAULT));
}

}  // namespace maskoff::cuda
