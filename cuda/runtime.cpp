// CUDA device services behind tensor/backend.h: device detection, allocation, copies.
// Allocation goes through cudaMalloc for now; a caching allocator replaces it later
// behind the same two functions.
#include <cuda_runtime.h>

#include "cuda/check.h"
#include "tensor/backend.h"

namespace maskoff::cuda {
const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "unknown cuBLAS status";
  }
}
}  // namespace maskoff::cuda

namespace maskoff::cuda_backend {

bool available() {
  // Asked once: with no driver or no GPU, cudaGetDeviceCount returns an error, not a crash.
  static const bool ok = [] {
    int n = 0;
    cudaError_t st = cudaGetDeviceCount(&n);
    if (st != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later queries start clean
      return false;
    }
    return n > 0;
  }();
  return ok;
}

namespace {
void require_gpu() {
  MASKOFF_CHECK(available(), "no CUDA device is available (no GPU or no driver on this machine)");
}
}  // namespace

void* allocate(size_t nbytes) {
  require_gpu();
  void* p = nullptr;
  MASKOFF_CUDA_CHECK(cudaMalloc(&p, nbytes == 0 ? 256 : nbytes));
  return p;
}

void deallocate(void* p, size_t) {
  if (p) cudaFree(p);  // never throws from a destructor path
}

void copy_bytes(void* dst, bool dst_cuda, const void* src, bool src_cuda, size_t nbytes) {
  require_gpu();
  cudaMemcpyKind kind = dst_cuda ? (src_cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                 : cudaMemcpyDeviceToHost;
  MASKOFF_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, kind));
}

void zero_bytes(void* dst, size_t nbytes) {
  require_gpu();
  MASKOFF_CUDA_CHECK(cudaMemset(dst, 0, nbytes));
}

}  // namespace maskoff::cuda_backend
