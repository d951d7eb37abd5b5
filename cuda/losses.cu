// Loss kernels. Forward: a deterministic two-pass sum in double (cuda/kernel_util.cuh)
// whose last block writes the mean; each reads its inputs once (8 bytes per element, 12
// with a mask), so a 256x256x3 batch-1 L1 costs ~1.6 MB of traffic: predicted launch-bound,
// a few us, until cuda_ops_bench measures it on a GPU.
// Backward: elementwise, scaled by gy[0] read on the device.
#include "cuda/device_buffer.h"
#include "cuda/kernel_util.cuh"
#include "cuda/losses.h"

namespace maskoff::cuda {

namespace {

// Writes a / n to y[0].
struct MeanFinish {
  float* y;
  double n;
  __device__ void operator()(double a, double) const { y[0] = static_cast<float>(a / n); }
};

template <class Term>
void mean_of(int64_t n, Term term, float* y) {
  DeviceBuffer scratch(static_cast<size_t>(reduce_blocks(n)) * sizeof(Sum2));
  sum_terms(n, term, MeanFinish{y, static_cast<double>(n)}, scratch.as<Sum2>());
}

// ---- binary cross-entropy on logits ----
struct BceTerm {
  const float *x, *t;
  float tc;
  __device__ Sum2 operator()(int64_t i) const {
    const float u = x[i], v = t ? t[i] : tc;
    return {static_cast<double>((u > 0.f ? u : 0.f) - u * v + log1pf(expf(-fabsf(u)))), 0.0};
  }
};
__global__ void bce_backward_kernel(const float* __restrict__ x, const float* __restrict__ t,
                                    float tc, const float* __restrict__ gy, int64_t n,
                                    float* __restrict__ dx, float* __restrict__ dt) {
  const float k = gy[0] / static_cast<float>(n);
  MASKOFF_GRID_LOOP(i, n) {
    const float u = x[i];
    if (dx) {
      const float e = expf(-fabsf(u));  // sigmoid without overflow in either tail
      const float sig = u >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
      dx[i] = k * (sig - (t ? t[i] : tc));
    }
    if (dt) dt[i] = -k * u;
  }
}

// ---- mean squared and absolute error ----
struct SquaredTerm {
  const float *p, *t;
  __device__ Sum2 operator()(int64_t i) const {
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    return {d * d, 0.0};
  }
};
struct AbsTerm {
  const float *p, *t;
  __device__ Sum2 operator()(int64_t i) const {
    return {fabs(static_cast<double>(p[i]) - static_cast<double>(t[i])), 0.0};
  }
};
__global__ void mse_backward_kernel(const float* __restrict__ p, const float* __restrict__ t,
                                    const float* __restrict__ gy, int64_t n, float* __restrict__ dp,
                                    float* __restrict__ dt) {
  const float k = 2.f * gy[0] / static_cast<float>(n);
  MASKOFF_GRID_LOOP(i, n) {
    const float g = k * (p[i] - t[i]);
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  }
}
__global__ void l1_backward_kernel(const float* __restrict__ p, const float* __restrict__ t,
                                   const float* __restrict__ gy, int64_t n, float* __restrict__ dp,
                                   float* __restrict__ dt) {
  const float k = gy[0] / static_cast<float>(n);
  MASKOFF_GRID_LOOP(i, n) {
    const float d = p[i] - t[i];
    const float g = d > 0.f ? k : (d < 0.f ? -k : 0.f);
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  }
}

// ---- masked mean squared error ----
// Counts each mask value once per use in the denominator: a shared mask [N, 1, H, W]
// weighs all C channels, so it is counted (at channel 0) and multiplied by C later.
__device__ __forceinline__ bool counts_weight(const cpu::MaskedShape& sh, int64_t i) {
  return sh.mc != 1 || (i / sh.hw) % sh.c == 0;
}
struct MaskedTerm {
  const float *p, *t, *m;
  cpu::MaskedShape sh;
  __device__ Sum2 operator()(int64_t i) const {
    const double w = m[sh.mask_index(i)];
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    return {w * d * d, counts_weight(sh, i) ? w : 0.0};
  }
};
struct MaskedFinish {
  float* y;
  cpu::MaskedShape sh;
  __device__ void operator()(double s, double w) const {
    const double denom = sh.mc == 1 ? w * static_cast<double>(sh.c) : w;
    y[0] = denom != 0.0 ? static_cast<float>(s / denom) : 0.f;
  }
};
struct MaskWeightTerm {
  const float* m;
  __device__ Sum2 operator()(int64_t i) const { return {static_cast<double>(m[i]), 0.0}; }
};
struct DenomFinish {
  double* denom;
  double channels;  // C for a shared mask, 1 otherwise
  __device__ void operator()(double w, double) const { denom[0] = w * channels; }
};
__global__ void masked_mse_backward_kernel(const float* __restrict__ p, const float* __restrict__ t,
                                           const float* __restrict__ m, cpu::MaskedShape sh,
                                           const double* __restrict__ denom,
                                           const float* __restrict__ gy, float* __restrict__ dp,
                                           float* __restrict__ dt) {
  const double den = denom[0];
  const float k = den != 0.0 ? static_cast<float>(2.0 * static_cast<double>(gy[0]) / den) : 0.f;
  MASKOFF_GRID_LOOP(i, sh.numel()) {
    const float g = k * m[sh.mask_index(i)] * (p[i] - t[i]);
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  }
}

// ---- mean distance between 2-D points (in double, as the CPU) ----
struct DistanceTerm {
  const float *p, *t;
  double eps;
  __device__ Sum2 operator()(int64_t i) const {
    const double dx = static_cast<double>(p[2 * i]) - static_cast<double>(t[2 * i]);
    const double dy = static_cast<double>(p[2 * i + 1]) - static_cast<double>(t[2 * i + 1]);
    return {sqrt(dx * dx + dy * dy + eps), 0.0};
  }
};
__global__ void point_distance_backward_kernel(const float* __restrict__ p,
                                               const float* __restrict__ t, int64_t n, double eps,
                                               const float* __restrict__ gy, float* __restrict__ dp,
                                               float* __restrict__ dt) {
  const double k = static_cast<double>(gy[0]) / static_cast<double>(n);
  MASKOFF_GRID_LOOP(i, n) {
    const double dx = static_cast<double>(p[2 * i]) - static_cast<double>(t[2 * i]);
    const double dy = static_cast<double>(p[2 * i + 1]) - static_cast<double>(t[2 * i + 1]);
    const double s = k / sqrt(dx * dx + dy * dy + eps);
    if (dp) {
      dp[2 * i] = static_cast<float>(s * dx);
      dp[2 * i + 1] = static_cast<float>(s * dy);
    }
    if (dt) {
      dt[2 * i] = static_cast<float>(-s * dx);
      dt[2 * i + 1] = static_cast<float>(-s * dy);
    }
  }
}

}  // namespace

void bce_with_logits(const float* x, const float* t, float tc, int64_t n, float* y) {
  mean_of(n, BceTerm{x, t, tc}, y);
}
void bce_with_logits_backward(const float* x, const float* t, float tc, const float* gy, int64_t n,
                              float* dx, float* dt) {
  if (n <= 0 || (!dx && !dt)) return;
  MASKOFF_LAUNCH(bce_backward_kernel, grid_for(n), kThreads, 0, x, t, tc, gy, n, dx, dt);
}

void mse(const float* p, const float* t, int64_t n, float* y) { mean_of(n, SquaredTerm{p, t}, y); }
void mse_backward(const float* p, const float* t, const float* gy, int64_t n, float* dp,
                  float* dt) {
  if (n <= 0 || (!dp && !dt)) return;
  MASKOFF_LAUNCH(mse_backward_kernel, grid_for(n), kThreads, 0, p, t, gy, n, dp, dt);
}

void l1(const float* p, const float* t, int64_t n, float* y) { mean_of(n, AbsTerm{p, t}, y); }
void l1_backward(const float* p, const float* t, const float* gy, int64_t n, float* dp, float* dt) {
  if (n <= 0 || (!dp && !dt)) return;
  MASKOFF_LAUNCH(l1_backward_kernel, grid_for(n), kThreads, 0, p, t, gy, n, dp, dt);
}

void masked_mse(const float* p, const float* t, const float* m, const cpu::MaskedShape& sh,
                float* y) {
  const int64_t n = sh.numel();
  DeviceBuffer scratch(static_cast<size_t>(reduce_blocks(n)) * sizeof(Sum2));
  sum_terms(n, MaskedTerm{p, t, m, sh}, MaskedFinish{y, sh}, scratch.as<Sum2>());
}

void masked_mse_backward(const float* p, const float* t, const float* m, const cpu::MaskedShape& sh,
                         const float* gy, float* dp, float* dt) {
  const int64_t n = sh.numel();
  if (n <= 0 || (!dp && !dt)) return;
  const int64_t mask_n = sh.n * sh.mc * sh.hw;
  DeviceBuffer scratch(static_cast<size_t>(reduce_blocks(mask_n)) * sizeof(Sum2));
  DeviceBuffer denom(sizeof(double));
  sum_terms(mask_n, MaskWeightTerm{m},
            DenomFinish{denom.as<double>(), sh.mc == 1 ? static_cast<double>(sh.c) : 1.0},
            scratch.as<Sum2>());
  MASKOFF_LAUNCH(masked_mse_backward_kernel, grid_for(n), kThreads, 0, p, t, m, sh,
                 denom.as<double>(), gy, dp, dt);
}

void point_distance(const float* p, const float* t, int64_t n, double eps, float* y) {
  mean_of(n, DistanceTerm{p, t, eps}, y);
}
void point_distance_backward(const float* p, const float* t, int64_t n, double eps, const float* gy,
                             float* dp, float* dt) {
  if (n <= 0 || (!dp && !dt)) return;
  MASKOFF_LAUNCH(point_distance_backward_kernel, grid_for(n), kThreads, 0, p, t, n, eps, gy, dp,
                 dt);
}

}  // namespace maskoff::cuda
