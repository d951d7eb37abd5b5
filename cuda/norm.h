// CUDA kernels for 2-D batch normalisation over NCHW float32 arrays, the twins of
// layers/cpu/norm.h: same shifted double-precision statistics, same running-statistics
// update, same backward formulas. Optional arrays (gamma, beta, running statistics,
// unwanted gradients) are null.
#pragma once
#include <cstdint>

#include "layers/cpu/norm.h"

namespace maskoff::cuda {

// Batch statistics: writes y, mean and invstd = 1/sqrt(var + eps) per channel, and, when
// running_mean/running_var are given, updates them in place as
// running = (1 - momentum) * running + momentum * batch (the unbiased variance).
void batch_norm_train(const float* x, const float* gamma, const float* beta, float eps,
                      const cpu::BatchNormDims& d, float* y, float* mean, float* invstd,
                      float* running_mean, float* running_var, double momentum);

// Running statistics: writes mean = running_mean, invstd = 1/sqrt(running_var + eps), y.
void batch_norm_eval(const float* x, const float* running_mean, const float* running_var,
                     const float* gamma, const float* beta, double eps, const cpu::BatchNormDims& d,
                     float* y, float* mean, float* invstd);

void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* invstd,
                         const float* gamma, bool batch_stats, const cpu::BatchNormDims& d,
                         float* dx, float* dgamma, float* dbeta);

}  // namespace maskoff::cuda
