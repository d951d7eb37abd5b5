// Status checks for every CUDA runtime, cuBLAS and cuDNN call. A failure throws
// maskoff::Error naming the call, the status string, and the file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "tensor/error.h"

namespace maskoff::cuda {
// What each library says of a status: "cudaErrorMemoryAllocation (out of memory)",
// "CUBLAS_STATUS_INVALID_VALUE" (cublasGetStatusName), cuDNN's own string (cudnnGetErrorString).
std::string cuda_error_text(cudaError_t s);
// Throws the error of a kernel launch that was refused (cuda/launch.h).
[[noreturn]] void launch_failed(const char* kernel, const char* file, int line, dim3 grid,
                                dim3 block, size_t shared_bytes, cudaError_t status);
}  // namespace maskoff::cuda

// Runs `call` once; a status other than `success` throws maskoff::Error with the call's
// text, describe(status), and the file and line of the check.
#define MASKOFF_STATUS_CHECK(text, call, Status, success, describe)                    \
  do {                                                                                 \
    const Status maskoff_st_ = (call);                                                 \
    if (maskoff_st_ != (success))                                                      \
      ::maskoff::throw_error(__FILE__, __LINE__,                                       \
                             std::string(text) + " failed: " + describe(maskoff_st_)); \
  } while (0)

#define MASKOFF_CUDA_CHECK(call) \
  MASKOFF_STATUS_CHECK(#call, call, cudaError_t, cudaSuccess, ::maskoff::cuda::cuda_error_text)
#define MASKOFF_CUBLAS_CHECK(call) \
  MASKOFF_STATUS_CHECK(#call, call, cublasStatus_t, CUBLAS_STATUS_SUCCESS, cublasGetStatusName)
#define MASKOFF_CUDNN_CHECK(call) \
  MASKOFF_STATUS_CHECK(#call, call, cudnnStatus_t, CUDNN_STATUS_SUCCESS, cudnnGetErrorString)
