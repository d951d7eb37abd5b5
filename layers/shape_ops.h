// Differentiable shape operations: concatenation, slicing, reshaping.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace maskoff {

// Joins tensors along `dim` (negative counts from the end); all other extents, the rank,
// dtype and device must agree.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// concat along dim 1 of NCHW tensors (the U-Net skip connections).
Tensor concat_channels(const std::vector<Tensor>& xs);
// Elements [start, end) along `dim`, copied; negative start/end count from the end, and
// out-of-range bounds are an error (no silent clamping).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);
// Same data with a new shape (shares storage with x); one extent may be -1.
Tensor reshape(const Tensor& x, const Shape& s);
// [N, ...] -> [N, product of the rest]
Tensor flatten(const Tensor& x);

}  // namespace maskoff
