// CUDA kernels for bias broadcasts and their gradients: per channel of an NCHW array
// (convolutions) and per column of a row-major matrix (linear layers).
#pragma once
#include <cstdint>

namespace maskoff::cuda {

// y[n, c, :] += b[c].
void add_channel_bias(float* y, const float* b, int64_t n, int64_t c, int64_t plane);
// db[c] = sum over n and the plane of dy[n, c, :] (double accumulation, fixed order).
void channel_bias_grad(const float* dy, int64_t n, int64_t c, int64_t plane, float* db);
// y[r, j] += b[j] for `rows` rows of length n.
void add_row_bias(float* y, const float* b, int64_t rows, int64_t n);

}  // namespace maskoff::cuda
