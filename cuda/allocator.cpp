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
//
// For checking, the exact mode (MASKOFF_CUDA_EXACT_ALLOC=1, or set_exact_alloc) gives each
// request its own cudaMalloc of exactly the bytes asked and cudaFrees it when released, so
// compute-sanitizer (and cudasim's guard bytes) see an overrun by a single element, which
// the slack of a size class would hide. The simulation build starts in this mode.
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_set>
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
    poison_ = env_flag("MASKOFF_CUDA_POISON", false);
#ifdef MASKOFF_CUDA_SIM
    exact_ = env_flag("MASKOFF_CUDA_EXACT_ALLOC", true);
#else
    exact_ = env_flag("MASKOFF_CUDA_EXACT_ALLOC", false);
#endif
  }

  void* allocate(size_t nbytes) {
    if (exact_) {  // its own block of exactly the bytes asked (one for none), freed on release
      void* p = device_malloc(nbytes == 0 ? 1 : nbytes);
      return handed_out(p, nbytes, true, true);
    }
    const size_t cls = size_class(nbytes);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        ++stats_.cache_hits;
      }
    }
    const bool fresh = p == nullptr;
    if (fresh) p = device_malloc(cls);
    return handed_out(p, cls, fresh, false);
  }

  // Never throws (it runs in Storage's destructor); makes no CUDA call except for a block
  // of the exact mode, which goes straight back to the driver.
  void deallocate(void* p, size_t nbytes) {
    if (p == nullptr) return;
    std::unique_lock<std::mutex> lock(mutex_);
    if (exact_blocks_.erase(p) == 1) {
      ++stats_.device_frees;
      stats_.bytes_in_use -= static_cast<int64_t>(nbytes);
      stats_.bytes_reserved -= static_cast<int64_t>(nbytes);
      lock.unlock();
      if (cudaFree(p) != cudaSuccess) cudaGetLastError();  // a faulted device: nothing to do
      return;
    }
    const size_t cls = size_class(nbytes);
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
  // Blocks handed out before a switch are still returned the way they were made.
  void set_exact(bool on) { exact_ = on; }
  bool exact() const { return exact_; }

 private:
  static bool env_flag(const char* name, bool fallback) {
    const char* env = std::getenv(name);
    if (env == nullptr || env[0] == '\0') return fallback;
    return env[0] != '0';
  }

  // Counts a block handed out (`bytes` charged to it) and poisons it when asked.
  void* handed_out(void* p, size_t bytes, bool fresh, bool exact) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.requests;
      if (exact) exact_blocks_.insert(p);
      if (fresh) {
        ++stats_.device_allocs;
        stats_.bytes_reserved += static_cast<int64_t>(bytes);
      }
      stats_.bytes_in_use += static_cast<int64_t>(bytes);
      if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
        stats_.peak_bytes_in_use = stats_.bytes_in_use;
    }
    if (poison_)
      MASKOFF_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, bytes == 0 ? 1 : bytes, cuda::stream()));
    return p;
  }

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
      MASKOFF_FAIL("CUDA out of memory allocating "
                   << cls << " bytes (" << cudaGetErrorString(st) << "); " << s.bytes_in_use
                   << " bytes in use by tensors, " << s.bytes_reserved << " reserved");
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
  std::unordered_set<void*> exact_blocks_;
  AllocatorStats stats_;
  bool poison_ = false;
  bool exact_ = false;
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
void set_exact_alloc(bool on) { allocator().set_exact(on); }
bool exact_alloc() { return allocator().exact(); }

}  // namespace maskoff::cuda_backend
