// The engine's CUDA context: the one stream every kernel, copy, cuDNN and cuBLAS call is
// queued on, the cuBLAS and cuDNN handles bound to it (created on first use), the math
// mode, and a pinned staging ring for small host-to-device uploads (kernel argument
// tables) that does not stall the host. Included only by CUDA code (cuda/, GPU benches).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>

namespace maskoff::cuda {

cudaStream_t stream();
cublasHandle_t cublas();
cudnnHandle_t cudnn();

// TF32 for float32 convolutions and GEMMs (see backend::set_tf32).
bool tf32();

// Queues a copy of n host bytes to device memory on the engine stream and returns at once;
// `src` may be reused as soon as this returns (the bytes go through pinned memory). A copy
// from ordinary pageable memory would instead wait for all queued GPU work first.
void upload_async(void* dst_device, const void* src_host, size_t n);

// Blocks for the kernel launch grid: grid-stride loops cover any n with at most this many
// blocks of kThreads threads (enough to fill an H100's 132 SMs many times over).
constexpr int kThreads = 256;
inline unsigned grid_for(long long n, int threads = kThreads) {
  long long b = (n + threads - 1) / threads;
  const long long cap = 8192;
  return static_cast<unsigned>(b < 1 ? 1 : (b > cap ? cap : b));
}

}  // namespace maskoff::cuda
