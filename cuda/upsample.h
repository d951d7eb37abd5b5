// CUDA kernels for nearest-neighbour upsampling by a whole factor over `planes` = N * C
// planes, the twins of layers/cpu/upsample.h (same geometry, same order of additions in
// the backward sum).
#pragma once
#include <cstdint>

#include "layers/cpu/upsample.h"

namespace maskoff::cuda {

void upsample_nearest(const float* x, float* y, int64_t planes, const cpu::UpsampleGeom& g);
void upsample_nearest_backward(const float* dy, float* dx, int64_t planes,
                               const cpu::UpsampleGeom& g);

}  // namespace maskoff::cuda
