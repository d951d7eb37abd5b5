// Convolutions on the GPU through cuDNN, phrased like the CPU kernels (layers/cpu/conv.h):
// one convolution y = conv(x, w) described by a cpu::ConvGeom, and its three passes. The
// transposed convolution runs them in adjoint roles, exactly as on the CPU. Asymmetric
// padding (which cuDNN lacks) is handled by convolving an explicitly padded copy.
#pragma once
#include <cstddef>
#include <cstdint>

#include "layers/cpu/conv.h"

namespace maskoff::cuda {

// y = conv(x, w) + bias (bias may be null). Overwrites y.
void conv2d_forward(const cpu::ConvGeom& g, const float* x, const float* w, const float* bias,
                    float* y);
// dx = the input gradient for output gradient dy. Overwrites dx.
void conv2d_backward_data(const cpu::ConvGeom& g, const float* w, const float* dy, float* dx);
// dw = the weight gradient, summed over the batch. Overwrites dw.
void conv2d_backward_filter(const cpu::ConvGeom& g, const float* x, const float* dy, float* dw);

// What the plan cache holds, for tests and logs.
struct ConvCacheStats {
  int64_t plans = 0;     // distinct (geometry, math mode) descriptor sets built
  int64_t searches = 0;  // algorithm searches run (at most three per plan)
  size_t workspace_bytes = 0;
  int64_t workspace_grows = 0;
};
ConvCacheStats conv_cache_stats();

}  // namespace maskoff::cuda
