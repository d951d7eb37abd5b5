// CPU reference kernels for bilinear resizing of NCHW arrays, with the sampling positions
// of PyTorch's F.interpolate(mode="bilinear") given an output size, or of TensorFlow's
// legacy resize_bilinear (align_corners=false, half_pixel_centers=false).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tensor/parallel.h"

namespace maskoff::cpu {

// Output index o along one axis reads inputs i0 and i1 with weights l0 and l1.
template <class T>
struct LerpTap {
  int64_t i0, i1;
  T l0, l1;
};

// Where output index o samples the input along one axis:
//   half_pixel:    pixel areas align, src = (o + 0.5) * in / out - 0.5, clamped at 0;
//   align_corners: the corner pixels' centres coincide, src = o * (in - 1) / (out - 1);
//   tf_legacy:     TensorFlow's old default, src = o * in / out (no half-pixel offset), so
//                  the image drifts by half an output pixel towards the top-left.
// Neighbours are floor(src) and the next input, which stays on the last input where there is
// none (TensorFlow's min(ceil(src), in - 1): when src is whole the second weight is 0).
enum class ResizeMapping { half_pixel, align_corners, tf_legacy };

template <class T>
std::vector<LerpTap<T>> lerp_taps(int64_t in, int64_t out, ResizeMapping mapping) {
  std::vector<LerpTap<T>> taps(static_cast<size_t>(out));
  const bool corners = mapping == ResizeMapping::align_corners;
  const T scale = corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0)) : T(in) / T(out);
  for (int64_t o = 0; o < out; ++o) {
    const T src = mapping == ResizeMapping::half_pixel
                      ? std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0))
                      : scale * T(o);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const T l1 = std::min(src - T(i0), T(1));
    taps[static_cast<size_t>(o)] = {i0, i0 < in - 1 ? i0 + 1 : i0, T(1) - l1, l1};
  }
  return taps;
}

template <class T>
std::vector<LerpTap<T>> lerp_taps(int64_t in, int64_t out, bool align_corners) {
  return lerp_taps<T>(in, out,
                      align_corners ? ResizeMapping::align_corners : ResizeMapping::half_pixel);
}

struct ResizeGeom {
  int64_t h, w, oh, ow;
};

// Output rows are independent, so the work is split over (plane, row).
template <class T>
void resize_bilinear(const T* x, T* y, int64_t planes, const ResizeGeom& g, ResizeMapping mapping) {
  const auto th = lerp_taps<T>(g.h, g.oh, mapping);
  const auto tw = lerp_taps<T>(g.w, g.ow, mapping);
  parallel_for(
      planes * g.oh,
      [&](int64_t r) {
        const int64_t pl = r / g.oh, oy = r % g.oh;
        const LerpTap<T>& ty = th[static_cast<size_t>(oy)];
        const T* r0 = x + (pl * g.h + ty.i0) * g.w;
        const T* r1 = x + (pl * g.h + ty.i1) * g.w;
        T* yr = y + r * g.ow;
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const LerpTap<T>& tx = tw[static_cast<size_t>(ox)];
          yr[ox] = ty.l0 * (tx.l0 * r0[tx.i0] + tx.l1 * r0[tx.i1]) +
                   ty.l1 * (tx.l0 * r1[tx.i0] + tx.l1 * r1[tx.i1]);
        }
      },
      kParallelGrain / std::max<int64_t>(1, 4 * g.ow));
}

// Backward scatters each output gradient to its four inputs; rows of one plane share
// inputs, so the split is over planes.
template <class T>
void resize_bilinear_backward(const T* dy, T* dx, int64_t planes, const ResizeGeom& g,
                              ResizeMapping mapping) {
  const auto th = lerp_taps<T>(g.h, g.oh, mapping);
  const auto tw = lerp_taps<T>(g.w, g.ow, mapping);
  parallel_for(
      planes,
      [&](int64_t pl) {
        T* dp = dx + pl * g.h * g.w;
        std::fill(dp, dp + g.h * g.w, T(0));
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const LerpTap<T>& ty = th[static_cast<size_t>(oy)];
          T* r0 = dp + ty.i0 * g.w;
          T* r1 = dp + ty.i1 * g.w;
          const T* gr = dy + (pl * g.oh + oy) * g.ow;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const LerpTap<T>& tx = tw[static_cast<size_t>(ox)];
            const T g0 = ty.l0 * gr[ox], g1 = ty.l1 * gr[ox];
            r0[tx.i0] += tx.l0 * g0;
            r0[tx.i1] += tx.l1 * g0;
            r1[tx.i0] += tx.l0 * g1;
            r1[tx.i1] += tx.l1 * g1;
          }
        }
      },
      kParallelGrain / std::max<int64_t>(1, 4 * g.oh * g.ow));
}

template <class T>
void resize_bilinear(const T* x, T* y, int64_t planes, const ResizeGeom& g, bool align_corners) {
  resize_bilinear(x, y, planes, g,
                  align_corners ? ResizeMapping::align_corners : ResizeMapping::half_pixel);
}
template <class T>
void resize_bilinear_backward(const T* dy, T* dx, int64_t planes, const ResizeGeom& g,
                              bool align_corners) {
  resize_bilinear_backward(
      dy, dx, planes, g, align_corners ? ResizeMapping::align_corners : ResizeMapping::half_pixel);
}

}  // namespace maskoff::cpu
