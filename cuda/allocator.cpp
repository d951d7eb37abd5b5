// The caching device allocator behind cuda_backend::allocate/deallocate.
//
// cudaMalloc and cudaFree are slow (cudaFree also waits for the whole device), and a
// training step allocates and frees the same sizes every time. So freed blocks are kept
// in per-size-class free lists and handed out again; the driver is asked only when a
// list is empty. Sizes are rounded up to a class (512 bytes minimum, then four classes per
// power of two: 2^k * {1, 1.25, 1.5, 1.75}), which wastes under 25% and makes a block
// reusable by any request of its class without splitting. A training step repeats the
// same requests, so once a step has run with the long-lived tensors in place (the second:
// the first creates the gradients, which then stay allocated through later forward
// passes), every later step is served entirely from the lists.
//
// Everything runs on the one engine stream, so a block freed on the host while kernels
// that use it are still queued can be handed out at once: its next user's work is queued
// behind them on the same stream.
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "tensor/backend.h"

namespace maskoff::cuda_backend {

namespace {

size_t size_class(size_t n) {
  constexpr size_t kMin = 512;
  if (n <= kMin) return kMin;
  int top = 63 - __builtin_clzll(static_cast<unsigned long long>(n));  // 2^top <= n
  const size_t step = size_t{1} << (top - 2);
  return (n + step - 1) / step * step;
}

class CachingAllocator {
 public:
  CachingAllocator() {
    const char* env = std::getenv("MASKOFF_CUDA_POISON");
    poison_ = env != nullptr && env[0] != '\0' && env[0] != '0';
  }

  void* allocate(size_t nbytes) {
    const size_t cls = size_class(nbytes);
    void* p = nullptr;
    bool fresh = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.requests;
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        ++stats_.cache_hits;
      }
    }
    if (p == nullptr) {
      p = device_malloc(cls);
      fresh = true;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (fresh) {
        ++stats_.device_allocs;
        stats_.bytes_reserved += static_cast<int64_t>(cls);
      }
      stats_.bytes_in_use += static_cast<int64_t>(cls);
      if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
        stats_.peak_bytes_in_use = stats_.bytes_in_use;
    }
    if (poison_) MASKOFF_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, cls, cuda::stream()));
    return p;
  }

  // Never throws (it runs in Storage's destructor) and makes no CUDA call.
  void deallocate(void* p, size_t nbytes) {
    if (p == nullptr) return;
    const size_t cls = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    free_[cls].push_back(p);
    stats_.bytes_in_use -= static_cast<int64_t>(cls);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void set_poison(bool on) { poison_ = on; }
  bool poison() const { return poison_; }

 private:
  void* device_malloc(size_t cls) {
    void* p = nullptr;
    cudaError_t st = cudaMalloc(&p, cls);
    if (st == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // out of memory is not sticky; clear it and retry once
      {
        std::lock_guard<std::mutex> lock(mutex_);
        release_cached_locked();
      }
      st = cudaMalloc(&p, cls);
    }
    if (st != cudaSuccess) {
      cudaGetLastError();
      AllocatorStats s = stats();
      MASKOFF_FAIL("CUDA out of memory allocating " << cls << " bytes (" << cudaGetErrorString(st)
                   << "); " << s.bytes_in_use << " bytes in use by tensors, " << s.bytes_reserved
                   << " reserved");
    }
    return p;
  }

  // cudaFree waits for the device, so queued kernels still using a cached block finish
  // before it is returned.
  void release_cached_locked() {
    for (auto& [cls, blocks] : free_) {
      for (void* p : blocks) {
        MASKOFF_CUDA_CHECK(cudaFree(p));
        ++stats_.device_frees;
        stats_.bytes_reserved -= static_cast<int64_t>(cls);
      }
      blocks.clear();
    }
  }

  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
  bool poison_ = false;
};

// Deliberately never destroyed: tensors held in static objects may be released after any
// static allocator would be, and the driver may be gone by then.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

void require_gpu() {
  MASKOFF_CHECK(available(), "no CUDA device is available (no GPU or no driver on this machine)");
}

}  // namespace

void* allocate(size_t nbytes) {
  require_gpu();
  return allocator().allocate(nbytes);
}

void deallocate(void* p, size_t nbytes) { allocator().deallocate(p, nbytes); }

AllocatorStats allocator_stats() { return allocator().stats(); }

void empty_cache() {
  if (available()) allocator().empty_cache();
}

void set_poison(bool on) { allocator().set_poison(on); }
bool poison() { return allocator().poison(); }

}  // namespace maskoff::cuda_backend
