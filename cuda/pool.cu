// Pooling kernels, one thread per output element forward. Backward is a gather, one
// thread per input element summing the outputs whose window covers it, in the same
// (row, column) order as the CPU's scatter: no atomics, and for max pooling the same
// floating-point sums as the CPU. Memory bound: a 2x2/2 max pool moves 1.25 floats per
// input element forward.
#include "cuda/kernel_util.cuh"
#include "cuda/pool.h"

namespace maskoff::cuda {

namespace {

// Plain-int copy of cpu::PoolGeom for the kernels.
struct Geom {
  int64_t h, w, oh, ow, k, s, p;
};
Geom geom_of(const cpu::PoolGeom& g) { return {g.h, g.w, g.oh, g.ow, g.k, g.s, g.p}; }

struct Window {
  int64_t h0, h1, w0, w1, padded_count;
};
// As cpu::pool_window: the window of output (oy, ox) clipped to the real input, and its
// extent inside the padded input.
__device__ __forceinline__ Window window_of(const Geom& g, int64_t oy, int64_t ox) {
  const int64_t hs = oy * g.s - g.p, ws = ox * g.s - g.p;
  const int64_t he = min(hs + g.k, g.h + g.p), we = min(ws + g.k, g.w + g.p);
  return {max(hs, int64_t{0}), min(he, g.h), max(ws, int64_t{0}), min(we, g.w),
          (he - hs) * (we - ws)};
}

__device__ __forceinline__ float window_max(const float* plane, const Geom& g, const Window& win) {
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

__device__ __forceinline__ int64_t window_argmax(const float* plane, const Geom& g,
                                                 const Window& win) {
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

__global__ void max_pool_kernel(const float* __restrict__ x, float* __restrict__ y,
                                int64_t total, Geom g) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % g.ow, oy = (idx / g.ow) % g.oh, pl = idx / (g.ow * g.oh);
    y[idx] = window_max(x + pl * g.h * g.w, g, window_of(g, oy, ox));
  }
}

__global__ void max_pool_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                         float* __restrict__ dx, int64_t total, Geom g) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t iw = idx % g.w, ih = (idx / g.w) % g.h, pl = idx / (g.w * g.h);
    const float* xp = x + pl * g.h * g.w;
    const float* gp = dy + pl * g.oh * g.ow;
    const int64_t self = ih * g.w + iw;
    int64_t y0, y1, x0, x1;
    covering(ih, g.s, g.p, g.k, g.oh, y0, y1);
    covering(iw, g.s, g.p, g.k, g.ow, x0, x1);
    float acc = 0.f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox)
        if (window_argmax(xp, g, window_of(g, oy, ox)) == self) acc += gp[oy * g.ow + ox];
    dx[idx] = acc;
  }
}

__device__ __forceinline__ int64_t avg_divisor(const Window& win, bool include_pad) {
  return include_pad ? win.padded_count : (win.h1 - win.h0) * (win.w1 - win.w0);
}

__global__ void avg_pool_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                                Geom g, bool include_pad) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % g.ow, oy = (idx / g.ow) % g.oh, pl = idx / (g.ow * g.oh);
    const float* xp = x + pl * g.h * g.w;
    const Window win = window_of(g, oy, ox);
    float s = 0.f;
    for (int64_t ih = win.h0; ih < win.h1; ++ih)
      for (int64_t iw = win.w0; iw < win.w1; ++iw) s += xp[ih * g.w + iw];
    y[idx] = s / static_cast<float>(avg_divisor(win, include_pad));
  }
}

__global__ void avg_pool_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                         int64_t total, Geom g, bool include_pad) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t iw = idx % g.w, ih = (idx / g.w) % g.h, pl = idx / (g.w * g.h);
    const float* gp = dy + pl * g.oh * g.ow;
    int64_t y0, y1, x0, x1;
    covering(ih, g.s, g.p, g.k, g.oh, y0, y1);
    covering(iw, g.s, g.p, g.k, g.ow, x0, x1);
    float acc = 0.f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox) {
        const Window win = window_of(g, oy, ox);
        acc += gp[oy * g.ow + ox] / static_cast<float>(avg_divisor(win, include_pad));
      }
    dx[idx] = acc;
  }
}

}  // namespace

void max_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g) {
  const int64_t total = planes * g.oh * g.ow;
  if (total <= 0) return;
  MASKOFF_LAUNCH(max_pool_kernel, grid_for(total), kThreads, 0, x, y, total, geom_of(g));
}

void max_pool2d_backward(const float* x, const float* dy, float* dx, int64_t planes,
                         const cpu::PoolGeom& g) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  MASKOFF_LAUNCH(max_pool_backward_kernel, grid_for(total), kThreads, 0, x, dy, dx, total,
                 geom_of(g));
}

void avg_pool2d(const float* x, float* y, int64_t planes, const cpu::PoolGeom& g,
                bool count_include_pad) {
  const int64_t total = planes * g.oh * g.ow;
  if (total <= 0) return;
  MASKOFF_LAUNCH(avg_pool_kernel, grid_for(total), kThreads, 0, x, y, total, geom_of(g),
                 count_include_pad);
}

void avg_pool2d_backward(const float* dy, float* dx, int64_t planes, const cpu::PoolGeom& g,
                         bool count_include_pad) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  MASKOFF_LAUNCH(avg_pool_backward_kernel, grid_for(total), kThreads, 0, dy, dx, total, geom_of(g),
                 count_include_pad);
}

}  // namespace maskoff::cuda
