// CUDA kernels for the training losses, the twins of losses/cpu/losses.h: one fused
// forward (a mean accumulated in double, written to y[0] on the device) and one fused
// backward per loss, reading the upstream gradient gy[0] on the device, so a training
// step never waits for a loss value. Unwanted gradients are null.
#pragma once
#include <cstdint>

#include "losses/cpu/losses.h"

namespace maskoff::cuda {

// t may be null, then every target is tc.
void bce_with_logits(const float* x, const float* t, float tc, int64_t n, float* y);
void bce_with_logits_backward(const float* x, const float* t, float tc, const float* gy, int64_t n,
                              float* dx, float* dt);

void mse(const float* p, const float* t, int64_t n, float* y);
void mse_backward(const float* p, const float* t, const float* gy, int64_t n, float* dp, float* dt);

void l1(const float* p, const float* t, int64_t n, float* y);
void l1_backward(const float* p, const float* t, const float* gy, int64_t n, float* dp, float* dt);

// sum(m (p - t)^2) / (total mask weight over all channels); 0 for an all-zero mask. The
// backward recomputes the mask weight on the device rather than keeping it on the host.
void masked_mse(const float* p, const float* t, const float* m, const cpu::MaskedShape& sh,
                float* y);
void masked_mse_backward(const float* p, const float* t, const float* m, const cpu::MaskedShape& sh,
                         const float* gy, float* dp, float* dt);

// Mean of sqrt(|p_i - t_i|^2 + eps) over n points stored as interleaved (x, y) pairs.
void point_distance(const float* p, const float* t, int64_t n, double eps, float* y);
void point_distance_backward(const float* p, const float* t, int64_t n, double eps, const float* gy,
                             float* dp, float* dt);

}  // namespace maskoff::cuda
