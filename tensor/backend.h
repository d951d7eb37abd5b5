// The few device services the tensor layer needs: allocation, copies and zero-fill.
// The CPU versions live in tensor/backend.cpp; the CUDA versions are provided by cuda/
// when the build has CUDA, and by stubs that throw a clear error when it does not.
#pragma once
#include <cstddef>

#include "tensor/device.h"

namespace maskoff::backend {

void* allocate(size_t nbytes, Device d);
void deallocate(void* p, size_t nbytes, Device d);
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
void zero_bytes(void* dst, Device d, size_t nbytes);

// True when this build has CUDA and a usable GPU is present (checked once, never throws).
bool cuda_available();

}  // namespace maskoff::backend

// Device-specific entry points, implemented in cuda/ (or by stubs in a CPU-only build).
namespace maskoff::cuda_backend {
void* allocate(size_t nbytes);
void deallocate(void* p, size_t nbytes);
void copy_bytes(void* dst, bool dst_cuda, const void* src, bool src_cuda, size_t nbytes);
void zero_bytes(void* dst, size_t nbytes);
bool available();
}  // namespace maskoff::cuda_backend
