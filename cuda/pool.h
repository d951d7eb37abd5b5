// CUDA kernels for 2-D max and average pooling over `planes` = N * C planes, the twins of
// layers/cpu/pool.h (same geometry struct, padding rules, NaN propagation and tie rule:
// the first maximum in row-major order receives the gradient).
#pragma once
#include <cstdint>

#include "layers/cpu/pool.h"

namespace maskoff::cuda {

void max_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g);
void max_pool2d_backward(const float* x, const float* dy, float* dx, int64_t planes,
                         const cpu::PoolGeom& g);
void avg_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g,
                bool count_include_pad);
void avg_pool2d_backward(const float* dy, float* dx, int64_t planes, const cpu::PoolGeom& g,
                         bool count_include_pad);

}  // namespace maskoff::cuda
