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
      a, "add",
      [&](auto s) {
        using T = decltype(s);
        cpu::add(a.data<T>(), b.data<T>(), y.data<T>(), a.numel());
      },
      [&] { cuda::add(f32(a), f32(b), f32(y), a.numel()); });
  return record(y, "add", {a, b}, [](const Tensor& gy, const Needs&) { return Grads{gy, gy}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "sub");
  Tensor y = empty_like(a);
  dispatch(
      a, "sub",
      [&](auto s) {
        using T = decltype(s);
        cpu::sub(a.data<T>(), b.data<T>(), y.data<T>(), a.numel());
      },
      [&] { cuda::sub(f32(a), f32(b), f32(y), a.numel()); });
  return record(y, "sub", {a, b}, [](const Tensor& gy, const Needs& need) {
    return Grads{gy, need[1] ? neg(gy) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "mul");
  Tensor y = empty_like(a);
  dispatch(
      a, "mul",
      [&](auto s) {
        using T = decltype(s);
        cpu::mul(a.data<T>(), b.data<T>(), y.data<T>(), a.numel());
      },
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
      [&](auto s) {
        using T = decltype(s);
        cpu::affine(x.data<T>(), y.data<T>(), x.numel(), T(alpha), T(beta));
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
      [&](auto s) {
        using T = decltype(s);
        cpu::axpy(src.data<T>(), dst.data<T>(), dst.numel(), T(alpha));
      },
      [&] { cuda::axpy(f32(src), f32(dst), dst.numel(), float(alpha)); });
  dst.mark_modified();
}

Tensor relu(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "relu",
      [&](auto s) {
        using T = decltype(s);
        cpu::relu(x.data<T>(), y.data<T>(), x.numel());
      },
      [&] { cuda::relu(f32(x), f32(y), x.numel()); });
  Tensor xd = x.detach();
  return record(y, "relu", {x}, [xd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "relu_backward",
        [&](auto s) {
          using T = decltype(s);
          cpu::relu_backward(xd.data<T>(), gy.data<T>(), gx.data<T>(), gy.numel());
        },
        [&] { cuda::relu_backward(f32(xd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor y = empty_like(x);
  dispatch(
      x, "leaky_relu",
      [&](auto s) {
        using T = decltype(s);
        cpu::leaky_relu(x.data<T>(), y.data<T>(), x.numel(), T(slope));
      },
      [&] { cuda::leaky_relu(f32(x), f32(y), x.numel(), float(slope)); });
  Tensor xd = x.detach();
  return record(y, "leaky_relu", {x}, [xd, slope](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "leaky_relu_backward",
        [&](auto s) {
          using T = decltype(s);
          cpu::leaky_relu_backward(xd.data<T>(), gy.data<T>(), gx.data<T>(), gy.numel(), T(slope));
        },
        [&] { cuda::leaky_relu_backward(f32(xd), f32(gy), f32(gx), gy.numel(), float(slope)); });
    return Grads{gx};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "tanh",
      [&](auto s) {
        using T = decltype(s);
        cpu::tanh(x.data<T>(), y.data<T>(), x.numel());
      },
      [&] { cuda::tanh(f32(x), f32(y), x.numel()); });
  Tensor yd = y.detach();
  return record(y, "tanh", {x}, [yd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "tanh_backward",
        [&](auto s) {
          using T = decltype(s);
          cpu::tanh_backward(yd.data<T>(), gy.data<T>(), gx.data<T>(), gy.numel());
        },
        [&] { cuda::tanh_backward(f32(yd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = empty_like(x);
  dispatch(
      x, "sigmoid",
      [&](auto s) {
        using T = decltype(s);
        cpu::sigmoid(x.data<T>(), y.data<T>(), x.numel());
      },
      [&] { cuda::sigmoid(f32(x), f32(y), x.numel()); });
  Tensor yd = y.detach();
  return record(y, "sigmoid", {x}, [yd](const Tensor& gy, const Needs&) {
    Tensor gx = empty_like(gy);
    dispatch(
        gy, "sigmoid_backward",
        [&](auto s) {
          using T = decltype(s);
          cpu::sigmoid_backward(yd.data<T>(), gy.data<T>(), gx.data<T>(), gy.numel());
        },
        [&] { cuda::sigmoid_backward(f32(yd), f32(gy), f32(gx), gy.numel()); });
    return Grads{gx};
  });
}

}  // namespace maskoff
