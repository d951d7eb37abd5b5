// A reference-counted block of memory on one device. Tensors share storage (views,
// detach, reshape) and the block is freed when the last tensor lets go.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/device.h"

namespace maskoff {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write through the engine (add_, copy_, fill_, optimizer steps,
  // running-statistics updates). Autograd records it when an op saves a tensor and checks
  // it in backward, so a tensor changed between forward and backward is an error rather
  // than a silently wrong gradient.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace maskoff
