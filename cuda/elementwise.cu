// Elementwise kernels: one thread per element in a grid-stride loop. Each should be memory
// bound: a unary op moves 8 bytes per element, a binary op 12, so at ~3 TB/s (H100 HBM3)
// a 256x256x64 activation (4.2M elements) takes a predicted ~11 us (unary) or ~17 us
// (binary), until cuda_ops_bench measures them on a GPU.
#include "cuda/elementwise.h"
#include "cuda/kernel_util.cuh"

namespace maskoff::cuda {

namespace {

template <class F>
__global__ void map1_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, F f) {
  MASKOFF_GRID_LOOP(i, n) y[i] = f(x[i]);
}
template <class F>
__global__ void map2_kernel(const float* __restrict__ a, const float* __restrict__ b,
                            float* __restrict__ y, int64_t n, F f) {
  MASKOFF_GRID_LOOP(i, n) y[i] = f(a[i], b[i]);
}

template <class F>
void map1(const float* x, float* y, int64_t n, F f) {
  if (n <= 0) return;
  MASKOFF_LAUNCH(map1_kernel<F>, grid_for(n), kThreads, 0, x, y, n, f);
}
template <class F>
void map2(const float* a, const float* b, float* y, int64_t n, F f) {
  if (n <= 0) return;
  MASKOFF_LAUNCH(map2_kernel<F>, grid_for(n), kThreads, 0, a, b, y, n, f);
}

// The functors (device lambdas would need --extended-lambda).
struct Add {
  __device__ float operator()(float u, float v) const { return u + v; }
};
struct Sub {
  __device__ float operator()(float u, float v) const { return u - v; }
};
struct Mul {
  __device__ float operator()(float u, float v) const { return u * v; }
};
struct Affine {
  float alpha, beta;
  __device__ float operator()(float u) const { return alpha * u + beta; }
};
// NaN stays NaN, as on the CPU.
struct Relu {
  __device__ float operator()(float u) const { return u <= 0.f ? 0.f : u; }
};
struct ReluBackward {
  __device__ float operator()(float u, float g) const { return u > 0.f ? g : 0.f; }
};
struct LeakyRelu {
  float slope;
  __device__ float operator()(float u) const { return u > 0.f ? u : slope * u; }
};
struct LeakyReluBackward {
  float slope;
  __device__ float operator()(float u, float g) const { return u > 0.f ? g : slope * g; }
};
struct Tanh {
  __device__ float operator()(float u) const { return tanhf(u); }
};
struct TanhBackward {
  __device__ float operator()(float v, float g) const { return g * (1.f - v * v); }
};
// Stable in both tails, as the CPU's sigmoid1.
struct Sigmoid {
  __device__ float operator()(float u) const {
    if (u >= 0.f) return 1.f / (1.f + expf(-u));
    const float e = expf(u);
    return e / (1.f + e);
  }
};
struct SigmoidBackward {
  __device__ float operator()(float v, float g) const { return g * v * (1.f - v); }
};

}  // namespace

void add(const float* a, const float* b, float* y, int64_t n) { map2(a, b, y, n, Add{}); }
void sub(const float* a, const float* b, float* y, int64_t n) { map2(a, b, y, n, Sub{}); }
void mul(const float* a, const float* b, float* y, int64_t n) { map2(a, b, y, n, Mul{}); }
void affine(const float* x, float* y, int64_t n, float alpha, float beta) {
  map1(x, y, n, Affine{alpha, beta});
}
// y is read and written in place, and x may even be y (add_(t, t)): no restrict here.
namespace {
__global__ void axpy_kernel(const float* x, float* y, int64_t n, float alpha) {
  MASKOFF_GRID_LOOP(i, n) y[i] += alpha * x[i];
}
}  // namespace
void axpy(const float* x, float* y, int64_t n, float alpha) {
  if (n <= 0) return;
  MASKOFF_LAUNCH(axpy_kernel, grid_for(n), kThreads, 0, x, y, n, alpha);
}

void relu(const float* x, float* y, int64_t n) { map1(x, y, n, Relu{}); }
void relu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  map2(x, dy, dx, n, ReluBackward{});
}
void leaky_relu(const float* x, float* y, int64_t n, float slope) {
  map1(x, y, n, LeakyRelu{slope});
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope) {
  map2(x, dy, dx, n, LeakyReluBackward{slope});
}
void tanh(const float* x, float* y, int64_t n) { map1(x, y, n, Tanh{}); }
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n) {
  map2(y, dy, dx, n, TanhBackward{});
}
void sigmoid(const float* x, float* y, int64_t n) { map1(x, y, n, Sigmoid{}); }
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n) {
  map2(y, dy, dx, n, SigmoidBackward{});
}

}  // namespace maskoff::cuda
