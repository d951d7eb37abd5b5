// The one way kernels are launched:
//
//   MASKOFF_LAUNCH(relu_kernel, grid_for(n), kThreads, 0, x, y, n);
//
// queues relu_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, y, n) on the engine stream
// and checks the launch at once: a bad configuration (too many threads, too much shared
// memory, a grid too large) throws maskoff::Error naming the kernel, its configuration
// and the launch site. Errors inside the kernel surface later, at the next
// synchronisation, as everywhere in CUDA.
//
// In the simulation build (-DMASKOFF_CUDA=SIM) the same call hands the kernel to cudasim,
// which runs it on the CPU (docs/cuda_sim.md); the kernel sources do not change.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "cuda/check.h"
#include "cuda/context.h"

namespace maskoff::cuda {

template <class... Params, class... Args>
void launch(const char* name, const char* file, int line, void (*kernel)(Params...), dim3 grid,
            dim3 block, size_t shared_bytes, Args&&... args) {
#ifdef MASKOFF_CUDA_SIM
  const cudaError_t st = cudasim::launch(kernel, grid, block, shared_bytes, stream(), name,
                                         std::forward<Args>(args)...);
#else
  // clang-format off
  kernel<<<grid, block, shared_bytes, stream()>>>(std::forward<Args>(args)...);
  // clang-format on
  const cudaError_t st = cudaGetLastError();
#endif
  if (st != cudaSuccess) launch_failed(name, file, line, grid, block, shared_bytes, st);
}

}  // namespace maskoff::cuda

// Dynamic shared memory, which C++ cannot spell as CUDA does: declares `T* name`.
#ifdef MASKOFF_CUDA_SIM
#define MASKOFF_DYNAMIC_SHARED(T, name) CUDASIM_DYNAMIC_SHARED(T, name)
#else
#define MASKOFF_DYNAMIC_SHARED(T, name)                \
  extern __shared__ T maskoff_dynamic_shared_##name[]; \
  T* name = maskoff_dynamic_shared_##name
#endif

#define MASKOFF_LAUNCH(kernel, grid, block, shared_bytes, ...)                            \
  ::maskoff::cuda::launch(#kernel, __FILE__, __LINE__, kernel, grid, block, shared_bytes, \
                          ##__VA_ARGS__)
