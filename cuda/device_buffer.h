// Scratch device memory for the duration of one host function (padded copies, partial
// sums, argument tables), taken from and returned to the caching allocator. Returning it
// while kernels that use it are still queued is safe: all work runs on one stream, so the
// block's next user is queued behind them.
#pragma once
#include <cstddef>

#include "tensor/backend.h"

namespace maskoff::cuda {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t nbytes) : nbytes_(nbytes), p_(cuda_backend::allocate(nbytes)) {}
  ~DeviceBuffer() { cuda_backend::deallocate(p_, nbytes_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  size_t nbytes() const { return nbytes_; }

 private:
  size_t nbytes_;
  void* p_;
};

}  // namespace maskoff::cuda
