// Differentiable 2-D convolution and transposed convolution (NCHW, groups, asymmetric padding).
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace maskoff {

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // asymmetric allowed
  int64_t groups = 1;
  static Conv2dOptions make(int64_t stride, int64_t padding, int64_t groups = 1);
  // Strides and paddings that differ by axis and side.
  static Conv2dOptions make(int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                            int64_t pad_left, int64_t pad_right, int64_t groups = 1);
  // TensorFlow 'SAME' padding for the given input size: out = ceil(in / stride), total padding
  // max((out-1)*stride + k - in, 0) split with the extra pixel at the bottom/right.
  static Conv2dOptions tf_same(int64_t in_h, int64_t in_w, int64_t kh, int64_t kw, int64_t stride,
                               int64_t groups = 1);
};

// x [N, Cin, H, W], w [Cout, Cin/groups, kh, kw], bias [Cout] or undefined Tensor().
// Output [N, Cout, (H + pad_top + pad_bottom - kh) / stride_h + 1, likewise for W].
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o);

struct ConvTranspose2dOptions {
  int64_t stride = 1, padding = 0, output_padding = 0, groups = 1;
};

// PyTorch semantics and weight layout: x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw],
// bias [Cout] or undefined; out = (H-1)*stride - 2*padding + kh + output_padding.
// output_padding must be smaller than stride (it only disambiguates the output size).
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias,
                        const ConvTranspose2dOptions& o);

}  // namespace maskoff
