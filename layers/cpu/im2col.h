// im2col / col2im for one image, the data movement that turns a convolution into a GEMM.
//
// The column matrix of an image is row-major [cin*kh*kw, oh*ow]: row (c, ky, kx) holds, for
// every output pixel, the input value under kernel tap (ky, kx) of channel c (zero in the
// padding). The kernels work on tiles of it: the rows of a channel range and the columns
// of an output-row range, stored densely.
//
// col2im is the adjoint (sum of every column entry back onto its input pixel). It is
// written as a gather over input rows rather than a scatter over column rows, so whoever
// computes an input row owns it and no two threads touch the same pixel.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "layers/cpu/conv.h"

namespace maskoff::cpu {

// Range [lo, hi) of output indices o whose tap lands inside the input: 0 <= o*s + off < in.
inline void valid_range(int64_t off, int64_t stride, int64_t in, int64_t out, int64_t& lo,
                        int64_t& hi) {
  // o >= ceil(-off / s), o <= floor((in - 1 - off) / s), computed without negative division.
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t last = in - 1 - off;
  hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// One column row (c, ky, kx) restricted to output rows [oy0, oy1); xc is channel c's plane.
template <class T>
inline void im2col_row(const ConvGeom& g, const T* xc, int64_t ky, int64_t kx, int64_t oy0,
                       int64_t oy1, T* dst) {
  const int64_t sw = g.stride_w, xoff = kx - g.pad_left;
  int64_t lo, hi;
  valid_range(xoff, sw, g.w, g.ow, lo, hi);
  for (int64_t oy = oy0; oy < oy1; ++oy, dst += g.ow) {
    const int64_t iy = oy * g.stride_h - g.pad_top + ky;
    if (iy < 0 || iy >= g.h) {
      std::fill(dst, dst + g.ow, T(0));
      continue;
    }
    const T* src = xc + iy * g.w + xoff;
    std::fill(dst, dst + lo, T(0));
    if (sw == 1) {
      std::memcpy(dst + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(T));
    } else {
      for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * sw];
    }
    std::fill(dst + hi, dst + g.ow, T(0));
  }
}

// Tile of channels [c0, c1) and output rows [oy0, oy1) of image x [cin, h, w], stored
// densely as [(c1-c0)*kh*kw, (oy1-oy0)*ow].
template <class T>
void im2col_tile(const ConvGeom& g, const T* x, int64_t c0, int64_t c1, int64_t oy0, int64_t oy1,
                 T* tile) {
  const int64_t taps = g.kh * g.kw, cols = (oy1 - oy0) * g.ow;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t t = 0; t < taps; ++t)
      im2col_row(g, x + c * g.in_plane(), t / g.kw, t % g.kw, oy0, oy1,
                 tile + ((c - c0) * taps + t) * cols);
}

// Input row iy of one channel from that channel's kh*kw column rows (all oh*ow columns,
// rows `ld` apart): each pixel gets the sum of the entries im2col would have read from it.
// Overwrites xrow.
template <class T>
void col2im_row(const ConvGeom& g, const T* colc, int64_t ld, int64_t iy, T* xrow) {
  std::fill(xrow, xrow + g.w, T(0));
  const int64_t sw = g.stride_w;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t t = iy + g.pad_top - ky;  // = oy * stride_h
    if (t < 0 || t % g.stride_h != 0) continue;
    const int64_t oy = t / g.stride_h;
    if (oy >= g.oh) continue;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t xoff = kx - g.pad_left;
      int64_t lo, hi;
      valid_range(xoff, sw, g.w, g.ow, lo, hi);
      const T* src = colc + (ky * g.kw + kx) * ld + oy * g.ow;
      T* dst = xrow + xoff;
      if (sw == 1) {
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
      } else {
        for (int64_t ox = lo; ox < hi; ++ox) dst[ox * sw] += src[ox];
      }
    }
  }
}

// Input rows [r0, r1) of image x, r = c*h + iy, from the image's whole column matrix.
template <class T>
void col2im_rows(const ConvGeom& g, const T* col, int64_t r0, int64_t r1, T* x) {
  const int64_t p = g.out_plane(), taps = g.kh * g.kw;
  for (int64_t r = r0; r < r1; ++r)
    col2im_row(g, col + r / g.h * taps * p, p, r % g.h, x + r * g.w);
}

// Channels [c0, c1) of image x from a tile holding just their column rows (all columns).
template <class T>
void col2im_channels(const ConvGeom& g, const T* tile, int64_t c0, int64_t c1, T* x) {
  const int64_t p = g.out_plane(), taps = g.kh * g.kw;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t iy = 0; iy < g.h; ++iy)
      col2im_row(g, tile + (c - c0) * taps * p, p, iy, x + (c * g.h + iy) * g.w);
}

}  // namespace maskoff::cpu
