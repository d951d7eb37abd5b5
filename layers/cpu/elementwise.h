// CPU reference kernels for elementwise arithmetic and activations, on raw contiguous
// arrays, templated on the scalar type (float for the product, double for gradient checks).
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/parallel.h"

namespace maskoff::cpu {

template <class T, class F>
void map1(const T* x, T* y, int64_t n, F f) {
  parallel_for(n, [&](int64_t i) { y[i] = f(x[i]); });
}
template <class T, class F>
void map2(const T* a, const T* b, T* y, int64_t n, F f) {
  parallel_for(n, [&](int64_t i) { y[i] = f(a[i], b[i]); });
}

template <class T>
void add(const T* a, const T* b, T* y, int64_t n) {
  map2(a, b, y, n, [](T u, T v) { return u + v; });
}
template <class T>
void sub(const T* a, const T* b, T* y, int64_t n) {
  map2(a, b, y, n, [](T u, T v) { return u - v; });
}
template <class T>
void mul(const T* a, const T* b, T* y, int64_t n) {
  map2(a, b, y, n, [](T u, T v) { return u * v; });
}
// y = alpha * x + beta (covers scalar add, scalar multiply and negation)
template <class T>
void affine(const T* x, T* y, int64_t n, T alpha, T beta) {
  map1(x, y, n, [=](T u) { return alpha * u + beta; });
}
// y += alpha * x
template <class T>
void axpy(const T* x, T* y, int64_t n, T alpha) {
  parallel_for(n, [&](int64_t i) { y[i] += alpha * x[i]; });
}

// ---- activations: forward, and backward in terms of what the forward saved ----
// A NaN stays NaN (as max_pool2d's does, and PyTorch's relu): written as u <= 0 ? 0 : u,
// since u > 0 ? u : 0 would turn it into 0 and hide it from every later check.
template <class T>
void relu(const T* x, T* y, int64_t n) {
  map1(x, y, n, [](T u) { return u <= T(0) ? T(0) : u; });
}
// dx = dy where x > 0 (the derivative at exactly 0 is taken as 0)
template <class T>
void relu_backward(const T* x, const T* dy, T* dx, int64_t n) {
  map2(x, dy, dx, n, [](T u, T g) { return u > T(0) ? g : T(0); });
}
template <class T>
void leaky_relu(const T* x, T* y, int64_t n, T slope) {
  map1(x, y, n, [=](T u) { return u > T(0) ? u : slope * u; });
}
template <class T>
void leaky_relu_backward(const T* x, const T* dy, T* dx, int64_t n, T slope) {
  map2(x, dy, dx, n, [=](T u, T g) { return u > T(0) ? g : slope * g; });
}
template <class T>
void tanh(const T* x, T* y, int64_t n) {
  map1(x, y, n, [](T u) { return std::tanh(u); });
}
// d tanh = 1 - y^2, from the saved output y
template <class T>
void tanh_backward(const T* y, const T* dy, T* dx, int64_t n) {
  map2(y, dy, dx, n, [](T v, T g) { return g * (T(1) - v * v); });
}
// Stable in both tails: never exponentiates a large positive number.
template <class T>
inline T sigmoid1(T u) {
  if (u >= T(0)) return T(1) / (T(1) + std::exp(-u));
  T e = std::exp(u);
  return e / (T(1) + e);
}
template <class T>
void sigmoid(const T* x, T* y, int64_t n) {
  map1(x, y, n, [](T u) { return sigmoid1(u); });  // a lambda inlines; a function pointer would not
}
template <class T>
void sigmoid_backward(const T* y, const T* dy, T* dx, int64_t n) {
  map2(y, dy, dx, n, [](T v, T g) { return g * v * (T(1) - v); });
}

}  // namespace maskoff::cpu
