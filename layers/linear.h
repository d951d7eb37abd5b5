// Differentiable matrix product and fully connected layer.
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// [M, K] x [K, N] -> [M, N]
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x w^T + bias: x [N, in], w [out, in], bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

}  // namespace maskoff
