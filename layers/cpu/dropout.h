// CPU reference kernel for inverted dropout. The keep decision is a pure function of
// (seed, counter), shared with device code through MASKOFF_HD, so the mask is the same on
// every device and can be regenerated in backward instead of stored.
#pragma once
#include <cstdint>

#include "tensor/parallel.h"
#include "tensor/random.h"

namespace maskoff::cpu {

// The comparison is in float on purpose: it is what a float32 GPU kernel computes, and
// rng_uniform's 24-bit values are exact floats.
MASKOFF_HD bool dropout_keep(uint64_t seed, uint64_t counter, float p) {
  return rng_uniform(seed, counter) >= p;
}

// y[i] = keep(i) ? x[i] * scale : 0, where element i uses counter base + i. The same
// kernel masks the gradient in backward.
template <class T>
void dropout_mask(const T* x, T* y, int64_t n, uint64_t seed, uint64_t base, float p, T scale) {
  parallel_for(
      n,
      [&](int64_t i) {
        y[i] = dropout_keep(seed, base + static_cast<uint64_t>(i), p) ? x[i] * scale : T(0);
      },
      kParallelGrain / 8);  // the hash is ~10 multiplies per element, more than a copy
}

}  // namespace maskoff::cpu
