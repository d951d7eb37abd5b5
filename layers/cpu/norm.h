// CPU reference kernels for 2-D batch normalisation over NCHW arrays, templated on the
// scalar type. Work is split over channels: each channel's statistics, normalisation and
// gradient sums touch only that channel, so channels run in parallel without reductions
// across threads.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"
#include "tensor/parallel.h"

namespace maskoff::cpu {

// Channel c of image n starts at x + (n * C + c) * HW. The CUDA kernels (cuda/norm.cu)
// take it as it is.
struct BatchNormDims {
  int64_t n, c, hw;
  MASKOFF_HD int64_t per_channel() const { return n * hw; }
  // The NCHW index of the j-th value of channel `channel`, counting image by image: what a
  // CUDA thread striding over one channel's values needs. The loops below walk the images
  // and the plane instead.
  MASKOFF_HD int64_t at(int64_t channel, int64_t j) const {
    return ((j / hw) * c + channel) * hw + j % hw;
  }
  int64_t grain() const { return kParallelGrain / std::max<int64_t>(1, per_channel()); }
};

// y = (x - mean) * invstd * gamma + beta for one channel; gamma/beta may be null.
// Subtracting the mean first (rather than folding it into one shift) keeps float32 exact
// for data far from zero.
template <class T>
void batch_norm_apply_channel(const T* x, T* y, BatchNormDims d, int64_t c, T mean, T invstd,
                              const T* gamma, const T* beta) {
  const T scale = invstd * (gamma ? gamma[c] : T(1));
  const T shift = beta ? beta[c] : T(0);
  for (int64_t n = 0; n < d.n; ++n) {
    const T* xp = x + (n * d.c + c) * d.hw;
    T* yp = y + (n * d.c + c) * d.hw;
    for (int64_t i = 0; i < d.hw; ++i) yp[i] = (xp[i] - mean) * scale + shift;
  }
}

// Training forward: per channel, the batch mean and biased variance, then y. The sums are
// taken about the channel's first value (a shift inside the data's range) and in double, so
// one pass gives the variance without the cancellation of the naive sum of squares.
// Writes mean and invstd = 1/sqrt(var + eps) per channel and, when running_mean and
// running_var are given, updates them in place as
// running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
template <class T>
void batch_norm_train(const T* x, const T* gamma, const T* beta, T eps, BatchNormDims d, T* y,
                      T* mean, T* invstd, T* running_mean, T* running_var, double momentum) {
  const double m = static_cast<double>(d.per_channel());
  parallel_for(
      d.c,
      [&](int64_t c) {
        const double shift = m > 0 ? static_cast<double>(x[c * d.hw]) : 0.0;
        double s1 = 0, s2 = 0;
        for (int64_t n = 0; n < d.n; ++n) {
          const T* xp = x + (n * d.c + c) * d.hw;
          for (int64_t i = 0; i < d.hw; ++i) {
            double u = static_cast<double>(xp[i]) - shift;
            s1 += u;
            s2 += u * u;
          }
        }
        double mu = s1 / m;
        double v = std::max(0.0, s2 / m - mu * mu);
        mean[c] = static_cast<T>(shift + mu);
        const T var = static_cast<T>(v);
        invstd[c] = static_cast<T>(1.0 / std::sqrt(v + static_cast<double>(eps)));
        if (running_mean) {
          const double unbiased = var * (m / (m - 1));
          running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * mean[c]);
          running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * unbiased);
        }
        batch_norm_apply_channel(x, y, d, c, mean[c], invstd[c], gamma, beta);
      },
      d.grain());
}

// Eval forward with the running statistics: writes mean = running_mean and
// invstd = 1/sqrt(running_var + eps) per channel (copies, which the backward keeps: the
// running statistics change in place at the next training step), then y.
template <class T>
void batch_norm_eval(const T* x, const T* running_mean, const T* running_var, const T* gamma,
                     const T* beta, double eps, BatchNormDims d, T* y, T* mean, T* invstd) {
  parallel_for(
      d.c,
      [&](int64_t c) {
        mean[c] = running_mean[c];
        invstd[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
        batch_norm_apply_channel(x, y, d, c, mean[c], invstd[c], gamma, beta);
      },
      d.grain());
}

// Backward. With xhat = (x - mean) * invstd and M values per channel:
//   dbeta  = sum(dy),  dgamma = sum(dy * xhat)
//   dx     = gamma * invstd * (dy - dbeta/M - xhat * dgamma/M)   (batch statistics)
//   dx     = gamma * invstd * dy                                  (fixed statistics)
// The batch-statistics terms are the derivative through mean and variance, which are
// functions of x only in training. Any of dx, dgamma, dbeta may be null.
template <class T>
void batch_norm_backward(const T* x, const T* dy, const T* mean, const T* invstd, const T* gamma,
                         bool batch_stats, BatchNormDims d, T* dx, T* dgamma, T* dbeta) {
  const double m = static_cast<double>(d.per_channel());
  parallel_for(
      d.c,
      [&](int64_t c) {
        const double mu = mean[c], is = invstd[c];
        double sum_dy = 0, sum_dy_xhat = 0;
        if (dgamma || dbeta || batch_stats) {
          for (int64_t n = 0; n < d.n; ++n) {
            const T* xp = x + (n * d.c + c) * d.hw;
            const T* gp = dy + (n * d.c + c) * d.hw;
            for (int64_t i = 0; i < d.hw; ++i) {
              double g = gp[i];
              sum_dy += g;
              sum_dy_xhat += g * (static_cast<double>(xp[i]) - mu) * is;
            }
          }
        }
        if (dbeta) dbeta[c] = static_cast<T>(sum_dy);
        if (dgamma) dgamma[c] = static_cast<T>(sum_dy_xhat);
        if (!dx) return;
        const T k = static_cast<T>((gamma ? gamma[c] : 1.0) * is);
        const T a = batch_stats ? static_cast<T>(sum_dy / m) : T(0);
        const T b = batch_stats ? static_cast<T>(sum_dy_xhat / m) : T(0);
        const T tmu = mean[c], tis = invstd[c];
        for (int64_t n = 0; n < d.n; ++n) {
          const T* xp = x + (n * d.c + c) * d.hw;
          const T* gp = dy + (n * d.c + c) * d.hw;
          T* dp = dx + (n * d.c + c) * d.hw;
          for (int64_t i = 0; i < d.hw; ++i) dp[i] = k * (gp[i] - a - (xp[i] - tmu) * tis * b);
        }
      },
      d.grain());
}

}  // namespace maskoff::cpu
