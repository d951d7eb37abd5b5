// CPU kernels for 2-D convolution on raw NCHW arrays, templated on the scalar type
// (instantiated for float and double in conv.cpp).
//
// Everything is phrased for one convolution y = conv(x, w): forward, backward-data and
// backward-weight. The transposed convolution is the adjoint of a convolution, so it runs
// the same three kernels with the roles swapped: its forward is backward_data, its
// input-gradient is forward, and its weight-gradient is backward_weight with x and dy
// exchanged. A ConvGeom therefore always describes the underlying convolution.
#pragma once
#include <cstdint>

namespace maskoff::cpu {

struct ConvGeom {
  int64_t n = 1;
  int64_t cin = 1, h = 1, w = 1;     // x: [n, cin, h, w]
  int64_t cout = 1, oh = 1, ow = 1;  // y: [n, cout, oh, ow]
  int64_t kh = 1, kw = 1;            // w: [cout, cin / groups, kh, kw]
  int64_t stride_h = 1, stride_w = 1;
  // Bottom/right padding is implied by oh, ow; the kernels only need where row/column 0
  // of the kernel window starts. The implied padding may even be negative: a transposed
  // convolution whose output_padding exceeds its padding.
  int64_t pad_top = 0, pad_left = 0;
  int64_t groups = 1;

  int64_t cin_g() const { return cin / groups; }
  int64_t cout_g() const { return cout / groups; }
  int64_t k_g() const { return cin_g() * kh * kw; }  // GEMM reduction length per group
  int64_t in_plane() const { return h * w; }
  int64_t out_plane() const { return oh * ow; }
  // Depthwise (each output channel reads one input channel) or one output channel per
  // group: direct loops beat im2col + GEMM, whose GEMM would have K = kh*kw or M = 1.
  bool direct() const { return (groups > 1 && cin_g() == 1) || cout_g() == 1; }
  // A 1x1 stride-1 unpadded convolution is a plain GEMM on x: no im2col needed.
  bool pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
           oh == h && ow == w;
  }
};

// Output size of a convolution along one axis (may be <= 0 for impossible configurations;
// the caller reports that).
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad_lo,
                             int64_t pad_hi) {
  int64_t span = in + pad_lo + pad_hi - k;
  return span < 0 ? 0 : span / stride + 1;
}

// Geometry of y = conv2d(x, w) with explicit (possibly asymmetric) padding.
ConvGeom conv2d_geom(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh,
                     int64_t kw, int64_t stride_h, int64_t stride_w, int64_t pad_top,
                     int64_t pad_bottom, int64_t pad_left, int64_t pad_right, int64_t groups);

// Geometry of the convolution whose adjoint is conv_transpose2d(x, w) with x [n, cin_t, h, w]
// and w [cin_t, cout_t / groups, kh, kw] (PyTorch layout): its input is the transposed
// convolution's output [n, cout_t, (h-1)*stride - 2*padding + kh + output_padding, ...],
// its output is x.
ConvGeom conv_transpose2d_geom(int64_t n, int64_t cin_t, int64_t h, int64_t w, int64_t cout_t,
                               int64_t kh, int64_t kw, int64_t stride, int64_t padding,
                               int64_t output_padding, int64_t groups);

// y = conv(x, w) + bias; bias may be null. Overwrites y.
template <class T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);

// dx = d(sum dy * y)/dx. Overwrites dx.
template <class T>
void conv2d_backward_data(const ConvGeom& g, const T* w, const T* dy, T* dx);

// dw = d(sum dy * y)/dw, summed over the batch. Overwrites dw.
template <class T>
void conv2d_backward_weight(const ConvGeom& g, const T* x, const T* dy, T* dw);

// db[c] = sum over n and the plane of dy[n, c, :]. Overwrites db.
template <class T>
void bias_backward(const T* dy, int64_t n, int64_t c, int64_t plane, T* db);

// y[n, c, :] += b[c].
template <class T>
void add_bias(T* y, const T* b, int64_t n, int64_t c, int64_t plane);

}  // namespace maskoff::cpu
