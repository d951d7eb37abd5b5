// Nearest-neighbour upsampling kernels. Forward: one thread per output element, one read
// (neighbouring threads read the same input, which the cache serves). Backward: a gather,
// one thread per input element summing its s x s block of output gradients in the CPU's
// order, so no atomics and the same float sums as the CPU. Both are memory bound: the
// forward moves 1 + 1/s^2 floats per output element.
#include "cuda/kernel_util.cuh"
#include "cuda/upsample.h"

namespace maskoff::cuda {

namespace {

__global__ void upsample_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                                cpu::UpsampleGeom g) {
  const int64_t ow = g.ow(), oh = g.oh(), s = g.scale;
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % ow, oy = (idx / ow) % oh, pl = idx / (ow * oh);
    y[idx] = x[(pl * g.h + oy / s) * g.w + ox / s];
  }
}

__global__ void upsample_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                         int64_t total, cpu::UpsampleGeom g) {
  const int64_t ow = g.ow(), s = g.scale;
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ix = idx % g.w, r = idx / g.w;  // r = pl * h + iy
    const float* d0 = dy + r * s * ow + ix * s;
    float acc = 0.f;
    for (int64_t ky = 0; ky < s; ++ky)
      for (int64_t kx = 0; kx < s; ++kx) acc += d0[ky * ow + kx];
    dx[idx] = acc;
  }
}

}  // namespace

void upsample_nearest(const float* x, float* y, int64_t planes, const cpu::UpsampleGeom& g) {
  const int64_t total = planes * g.oh() * g.ow();
  if (total <= 0) return;
  MASKOFF_LAUNCH(upsample_kernel, grid_for(total), kThreads, 0, x, y, total, g);
}

void upsample_nearest_backward(const float* dy, float* dx, int64_t planes,
                               const cpu::UpsampleGeom& g) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  MASKOFF_LAUNCH(upsample_backward_kernel, grid_for(total), kThreads, 0, dy, dx, total, g);
}

}  // namespace maskoff::cuda
