// Bilinear resize kernels. Forward: one thread per output pixel, four reads. Backward: a
// gather, one thread per input pixel summing the output gradients that sampled it (the
// outputs whose taps name it form a contiguous range along each axis, because the taps'
// first index never decreases), so no atomics are needed. The taps are uploaded per call
// (a few KB through the pinned ring, no host stall).
#include <algorithm>
#include <vector>

#include "cuda/device_buffer.h"
#include "cuda/kernel_util.cuh"
#include "cuda/resize.h"

namespace maskoff::cuda {

namespace {

using Tap = cpu::LerpTap<float>;  // computed on the host (cpu::lerp_taps), read as they are

// Outputs [lo, hi] (inclusive; empty when lo > hi) whose taps may name input i; every
// output that names i lies inside, some inside may not.
struct Range {
  int64_t lo, hi;
};

__global__ void resize_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                              cpu::ResizeGeom g, const Tap* __restrict__ th,
                              const Tap* __restrict__ tw) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ox = idx % g.ow, oy = (idx / g.ow) % g.oh, pl = idx / (g.ow * g.oh);
    const Tap ty = th[oy], tx = tw[ox];
    const float* r0 = x + (pl * g.h + ty.i0) * g.w;
    const float* r1 = x + (pl * g.h + ty.i1) * g.w;
    y[idx] = ty.l0 * (tx.l0 * r0[tx.i0] + tx.l1 * r0[tx.i1]) +
             ty.l1 * (tx.l0 * r1[tx.i0] + tx.l1 * r1[tx.i1]);
  }
}

__device__ __forceinline__ float weight_of(const Tap& t, int64_t i) {
  return (t.i0 == i ? t.l0 : 0.f) + (t.i1 == i ? t.l1 : 0.f);
}

__global__ void resize_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                       int64_t total, cpu::ResizeGeom g, const Tap* __restrict__ th,
                                       const Tap* __restrict__ tw, const Range* __restrict__ rh,
                                       const Range* __restrict__ rw) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t ix = idx % g.w, iy = (idx / g.w) % g.h, pl = idx / (g.w * g.h);
    const float* gp = dy + pl * g.oh * g.ow;
    const Range ry = rh[iy], rx = rw[ix];
    float acc = 0.f;
    for (int64_t oy = ry.lo; oy <= ry.hi; ++oy) {
      const Tap ty = th[oy];
      if (ty.i0 != iy && ty.i1 != iy) continue;  // inside the range but samples elsewhere
      const float wy = weight_of(ty, iy);
      for (int64_t ox = rx.lo; ox <= rx.hi; ++ox) {
        const Tap tx = tw[ox];
        if (tx.i0 != ix && tx.i1 != ix) continue;
        acc += weight_of(tx, ix) * (wy * gp[oy * g.ow + ox]);
      }
    }
    dx[idx] = acc;
  }
}

// For each input index, the first and last output whose taps name it.
std::vector<Range> ranges_for(const Tap* taps, int64_t out, int64_t in) {
  std::vector<Range> r(static_cast<size_t>(in), Range{0, -1});
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i : {taps[o].i0, taps[o].i1}) {
      Range& e = r[static_cast<size_t>(i)];
      if (e.lo > e.hi) {
        e.lo = e.hi = o;
      } else {
        e.lo = std::min(e.lo, o);
        e.hi = std::max(e.hi, o);
      }
    }
  }
  return r;
}

template <class T>
T* put(char*& at, const T* src, size_t count) {
  T* dst = reinterpret_cast<T*>(at);
  upload_async(dst, src, count * sizeof(T));
  at += (count * sizeof(T) + 255) / 256 * 256;
  return dst;
}

size_t padded(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

void resize_bilinear(const float* x, float* y, int64_t planes, const cpu::ResizeGeom& g,
                     const cpu::LerpTap<float>* taps_h, const cpu::LerpTap<float>* taps_w) {
  const int64_t total = planes * g.oh * g.ow;
  if (total <= 0) return;
  DeviceBuffer table(padded(g.oh * sizeof(Tap)) + padded(g.ow * sizeof(Tap)));
  char* at = table.as<char>();
  const Tap* th = put(at, taps_h, static_cast<size_t>(g.oh));
  const Tap* tw = put(at, taps_w, static_cast<size_t>(g.ow));
  MASKOFF_LAUNCH(resize_kernel, grid_for(total), kThreads, 0, x, y, total, g, th, tw);
}

void resize_bilinear_backward(const float* dy, float* dx, int64_t planes, const cpu::ResizeGeom& g,
                              const cpu::LerpTap<float>* taps_h,
                              const cpu::LerpTap<float>* taps_w) {
  const int64_t total = planes * g.h * g.w;
  if (total <= 0) return;
  const std::vector<Range> rh = ranges_for(taps_h, g.oh, g.h);
  const std::vector<Range> rw = ranges_for(taps_w, g.ow, g.w);
  DeviceBuffer table(padded(g.oh * sizeof(Tap)) + padded(g.ow * sizeof(Tap)) +
                     padded(g.h * sizeof(Range)) + padded(g.w * sizeof(Range)));
  char* at = table.as<char>();
  const Tap* th = put(at, taps_h, static_cast<size_t>(g.oh));
  const Tap* tw = put(at, taps_w, static_cast<size_t>(g.ow));
  const Range* drh = put(at, rh.data(), rh.size());
  const Range* drw = put(at, rw.data(), rw.size());
  MASKOFF_LAUNCH(resize_backward_kernel, grid_for(total), kThreads, 0, dy, dx, total, g, th, tw,
                 drh, drw);
}

}  // namespace maskoff::cuda
