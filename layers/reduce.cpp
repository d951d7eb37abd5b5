// sum, mean, sum_dim, mean_dim: shapes and autograd around layers/cpu/reduce.h. Every
// form is a sum over the middle of an [outer, d, inner] view, scaled by alpha, and every
// backward is the matching broadcast of the gradient.
#include "layers/reduce.h"

#include <limits>

#include "autograd/node.h"
#include "cuda/reduce.h"
#include "layers/cpu/reduce.h"
#include "layers/dispatch.h"

namespace maskoff {

namespace {
// alpha for a sum (1) or a mean (1/d; NaN when there is nothing to average, as PyTorch).
double scale_for(bool is_mean, int64_t d) {
  if (!is_mean) return 1.0;
  return d > 0 ? 1.0 / static_cast<double>(d) : std::numeric_limits<double>::quiet_NaN();
}

Tensor reduce(const Tensor& x, int64_t outer, int64_t d, int64_t inner, const Shape& out_shape,
              bool is_mean, const char* op) {
  const double alpha = scale_for(is_mean, d);
  Tensor y = empty(out_shape, x.dtype(), x.device());
  dispatch(
      x, op,
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        if (outer == 1 && inner == 1)
          p(y)[0] = static_cast<T>(alpha * cpu::sum_all(p(x), d));
        else
          cpu::sum_middle(p(x), p(y), outer, d, inner, alpha);
      },
      [&] { cuda::sum_middle(f32(x), f32(y), outer, d, inner, alpha); });
  const Shape in_shape = x.shape();
  return autograd::record(
      y, op, {x}, [in_shape, outer, d, inner, alpha](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty(in_shape, gy.dtype(), gy.device());
        dispatch(
            gy, "reduce_backward",
            [&](auto p) {
              using T = typename decltype(p)::Scalar;
              cpu::expand_middle(p(gy), p(gx), outer, d, inner, static_cast<T>(alpha));
            },
            [&] {
              cuda::expand_middle(f32(gy), f32(gx), outer, d, inner, static_cast<float>(alpha));
            });
        return std::vector<Tensor>{gx};
      });
}

Tensor reduce_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_mean, const char* op) {
  MASKOFF_CHECK(x.defined(), op << ": input is undefined");
  const Shape& s = x.shape();
  const int64_t rank = x.dim();
  const int64_t k = dim < 0 ? dim + rank : dim;
  MASKOFF_CHECK(k >= 0 && k < rank,
                op << ": dimension " << dim << " out of range for shape " << shape_str(s));
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < k; ++i) outer *= s[static_cast<size_t>(i)];
  for (int64_t i = k + 1; i < rank; ++i) inner *= s[static_cast<size_t>(i)];
  Shape out = s;
  if (keepdim)
    out[static_cast<size_t>(k)] = 1;
  else
    out.erase(out.begin() + k);
  return reduce(x, outer, s[static_cast<size_t>(k)], inner, out, is_mean, op);
}
}  // namespace

Tensor sum(const Tensor& x) {
  MASKOFF_CHECK(x.defined(), "sum: input is undefined");
  return reduce(x, 1, x.numel(), 1, {}, false, "sum");
}
Tensor mean(const Tensor& x) {
  MASKOFF_CHECK(x.defined(), "mean: input is undefined");
  return reduce(x, 1, x.numel(), 1, {}, true, "mean");
}
Tensor sum_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return reduce_dim(x, dim, keepdim, false, "sum_dim");
}
Tensor mean_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return reduce_dim(x, dim, keepdim, true, "mean_dim");
}

std::vector<int64_t> count_nonfinite(const std::vector<Tensor>& xs) {
  std::vector<int64_t> counts(xs.size(), 0);
  // One double per tensor on the GPU, filled by the kernels and copied back once.
  Tensor on_device;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    if (!x.defined() || x.numel() == 0) continue;
    if (x.is_cuda() && !on_device.defined())
      on_device = zeros({static_cast<int64_t>(xs.size())}, DType::F64, x.device());
    dispatch(
        x, "count_nonfinite", [&](auto p) { counts[i] = cpu::count_nonfinite(p(x), x.numel()); },
        [&] { cuda::count_nonfinite(f32(x), x.numel(), on_device.data<double>() + i); });
  }
  if (on_device.defined()) {
    const std::vector<double> c = on_device.cpu().to_vector<double>();
    for (size_t i = 0; i < xs.size(); ++i)
      if (xs[i].defined() && xs[i].is_cuda()) counts[i] = static_cast<int64_t>(c[i]);
  }
  return counts;
}

}  // namespace maskoff
