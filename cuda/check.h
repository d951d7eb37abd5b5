// Status checks for every CUDA runtime, cuBLAS and cuDNN call. A failure throws
// maskoff::Error naming the call, the status string, and the file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "tensor/error.h"

namespace maskoff::cuda {
const char* cublas_status_name(cublasStatus_t s);
// Throws the error of a kernel launch that was refused (cuda/launch.h).
[[noreturn]] void launch_failed(const char* kernel, const char* file, int line, dim3 grid,
                                dim3 block, size_t shared_bytes, cudaError_t status);
}

#define MASKOFF_CUDA_CHECK(call)                                                        \
  do {                                                                                  \
    cudaError_t maskoff_st_ = (call);                                                   \
    if (maskoff_st_ != cudaSuccess)                                                     \
      ::maskoff::throw_error(__FILE__, __LINE__,                                        \
                             std::string(#call) + " failed: " +                         \
                                 cudaGetErrorName(maskoff_st_) + " (" +                 \
                                 cudaGetErrorString(maskoff_st_) + ")");                \
  } while (0)

#define MASKOFF_CUBLAS_CHECK(call)                                                      \
  do {                                                                                  \
    cublasStatus_t maskoff_st_ = (call);                                                \
    if (maskoff_st_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::maskoff::throw_error(__FILE__, __LINE__,                                        \
                             std::string(#call) + " failed: " +                         \
                                 ::maskoff::cuda::cublas_status_name(maskoff_st_));     \
  } while (0)

#define MASKOFF_CUDNN_CHECK(call)                                                       \
  do {                                                                                  \
    cudnnStatus_t maskoff_st_ = (call);                                                 \
    if (maskoff_st_ != CUDNN_STATUS_SUCCESS)                                            \
      ::maskoff::throw_error(__FILE__, __LINE__,                                        \
                             std::string(#call) + " failed: " +                         \
                                 cudnnGetErrorString(maskoff_st_));                     \
  } while (0)
