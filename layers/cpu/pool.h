// CPU reference kernels for 2-D max and average pooling over NCHW arrays viewed as
// `planes` = N * C independent H x W planes. Planes run in parallel; backward scatters
// within one plane only, so no two threads ever write the same gradient element.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "tensor/host_device.h"
#include "tensor/parallel.h"

namespace maskoff::cpu {

// Input h x w, output oh x ow, square window k, stride s, implicit padding p. The CUDA
// kernels (cuda/pool.cu) take it, and the window below, as they are.
struct PoolGeom {
  int64_t h, w, oh, ow, k, s, p;
  MASKOFF_HD int64_t in_plane() const { return h * w; }
  MASKOFF_HD int64_t out_plane() const { return oh * ow; }
  int64_t grain() const { return kParallelGrain / std::max<int64_t>(1, out_plane() * k * k); }
};

// The window of output (oy, ox), clipped to the real input: rows [h0, h1), cols [w0, w1).
struct PoolWindow {
  int64_t h0, h1, w0, w1;
  // Extent of the window inside the padded input (what count_include_pad divides by).
  int64_t padded_count;
};
MASKOFF_HD PoolWindow pool_window(const PoolGeom& g, int64_t oy, int64_t ox) {
  const int64_t hs = oy * g.s - g.p, ws = ox * g.s - g.p;
  const int64_t he = hs + g.k < g.h + g.p ? hs + g.k : g.h + g.p;
  const int64_t we = ws + g.k < g.w + g.p ? ws + g.k : g.w + g.p;
  return {hs > 0 ? hs : 0, he < g.h ? he : g.h, ws > 0 ? ws : 0, we < g.w ? we : g.w,
          (he - hs) * (we - ws)};
}

// The window's maximum, NaN if it holds one (NaN propagates, as in PyTorch). Padding never
// wins (it is -inf), and the window is never empty (padding <= kernel / 2). Kept free of
// data-dependent branches: on real data the comparison is unpredictable, and max/or
// compile to a select.
template <class T>
T window_max(const T* plane, const PoolGeom& g, const PoolWindow& win) {
  T m = plane[win.h0 * g.w + win.w0];
  bool nan = false;
  for (int64_t ih = win.h0; ih < win.h1; ++ih)
    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
      const T v = plane[ih * g.w + iw];
      m = v > m ? v : m;
      nan |= v != v;
    }
  return nan ? std::numeric_limits<T>::quiet_NaN() : m;
}

// Index (within the plane) of the first element equal to the window's maximum (the first
// NaN when there is one): the element that receives the gradient.
template <class T>
int64_t window_argmax(const T* plane, const PoolGeom& g, const PoolWindow& win) {
  const T m = window_max(plane, g, win);
  const bool nan = m != m;
  for (int64_t ih = win.h0; ih < win.h1; ++ih)
    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
      const T v = plane[ih * g.w + iw];
      if (v == m || (nan && v != v)) return ih * g.w + iw;
    }
  return win.h0 * g.w + win.w0;  // unreachable: m is one of the values
}

// y = reduce(plane, window) for every output window of every plane.
template <class T, class Reduce>
void pool2d(const T* x, T* y, int64_t planes, const PoolGeom& g, Reduce reduce) {
  parallel_for(
      planes,
      [&](int64_t pl) {
        const T* xp = x + pl * g.in_plane();
        T* yp = y + pl * g.out_plane();
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox)
            yp[oy * g.ow + ox] = reduce(xp, pool_window(g, oy, ox));
      },
      g.grain());
}

template <class T>
void max_pool2d(const T* x, T* y, int64_t planes, const PoolGeom& g) {
  pool2d(x, y, planes, g,
         [&](const T* xp, const PoolWindow& win) { return window_max(xp, g, win); });
}

// The gradient goes to each window's argmax, found again from x rather than stored.
template <class T>
void max_pool2d_backward(const T* x, const T* dy, T* dx, int64_t planes, const PoolGeom& g) {
  parallel_for(
      planes,
      [&](int64_t pl) {
        const T* xp = x + pl * g.in_plane();
        const T* gp = dy + pl * g.out_plane();
        T* dp = dx + pl * g.in_plane();
        std::fill(dp, dp + g.in_plane(), T(0));
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox)
            dp[window_argmax(xp, g, pool_window(g, oy, ox))] += gp[oy * g.ow + ox];
      },
      g.grain());
}

MASKOFF_HD int64_t avg_divisor(const PoolWindow& win, bool count_include_pad) {
  return count_include_pad ? win.padded_count : (win.h1 - win.h0) * (win.w1 - win.w0);
}

template <class T>
void avg_pool2d(const T* x, T* y, int64_t planes, const PoolGeom& g, bool count_include_pad) {
  pool2d(x, y, planes, g, [&](const T* xp, const PoolWindow& win) {
    T s = 0;
    for (int64_t ih = win.h0; ih < win.h1; ++ih)
      for (int64_t iw = win.w0; iw < win.w1; ++iw) s += xp[ih * g.w + iw];
    return s / static_cast<T>(avg_divisor(win, count_include_pad));
  });
}

template <class T>
void avg_pool2d_backward(const T* dy, T* dx, int64_t planes, const PoolGeom& g,
                         bool count_include_pad) {
  parallel_for(
      planes,
      [&](int64_t pl) {
        const T* gp = dy + pl * g.out_plane();
        T* dp = dx + pl * g.in_plane();
        std::fill(dp, dp + g.in_plane(), T(0));
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const PoolWindow win = pool_window(g, oy, ox);
            const T v = gp[oy * g.ow + ox] / static_cast<T>(avg_divisor(win, count_include_pad));
            for (int64_t ih = win.h0; ih < win.h1; ++ih)
              for (int64_t iw = win.w0; iw < win.w1; ++iw) dp[ih * g.w + iw] += v;
          }
      },
      g.grain());
}

}  // namespace maskoff::cpu
