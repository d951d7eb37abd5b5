// CUDA kernel for inverted dropout: the twin of layers/cpu/dropout.h. Element i is kept
// when cpu::dropout_keep(seed, base + i, p), the very function the CPU evaluates, so both
// devices drop exactly the same elements for the same generator state.
#pragma once
#include <cstdint>

namespace maskoff::cuda {

// y[i] = keep(i) ? x[i] * scale : 0. Also masks the gradient in backward.
void dropout_mask(const float* x, float* y, int64_t n, uint64_t seed, uint64_t base, float p,
                  float scale);

}  // namespace maskoff::cuda
