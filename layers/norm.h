// Differentiable 2-D batch normalisation (NCHW), with optional affine parameters and
// optional running statistics, following PyTorch's BatchNorm2d.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// x [N, C, H, W]; gamma, beta [C] or undefined (no affine); running_mean, running_var [C]
// or undefined (no running statistics: always batch statistics).
// training: normalise with the batch statistics (biased variance) and update the running
// statistics in place, running = (1 - momentum) * running + momentum * batch, where the
// running variance takes the unbiased batch variance. This happens in training mode even
// under NoGradGuard, as in PyTorch. Eval: normalise with the running statistics.
Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum = 0.1, double eps = 1e-5);

}  // namespace maskoff
