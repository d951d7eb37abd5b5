// resize_bilinear and resize_bilinear_tf_legacy: argument checks and autograd around
// layers/cpu/resize.h.
#include "layers/resize.h"

#include "autograd/node.h"
#include "cuda/resize.h"
#include "layers/cpu/resize.h"
#include "layers/dispatch.h"

namespace maskoff {

namespace {

// The float32 taps of both axes for the CUDA kernels. They come from the CPU's own code, so
// both devices sample the same pixels with the same weights.
struct Taps {
  Taps(const cpu::ResizeGeom& g, cpu::ResizeMapping mapping)
      : h(cpu::lerp_taps<float>(g.h, g.oh, mapping)),
        w(cpu::lerp_taps<float>(g.w, g.ow, mapping)) {}
  std::vector<cpu::LerpTap<float>> h, w;
};

Tensor resize_impl(const Tensor& x, int64_t out_h, int64_t out_w, cpu::ResizeMapping mapping,
                   const char* op) {
  MASKOFF_CHECK(x.defined(), op << ": undefined input");
  check_dim(x, 4, op, "input");
  MASKOFF_CHECK(out_h > 0 && out_w > 0,
                op << ": output size " << out_h << " x " << out_w << " must be positive");
  MASKOFF_CHECK(x.size(2) > 0 && x.size(3) > 0,
                op << ": empty input plane in " << shape_str(x.shape()));
  const cpu::ResizeGeom g{x.size(2), x.size(3), out_h, out_w};
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  dispatch(
      x, op, [&](auto p) { cpu::resize_bilinear(p(x), p(y), planes, g, mapping); },
      [&] {
        const Taps t(g, mapping);
        cuda::resize_bilinear(f32(x), f32(y), planes, g, t.h.data(), t.w.data());
      });
  const Shape in_shape = x.shape();
  return autograd::record(
      y, op, {x}, [in_shape, g, planes, mapping, op](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty(in_shape, gy.dtype(), gy.device());
        dispatch(
            gy, op,
            [&](auto p) { cpu::resize_bilinear_backward(p(gy), p(gx), planes, g, mapping); },
            [&] {
              const Taps t(g, mapping);
              cuda::resize_bilinear_backward(f32(gy), f32(gx), planes, g, t.h.data(), t.w.data());
            });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace

Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return resize_impl(
      x, out_h, out_w,
      align_corners ? cpu::ResizeMapping::align_corners : cpu::ResizeMapping::half_pixel,
      "resize_bilinear");
}

Tensor resize_bilinear_tf_legacy(const Tensor& x, int64_t out_h, int64_t out_w) {
  return resize_impl(x, out_h, out_w, cpu::ResizeMapping::tf_legacy, "resize_bilinear_tf_legacy");
}

}  // namespace maskoff
