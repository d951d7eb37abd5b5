// Stand-ins for the CUDA device services in a build without CUDA: every call that would
// need a GPU says so plainly, and cuda_available() reports false.
#ifndef MASKOFF_WITH_CUDA
#include "tensor/backend.h"
#include "tensor/error.h"

namespace maskoff::cuda_backend {
namespace {
[[noreturn]] void no_cuda() {
  MASKOFF_FAIL("this build of maskoff has no CUDA support (configure with -DMASKOFF_CUDA=ON on a "
               "machine with the CUDA toolkit)");
}
}  // namespace
void* allocate(size_t) { no_cuda(); }
void deallocate(void*, size_t) {}
void copy_bytes(void*, bool, const void*, bool, size_t) { no_cuda(); }
void zero_bytes(void*, size_t) { no_cuda(); }
bool available() { return false; }
}  // namespace maskoff::cuda_backend
#endif
