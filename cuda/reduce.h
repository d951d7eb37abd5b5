// CUDA kernels for sums over one dimension (or all elements) and the broadcast that is
// their backward, the twins of layers/cpu/reduce.h. Sums accumulate in double in a fixed
// order (no atomics), so the same input always gives the same bits.
#pragma once
#include <cstdint>

namespace maskoff::cuda {

// Viewing x as [outer, d, inner]: y[o, i] = alpha * sum_k x[o, k, i].
void sum_middle(const float* x, float* y, int64_t outer, int64_t d, int64_t inner, double alpha);
// count[0] = how many of x[0..n) are NaN or infinite (written on the device, so the counts
// of many tensors can come back in one copy).
void count_nonfinite(const float* x, int64_t n, double* count);
// gx[o, k, i] = alpha * gy[o, i].
void expand_middle(const float* gy, float* gx, int64_t outer, int64_t d, int64_t inner,
                   float alpha);

}  // namespace maskoff::cuda
