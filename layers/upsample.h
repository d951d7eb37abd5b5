// Differentiable nearest-neighbour upsampling of NCHW tensors by a whole factor.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// x [N, C, H, W] -> [N, C, H * scale, W * scale], each value copied into a scale x scale
// block: PyTorch's F.interpolate(x, scale_factor=scale, mode="nearest") for a whole scale.
// The gradient of an input is the sum of its block's output gradients.
Tensor upsample_nearest2d(const Tensor& x, int64_t scale);

}  // namespace maskoff
