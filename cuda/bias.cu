// Bias kernels. The broadcasts are elementwise (8 bytes per element); the channel
// gradient is one block per channel reducing N * plane values in double.
#include "cuda/bias.h"
#include "cuda/kernel_util.cuh"

namespace maskoff::cuda {

namespace {
__global__ void add_channel_bias_kernel(float* __restrict__ y, const float* __restrict__ b,
                                        int64_t total, int64_t c, int64_t plane) {
  MASKOFF_GRID_LOOP(i, total) y[i] += b[(i / plane) % c];
}

__global__ void channel_bias_grad_kernel(const float* __restrict__ dy, int64_t n, int64_t c,
                                         int64_t plane, float* __restrict__ db) {
  const int64_t ch = blockIdx.x, m = n * plane;
  double acc = 0;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x)
    acc += dy[((j / plane) * c + ch) * plane + j % plane];
  acc = block_sum(acc);
  if (threadIdx.x == 0) db[ch] = static_cast<float>(acc);
}

__global__ void add_row_bias_kernel(float* __restrict__ y, const float* __restrict__ b,
                                    int64_t total, int64_t n) {
  MASKOFF_GRID_LOOP(i, total) y[i] += b[i % n];
}
}  // namespace

void add_channel_bias(float* y, const float* b, int64_t n, int64_t c, int64_t plane) {
  const int64_t total = n * c * plane;
  if (total <= 0) return;
  MASKOFF_LAUNCH(add_channel_bias_kernel, grid_for(total), kThreads, 0, y, b, total, c, plane);
}

void channel_bias_grad(const float* dy, int64_t n, int64_t c, int64_t plane, float* db) {
  if (c <= 0) return;
  MASKOFF_LAUNCH(channel_bias_grad_kernel, static_cast<unsigned>(c), 512, 0, dy, n, c, plane, db);
}

void add_row_bias(float* y, const float* b, int64_t rows, int64_t n) {
  const int64_t total = rows * n;
  if (total <= 0) return;
  MASKOFF_LAUNCH(add_row_bias_kernel, grid_for(total), kThreads, 0, y, b, total, n);
}

}  // namespace maskoff::cuda
