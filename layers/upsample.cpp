// upsample_nearest2d: argument checks and autograd around layers/cpu/upsample.h and its
// CUDA twin.
#include "layers/upsample.h"

#include "autograd/node.h"
#include "cuda/upsample.h"
#include "layers/cpu/upsample.h"
#include "layers/dispatch.h"

namespace maskoff {

Tensor upsample_nearest2d(const Tensor& x, int64_t scale) {
  const char* op = "upsample_nearest2d";
  MASKOFF_CHECK(x.defined(), op << ": undefined input");
  check_dim(x, 4, op, "input");
  MASKOFF_CHECK(scale >= 1, op << ": scale " << scale << " must be a positive whole number (input "
                               << shape_str(x.shape()) << ")");
  const cpu::UpsampleGeom g{x.size(2), x.size(3), scale};
  MASKOFF_CHECK(
      g.h <= (int64_t(1) << 31) / scale && g.w <= (int64_t(1) << 31) / scale,
      op << ": input " << shape_str(x.shape()) << " times scale " << scale << " is too large");
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = empty({x.size(0), x.size(1), g.oh(), g.ow()}, x.dtype(), x.device());
  dispatch(
      x, op, [&](auto p) { cpu::upsample_nearest(p(x), p(y), planes, g); },
      [&] { cuda::upsample_nearest(f32(x), f32(y), planes, g); });
  const Shape in_shape = x.shape();
  return autograd::record(
      y, op, {x}, [in_shape, g, planes](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty(in_shape, gy.dtype(), gy.device());
        dispatch(
            gy, "upsample_nearest2d backward",
            [&](auto p) { cpu::upsample_nearest_backward(p(gy), p(gx), planes, g); },
            [&] { cuda::upsample_nearest_backward(f32(gy), f32(gx), planes, g); });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace maskoff
