// Elementwise arithmetic and activations: argument checks, dispatch to the CPU kernels
// (layers/cpu/elementwise.h) or the CUDA ones (cuda/elementwise.h), and the backward closures.
#include "layers/elementwise.h"

#include "autograd/node.h"
#include "cuda/elementwise.h"
#include "layers/cpu/elementwise.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;

Tensor add(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "add");
  Tensor y = empty_like(a);
  dispatch(
      a, "add", [&](auto p) { cpu::add(p(a), p(b), p(y), a.numel()); },
      [&] { cuda::add(f32(a), f32(b), f32(y), a.numel()); });
  return record(y, "add", {a, b}, [](const Tensor& gy, const Needs&) { return Grads{gy, gy}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "sub");
  Tensor y = empty_like(a);
  dispatch(
      a, "sub", [&](auto p) { cpu::sub(p(a), p(b), p(y), a.numel()); },
      [&] { cuda::sub(f32(a), f32(b), f32(y), a.numel()); });
  return record(y, "sub", {a, b}, [](const Tensor& gy, const Needs& need) {
    return Grads{gy, need[1] ? neg(gy) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "mul");
  Tensor y = empty_like(a);
  dispatch(
      a, "mul", [&](auto p) { cpu::mul(p(a), p(b), p(y), a.numel()); },
      [&] { cuda::mul(f32(a), f32(b), f32(y), a.numel()); });
  Tensor ad = a.detach(), bd = b.detach();
  return record(y, "mul", {a, b}, [ad, bd](const Tensor& gy, const Needs& need) {
    return Grads{need[0] ? mul(gy, bd) : Tensor(), need[1] ? mul(gy, ad) : Tensor()};
  });
}

namespace {
Tensor affine(const Tensor& x, double alpha, double beta, const char* name) {
  Tensor y = empty_like(x);
  dispatch(
      x, name,
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        cpu::affine(p(x), p(y), x.numel(), T(alpha), T(beta));
      },
      [&] { cuda::affine(f32(x), f32(y), x.numel(), float(alpha), float(beta)); });
  return record(y, name, {x}, [alpha](const Tensor& gy, const Needs&) {
    return Grads{alpha == 1.0 ? gy : mul_scalar(gy, alpha)};
  });
}
}  // namespace

Tensor add_scalar(const Tensor& x, double s) { return affine(x, 1.0, s, "add_scalar"); }
Tensor mul_scalar(const Tensor& x, double s) { return affine(x, s, 0.0, "mul_scalar"); }
Tensor neg(const Tensor& x) { return affine(x, -1.0, 0.0, "neg"); }

void add_(const Tensor& dst, const Tensor& src, double alpha) {
  check_binary(dst, src, "add_");
  dispatch(
      dst, "add_",
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        cpu::axpy(p(src), p(dst), dst.numel(), T(alpha));
      },
      [&] { cuda::axpy(f32(src), f32(dst), dst.numel(), float(alpha)); });
  dst.mark_modified();
}

Tensor relu(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "relu", [&](auto p) { cpu::relu(p(x), p(y), x.numel()); },
      [&] { cuda::relu(f32(x), f32(y), x.numel()); });
  Tensor xd = x.detach();
  return record(y, "relu", {x}, [xd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "relu_backward", [&](auto p) { cpu::relu_backward(p(xd), p(gy), p(gx), gy.numel()); },
        [&] { cuda::relu_backward(f32(xd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor y = empty_like(x);
  dispatch(
      x, "leaky_relu",
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        cpu::leaky_relu(p(x), p(y), x.numel(), T(slope));
      },
      [&] { cuda::leaky_relu(f32(x), f32(y), x.numel(), float(slope)); });
  Tensor xd = x.detach();
  return record(y, "leaky_relu", {x}, [xd, slope](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "leaky_relu_backward",
        [&](auto p) {
          using T = typename decltype(p)::Scalar;
          cpu::leaky_relu_backward(p(xd), p(gy), p(gx), gy.numel(), T(slope));
        },
        [&] { cuda::leaky_relu_backward(f32(xd), f32(gy), f32(gx), gy.numel(), float(slope)); });
    return Grads{gx};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "tanh", [&](auto p) { cpu::tanh(p(x), p(y), x.numel()); },
      [&] { cuda::tanh(f32(x), f32(y), x.numel()); });
  Tensor yd = y.detach();
  return record(y, "tanh", {x}, [yd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "tanh_backward", [&](auto p) { cpu::tanh_backward(p(yd), p(gy), p(gx), gy.numel()); },
        [&] { cuda::tanh_backward(f32(yd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "sigmoid", [&](auto p) { cpu::sigmoid(p(x), p(y), x.numel()); },
      [&] { cuda::sigmoid(f32(x), f32(y), x.numel()); });
  Tensor yd = y.detach();
  return record(y, "sigmoid", {x}, [yd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "sigmoid_backward",
        [&](auto p) { cpu::sigmoid_backward(p(yd), p(gy), p(gx), gy.numel()); },
        [&] { cuda::sigmoid_backward(f32(yd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

}  // namespace maskoff
