// Batch-norm kernels. Training forward and backward run one block per channel: the block
// reduces its channel's N*H*W values in double (warp shuffles, fixed order), then, in the
// same kernel, makes a second pass that writes y or dx, so statistics and normalisation are
// fused and the second read should mostly hit L2 (predicted, until cuda_ops_bench measures
// it). Traffic: forward reads x twice and writes y (12 bytes per element), backward reads x
// and dy twice and writes dx (20 bytes).
// Fixed statistics (eval) need no reduction and run one thread per element.
#include "cuda/kernel_util.cuh"
#include "cuda/norm.h"

namespace maskoff::cuda {

namespace {

constexpr int kBnThreads = 512;

__global__ void bn_train_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                const float* __restrict__ beta, float eps, cpu::BatchNormDims d,
                                float* __restrict__ y, float* __restrict__ mean,
                                float* __restrict__ invstd, float* __restrict__ running_mean,
                                float* __restrict__ running_var, double momentum) {
  const int64_t c = blockIdx.x, m = d.per_channel();
  // As the CPU: sums about the channel's first value, in double, so one pass gives the
  // variance without cancellation.
  const double shift = m > 0 ? static_cast<double>(x[c * d.hw]) : 0.0;
  double s1 = 0, s2 = 0;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
    const double u = static_cast<double>(x[d.at(c, j)]) - shift;
    s1 += u;
    s2 += u * u;
  }
  s1 = block_sum(s1);
  s2 = block_sum(s2);
  const double md = static_cast<double>(m);
  const double mu = s1 / md;
  const double v = fmax(0.0, s2 / md - mu * mu);
  const float mean_f = static_cast<float>(shift + mu);
  const float var_f = static_cast<float>(v);
  const float invstd_f = static_cast<float>(1.0 / sqrt(v + static_cast<double>(eps)));
  if (threadIdx.x == 0) {
    mean[c] = mean_f;
    invstd[c] = invstd_f;
    if (running_mean) {
      const double unbiased = static_cast<double>(var_f) * (md / (md - 1));
      running_mean[c] = static_cast<float>((1 - momentum) * running_mean[c] + momentum * mean_f);
      running_var[c] = static_cast<float>((1 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
  const float scale = invstd_f * (gamma ? gamma[c] : 1.f);
  const float shift_out = beta ? beta[c] : 0.f;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
    const int64_t k = d.at(c, j);
    y[k] = (x[k] - mean_f) * scale + shift_out;
  }
}

__global__ void bn_running_stats_kernel(const float* __restrict__ running_mean,
                                        const float* __restrict__ running_var, double eps,
                                        int64_t channels, float* __restrict__ mean,
                                        float* __restrict__ invstd) {
  MASKOFF_GRID_LOOP(c, channels) {
    mean[c] = running_mean[c];
    invstd[c] = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[c]) + eps));
  }
}

__global__ void bn_apply_kernel(const float* __restrict__ x, const float* __restrict__ mean,
                                const float* __restrict__ invstd, const float* __restrict__ gamma,
                                const float* __restrict__ beta, cpu::BatchNormDims d,
                                float* __restrict__ y) {
  MASKOFF_GRID_LOOP(i, d.n * d.c * d.hw) {
    const int64_t c = (i / d.hw) % d.c;
    const float scale = invstd[c] * (gamma ? gamma[c] : 1.f);
    y[i] = (x[i] - mean[c]) * scale + (beta ? beta[c] : 0.f);
  }
}

// dbeta = sum(dy), dgamma = sum(dy * xhat); with batch statistics also the terms through
// the mean and variance: dx = gamma * invstd * (dy - dbeta/M - xhat * dgamma/M).
__global__ void bn_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                   const float* __restrict__ mean, const float* __restrict__ invstd,
                                   const float* __restrict__ gamma, bool batch_stats,
                                   cpu::BatchNormDims d, float* __restrict__ dx,
                                   float* __restrict__ dgamma, float* __restrict__ dbeta) {
  const int64_t c = blockIdx.x, m = d.per_channel();
  const double mu = mean[c], is = invstd[c];
  double sum_dy = 0, sum_dy_xhat = 0;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
    const int64_t k = d.at(c, j);
    const double g = dy[k];
    sum_dy += g;
    sum_dy_xhat += g * (static_cast<double>(x[k]) - mu) * is;
  }
  sum_dy = block_sum(sum_dy);
  sum_dy_xhat = block_sum(sum_dy_xhat);
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[c] = static_cast<float>(sum_dy);
    if (dgamma) dgamma[c] = static_cast<float>(sum_dy_xhat);
  }
  if (!dx) return;
  const double md = static_cast<double>(m);
  const float k = static_cast<float>((gamma ? gamma[c] : 1.0) * is);
  const float a = batch_stats ? static_cast<float>(sum_dy / md) : 0.f;
  const float b = batch_stats ? static_cast<float>(sum_dy_xhat / md) : 0.f;
  const float tmu = mean[c], tis = invstd[c];
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
    const int64_t i = d.at(c, j);
    dx[i] = k * (dy[i] - a - (x[i] - tmu) * tis * b);
  }
}

// Fixed statistics and only dx wanted: dx = gamma * invstd * dy, elementwise.
__global__ void bn_backward_fixed_kernel(const float* __restrict__ dy,
                                         const float* __restrict__ invstd,
                                         const float* __restrict__ gamma, cpu::BatchNormDims d,
                                         float* __restrict__ dx) {
  MASKOFF_GRID_LOOP(i, d.n * d.c * d.hw) {
    const int64_t c = (i / d.hw) % d.c;
    const float k = static_cast<float>((gamma ? gamma[c] : 1.0) * static_cast<double>(invstd[c]));
    dx[i] = k * dy[i];
  }
}

}  // namespace

void batch_norm_train(const float* x, const float* gamma, const float* beta, float eps,
                      const cpu::BatchNormDims& d, float* y, float* mean, float* invstd,
                      float* running_mean, float* running_var, double momentum) {
  if (d.c <= 0) return;
  MASKOFF_LAUNCH(bn_train_kernel, static_cast<unsigned>(d.c), kBnThreads, 0, x, gamma, beta, eps, d,
                 y, mean, invstd, running_mean, running_var, momentum);
}

void batch_norm_eval(const float* x, const float* running_mean, const float* running_var,
                     const float* gamma, const float* beta, double eps, const cpu::BatchNormDims& d,
                     float* y, float* mean, float* invstd) {
  if (d.c <= 0) return;
  MASKOFF_LAUNCH(bn_running_stats_kernel, grid_for(d.c), kThreads, 0, running_mean, running_var,
                 eps, d.c, mean, invstd);
  const int64_t total = d.n * d.c * d.hw;
  if (total <= 0) return;
  MASKOFF_LAUNCH(bn_apply_kernel, grid_for(total), kThreads, 0, x, mean, invstd, gamma, beta, d, y);
}

void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* invstd,
                         const float* gamma, bool batch_stats, const cpu::BatchNormDims& d,
                         float* dx, float* dgamma, float* dbeta) {
  if (d.c <= 0) return;
  if (!batch_stats && !dgamma && !dbeta) {
    const int64_t total = d.n * d.c * d.hw;
    if (total <= 0 || !dx) return;
    MASKOFF_LAUNCH(bn_backward_fixed_kernel, grid_for(total), kThreads, 0, dy, invstd, gamma, d,
                   dx);
  } else {
    MASKOFF_LAUNCH(bn_backward_kernel, static_cast<unsigned>(d.c), kBnThreads, 0, x, dy, mean,
                   invstd, gamma, batch_stats, d, dx, dgamma, dbeta);
  }
}

}  // namespace maskoff::cuda
