// Differentiable sums and means, over all elements or along one dimension.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace maskoff {

// Full reductions return a rank-0 tensor (shape {}). The mean of no elements is NaN.
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);
// Along `dim` (negative counts from the end); keepdim leaves the reduced extent as 1.
Tensor sum_dim(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor mean_dim(const Tensor& x, int64_t dim, bool keepdim = false);

// How many elements of each tensor are NaN or infinite (0 for an undefined tensor); not
// differentiable. The counts of the tensors on the GPU come back in one copy, so checking
// every parameter of a model costs one synchronisation.
std::vector<int64_t> count_nonfinite(const std::vector<Tensor>& xs);

}  // namespace maskoff
