#include "tensor/tensor.h"

#include <cstring>

#include "autograd/engine.h"
#include "tensor/backend.h"
#include "tensor/random.h"

namespace maskoff {

Error::Error(const std::string& message, const std::string& where)
    : std::runtime_error(where.empty() ? message : message + " [" + where + "]"),
      message_(message),
      where_(where) {}

std::string message_of(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) return err->message();
  return e.what();
}

void throw_error(const char* file, int line, const std::string& msg) {
  const char* base = std::strrchr(file, '/');
  throw Error(msg, std::string(base ? base + 1 : file) + ":" + std::to_string(line));
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t e : s) n *= e;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::cpu();
  if (s == "cuda") return Device::cuda(0);
  if (s.rfind("cuda:", 0) == 0) return Device::cuda(std::stoi(s.substr(5)));
  MASKOFF_FAIL("unknown device '" << s << "' (expected cpu, cuda or cuda:N)");
}

// ---- Tensor accessors ---------------------------------------------------------------

void Tensor::check_defined(const char* what) const {
  MASKOFF_CHECK(impl_ != nullptr, what << "() called on an undefined tensor");
}
const Shape& Tensor::shape() const {
  check_defined("shape");
  return impl_->shape;
}
int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  int64_t k = d < 0 ? d + n : d;
  MASKOFF_CHECK(k >= 0 && k < n,
                "dimension " << d << " out of range for shape " << shape_str(shape()));
  return shape()[static_cast<size_t>(k)];
}
DType Tensor::dtype() const {
  check_defined("dtype");
  return impl_->dtype;
}
Device Tensor::device() const {
  check_defined("device");
  return impl_->storage->device();
}
void* Tensor::raw_data() const {
  check_defined("data");
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
}
template <class T>
T* Tensor::data() const {
  check_defined("data");
  MASKOFF_CHECK(impl_->dtype == dtype_of<T>::value,
                "tensor " << str() << " accessed as " << dtype_name(dtype_of<T>::value));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::set_requires_grad(bool r) {
  check_defined("set_requires_grad");
  MASKOFF_CHECK(impl_->grad_fn == nullptr, "set_requires_grad on a computed tensor "
                                               << str() << "; only leaves can be marked");
  impl_->requires_grad = r;
  return *this;
}
bool Tensor::is_leaf() const { return impl_ && impl_->grad_fn == nullptr; }
Tensor Tensor::grad() const {
  check_defined("grad");
  return Tensor(impl_->grad);
}
void Tensor::set_grad(const Tensor& g) const {
  check_defined("set_grad");
  if (g.defined()) {
    check_same_shape(*this, g, "set_grad");
    check_same_dtype(*this, g, "set_grad");
    check_same_device(*this, g, "set_grad");
  }
  impl_->grad = g.impl_ptr();
}
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  check_defined("grad_fn");
  return impl_->grad_fn;
}
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::run_backward(*this, grad, retain_graph);
}
Tensor Tensor::detach() const {
  check_defined("detach");
  auto t = std::make_shared<TensorImpl>();
  t->storage = impl_->storage;
  t->offset = impl_->offset;
  t->shape = impl_->shape;
  t->dtype = impl_->dtype;
  return Tensor(t);
}
Tensor Tensor::view_as_shape(const Shape& s) const {
  for (int64_t e : s)
    MASKOFF_CHECK(e >= 0, "cannot view " << shape_str(shape()) << " as " << shape_str(s));
  MASKOFF_CHECK(shape_numel(s) == numel(),
                "cannot view " << shape_str(shape()) << " as " << shape_str(s) << ": sizes differ");
  Tensor t = detach();
  t.impl_->shape = s;
  return t;
}
const std::string& Tensor::name() const {
  check_defined("name");
  return impl_->name;
}
Tensor& Tensor::set_name(const std::string& n) {
  check_defined("set_name");
  impl_->name = n;
  return *this;
}
std::string Tensor::str() const {
  if (!impl_) return "undefined tensor";
  std::string r = std::string(dtype_name(dtype())) + shape_str(shape()) + " on " + device().str();
  if (!impl_->name.empty()) r = "'" + impl_->name + "' " + r;
  return r;
}
void Tensor::mark_modified() const {
  check_defined("mark_modified");
  impl_->storage->bump_version();
}
bool Tensor::same_storage(const Tensor& o) const {
  return impl_ && o.impl_ && impl_->storage == o.impl_->storage;
}

// ---- conversions --------------------------------------------------------------------

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  Tensor r = empty(shape(), dtype(), d);
  copy_(r, *this);
  return r;
}

Tensor Tensor::to(DType t) const {
  if (dtype() == t) return *this;
  Tensor src = cpu();
  Tensor r = empty(shape(), t, Device::cpu());
  int64_t n = numel();
  visit_dtype(dtype(), [&](auto s) {
    using S = decltype(s);
    const S* p = src.data<S>();
    visit_dtype(t, [&](auto d) {
      using D = decltype(d);
      D* q = r.data<D>();
      for (int64_t i = 0; i < n; ++i) q[i] = static_cast<D>(p[i]);
    });
  });
  return r.to(device());
}

Tensor Tensor::clone() const {
  Tensor r = empty(shape(), dtype(), device());
  copy_(r, *this);
  return r;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = cpu().to(dtype_of<T>::value);
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;

double Tensor::item() const {
  MASKOFF_CHECK(numel() == 1, "item() needs a one-element tensor, got " << str());
  return to_vector<double>()[0];
}

// ---- construction -------------------------------------------------------------------

Tensor empty(const Shape& s, DType t, Device d) {
  for (int64_t e : s) MASKOFF_CHECK(e >= 0, "negative extent in shape " << shape_str(s));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape_numel(s)) * dtype_size(t), d);
  impl->shape = s;
  impl->dtype = t;
  return Tensor(impl);
}

Tensor zeros(const Shape& s, DType t, Device d) {
  Tensor r = empty(s, t, d);
  backend::zero_bytes(r.raw_data(), d, r.nbytes());
  return r;
}

Tensor full(const Shape& s, double value, DType t, Device d) {
  Tensor r = empty(s, t, d);
  fill_(r, value);
  return r;
}
Tensor ones(const Shape& s, DType t, Device d) { return full(s, 1.0, t, d); }
Tensor empty_like(const Tensor& x) { return empty(x.shape(), x.dtype(), x.device()); }
Tensor zeros_like(const Tensor& x) { return zeros(x.shape(), x.dtype(), x.device()); }
Tensor ones_like(const Tensor& x) { return ones(x.shape(), x.dtype(), x.device()); }

namespace {
// Fills a host tensor from a generator of doubles, then moves it to the device.
template <class Fn>
Tensor host_fill(const Shape& s, DType t, Device d, Fn&& value_at) {
  Tensor h = empty(s, t, Device::cpu());
  int64_t n = h.numel();
  visit_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* p = h.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value_at(i));
  });
  return h.to(d);
}
}  // namespace

Tensor from_vector(const std::vector<double>& v, const Shape& s, DType t, Device d) {
  MASKOFF_CHECK(static_cast<int64_t>(v.size()) == shape_numel(s),
                "from_vector: " << v.size() << " values for shape " << shape_str(s));
  return host_fill(s, t, d, [&](int64_t i) { return v[static_cast<size_t>(i)]; });
}
Tensor from_vector(const std::vector<float>& v, const Shape& s, Device d) {
  MASKOFF_CHECK(static_cast<int64_t>(v.size()) == shape_numel(s),
                "from_vector: " << v.size() << " values for shape " << shape_str(s));
  return host_fill(s, DType::F32, d, [&](int64_t i) { return v[static_cast<size_t>(i)]; });
}

Tensor randn(const Shape& s, Generator& g, DType t, Device d, double mean, double stddev) {
  uint64_t base = g.take(static_cast<uint64_t>(shape_numel(s)));
  uint64_t seed = g.seed;
  return host_fill(s, t, d, [&](int64_t i) {
    return mean + stddev * rng_normal(seed, base + static_cast<uint64_t>(i));
  });
}

Tensor rand(const Shape& s, Generator& g, DType t, Device d, double lo, double hi) {
  uint64_t base = g.take(static_cast<uint64_t>(shape_numel(s)));
  uint64_t seed = g.seed;
  return host_fill(s, t, d, [&](int64_t i) {
    return lo + (hi - lo) * rng_uniform_f64(seed, base + static_cast<uint64_t>(i));
  });
}

void fill_(const Tensor& t, double value) {
  Tensor h = host_fill(t.shape(), t.dtype(), Device::cpu(), [&](int64_t) { return value; });
  copy_(t, h);
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_same_shape(dst, src, "copy_");
  check_same_dtype(dst, src, "copy_");
  backend::copy_bytes(dst.raw_data(), dst.device(), src.raw_data(), src.device(), src.nbytes());
  dst.mark_modified();
}

// ---- checks -------------------------------------------------------------------------

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  MASKOFF_CHECK(a.defined() && b.defined(), op << ": undefined tensor argument");
  MASKOFF_CHECK(a.shape() == b.shape(), op << ": shape mismatch, " << shape_str(a.shape()) << " vs "
                                           << shape_str(b.shape()));
}
void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  MASKOFF_CHECK(a.device() == b.device(),
                op << ": device mismatch, " << a.str() << " vs " << b.str());
}
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  MASKOFF_CHECK(a.dtype() == b.dtype(), op << ": dtype mismatch, " << a.str() << " vs " << b.str());
}
void check_dim(const Tensor& a, int64_t dim, const char* op, const char* arg) {
  MASKOFF_CHECK(a.defined(), op << ": " << arg << " is undefined");
  MASKOFF_CHECK(a.dim() == dim, op << ": " << arg << " must have " << dim << " dimensions, got "
                                   << shape_str(a.shape()));
}

}  // namespace maskoff
