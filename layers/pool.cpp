// max_pool2d and avg_pool2d: argument checks, output geometry and autograd around the
// kernels in layers/cpu/pool.h.
#include "layers/pool.h"

#include "autograd/node.h"
#include "cuda/pool.h"
#include "layers/cpu/pool.h"
#include "layers/dispatch.h"

namespace maskoff {

namespace {
cpu::PoolGeom pool_geom(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                        const char* op) {
  check_dim(x, 4, op, "input");
  MASKOFF_CHECK(kernel > 0 && stride > 0 && padding >= 0,
                op << ": kernel " << kernel << ", stride " << stride << ", padding " << padding
                   << " (kernel and stride must be positive, padding non-negative)");
  MASKOFF_CHECK(padding <= kernel / 2, op << ": padding " << padding
                                          << " must be at most half the kernel size " << kernel);
  const int64_t h = x.size(2), w = x.size(3);
  MASKOFF_CHECK(h > 0 && w > 0, op << ": empty input plane in " << shape_str(x.shape()));
  MASKOFF_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel,
                op << ": kernel " << kernel << " is larger than the input " << shape_str(x.shape())
                   << " with padding " << padding);
  return {h,
          w,
          (h + 2 * padding - kernel) / stride + 1,
          (w + 2 * padding - kernel) / stride + 1,
          kernel,
          stride,
          padding};
}

Shape out_shape(const Tensor& x, const cpu::PoolGeom& g) {
  return {x.size(0), x.size(1), g.oh, g.ow};
}
}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const cpu::PoolGeom g = pool_geom(x, kernel, stride, padding, "max_pool2d");
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = empty(out_shape(x, g), x.dtype(), x.device());
  dispatch(
      x, "max_pool2d", [&](auto p) { cpu::max_pool2d(p(x), p(y), planes, g); },
      [&] { cuda::max_pool2d(f32(x), f32(y), planes, g); });
  Tensor xd = x.detach();
  return autograd::record(
      y, "max_pool2d", {x}, [xd, g, planes](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty_like(xd);
        dispatch(
            gy, "max_pool2d_backward",
            [&](auto p) { cpu::max_pool2d_backward(p(xd), p(gy), p(gx), planes, g); },
            [&] { cuda::max_pool2d_backward(f32(xd), f32(gy), f32(gx), planes, g); });
        return std::vector<Tensor>{gx};
      });
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool count_include_pad) {
  const cpu::PoolGeom g = pool_geom(x, kernel, stride, padding, "avg_pool2d");
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = empty(out_shape(x, g), x.dtype(), x.device());
  dispatch(
      x, "avg_pool2d", [&](auto p) { cpu::avg_pool2d(p(x), p(y), planes, g, count_include_pad); },
      [&] { cuda::avg_pool2d(f32(x), f32(y), planes, g, count_include_pad); });
  const Shape in_shape = x.shape();
  return autograd::record(
      y, "avg_pool2d", {x},
      [in_shape, g, planes, count_include_pad](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty(in_shape, gy.dtype(), gy.device());
        dispatch(
            gy, "avg_pool2d_backward",
            [&](auto p) { cpu::avg_pool2d_backward(p(gy), p(gx), planes, g, count_include_pad); },
            [&] { cuda::avg_pool2d_backward(f32(gy), f32(gx), planes, g, count_include_pad); });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace maskoff
