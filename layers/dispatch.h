// The single dispatch point every op goes through: the tensor's device picks the
// implementation, and on the CPU its dtype picks the scalar type of the templated kernel.
//
//   dispatch(x, "relu",
//            [&](auto p) { cpu::relu(p(x), p(y), x.numel()); },    // CPU, float or double
//            [&] { cuda::relu(f32(x), f32(y), x.numel()); });      // CUDA, float32
//
// The CPU function gets a TypedData<T>: p(x) is x's elements as T*, the CPU twin of f32(x).
// Where the kernel also takes scalars of that type, `using T = typename decltype(p)::Scalar;`
// names it. An op that has no CUDA kernel passes no second function and fails clearly on a
// GPU tensor. In a build without CUDA the second function is never called, so it is never
// emitted either: its calls into cuda/ need no definitions there.
#pragma once
#include "tensor/backend.h"
#include "tensor/profile.h"
#include "tensor/tensor.h"

namespace maskoff {

// Element pointers for the CPU branch, of the dispatched scalar type T (float or double).
template <class T>
struct TypedData {
  using Scalar = T;
  T* operator()(const Tensor& t) const { return t.data<T>(); }
  // Optional arguments and unwanted gradients reach the kernels as null pointers.
  T* or_null(const Tensor& t) const { return t.defined() ? t.data<T>() : nullptr; }
};

// Calls cpu with the TypedData of x's dtype: TypedData<float> or TypedData<double>.
template <class CpuFn>
void visit_typed_data(const Tensor& x, CpuFn&& cpu) {
  visit_dtype(x.dtype(), [&](auto s) { cpu(TypedData<decltype(s)>{}); });
}

template <class CpuFn>
void dispatch(const Tensor& x, const char* op, CpuFn&& cpu) {
  profile::on_op(op);
  MASKOFF_CHECK(!x.is_cuda(), op << ": no CUDA implementation for " << x.str());
  visit_typed_data(x, cpu);
}

template <class CpuFn, class CudaFn>
void dispatch(const Tensor& x, const char* op, CpuFn&& cpu, CudaFn&& cuda) {
  profile::on_op(op);
  if (x.is_cuda()) {
#ifdef MASKOFF_WITH_CUDA
    MASKOFF_CHECK(x.dtype() == DType::F32, op << ": CUDA kernels take float32, got " << x.str());
    cuda();
#else
    (void)cuda;
    MASKOFF_FAIL(op << ": this build of maskoff has no CUDA support");
#endif
  } else {
    visit_typed_data(x, cpu);
  }
}

// Element pointers for the CUDA branch, whose kernels take float32 only.
inline float* f32(const Tensor& t) { return t.data<float>(); }
inline float* f32_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// Checks shared by binary ops: same dtype, device and shape, each naming both sides.
inline void check_binary(const Tensor& a, const Tensor& b, const char* op) {
  check_same_device(a, b, op);
  check_same_dtype(a, b, op);
  check_same_shape(a, b, op);
}

}  // namespace maskoff
