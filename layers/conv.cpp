// conv2d and conv_transpose2d: argument checks, geometry, and the autograd wiring onto the
// three convolution kernels (a transposed convolution runs them in adjoint roles).
#include "layers/conv.h"

#include <algorithm>
#include <sstream>

#include "autograd/node.h"
#include "cuda/bias.h"
#include "cuda/conv.h"
#include "layers/cpu/conv.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;

Conv2dOptions Conv2dOptions::make(int64_t stride, int64_t padding, int64_t groups) {
  return make(stride, stride, padding, padding, padding, padding, groups);
}

Conv2dOptions Conv2dOptions::make(int64_t stride_h, int64_t stride_w, int64_t pad_top,
                                  int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
                                  int64_t groups) {
  return {stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, groups};
}

Conv2dOptions Conv2dOptions::tf_same(int64_t in_h, int64_t in_w, int64_t kh, int64_t kw,
                                     int64_t stride, int64_t groups) {
  MASKOFF_CHECK(in_h > 0 && in_w > 0 && kh > 0 && kw > 0 && stride > 0,
                "Conv2dOptions::tf_same: input " << in_h << "x" << in_w << ", kernel " << kh << "x"
                                                 << kw << ", stride " << stride
                                                 << ": all must be positive");
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.groups = groups;
  auto split = [stride](int64_t in, int64_t k, int64_t& lo, int64_t& hi) {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((out - 1) * stride + k - in, 0);
    lo = total / 2;  // TensorFlow puts the odd pixel at the end
    hi = total - lo;
  };
  split(in_h, kh, o.pad_top, o.pad_bottom);
  split(in_w, kw, o.pad_left, o.pad_right);
  return o;
}

namespace {

std::string shapes(const Tensor& x, const Tensor& w) {
  std::ostringstream s;
  s << "input " << shape_str(x.shape()) << ", weight " << shape_str(w.shape());
  return s.str();
}

// Rank, dtype, device and bias checks common to both ops. `bias_size` is the expected length.
void check_common(const Tensor& x, const Tensor& w, const Tensor& bias, const char* op) {
  MASKOFF_CHECK(x.defined() && w.defined(), op << ": input and weight must be defined");
  MASKOFF_CHECK(x.dim() == 4 && w.dim() == 4, op << ": " << shapes(x, w)
                                                 << ": both must have 4 dimensions (NCHW and "
                                                 << "[out, in/groups, kh, kw])");
  check_same_dtype(x, w, op);
  check_same_device(x, w, op);
  if (bias.defined()) {
    check_same_dtype(x, bias, op);
    check_same_device(x, bias, op);
  }
}

void check_bias(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t cout,
                const char* op) {
  if (!bias.defined()) return;
  MASKOFF_CHECK(bias.dim() == 1 && bias.size(0) == cout, op << ": " << shapes(x, w) << ", bias "
                                                            << shape_str(bias.shape())
                                                            << ": bias must be [" << cout << "]");
}

Tensor bias_grad(const Tensor& gy) {
  const int64_t n = gy.size(0), c = gy.size(1), plane = gy.size(2) * gy.size(3);
  Tensor db = empty({c}, gy.dtype(), gy.device());
  dispatch(
      gy, "conv bias backward", [&](auto p) { cpu::bias_backward(p(gy), n, c, plane, p(db)); },
      [&] { cuda::channel_bias_grad(f32(gy), n, c, plane, f32(db)); });
  return db;
}

// Floating-point operations of one pass (forward, backward-data and backward-filter are
// the same GEMM sizes): 2 per multiply-add.
double conv_flops(const cpu::ConvGeom& g) {
  return 2.0 * g.n * g.cout * g.oh * g.ow * g.cin_g() * g.kh * g.kw;
}

// The three kernels on tensors. `xt` is the convolution's input, `yt` its output, whatever
// op the caller is implementing.
void run_forward(const cpu::ConvGeom& g, const Tensor& xt, const Tensor& w, const Tensor& bias,
                 const Tensor& yt, const char* op) {
  profile::on_flops(op, conv_flops(g));
  dispatch(
      xt, op,
      [&](auto p) {
        cpu::conv2d_forward(g, p(xt), p(w), bias.defined() ? p(bias) : nullptr, p(yt));
      },
      [&] { cuda::conv2d_forward(g, f32(xt), f32(w), f32_or_null(bias), f32(yt)); });
}
void run_backward_data(const cpu::ConvGeom& g, const Tensor& w, const Tensor& yt, const Tensor& xt,
                       const char* op) {
  profile::on_flops(op, conv_flops(g));
  dispatch(
      yt, op, [&](auto p) { cpu::conv2d_backward_data(g, p(w), p(yt), p(xt)); },
      [&] { cuda::conv2d_backward_data(g, f32(w), f32(yt), f32(xt)); });
}
void run_backward_weight(const cpu::ConvGeom& g, const Tensor& xt, const Tensor& yt,
                         const Tensor& dw, const char* op) {
  profile::on_flops(op, conv_flops(g));
  dispatch(
      xt, op, [&](auto p) { cpu::conv2d_backward_weight(g, p(xt), p(yt), p(dw)); },
      [&] { cuda::conv2d_backward_filter(g, f32(xt), f32(yt), f32(dw)); });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  check_common(x, w, bias, op);
  const int64_t cin = x.size(1), cout = w.size(0), kh = w.size(2), kw = w.size(3);
  MASKOFF_CHECK(o.groups >= 1 && o.stride_h >= 1 && o.stride_w >= 1,
                op << ": " << shapes(x, w) << ": stride " << o.stride_h << "x" << o.stride_w
                   << " and groups " << o.groups << " must be positive");
  MASKOFF_CHECK(o.pad_top >= 0 && o.pad_bottom >= 0 && o.pad_left >= 0 && o.pad_right >= 0,
                op << ": " << shapes(x, w) << ": padding (top " << o.pad_top << ", bottom "
                   << o.pad_bottom << ", left " << o.pad_left << ", right " << o.pad_right
                   << ") must not be negative");
  MASKOFF_CHECK(cin % o.groups == 0 && cout % o.groups == 0,
                op << ": " << shapes(x, w) << ": input channels " << cin << " and output channels "
                   << cout << " must both be divisible by groups " << o.groups);
  MASKOFF_CHECK(w.size(1) * o.groups == cin, op << ": " << shapes(x, w) << ": weight expects "
                                                << w.size(1) * o.groups << " input channels ("
                                                << w.size(1) << " per group x " << o.groups
                                                << " groups), input has " << cin);
  check_bias(x, w, bias, cout, op);
  const cpu::ConvGeom g =
      cpu::conv2d_geom(x.size(0), cin, x.size(2), x.size(3), cout, kh, kw, o.stride_h, o.stride_w,
                       o.pad_top, o.pad_bottom, o.pad_left, o.pad_right, o.groups);
  MASKOFF_CHECK(kh >= 1 && kw >= 1 && g.oh >= 1 && g.ow >= 1,
                op << ": " << shapes(x, w) << " with padding (top " << o.pad_top << ", bottom "
                   << o.pad_bottom << ", left " << o.pad_left << ", right " << o.pad_right
                   << "): the kernel does not fit, no output pixels");

  Tensor y = empty({g.n, g.cout, g.oh, g.ow}, x.dtype(), x.device());
  run_forward(g, x, w, bias, y, op);
  Tensor xd = x.detach(), wd = w.detach();
  return record(y, op, {x, w, bias}, [xd, wd, g](const Tensor& gy, const Needs& need) {
    Grads r(3);
    if (need[0]) {
      r[0] = empty_like(xd);
      run_backward_data(g, wd, gy, r[0], "conv2d backward-data");
    }
    if (need[1]) {
      r[1] = empty_like(wd);
      run_backward_weight(g, xd, gy, r[1], "conv2d backward-weight");
    }
    if (need[2]) r[2] = bias_grad(gy);
    return r;
  });
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias,
                        const ConvTranspose2dOptions& o) {
  const char* op = "conv_transpose2d";
  check_common(x, w, bias, op);
  const int64_t cin = x.size(1), kh = w.size(2), kw = w.size(3);
  MASKOFF_CHECK(o.groups >= 1 && o.stride >= 1, op << ": " << shapes(x, w) << ": stride "
                                                   << o.stride << " and groups " << o.groups
                                                   << " must be positive");
  MASKOFF_CHECK(o.padding >= 0 && o.output_padding >= 0 && o.output_padding < o.stride,
                op << ": " << shapes(x, w) << ": padding " << o.padding << " and output_padding "
                   << o.output_padding << " must not be negative, and output_padding must be "
                   << "smaller than stride " << o.stride);
  MASKOFF_CHECK(w.size(0) == cin, op << ": " << shapes(x, w) << ": weight.size(0) " << w.size(0)
                                     << " must equal the input channels " << cin
                                     << " (layout [in, out/groups, kh, kw])");
  MASKOFF_CHECK(cin % o.groups == 0, op << ": " << shapes(x, w) << ": input channels " << cin
                                        << " must be divisible by groups " << o.groups);
  const int64_t cout = w.size(1) * o.groups;
  check_bias(x, w, bias, cout, op);
  const cpu::ConvGeom g =
      cpu::conv_transpose2d_geom(x.size(0), cin, x.size(2), x.size(3), cout, kh, kw, o.stride,
                                 o.padding, o.output_padding, o.groups);
  MASKOFF_CHECK(kh >= 1 && kw >= 1 && g.h >= 1 && g.w >= 1,
                op << ": " << shapes(x, w) << " with stride " << o.stride << ", padding "
                   << o.padding << ", output_padding " << o.output_padding << ": output size "
                   << g.h << "x" << g.w << " is not positive");

  // The underlying convolution maps y (its input) to x (its output).
  Tensor y = empty({g.n, g.cin, g.h, g.w}, x.dtype(), x.device());
  run_backward_data(g, w, x, y, op);
  if (bias.defined()) {
    dispatch(
        y, op, [&](auto p) { cpu::add_bias(p(y), p(bias), g.n, g.cin, g.in_plane()); },
        [&] { cuda::add_channel_bias(f32(y), f32(bias), g.n, g.cin, g.in_plane()); });
  }
  Tensor xd = x.detach(), wd = w.detach();
  return record(y, op, {x, w, bias}, [xd, wd, g](const Tensor& gy, const Needs& need) {
    Grads r(3);
    if (need[0]) {
      r[0] = empty_like(xd);
      run_forward(g, gy, wd, Tensor(), r[0], "conv_transpose2d backward-data");
    }
    if (need[1]) {
      r[1] = empty_like(wd);
      run_backward_weight(g, gy, xd, r[1], "conv_transpose2d backward-weight");
    }
    if (need[2]) r[2] = bias_grad(gy);
    return r;
  });
}

}  // namespace maskoff
