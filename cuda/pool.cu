// Pooling kernels, one thread per output element forward. Backward is a gather, one
// thread per input element summing the outputs whose window covers it, in the same
// (row, column) order as the CPU's scatter: no atomics, and for max pooling the same
// floating-point sums as the CPU. Predicted memory bound: a 2x2/2 max pool moves 1.25
// floats per input element forward.
#include "cuda/kernel_util.cuh"
#include "cuda/pool.h"

namespace maskoff::cuda {

namespace {

// The window's maximum (NaN if it holds one) and the index of its first maximum, as
// cpu::window_max and cpu::window_argmax compute them: the geometry is shared, the
// comparisons are written again, so that the CPU's stay an independent reference.
__device__ __forceinline__ float window_max(const float* plane, const cpu::PoolGeom& g,
                                            const cpu::PoolWindow& win) {
  float m = plane[win.h0 * g.w + win.w0];
  bool nan = false;
  for (int64_t ih = win.h0; ih < win.h1; ++ih)
    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
      const float v = plane[ih * g.w + iw];
      m = v > m ? v : m;
      nan |= v != v;
    }
  return nan ? __int_as_float(0x7fc00000) : m;
}

__device__ __forceinline__ int64_t window_argmax(const float* plane, const cpu::PoolGeom& g,
                                                 const cpu::PoolWindow& win) {
  const float m = window_max(plane, g, win);
  const bool nan = m != m;
  for (int64_t ih = win.h0; ih < win.h1; ++ih)
    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
      const float v = plane[ih * g.w + iw];
      if (v == m || (nan && v != v)) return ih * g.w + iw;
    }
  return win.h0 * g.w + win.w0;
}

// The outputs whose (unclipped) window covers input index i along one axis:
// o * s - p <= i < o * s - p + k  <=>  (i + p - k) / s < o <= (i + p) / s.
__device__ __forceinline__ void covering(int64_t i, int64_t s, int64_t p, int64_t k, int64_t out,
                                         int64_t& lo, int64_t& hi) {
  const int64_t a = i + p - k + 1;  // smallest o * s allowed
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = min((i + p) / s, out - 1);  // inclusive
}

__global__ void max_pool_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                                cpu::PoolGeom g) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % g.ow, oy = (idx / g.ow) % g.oh, pl = idx / g.out_plane();
    y[idx] = window_max(x + pl * g.in_plane(), g, cpu::pool_window(g, oy, ox));
  }
}

__global__ void max_pool_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                         float* __restrict__ dx, int64_t total, cpu::PoolGeom g) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t iw = idx % g.w, ih = (idx / g.w) % g.h, pl = idx / g.in_plane();
    const float* xp = x + pl * g.in_plane();
    const float* gp = dy + pl * g.out_plane();
    const int64_t self = ih * g.w + iw;
    int64_t y0, y1, x0, x1;
    covering(ih, g.s, g.p, g.k, g.oh, y0, y1);
    covering(iw, g.s, g.p, g.k, g.ow, x0, x1);
    float acc = 0.f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox)
        if (window_argmax(xp, g, cpu::pool_window(g, oy, ox)) == self) acc += gp[oy * g.ow + ox];
    dx[idx] = acc;
  }
}

__global__ void avg_pool_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                                cpu::PoolGeom g, bool include_pad) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % g.ow, oy = (idx / g.ow) % g.oh, pl = idx / g.out_plane();
    const float* xp = x + pl * g.in_plane();
    const cpu::PoolWindow win = cpu::pool_window(g, oy, ox);
    float s = 0.f;
    for (int64_t ih = win.h0; ih < win.h1; ++ih)
      for (int64_t iw = win.w0; iw < win.w1; ++iw) s += xp[ih * g.w + iw];
    y[idx] = s / static_cast<float>(cpu::avg_divisor(win, include_pad));
  }
}

__global__ void avg_pool_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                         int64_t total, cpu::PoolGeom g, bool include_pad) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t iw = idx % g.w, ih = (idx / g.w) % g.h, pl = idx / g.in_plane();
    const float* gp = dy + pl * g.out_plane();
    int64_t y0, y1, x0, x1;
    covering(ih, g.s, g.p, g.k, g.oh, y0, y1);
    covering(iw, g.s, g.p, g.k, g.ow, x0, x1);
    float acc = 0.f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox) {
        const cpu::PoolWindow win = cpu::pool_window(g, oy, ox);
        acc += gp[oy * g.ow + ox] / static_cast<float>(cpu::avg_divisor(win, include_pad));
      }
    dx[idx] = acc;
  }
}

}  // namespace

void max_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g) {
  const int64_t total = planes * g.out_plane();
  if (total <= 0) return;
  MASKOFF_LAUNCH(max_pool_kernel, grid_for(total), kThreads, 0, x, y, total, g);
}

void max_pool2d_backward(const float* x, const float* dy, float* dx, int64_t planes,
                         const cpu::PoolGeom& g) {
  const int64_t total = planes * g.in_plane();
  if (total <= 0) return;
  MASKOFF_LAUNCH(max_pool_backward_kernel, grid_for(total), kThreads, 0, x, dy, dx, total, g);
}

void avg_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g,
                bool count_include_pad) {
  const int64_t total = planes * g.out_plane();
  if (total <= 0) return;
  MASKOFF_LAUNCH(avg_pool_kernel, grid_for(total), kThreads, 0, x, y, total, g, count_include_pad);
}

void avg_pool2d_backward(const float* dy, float* dx, int64_t planes, const cpu::PoolGeom& g,
                         bool count_include_pad) {
  const int64_t total = planes * g.in_plane();
  if (total <= 0) return;
  MASKOFF_LAUNCH(avg_pool_backward_kernel, grid_for(total), kThreads, 0, dy, dx, total, g,
                 count_include_pad);
}

}  // namespace maskoff::cuda
