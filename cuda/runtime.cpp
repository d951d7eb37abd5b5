// CUDA device services behind tensor/backend.h: device detection, copies, zero-fill,
// synchronisation and the start-up report. Allocation is in cuda/allocator.cpp. Every
// operation is queued on the engine stream (cuda/context.h).
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda/check.h"
#include "cuda/context.h"
#include "tensor/backend.h"

namespace maskoff::cuda {
std::string cuda_error_text(cudaError_t s) {
  return std::string(cudaGetErrorName(s)) + " (" + cudaGetErrorString(s) + ")";
}
void launch_failed(const char* kernel, const char* file, int line, dim3 grid, dim3 block,
                   size_t shared_bytes, cudaError_t status) {
  auto triple = [](dim3 d) {
    return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) +
           ")";
  };
  throw_error(file, line,
              std::string("launch of ") + kernel + " with grid " + triple(grid) + ", block " +
                  triple(block) + ", " + std::to_string(shared_bytes) +
                  " bytes of dynamic shared memory failed: " + cudaGetErrorName(status) + " (" +
                  cudaGetErrorString(status) + ")");
}

}  // namespace maskoff::cuda

namespace maskoff::cuda_backend {

bool available() {
  // Asked once: with no driver or no GPU, cudaGetDeviceCount returns an error, not a crash.
  static const bool ok = [] {
    int n = 0;
    cudaError_t st = cudaGetDeviceCount(&n);
    if (st != cudaSuccess) {
      cudaGetLastError();  // clear the error so later queries start clean
      return false;
    }
    return n > 0;
  }();
  return ok;
}

// Host memory in this engine is ordinary pageable memory (tensor storage, std::vector).
// From pageable memory, cudaMemcpyAsync returns once the bytes are staged, so the caller
// may free the source at once and no device-wide wait happens. Device-to-host copies wait
// for the stream: the caller reads the result next.
void copy_bytes(void* dst, bool dst_cuda, const void* src, bool src_cuda, size_t nbytes) {
  MASKOFF_CHECK(available(), "no CUDA device is available (no GPU or no driver on this machine)");
  cudaStream_t s = cuda::stream();
  if (dst_cuda && src_cuda) {
    MASKOFF_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, s));
  } else if (dst_cuda) {
    MASKOFF_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
  } else {
    MASKOFF_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
    MASKOFF_CUDA_CHECK(cudaStreamSynchronize(s));
  }
}

void zero_bytes(void* dst, size_t nbytes) {
  MASKOFF_CHECK(available(), "no CUDA device is available (no GPU or no driver on this machine)");
  MASKOFF_CUDA_CHECK(cudaMemsetAsync(dst, 0, nbytes, cuda::stream()));
}

void synchronize() {
  if (!available()) return;
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
}

namespace {
std::string version_str(int v, int major_div, int minor_div) {
  return std::to_string(v / major_div) + "." + std::to_string((v % major_div) / minor_div);
}
}  // namespace

std::string report() {
  if (!available()) return "no CUDA device (no GPU or no driver on this machine)";
  try {
    cudaDeviceProp prop{};
    MASKOFF_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    int runtime = 0, driver = 0;
    MASKOFF_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    MASKOFF_CUDA_CHECK(cudaDriverGetVersion(&driver));
    int bl_major = 0, bl_minor = 0, bl_patch = 0;
    MASKOFF_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &bl_major));
    MASKOFF_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &bl_minor));
    MASKOFF_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &bl_patch));
    const size_t dnn = cudnnGetVersion();  // major * 10000 + minor * 100 + patch (cuDNN 9)
    char mem[32];
    std::snprintf(mem, sizeof mem, "%.1f GiB",
                  static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return std::string("CUDA device 0: ") + prop.name + ", compute capability " +
           std::to_string(prop.major) + "." + std::to_string(prop.minor) + ", " + mem + ", " +
           std::to_string(prop.multiProcessorCount) + " SMs; CUDA runtime " +
           version_str(runtime, 1000, 10) + ", driver " + version_str(driver, 1000, 10) +
           "; cuDNN " + std::to_string(dnn / 10000) + "." + std::to_string(dnn % 10000 / 100) +
           "." + std::to_string(dnn % 100) + "; cuBLAS " + std::to_string(bl_major) + "." +
           std::to_string(bl_minor) + "." + std::to_string(bl_patch) + "; math " +
           (tf32() ? "TF32 (tensor cores for float32 convolutions and GEMMs)" : "FP32 (no TF32)");
  } catch (const Error& e) {
    return std::string("CUDA device 0: could not be queried: ") + e.what();
  }
}

}  // namespace maskoff::cuda_backend
