// CPU reference kernels for the training losses: one fused forward (a reduction to one
// value) and one fused backward per loss, on raw contiguous arrays, templated on the scalar
// type. Sums are accumulated in double even for float inputs (parallel_sum), so a mean over
// a whole batch of 256x256 images keeps about 1e-7 relative accuracy and does not depend on
// the number of threads.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"
#include "tensor/parallel.h"

namespace maskoff::cpu {

// ---- binary cross-entropy on logits -----------------------------------------------------
// Per element max(x,0) - x*t + log(1 + exp(-|x|)): equal to -t log s(x) - (1-t) log(1-s(x))
// but never exponentiates a large positive number. `t` may be null, then every target is tc.
template <class T>
void bce_with_logits(const T* x, const T* t, T tc, int64_t n, T* y) {
  double s = parallel_sum(n, [&](int64_t i) {
    T u = x[i], v = t ? t[i] : tc;
    return (u > T(0) ? u : T(0)) - u * v + std::log1p(std::exp(-std::fabs(u)));
  });
  y[0] = static_cast<T>(s / static_cast<double>(n));
}

// dL/dx = (sigmoid(x) - t) / n and dL/dt = -x / n, both times gy[0]; dx or dt may be null.
template <class T>
void bce_with_logits_backward(const T* x, const T* t, T tc, const T* gy, int64_t n, T* dx, T* dt) {
  T k = gy[0] / static_cast<T>(n);
  parallel_for(n, [&](int64_t i) {
    T u = x[i];
    if (dx) {
      T e = std::exp(-std::fabs(u));  // sigmoid without overflow in either tail
      T sig = u >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      dx[i] = k * (sig - (t ? t[i] : tc));
    }
    if (dt) dt[i] = -k * u;
  });
}

// ---- mean squared error and mean absolute error ----------------------------------------
template <class T>
void mse(const T* p, const T* t, int64_t n, T* y) {
  double s = parallel_sum(n, [&](int64_t i) {
    double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    return d * d;
  });
  y[0] = static_cast<T>(s / static_cast<double>(n));
}

// dL/dp = 2 (p - t) / n * gy, dL/dt = -dL/dp; dp or dt may be null.
template <class T>
void mse_backward(const T* p, const T* t, const T* gy, int64_t n, T* dp, T* dt) {
  T k = T(2) * gy[0] / static_cast<T>(n);
  parallel_for(n, [&](int64_t i) {
    T g = k * (p[i] - t[i]);
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  });
}

template <class T>
void l1(const T* p, const T* t, int64_t n, T* y) {
  double s = parallel_sum(n, [&](int64_t i) {
    return std::fabs(static_cast<double>(p[i]) - static_cast<double>(t[i]));
  });
  y[0] = static_cast<T>(s / static_cast<double>(n));
}

// dL/dp = sign(p - t) / n * gy with sign(0) = 0 (PyTorch's subgradient), dL/dt = -dL/dp.
template <class T>
void l1_backward(const T* p, const T* t, const T* gy, int64_t n, T* dp, T* dt) {
  T k = gy[0] / static_cast<T>(n);
  parallel_for(n, [&](int64_t i) {
    T d = p[i] - t[i];
    T g = d > T(0) ? k : (d < T(0) ? -k : T(0));
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  });
}

// ---- mean squared error weighted by a mask -----------------------------------------------
// p, t: [N, C, HW]; m: [N, mc, HW] with mc = 1 (shared by all channels) or mc = C. The
// CUDA kernels (cuda/losses.cu) take it as it is.
struct MaskedShape {
  int64_t n, c, hw, mc;
  MASKOFF_HD int64_t numel() const { return n * c * hw; }
  // Index into the mask of element i of p.
  MASKOFF_HD int64_t mask_index(int64_t i) const {
    int64_t s = i % hw, nc = i / hw;
    return mc == 1 ? (nc / c) * hw + s : i;
  }
};

// Writes sum(m (p - t)^2) / denom to y[0] and returns denom, the total mask weight over all
// C channels; an all-zero mask gives y = 0 (not 0/0).
template <class T>
double masked_mse(const T* p, const T* t, const T* m, const MaskedShape& sh, T* y) {
  double w = parallel_sum(sh.n * sh.mc * sh.hw, [&](int64_t i) { return m[i]; });
  double denom = sh.mc == 1 ? w * static_cast<double>(sh.c) : w;
  double s = 0.0;
  if (denom != 0.0)
    s = parallel_sum(sh.numel(), [&](int64_t i) {
      double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
      return static_cast<double>(m[sh.mask_index(i)]) * d * d;
    });
  y[0] = denom != 0.0 ? static_cast<T>(s / denom) : T(0);
  return denom;
}

// dL/dp = 2 m (p - t) / denom * gy, dL/dt = -dL/dp; zero everywhere when denom is 0.
template <class T>
void masked_mse_backward(const T* p, const T* t, const T* m, const MaskedShape& sh, double denom,
                         const T* gy, T* dp, T* dt) {
  T k = denom != 0.0 ? static_cast<T>(2.0 * static_cast<double>(gy[0]) / denom) : T(0);
  parallel_for(sh.numel(), [&](int64_t i) {
    T g = k * m[sh.mask_index(i)] * (p[i] - t[i]);
    if (dp) dp[i] = g;
    if (dt) dt[i] = -g;
  });
}

// ---- mean distance between 2-D points ----------------------------------------------------
// p, t: n points as interleaved (x, y) pairs.
template <class T>
void point_distance(const T* p, const T* t, int64_t n, double eps, T* y) {
  double s = parallel_sum(n, [&](int64_t i) {
    double dx = static_cast<double>(p[2 * i]) - static_cast<double>(t[2 * i]);
    double dy = static_cast<double>(p[2 * i + 1]) - static_cast<double>(t[2 * i + 1]);
    return std::sqrt(dx * dx + dy * dy + eps);
  });
  y[0] = static_cast<T>(s / static_cast<double>(n));
}

// dL/dp = (p - t) / sqrt(|p - t|^2 + eps) / n * gy, dL/dt = -dL/dp; dp or dt may be null.
template <class T>
void point_distance_backward(const T* p, const T* t, int64_t n, double eps, const T* gy, T* dp,
                             T* dt) {
  const double k = static_cast<double>(gy[0]) / static_cast<double>(n);
  parallel_for(n, [&](int64_t i) {
    double dx = static_cast<double>(p[2 * i]) - static_cast<double>(t[2 * i]);
    double dy = static_cast<double>(p[2 * i + 1]) - static_cast<double>(t[2 * i + 1]);
    double s = k / std::sqrt(dx * dx + dy * dy + eps);
    if (dp) dp[2 * i] = static_cast<T>(s * dx), dp[2 * i + 1] = static_cast<T>(s * dy);
    if (dt) dt[2 * i] = static_cast<T>(-s * dx), dt[2 * i + 1] = static_cast<T>(-s * dy);
  });
}

}  // namespace maskoff::cpu
