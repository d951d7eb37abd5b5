// Device-side helpers shared by the kernels: grid-stride loops, warp and block sums in
// double, and a deterministic two-pass sum of n terms. Included by .cu files only.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/launch.h"

namespace maskoff::cuda {

// for (i = first; i < n; i += stride) over the whole grid.
#define MASKOFF_GRID_LOOP(i, n)                                                          \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

__device__ __forceinline__ double warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024), returned to every
// thread. The order of additions is fixed, so the result is reproducible run to run.
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double partial[32];
  __shared__ double total;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = static_cast<int>(blockDim.x >> 5);
    double s = lane < warps ? partial[lane] : 0.0;
    s = warp_sum(s);
    if (lane == 0) total = s;
  }
  __syncthreads();
  const double r = total;
  __syncthreads();  // the shared slots may be reused by a following call
  return r;
}

// Two sums at once (e.g. a loss and its normalising weight).
struct Sum2 {
  double a = 0, b = 0;
};

namespace detail {
template <class Term>
__global__ void partial_sums_kernel(int64_t n, Term term, Sum2* partial) {
  Sum2 s;
  MASKOFF_GRID_LOOP(i, n) {
    const Sum2 t = term(i);
    s.a += t.a;
    s.b += t.b;
  }
  const double a = block_sum(s.a);
  const double b = block_sum(s.b);
  if (threadIdx.x == 0) partial[blockIdx.x] = Sum2{a, b};
}

template <class Finish>
__global__ void finish_sums_kernel(const Sum2* partial, int count, Finish finish) {
  double a = 0, b = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    a += partial[i].a;
    b += partial[i].b;
  }
  a = block_sum(a);
  b = block_sum(b);
  if (threadIdx.x == 0) finish(a, b);
}
}  // namespace detail

// Sums term(i) (a Sum2) over i in [0, n) in double and calls finish(a, b) once on the
// device with the totals. The grid depends only on n, so the same input always gives the
// same bits; no atomics. `scratch` must hold at least reduce_blocks(n) Sum2 values.
inline int reduce_blocks(int64_t n) {
  const int64_t b = (n + kThreads * 4 - 1) / (kThreads * 4);
  return static_cast<int>(b < 1 ? 1 : (b > 1024 ? 1024 : b));
}
template <class Term, class Finish>
void sum_terms(int64_t n, Term term, Finish finish, Sum2* scratch) {
  const int blocks = reduce_blocks(n);
  MASKOFF_LAUNCH(detail::partial_sums_kernel<Term>, blocks, kThreads, 0, n, term, scratch);
  MASKOFF_LAUNCH(detail::finish_sums_kernel<Finish>, 1, kThreads, 0, scratch, blocks, finish);
}

}  // namespace maskoff::cuda
