// Raw device memory for the tests of the CUDA libraries and the execution model: exactly
// the bytes asked, straight from cudaMalloc (not the engine's caching allocator), so that
// an access past the end leaves the allocation, where the simulation build or
// compute-sanitizer reports it, instead of landing in a cached block's slack.
#pragma once
#ifdef MASKOFF_WITH_CUDA
#include <cuda_runtime.h>

#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "tensor/error.h"

namespace maskoff::testing {

// `bytes` of device memory (none for 0 bytes), copied to and from the host on the engine
// stream, each copy waited for.
class DeviceBytes {
 public:
  explicit DeviceBytes(size_t bytes) : bytes_(bytes) {
    if (bytes_ > 0) MASKOFF_CUDA_CHECK(cudaMalloc(&p_, bytes_));
  }
  ~DeviceBytes() { cudaFree(p_); }
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;

  void* get() const { return p_; }
  float* f32() const { return static_cast<float*>(p_); }
  size_t bytes() const { return bytes_; }
  void upload(const std::vector<float>& host) {
    MASKOFF_CHECK(host.size() * sizeof(float) == bytes_,
                  "upload of " << host.size() << " floats into " << bytes_ << " bytes");
    if (bytes_ == 0) return;
    MASKOFF_CUDA_CHECK(
        cudaMemcpyAsync(p_, host.data(), bytes_, cudaMemcpyHostToDevice, cuda::stream()));
    MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
  }
  std::vector<float> floats() const {
    std::vector<float> host(bytes_ / sizeof(float));
    download(host.data());
    return host;
  }
  std::vector<unsigned char> raw() const {
    std::vector<unsigned char> host(bytes_);
    download(host.data());
    return host;
  }
  void fill(int byte) {
    if (bytes_ == 0) return;
    MASKOFF_CUDA_CHECK(cudaMemsetAsync(p_, byte, bytes_, cuda::stream()));
    MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
  }

 private:
  void download(void* host) const {
    if (bytes_ == 0) return;
    MASKOFF_CUDA_CHECK(cudaMemcpyAsync(host, p_, bytes_, cudaMemcpyDeviceToHost, cuda::stream()));
    MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
  }
  size_t bytes_;
  void* p_ = nullptr;
};

}  // namespace maskoff::testing

#endif  // MASKOFF_WITH_CUDA
