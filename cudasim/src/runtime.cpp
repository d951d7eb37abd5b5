// The runtime API's device, error and memory calls.
//
// Copies follow the CUDA rules for where the host memory lives. From pageable memory to
// the device, the bytes are taken at the call (CUDA stages them), so the source may be
// reused at once; from page-locked memory (cudaHostAlloc) they are read when the copy
// runs, so the source must stay untouched until then. To pageable memory the call waits
// for the copy; to page-locked memory it does not.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "internal.h"

namespace cudasim::detail {

std::recursive_mutex& device_mutex() {
  static auto* m = new std::recursive_mutex();
  return *m;
}

namespace {
cudaError_t g_last = cudaSuccess;    // returned and cleared by cudaGetLastError
cudaError_t g_sticky = cudaSuccess;  // a device fault: every call fails until a reset
}  // namespace

cudaError_t note(cudaError_t e) {
  if (e != cudaSuccess) g_last = e;
  return e;
}

void device_fault(cudaError_t e, const std::string& what) {
  std::fprintf(stderr, "cudasim: %s\n", what.c_str());
  std::fflush(stderr);
  if (g_sticky == cudaSuccess) g_sticky = e;
  g_last = e;
}

cudaError_t sticky_error() { return g_sticky; }

void explain(const std::string& what) {
  if (env_int("CUDASIM_QUIET", 0)) return;
  std::fprintf(stderr, "cudasim: %s\n", what.c_str());
}

long long env_int(const char* name, long long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long long r = std::strtoll(v, &end, 10);
  return (end && *end == '\0') ? r : fallback;
}

}  // namespace cudasim::detail

using namespace cudasim::detail;  // NOLINT: this file implements the detail layer's API

// ---- device and errors ----------------------------------------------------------------

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return note(cudaErrorInvalidValue);
  // CUDASIM_DEVICES=0 plays a machine without a GPU.
  *count = static_cast<int>(env_int("CUDASIM_DEVICES", 1));
  return *count > 0 ? cudaSuccess : note(cudaErrorNoDevice);
}
cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : note(cudaErrorInvalidDevice);
}
cudaError_t cudaGetDevice(int* device) {
  if (!device) return note(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!p) return note(cudaErrorInvalidValue);
  if (device != 0) return note(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "cudasim (CUDA simulated on the CPU)");
  p->totalGlobalMem = device_total_bytes();
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = 227 * 1024;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 0x7fffffff;
  p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->major = 9;  // the limits above are Hopper's
  p->minor = 0;
  p->multiProcessorCount = 1;
  p->maxThreadsPerMultiProcessor = 2048;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return sync_device(); }

cudaError_t cudaDeviceReset() {
  Lock lock(device_mutex());
  reset_streams();
  reset_kernels();
  reset_memory();
  g_sticky = cudaSuccess;
  g_last = cudaSuccess;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* v) {
  if (!v) return note(cudaErrorInvalidValue);
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) { return cudaRuntimeGetVersion(v); }

cudaError_t cudaGetLastError() {
  Lock lock(device_mutex());
  const cudaError_t e = g_last;
  g_last = g_sticky;  // a sticky error is never cleared
  return e;
}
cudaError_t cudaPeekAtLastError() {
  Lock lock(device_mutex());
  return g_last;
}

const char* cudaGetErrorName(cudaError_t e) {
  static const Named<cudaError_t> kTable[] = {CUDASIM_NAMED(cudaSuccess),
                                              CUDASIM_NAMED(cudaErrorInvalidValue),
                                              CUDASIM_NAMED(cudaErrorMemoryAllocation),
                                              CUDASIM_NAMED(cudaErrorInitializationError),
                                              CUDASIM_NAMED(cudaErrorInvalidConfiguration),
                                              CUDASIM_NAMED(cudaErrorInvalidDevicePointer),
                                              CUDASIM_NAMED(cudaErrorInvalidMemcpyDirection),
                                              CUDASIM_NAMED(cudaErrorInvalidDeviceFunction),
                                              CUDASIM_NAMED(cudaErrorNoDevice),
                                              CUDASIM_NAMED(cudaErrorInvalidDevice),
                                              CUDASIM_NAMED(cudaErrorInvalidResourceHandle),
                                              CUDASIM_NAMED(cudaErrorIllegalState),
                                              CUDASIM_NAMED(cudaErrorNotReady),
                                              CUDASIM_NAMED(cudaErrorIllegalAddress),
                                              CUDASIM_NAMED(cudaErrorLaunchOutOfResources),
                                              CUDASIM_NAMED(cudaErrorAssert),
                                              CUDASIM_NAMED(cudaErrorIllegalInstruction),
                                              CUDASIM_NAMED(cudaErrorLaunchFailure),
                                              CUDASIM_NAMED(cudaErrorNotSupported),
                                              CUDASIM_NAMED(cudaErrorStreamCaptureUnsupported),
                                              CUDASIM_NAMED(cudaErrorStreamCaptureInvalidated),
                                              CUDASIM_NAMED(cudaErrorStreamCaptureUnmatched),
                                              CUDASIM_NAMED(cudaErrorStreamCaptureUnjoined),
                                              CUDASIM_NAMED(cudaErrorStreamCaptureImplicit),
                                              CUDASIM_NAMED(cudaErrorCapturedEvent),
                                              CUDASIM_NAMED(cudaErrorUnknown)};
  return text_of(e, kTable, "cudaErrorUnknown");
}

const char* cudaGetErrorString(cudaError_t e) {
  static const Named<cudaError_t> kTable[] = {
      {cudaSuccess, "no error"},
      {cudaErrorInvalidValue, "invalid argument"},
      {cudaErrorMemoryAllocation, "out of memory"},
      {cudaErrorInvalidConfiguration, "invalid configuration argument"},
      {cudaErrorInvalidDevicePointer, "invalid device pointer"},
      {cudaErrorInvalidMemcpyDirection, "invalid copy direction for memcpy"},
      {cudaErrorNoDevice, "no CUDA-capable device is detected"},
      {cudaErrorInvalidDevice, "invalid device ordinal"},
      {cudaErrorInvalidResourceHandle, "invalid resource handle"},
      {cudaErrorIllegalState, "the operation cannot be performed in the present state"},
      {cudaErrorNotReady, "device not ready"},
      {cudaErrorIllegalAddress, "an illegal memory access was encountered"},
      {cudaErrorLaunchOutOfResources, "too many resources requested for launch"},
      {cudaErrorIllegalInstruction, "an illegal instruction was encountered"},
      {cudaErrorLaunchFailure, "unspecified launch failure"},
      {cudaErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing"},
      {cudaErrorStreamCaptureInvalidated,
       "operation failed due to a previous error during capture"},
      {cudaErrorStreamCaptureUnjoined, "capture was not joined back"},
      {cudaErrorStreamCaptureImplicit,
       "operation would make the legacy stream depend on a capturing blocking stream"},
      {cudaErrorCapturedEvent,
       "operation not permitted on an event last recorded in a capturing stream"}};
  return text_of(e, kTable, cudaGetErrorName(e));
}

// ---- memory ---------------------------------------------------------------------------

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (cudaError_t e = sticky_error()) return e;
  return device_malloc(p, bytes);
}

cudaError_t cudaFree(void* p) {
  // cudaFree waits for the whole device first: nothing queued may still use the block.
  if (cudaError_t e = sync_device()) return e;
  return device_free(p);
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) {
  if (!p) return note(cudaErrorInvalidValue);
  *p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096 + 4096);
  if (!*p) return note(cudaErrorMemoryAllocation);
  pinned_register(*p, bytes);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) { return cudaHostAlloc(p, bytes, 0); }

cudaError_t cudaFreeHost(void* p) {
  if (cudaError_t e = sync_device()) return e;
  if (!p) return cudaSuccess;
  if (!pinned_unregister(p)) return note(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return note(cudaErrorInvalidValue);
  *free_bytes = device_free_bytes();
  *total_bytes = device_total_bytes();
  return cudaSuccess;
}

namespace {

// The side of a copy: where its memory is, checked against what the call claims.
cudaError_t check_side(const void* p, size_t bytes, bool device, const char* which) {
  if (device) {
    std::string why;
    if (!device_range(p, bytes, &why)) {
      explain(std::string("cudaMemcpy: the ") + which + " is not device memory it may use: " + why);
      return note(cudaErrorInvalidValue);
    }
  } else if (is_device_pointer(p)) {
    explain(std::string("cudaMemcpy: the ") + which +
            " is device memory, but the copy kind says host");
    return note(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t memcpy_on(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s,
                      bool host_waits) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return e;
  if (bytes == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault)
    kind = static_cast<cudaMemcpyKind>((is_device_pointer(src) ? 2 : 0) +
                                       (is_device_pointer(dst) ? 1 : 0));
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice)
    return note(cudaErrorInvalidMemcpyDirection);
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  if (cudaError_t e = check_side(src, bytes, src_dev, "source")) return e;
  if (cudaError_t e = check_side(dst, bytes, dst_dev, "destination")) return e;
  const bool src_pageable = !src_dev && !is_pinned(src, bytes);
  const bool dst_pageable = !dst_dev && !is_pinned(dst, bytes);
  if (src_pageable || dst_pageable)
    if (cudaError_t e = require_not_capturing(s, "a copy to or from pageable host memory"))
      return e;
  Work work;
  if (src_pageable) {  // staged now, so the caller may reuse the source at once
    auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src),
                                                      static_cast<const char*>(src) + bytes);
    work = [dst, staged] { std::memcpy(dst, staged->data(), staged->size()); };
  } else {
    work = [dst, src, bytes] { std::memmove(dst, src, bytes); };
  }
  static const char* names[] = {"cudaMemcpy (host to host)", "cudaMemcpy (host to device)",
                                "cudaMemcpy (device to host)", "cudaMemcpy (device to device)"};
  if (cudaError_t e = enqueue(s, names[kind], std::move(work))) return e;
  if (host_waits || dst_pageable) return sync_stream(s);
  return cudaSuccess;
}

cudaError_t memset_on(void* p, int value, size_t bytes, cudaStream_t s, bool host_waits) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return e;
  if (bytes == 0) return cudaSuccess;
  std::string why;
  if (!device_range(p, bytes, &why)) {
    explain("cudaMemset: " + why);
    return note(cudaErrorInvalidValue);
  }
  if (cudaError_t e = enqueue(s, "cudaMemset", [p, value, bytes] { std::memset(p, value, bytes); }))
    return e;
  return host_waits ? sync_stream(s) : cudaSuccess;
}

}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return memcpy_on(dst, src, bytes, kind, nullptr, true);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t s) {
  return memcpy_on(dst, src, bytes, kind, s, false);
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  return memset_on(p, value, bytes, nullptr, true);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  return memset_on(p, value, bytes, s, false);
}
