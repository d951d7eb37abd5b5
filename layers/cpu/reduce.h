// CPU reference kernels for sums over all elements or over one dimension, and the
// broadcast that is their backward. Sums accumulate in double in a fixed order, so the
// result does not depend on the number of threads.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/parallel.h"

namespace maskoff::cpu {

// How many of x[0..n) are NaN or infinite.
template <class T>
int64_t count_nonfinite(const T* x, int64_t n) {
  return static_cast<int64_t>(
      parallel_sum(n, [x](int64_t i) { return std::isfinite(x[i]) ? 0.0 : 1.0; }));
}

// Sum of x[0..n) in double, independent of the thread count (see parallel_sum).
template <class T>
double sum_all(const T* x, int64_t n) {
  return parallel_sum(n, [x](int64_t i) { return x[i]; });
}

// Viewing x as [outer, d, inner]: y[o, i] = alpha * sum_k x[o, k, i]. Work is split over
// (o, block of i) so that a reduction over the leading dimension still runs in parallel,
// and each task walks its rows in memory order with a small double accumulator.
template <class T>
void sum_middle(const T* x, T* y, int64_t outer, int64_t d, int64_t inner, double alpha) {
  constexpr int64_t kBlock = 256;
  const int64_t block = std::max<int64_t>(1, std::min(inner, kBlock));
  parallel_for_pieces(
      outer, inner, block,
      [&](int64_t o, int64_t i0, int64_t len) {
        double acc[kBlock] = {};
        for (int64_t k = 0; k < d; ++k) {
          const T* row = x + (o * d + k) * inner + i0;
          for (int64_t i = 0; i < len; ++i) acc[i] += row[i];
        }
        for (int64_t i = 0; i < len; ++i) y[o * inner + i0 + i] = static_cast<T>(alpha * acc[i]);
      },
      kParallelGrain / std::max<int64_t>(1, d * block));
}

// The backward of sum_middle: gx[o, k, i] = alpha * gy[o, i].
template <class T>
void expand_middle(const T* gy, T* gx, int64_t outer, int64_t d, int64_t inner, T alpha) {
  parallel_for(
      outer * d,
      [&](int64_t r) {
        const T* src = gy + (r / d) * inner;
        T* dst = gx + r * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = alpha * src[i];
      },
      kParallelGrain / std::max<int64_t>(1, inner));
}

}  // namespace maskoff::cpu
