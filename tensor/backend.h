// The few device services the tensor layer needs: allocation, copies and zero-fill.
// The CPU versions live in tensor/backend.cpp; the CUDA versions are provided by cuda/
// when the build has CUDA, and by stubs that throw a clear error when it does not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/device.h"

namespace maskoff::backend {

void* allocate(size_t nbytes, Device d);
void deallocate(void* p, size_t nbytes, Device d);
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
void zero_bytes(void* dst, Device d, size_t nbytes);

// True when this build has CUDA and a usable GPU is present (checked once, never throws).
bool cuda_available();
// One line for start-up logs: the GPU, the CUDA, cuDNN and cuBLAS versions and the math
// mode, or why there is none (never throws).
std::string cuda_report();

// Math mode of float32 convolutions and matrix products on the GPU. Off (the default):
// strict FP32, the same arithmetic class as the CPU reference. On: TF32 tensor cores
// (10-bit mantissa products, FP32 accumulation), several times faster, ~1e-3 relative.
void set_tf32(bool on);
bool tf32();

// Waits until every queued GPU operation has finished (a no-op without CUDA); errors of
// earlier asynchronous kernels surface here.
void synchronize();

}  // namespace maskoff::backend

// Device-specific entry points, implemented in cuda/ (or by stubs in a CPU-only build).
namespace maskoff::cuda_backend {
void* allocate(size_t nbytes);
void deallocate(void* p, size_t nbytes);
void copy_bytes(void* dst, bool dst_cuda, const void* src, bool src_cuda, size_t nbytes);
void zero_bytes(void* dst, size_t nbytes);
bool available();
std::string report();
void set_tf32(bool on);
bool tf32();
void synchronize();

// The caching allocator behind allocate/deallocate (cuda/allocator.cpp). Counters let
// tests check that a repeated training step reuses blocks instead of calling cudaMalloc.
struct AllocatorStats {
  int64_t device_allocs = 0;   // cudaMalloc calls
  int64_t device_frees = 0;    // cudaFree calls
  int64_t requests = 0;        // allocate() calls
  int64_t cache_hits = 0;      // requests served from a free list
  int64_t bytes_reserved = 0;  // held from the driver: in use + cached
  int64_t bytes_in_use = 0;    // handed out and not yet returned
  int64_t peak_bytes_in_use = 0;
};
AllocatorStats allocator_stats();
// Returns every cached (free) block to the driver.
void empty_cache();
// Debug switch: fill each block handed out with 0xFF bytes (a NaN in float32), so a kernel
// that leaves part of its output unwritten is caught. Also set by MASKOFF_CUDA_POISON=1.
void set_poison(bool on);
bool poison();
// Debug switch: every request becomes its own exact-size cudaMalloc, freed on release (no
// caching, no rounding), so memory checkers see every overrun. Also set by
// MASKOFF_CUDA_EXACT_ALLOC=1; on by default in the simulation build.
void set_exact_alloc(bool on);
bool exact_alloc();
}  // namespace maskoff::cuda_backend
