// Differentiable bilinear resizing of NCHW tensors.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// Resizes H x W to out_h x out_w with the semantics of PyTorch's
// F.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=align_corners).
Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners = false);

// TensorFlow's legacy tf.image.resize_bilinear (align_corners=False, half_pixel_centers=False),
// which models trained in TensorFlow.js expect: output index o samples the input at
// src = o * in / out, between floor(src) and min(ceil(src), in - 1).
Tensor resize_bilinear_tf_legacy(const Tensor& x, int64_t out_h, int64_t out_w);

}  // namespace maskoff
