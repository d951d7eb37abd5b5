// CUDA kernels for elementwise arithmetic and activations on contiguous float32 device
// arrays: the GPU twins of layers/cpu/elementwise.h, same argument order and meaning.
// Defined only in CUDA builds; the ops reach them through dispatch's CUDA branch.
#pragma once
#include <cstdint>

namespace maskoff::cuda {

void add(const float* a, const float* b, float* y, int64_t n);
void sub(const float* a, const float* b, float* y, int64_t n);
void mul(const float* a, const float* b, float* y, int64_t n);
void affine(const float* x, float* y, int64_t n, float alpha, float beta);  // alpha x + beta
void axpy(const float* x, float* y, int64_t n, float alpha);                // y += alpha x

void relu(const float* x, float* y, int64_t n);
void relu_backward(const float* x, const float* dy, float* dx, int64_t n);
void leaky_relu(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope);
void tanh(const float* x, float* y, int64_t n);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n);  // from the output
void sigmoid(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n);

}  // namespace maskoff::cuda
