// batch_norm2d: argument checks, running-statistics update and the autograd record around
// the kernels in layers/cpu/norm.h.
#include "layers/norm.h"

#include <cmath>

#include "autograd/node.h"
#include "cuda/norm.h"
#include "layers/cpu/norm.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;
using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

namespace {
void check_channel_vector(const Tensor& v, const Tensor& x, const char* arg) {
  if (!v.defined()) return;
  MASKOFF_CHECK(v.dim() == 1 && v.size(0) == x.size(1),
                "batch_norm2d: " << arg << " must have shape [" << x.size(1) << "] for input "
                                 << shape_str(x.shape()) << ", got " << shape_str(v.shape()));
  check_same_dtype(x, v, "batch_norm2d");
  check_same_device(x, v, "batch_norm2d");
}

}  // namespace

Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum, double eps) {
  check_dim(x, 4, "batch_norm2d", "input");
  check_channel_vector(gamma, x, "gamma");
  check_channel_vector(beta, x, "beta");
  check_channel_vector(running_mean, x, "running_mean");
  check_channel_vector(running_var, x, "running_var");
  MASKOFF_CHECK(running_mean.defined() == running_var.defined(),
                "batch_norm2d: running_mean and running_var must both be given or both be undefined");
  MASKOFF_CHECK(eps > 0, "batch_norm2d: eps must be positive, got " << eps);
  const cpu::BatchNormDims d{x.size(0), x.size(1), x.size(2) * x.size(3)};
  const bool batch_stats = training || !running_mean.defined();
  // As PyTorch: one value per channel has no variance (and no unbiased estimate).
  MASKOFF_CHECK(!batch_stats || d.per_channel() > 1,
                "batch_norm2d: batch statistics need more than one value per channel, got input "
                    << shape_str(x.shape()));

  Tensor y = empty_like(x);
  Shape cs{d.c};
  Tensor mean = empty(cs, x.dtype(), x.device());
  Tensor invstd = empty(cs, x.dtype(), x.device());
  dispatch(x, "batch_norm2d", [&](auto s) {
    using T = decltype(s);
    const T* g = data_or_null<T>(gamma);
    const T* b = data_or_null<T>(beta);
    if (batch_stats) {
      Tensor var = empty(cs, x.dtype(), x.device());
      cpu::batch_norm_train(x.data<T>(), g, b, T(eps), d, y.data<T>(), mean.data<T>(),
                            var.data<T>(), invstd.data<T>());
      if (training && running_mean.defined()) {
        T* rm = running_mean.data<T>();
        T* rv = running_var.data<T>();
        const double m = static_cast<double>(d.per_channel());
        for (int64_t c = 0; c < d.c; ++c) {
          double unbiased = var.data<T>()[c] * (m / (m - 1));
          rm[c] = static_cast<T>((1 - momentum) * rm[c] + momentum * mean.data<T>()[c]);
          rv[c] = static_cast<T>((1 - momentum) * rv[c] + momentum * unbiased);
        }
        running_mean.mark_modified();
        running_var.mark_modified();
      }
    } else {
      // Copied rather than referenced: the running statistics change in place at the next
      // training step, possibly before this graph's backward runs.
      const T* rm = running_mean.data<T>();
      const T* rv = running_var.data<T>();
      for (int64_t c = 0; c < d.c; ++c) {
        mean.data<T>()[c] = rm[c];
        invstd.data<T>()[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(rv[c]) + eps));
      }
      cpu::batch_norm_apply(x.data<T>(), mean.data<T>(), invstd.data<T>(), g, b, d, y.data<T>());
    }
  }, [&] {
    if (batch_stats) {
      const bool update = training && running_mean.defined();
      cuda::batch_norm_train(f32(x), f32_or_null(gamma), f32_or_null(beta), static_cast<float>(eps),
                             d, f32(y), f32(mean), f32(invstd),
                             update ? f32(running_mean) : nullptr,
                             update ? f32(running_var) : nullptr, momentum);
      if (update) {
        running_mean.mark_modified();
        running_var.mark_modified();
      }
    } else {
      cuda::batch_norm_eval(f32(x), f32(running_mean), f32(running_var), f32_or_null(gamma),
                            f32_or_null(beta), eps, d, f32(y), f32(mean), f32(invstd));
    }
  });

  Tensor xd = x.detach();
  Tensor gd = gamma.defined() ? gamma.detach() : Tensor();
  return record(y, "batch_norm2d", {x, gamma, beta},
                [xd, gd, mean, invstd, batch_stats, d](const Tensor& gy, const Needs& need) {
                  Tensor gx = need[0] ? empty_like(gy) : Tensor();
                  Tensor ggamma = need[1] ? empty(mean.shape(), gy.dtype(), gy.device()) : Tensor();
                  Tensor gbeta = need[2] ? empty(mean.shape(), gy.dtype(), gy.device()) : Tensor();
                  dispatch(gy, "batch_norm2d_backward", [&](auto s) {
                    using T = decltype(s);
                    cpu::batch_norm_backward(xd.data<T>(), gy.data<T>(), mean.data<T>(),
                                             invstd.data<T>(), data_or_null<T>(gd), batch_stats, d,
                                             data_or_null<T>(gx), data_or_null<T>(ggamma),
                                             data_or_null<T>(gbeta));
                  }, [&] {
                    cuda::batch_norm_backward(f32(xd), f32(gy), f32(mean), f32(invstd),
                                              f32_or_null(gd), batch_stats, d, f32_or_null(gx),
                                              f32_or_null(ggamma), f32_or_null(gbeta));
                  });
                  return Grads{gx, ggamma, gbeta};
                });
}

}  // namespace maskoff
