#include "tensor/backend.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "tensor/error.h"
#include "tensor/profile.h"
#include "tensor/storage.h"

namespace maskoff {

namespace {
constexpr size_t kAlign = 64;  // one cache line; also what AVX-512 loads like
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  profile::on_alloc(nbytes);
  data_ = backend::allocate(nbytes, device);
}
Storage::~Storage() { backend::deallocate(data_, nbytes_, device_); }

namespace backend {

void* allocate(size_t nbytes, Device d) {
  if (d.is_cuda()) {
    MASKOFF_CHECK(d.index == 0, "allocating on " << d.str() << ": only cuda:0 is supported");
    return cuda_backend::allocate(nbytes);
  }
  void* p = std::aligned_alloc(kAlign, round_up(nbytes == 0 ? 1 : nbytes));
  MASKOFF_CHECK(p != nullptr, "out of host memory allocating " << nbytes << " bytes");
  return p;
}

void deallocate(void* p, size_t nbytes, Device d) {
  if (d.is_cuda()) {
    cuda_backend::deallocate(p, nbytes);
    return;
  }
  std::free(p);
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes) {
  if (nbytes == 0 || dst == src) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  cuda_backend::copy_bytes(dst, dst_dev.is_cuda(), src, src_dev.is_cuda(), nbytes);
}

void zero_bytes(void* dst, Device d, size_t nbytes) {
  if (nbytes == 0) return;
  if (d.is_cuda()) {
    cuda_backend::zero_bytes(dst, nbytes);
    return;
  }
  std::memset(dst, 0, nbytes);
}

bool cuda_available() { return cuda_backend::available(); }
std::string cuda_report() { return cuda_backend::report(); }
void set_tf32(bool on) { cuda_backend::set_tf32(on); }
bool tf32() { return cuda_backend::tf32(); }
void synchronize() { cuda_backend::synchronize(); }

}  // namespace backend
}  // namespace maskoff
