// Differentiable 2-D max and average pooling over NCHW tensors, with PyTorch's semantics
// in floor mode: output extent floor((H + 2 * padding - kernel) / stride) + 1.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// Padding counts as -inf for max pooling and as zeros for average pooling; padding may be
// at most kernel / 2, and the padded input must hold at least one window.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
// count_include_pad: divide by the window's extent including padding, else by the number
// of real input elements it covers.
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0,
                  bool count_include_pad = true);

}  // namespace maskoff
