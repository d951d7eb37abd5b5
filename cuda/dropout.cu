// Dropout mask kernel. Per element: one counter-based hash (two splitmix64 rounds, ~10
// 64-bit multiplies) and 8 bytes of traffic; predicted to stay memory bound on an H100
// until cuda_ops_bench's Dropout measures it.
#include "cuda/dropout.h"
#include "cuda/kernel_util.cuh"
#include "layers/cpu/dropout.h"

namespace maskoff::cuda {

namespace {
__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n,
                               uint64_t seed, uint64_t base, float p, float scale) {
  MASKOFF_GRID_LOOP(i, n) {
    y[i] = cpu::dropout_keep(seed, base + static_cast<uint64_t>(i), p) ? x[i] * scale : 0.f;
  }
}
}  // namespace

void dropout_mask(const float* x, float* y, int64_t n, uint64_t seed, uint64_t base, float p,
                  float scale) {
  if (n <= 0) return;
  MASKOFF_LAUNCH(dropout_kernel, grid_for(n), kThreads, 0, x, y, n, seed, base, p, scale);
}

}  // namespace maskoff::cuda
