// Reductions over the middle of an [outer, d, inner] view. Three shapes of work:
//  - one output (a full sum, a loss-style mean): a two-pass grid reduction;
//  - few outputs, long rows: one block per output, the block striding over d;
//  - many outputs: one thread per output walking d (consecutive threads read consecutive
//    i, so the reads coalesce when inner is large).
// All read x once (4 bytes per element): predicted bandwidth bound.
#include "cuda/device_buffer.h"
#include "cuda/kernel_util.cuh"
#include "cuda/reduce.h"

namespace maskoff::cuda {

namespace {

__global__ void sum_rows_per_thread_kernel(const float* __restrict__ x, float* __restrict__ y,
                                           int64_t outer, int64_t d, int64_t inner, double alpha) {
  MASKOFF_GRID_LOOP(idx, outer * inner) {
    const int64_t o = idx / inner, i = idx % inner;
    const float* p = x + o * d * inner + i;
    double acc = 0;
    for (int64_t k = 0; k < d; ++k) acc += p[k * inner];
    y[idx] = static_cast<float>(alpha * acc);
  }
}

__global__ void sum_rows_per_block_kernel(const float* __restrict__ x, float* __restrict__ y,
                                          int64_t d, int64_t inner, double alpha) {
  const int64_t idx = blockIdx.x, o = idx / inner, i = idx % inner;
  const float* p = x + o * d * inner + i;
  double acc = 0;
  for (int64_t k = threadIdx.x; k < d; k += blockDim.x) acc += p[k * inner];
  acc = block_sum(acc);
  if (threadIdx.x == 0) y[idx] = static_cast<float>(alpha * acc);
}

struct AllTerm {
  const float* x;
  __device__ Sum2 operator()(int64_t i) const { return {static_cast<double>(x[i]), 0.0}; }
};
struct AllFinish {
  float* y;
  double alpha;
  __device__ void operator()(double a, double) const { y[0] = static_cast<float>(alpha * a); }
};

// A float is NaN or infinite exactly when its exponent bits are all ones.
struct NonFiniteTerm {
  const float* x;
  __device__ Sum2 operator()(int64_t i) const {
    return {(__float_as_int(x[i]) & 0x7f800000) == 0x7f800000 ? 1.0 : 0.0, 0.0};
  }
};
struct CountFinish {
  double* count;
  __device__ void operator()(double a, double) const { count[0] = a; }
};

__global__ void expand_kernel(const float* __restrict__ gy, float* __restrict__ gx, int64_t outer,
                              int64_t d, int64_t inner, float alpha) {
  MASKOFF_GRID_LOOP(idx, outer * d * inner) {
    const int64_t i = idx % inner, o = idx / (d * inner);
    gx[idx] = alpha * gy[o * inner + i];
  }
}

}  // namespace

void sum_middle(const float* x, float* y, int64_t outer, int64_t d, int64_t inner, double alpha) {
  const int64_t outputs = outer * inner;
  if (outputs <= 0) return;
  if (outputs == 1) {
    DeviceBuffer scratch(static_cast<size_t>(reduce_blocks(d)) * sizeof(Sum2));
    sum_terms(d, AllTerm{x}, AllFinish{y, alpha}, scratch.as<Sum2>());
  } else if (outputs < 1024 && d >= 4096) {
    MASKOFF_LAUNCH(sum_rows_per_block_kernel, static_cast<unsigned>(outputs), kThreads, 0, x, y, d,
                   inner, alpha);
  } else {
    MASKOFF_LAUNCH(sum_rows_per_thread_kernel, grid_for(outputs), kThreads, 0, x, y, outer, d,
                   inner, alpha);
  }
}

void count_nonfinite(const float* x, int64_t n, double* count) {
  DeviceBuffer scratch(static_cast<size_t>(reduce_blocks(n)) * sizeof(Sum2));
  sum_terms(n, NonFiniteTerm{x}, CountFinish{count}, scratch.as<Sum2>());
}

void expand_middle(const float* gy, float* gx, int64_t outer, int64_t d, int64_t inner,
                   float alpha) {
  const int64_t total = outer * d * inner;
  if (total <= 0) return;
  MASKOFF_LAUNCH(expand_kernel, grid_for(total), kThreads, 0, gy, gx, outer, d, inner, alpha);
}

}  // namespace maskoff::cuda
