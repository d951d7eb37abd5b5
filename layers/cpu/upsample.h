// CPU reference kernels for nearest-neighbour upsampling of NCHW arrays by a whole factor:
// every input value fills an s x s block of the output (the "up2" of detector necks, where
// a coarse feature map is added to the next finer one).
#pragma once
#include <algorithm>
#include <cstdint>

#include "tensor/host_device.h"
#include "tensor/parallel.h"

namespace maskoff::cpu {

struct UpsampleGeom {
  int64_t h, w, scale;  // input plane h x w; the output is (h * scale) x (w * scale)
  MASKOFF_HD int64_t oh() const { return h * scale; }
  MASKOFF_HD int64_t ow() const { return w * scale; }
};

// f(r) for every input row r (plane r / h, row r % h) in parallel: the forward pass writes,
// the backward pass reads, the s output rows that row r was copied to.
template <class F>
void for_each_input_row(int64_t planes, const UpsampleGeom& g, F&& f) {
  parallel_for(planes * g.h, f, kParallelGrain / std::max<int64_t>(1, g.scale * g.ow()));
}

// y[pl, oy, ox] = x[pl, oy / s, ox / s]. One output row is one input row with each value
// repeated s times, copied s times; the split is over (plane, input row).
template <class T>
void upsample_nearest(const T* x, T* y, int64_t planes, const UpsampleGeom& g) {
  const int64_t s = g.scale, ow = g.ow();
  for_each_input_row(planes, g, [&](int64_t r) {
    const T* xr = x + r * g.w;
    T* y0 = y + r * s * ow;  // plane pl's row iy starts output row pl * oh + iy * s
    for (int64_t ix = 0; ix < g.w; ++ix) std::fill_n(y0 + ix * s, s, xr[ix]);
    for (int64_t k = 1; k < s; ++k) std::copy(y0, y0 + ow, y0 + k * ow);
  });
}

// The adjoint: dx[pl, iy, ix] is the sum of the s x s block of dy it was copied to, added
// row by row and left to right, so the order of additions is fixed.
template <class T>
void upsample_nearest_backward(const T* dy, T* dx, int64_t planes, const UpsampleGeom& g) {
  const int64_t s = g.scale, ow = g.ow();
  for_each_input_row(planes, g, [&](int64_t r) {
    const T* d0 = dy + r * s * ow;
    T* dxr = dx + r * g.w;
    for (int64_t ix = 0; ix < g.w; ++ix) {
      T acc = 0;
      for (int64_t ky = 0; ky < s; ++ky)
        for (int64_t kx = 0; kx < s; ++kx) acc += d0[ky * ow + ix * s + kx];
      dxr[ix] = acc;
    }
  });
}

}  // namespace maskoff::cpu
