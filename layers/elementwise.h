// Differentiable elementwise arithmetic and activations.
// Binary ops need equal shapes (no implicit broadcasting: a mismatch is a clear error).
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor neg(const Tensor& x);

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope = 0.2);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);

// In place, never recorded: dst += alpha * src. Used for gradient accumulation.
void add_(const Tensor& dst, const Tensor& src, double alpha = 1.0);

}  // namespace maskoff
