// Differentiable unit normalisation over channels, the step LPIPS applies to every feature
// map: at each (n, y, x), f / (sqrt(sum_c f_c^2) + eps). CPU only (float32 or float64).
#pragma once
#include "tensor/tensor.h"

namespace maskoff::metrics {

// x [N, C, H, W] -> same shape. eps sits outside the square root, as in LPIPS (1e-10).
// The map is differentiable everywhere: at a zero feature vector its Jacobian is I / eps.
Tensor normalize_channels(const Tensor& x, double eps = 1e-10);

}  // namespace maskoff::metrics
