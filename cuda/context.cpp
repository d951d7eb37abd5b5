// The engine stream, the lazily created cuBLAS/cuDNN handles bound to it, the math mode,
// and the pinned upload ring. Handles and the stream are never destroyed: at process exit
// the driver may already be gone, and the OS reclaims everything anyway.
#include "cuda/context.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "cuda/check.h"
#include "tensor/backend.h"

namespace maskoff::cuda {

namespace {
std::mutex g_mutex;
std::atomic<bool> g_tf32{false};

// A small ring of pinned buffers. Slot i is reused only after the copy that last read it
// has finished (its event), which with several slots almost never waits.
struct UploadRing {
  static constexpr int kSlots = 4;
  struct Slot {
    void* host = nullptr;
    size_t capacity = 0;
    cudaEvent_t done = nullptr;
  };
  Slot slots[kSlots];
  int next = 0;
};
}  // namespace

cudaStream_t stream() {
  static cudaStream_t s = [] {
    MASKOFF_CHECK(cuda_backend::available(),
                  "no CUDA device is available (no GPU or no driver on this machine)");
    cudaStream_t st = nullptr;
    // A blocking stream (the default flag): it still orders itself after any work that
    // someone queues on the legacy default stream, so a stray cudaMemcpy cannot race it.
    MASKOFF_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamDefault));
    return st;
  }();
  return s;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    MASKOFF_CUBLAS_CHECK(cublasCreate(&handle));
    MASKOFF_CUBLAS_CHECK(cublasSetStream(handle, stream()));
    // The precision is chosen per call by the compute type (cuda/blas.cpp); the handle's
    // own math mode stays the default, which never converts float32 to TF32 by itself.
    MASKOFF_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    return handle;
  }();
  return h;
}

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t handle = nullptr;
    MASKOFF_CUDNN_CHECK(cudnnCreate(&handle));
    MASKOFF_CUDNN_CHECK(cudnnSetStream(handle, stream()));
    return handle;
  }();
  return h;
}

bool tf32() { return g_tf32.load(); }

void upload_async(void* dst_device, const void* src_host, size_t n) {
  if (n == 0) return;
  static UploadRing ring;
  std::lock_guard<std::mutex> lock(g_mutex);
  UploadRing::Slot& slot = ring.slots[ring.next];
  ring.next = (ring.next + 1) % UploadRing::kSlots;
  if (slot.done == nullptr) {
    MASKOFF_CUDA_CHECK(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
  } else {
    MASKOFF_CUDA_CHECK(cudaEventSynchronize(slot.done));
  }
  if (slot.capacity < n) {
    if (slot.host) MASKOFF_CUDA_CHECK(cudaFreeHost(slot.host));
    slot.host = nullptr;
    size_t cap = 4096;
    while (cap < n) cap *= 2;
    MASKOFF_CUDA_CHECK(cudaHostAlloc(&slot.host, cap, cudaHostAllocDefault));
    slot.capacity = cap;
  }
  std::memcpy(slot.host, src_host, n);
  MASKOFF_CUDA_CHECK(cudaMemcpyAsync(dst_device, slot.host, n, cudaMemcpyHostToDevice, stream()));
  MASKOFF_CUDA_CHECK(cudaEventRecord(slot.done, stream()));
}

}  // namespace maskoff::cuda

namespace maskoff::cuda_backend {
void set_tf32(bool on) { cuda::g_tf32.store(on); }
bool tf32() { return cuda::g_tf32.load(); }
}  // namespace maskoff::cuda_backend
