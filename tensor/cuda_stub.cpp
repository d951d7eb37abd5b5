// Stand-ins for the CUDA device services in a build without CUDA: every call that would
// need a GPU says so plainly, and cuda_available() reports false.
#ifndef MASKOFF_WITH_CUDA
#include "tensor/backend.h"
#include "tensor/error.h"

namespace maskoff::cuda_backend {
namespace {
[[noreturn]] void no_cuda() {
  MASKOFF_FAIL(
      "this build of maskoff has no CUDA support (configure with -DMASKOFF_CUDA=ON on a "
      "machine with the CUDA toolkit)");
}
// Kept so that a program can set its math mode unconditionally; it has no effect here.
bool g_tf32 = false;
}  // namespace
void* allocate(size_t) { no_cuda(); }
void deallocate(void*, size_t) {}
void copy_bytes(void*, bool, const void*, bool, size_t) { no_cuda(); }
void zero_bytes(void*, size_t) { no_cuda(); }
bool available() { return false; }
std::string report() { return "this build of maskoff has no CUDA support"; }
void set_tf32(bool on) { g_tf32 = on; }
bool tf32() { return g_tf32; }
void synchronize() {}
AllocatorStats allocator_stats() { return {}; }
void empty_cache() {}
void set_poison(bool) {}
bool poison() { return false; }
void set_exact_alloc(bool) {}
bool exact_alloc() { return false; }
}  // namespace maskoff::cuda_backend
#endif
