// Differentiable bilinear resizing of NCHW tensors.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// Resizes H x W to out_h x out_w with the semantics of PyTorch's
// F.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=align_corners).
Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners = false);

}  // namespace maskoff
