// CUDA kernels for bilinear resizing of NCHW float32 planes. The sampling positions and
// weights (taps) are computed on the host by the same code the CPU uses (cpu::lerp_taps or
// any other tap rule) and handed in, so both devices interpolate between the same pixels
// with the same weights whatever the resize mode.
#pragma once
#include <cstdint>

#include "layers/cpu/resize.h"

namespace maskoff::cuda {

// taps_h has g.oh entries, taps_w g.ow entries (host arrays).
void resize_bilinear(const float* x, float* y, int64_t planes, const cpu::ResizeGeom& g,
                     const cpu::LerpTap<float>* taps_h, const cpu::LerpTap<float>* taps_w);
void resize_bilinear_backward(const float* dy, float* dx, int64_t planes, const cpu::ResizeGeom& g,
                              const cpu::LerpTap<float>* taps_h, const cpu::LerpTap<float>* taps_w);

}  // namespace maskoff::cuda
