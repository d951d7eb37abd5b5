// resize_bilinear: argument checks and autograd around layers/cpu/resize.h.
#include "layers/resize.h"

#include "autograd/node.h"
#include "layers/cpu/resize.h"
#include "layers/dispatch.h"

namespace maskoff {

Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  check_dim(x, 4, "resize_bilinear", "input");
  MASKOFF_CHECK(out_h > 0 && out_w > 0, "resize_bilinear: output size " << out_h << " x " << out_w
                                                                        << " must be positive");
  MASKOFF_CHECK(x.size(2) > 0 && x.size(3) > 0,
                "resize_bilinear: empty input plane in " << shape_str(x.shape()));
  const cpu::ResizeGeom g{x.size(2), x.size(3), out_h, out_w};
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  dispatch(x, "resize_bilinear", [&](auto s) {
    using T = decltype(s);
    cpu::resize_bilinear(x.data<T>(), y.data<T>(), planes, g, align_corners);
  });
  const Shape in_shape = x.shape();
  return autograd::record(
      y, "resize_bilinear", {x},
      [in_shape, g, planes, align_corners](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty(in_shape, gy.dtype(), gy.device());
        dispatch(gy, "resize_bilinear_backward", [&](auto s) {
          using T = decltype(s);
          cpu::resize_bilinear_backward(gy.data<T>(), gx.data<T>(), planes, g, align_corners);
        });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace maskoff
