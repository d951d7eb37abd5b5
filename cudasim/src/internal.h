// What the parts of the simulator share: the device lock, error state, device memory,
// and the stream queues that every piece of device work goes through.
#pragma once
#include <cuda_runtime.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <string>

// Built with AddressSanitizer: stack switches and poisoned device memory are announced to it.
#if defined(__SANITIZE_ADDRESS__)
#define CUDASIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUDASIM_ASAN 1
#endif
#endif

namespace cudasim::detail {

// One lock around the whole simulated device; the runtime API may be called from any thread.
std::recursive_mutex& device_mutex();
using Lock = std::lock_guard<std::recursive_mutex>;

// ---- errors (runtime.cpp) ------------------------------------------------------------
// Notes e as the last error (for cudaGetLastError) and returns it.
cudaError_t note(cudaError_t e);
// A fault of device work: prints "cudasim: <what>" and makes e sticky, as a kernel fault
// on a GPU leaves every later call failing until cudaDeviceReset.
void device_fault(cudaError_t e, const std::string& what);
cudaError_t sticky_error();
// Prints "cudasim: <what>" for an API misuse the caller will see as an error code.
void explain(const std::string& what);
// An environment variable as an integer, or `fallback` when unset.
long long env_int(const char* name, long long fallback);

// ---- status names and messages ------------------------------------------------------
// A status value and what the library says of it. CUDASIM_NAMED(x) pairs x with its own
// spelling, as cublasGetStatusName, cudnnGetErrorString and cudaGetErrorName report it.
template <class E>
struct Named {
  E value;
  const char* text;
};
#define CUDASIM_NAMED(x) \
  { x, #x }
// The text of `value` in `table`, or `otherwise` when the table does not list it.
template <class E, size_t N>
const char* text_of(E value, const Named<E> (&table)[N], const char* otherwise) {
  for (const Named<E>& n : table)
    if (n.value == value) return n.text;
  return otherwise;
}

// ---- device memory (memory.cpp) -----------------------------------------------------
cudaError_t device_malloc(void** p, size_t bytes);
cudaError_t device_free(void* p);
bool is_device_pointer(const void* p);
// True when [p, p + bytes) lies inside one live device allocation; otherwise *why says
// what is wrong with it.
bool device_range(const void* p, size_t bytes, std::string* why);
// Page-locked host memory (cudaHostAlloc): copies from or to it are asynchronous.
void pinned_register(void* p, size_t bytes);
bool pinned_unregister(void* p);
bool is_pinned(const void* p, size_t bytes);
// While one of these exists, device memory is readable and writable; otherwise every
// device page is PROT_NONE and host code that touches one fails loudly.
class DeviceMemoryOpen {
 public:
  DeviceMemoryOpen();
  ~DeviceMemoryOpen();
  DeviceMemoryOpen(const DeviceMemoryOpen&) = delete;
  DeviceMemoryOpen& operator=(const DeviceMemoryOpen&) = delete;
};
// After each piece of device work: every live allocation's guard bytes must be intact.
void check_guards(const std::string& after);
size_t device_total_bytes();
size_t device_free_bytes();
void reset_memory();

// ---- streams (stream.cpp) -----------------------------------------------------------
using Work = std::function<void()>;
// Queues device work on stream s, or appends it to the graph s is capturing. Returns an
// error (and queues nothing) for a bad handle, a sticky error or a broken capture.
cudaError_t enqueue(cudaStream_t s, const std::string& name, Work work);
// Host memory is about to be read or written by work queued on s that must run now (a
// copy to pageable memory): fails when s is capturing, since such work cannot be captured.
cudaError_t require_not_capturing(cudaStream_t s, const char* what);
bool is_capturing(cudaStream_t s);
// Runs everything queued on s so far (and what it waits for).
cudaError_t sync_stream(cudaStream_t s);
cudaError_t sync_device();
void reset_streams();

// For library work as it runs: [p, p + bytes) must lie in one live device allocation;
// otherwise the work faults (illegal address), naming `what`.
bool readable_extent(const void* p, size_t bytes, const std::string& what);

// TF32, the tensor cores' input format: float32 rounded to a 10-bit mantissa (to nearest,
// ties away from zero, as the cvt.rna.tf32.f32 instruction).
inline float round_tf32(float x) {
  unsigned u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;  // Inf and NaN stay as they are
  u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// ---- kernels (block.cpp) ------------------------------------------------------------
void reset_kernels();

}  // namespace cudasim::detail
