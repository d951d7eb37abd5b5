// Tensor: a typed, shaped, contiguous view into shared Storage, plus the autograd fields
// (requires_grad, grad, grad_fn). A Tensor is a cheap handle; copies share everything.
//
// Data are always contiguous and row-major (NCHW for images); `offset` lets several
// tensors live inside one storage block (e.g. all parameters of a model in one allocation).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace maskoff {

namespace autograd {
struct Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::F32;

  // Autograd. A leaf that requires grad accumulates into `grad`; a computed tensor points
  // at the node that made it.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::string name;  // optional, used in error messages (parameter names)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const;
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  // Typed element pointer; throws if T does not match dtype().
  template <class T>
  T* data() const;
  void* raw_data() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Reverse-mode sweep from this tensor. `grad` defaults to 1 for a one-element tensor.
  // The graph is freed afterwards unless retain_graph is true.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  // Same data, no autograd history.
  Tensor detach() const;

  // Conversions; each returns a new tensor (or *this when nothing changes).
  Tensor to(Device d) const;
  Tensor to(DType t) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;  // deep copy, no history
  // Same storage, new shape (no history; see layers/shape_ops.h for the differentiable one).
  Tensor view_as_shape(const Shape& s) const;

  // Host-side access for tests and tools (copies from the device when needed).
  template <class T>
  std::vector<T> to_vector() const;
  double item() const;  // one-element tensors

  const std::string& name() const;
  Tensor& set_name(const std::string& n);
  std::string str() const;  // "float32[2, 3] on cpu"

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same_storage(const Tensor& o) const;
  // Records an in-place write (see Storage::version); every in-place op calls it.
  void mark_modified() const;

 private:
  void check_defined(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

// ---- construction -------------------------------------------------------------------
Tensor empty(const Shape& s, DType t = DType::F32, Device d = Device::cpu());
Tensor zeros(const Shape& s, DType t = DType::F32, Device d = Device::cpu());
Tensor ones(const Shape& s, DType t = DType::F32, Device d = Device::cpu());
Tensor full(const Shape& s, double value, DType t = DType::F32, Device d = Device::cpu());
Tensor empty_like(const Tensor& x);
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
// Copies host values (converted to dtype t) into a new tensor.
Tensor from_vector(const std::vector<double>& v, const Shape& s, DType t = DType::F32,
                   Device d = Device::cpu());
Tensor from_vector(const std::vector<float>& v, const Shape& s, Device d = Device::cpu());
// Seeded random tensors; each call advances the generator.
struct Generator;
Tensor randn(const Shape& s, Generator& g, DType t = DType::F32, Device d = Device::cpu(),
             double mean = 0.0, double stddev = 1.0);
Tensor rand(const Shape& s, Generator& g, DType t = DType::F32, Device d = Device::cpu(),
            double lo = 0.0, double hi = 1.0);
// Overwrites t's elements in place (no history), e.g. for weight initialisation.
void fill_(const Tensor& t, double value);
void copy_(const Tensor& dst, const Tensor& src);  // same shape and dtype, any devices

// ---- checks that name both sides ---------------------------------------------------
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_dim(const Tensor& a, int64_t dim, const char* op, const char* arg);

}  // namespace maskoff
