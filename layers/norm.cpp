// batch_norm2d: argument checks and the autograd record around the kernels of
// layers/cpu/norm.h and their CUDA twins in cuda/norm.h.
#include "layers/norm.h"

#include "autograd/node.h"
#include "cuda/norm.h"
#include "layers/cpu/norm.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;

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
  MASKOFF_CHECK(
      running_mean.defined() == running_var.defined(),
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
  // The running statistics move only in training mode; in eval mode mean and invstd are
  // copies of them, not references: they change in place at the next training step,
  // possibly before this graph's backward runs.
  const bool update = training && running_mean.defined();
  dispatch(
      x, "batch_norm2d",
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        if (batch_stats) {
          cpu::batch_norm_train(p(x), p.or_null(gamma), p.or_null(beta), T(eps), d, p(y), p(mean),
                                p(invstd), update ? p(running_mean) : nullptr,
                                update ? p(running_var) : nullptr, momentum);
        } else {
          cpu::batch_norm_eval(p(x), p(running_mean), p(running_var), p.or_null(gamma),
                               p.or_null(beta), eps, d, p(y), p(mean), p(invstd));
        }
      },
      [&] {
        if (batch_stats) {
          cuda::batch_norm_train(f32(x), f32_or_null(gamma), f32_or_null(beta),
                                 static_cast<float>(eps), d, f32(y), f32(mean), f32(invstd),
                                 update ? f32(running_mean) : nullptr,
                                 update ? f32(running_var) : nullptr, momentum);
        } else {
          cuda::batch_norm_eval(f32(x), f32(running_mean), f32(running_var), f32_or_null(gamma),
                                f32_or_null(beta), eps, d, f32(y), f32(mean), f32(invstd));
        }
      });
  if (update) {
    running_mean.mark_modified();
    running_var.mark_modified();
  }

  Tensor xd = x.detach();
  Tensor gd = gamma.defined() ? gamma.detach() : Tensor();
  return record(y, "batch_norm2d", {x, gamma, beta},
                [xd, gd, mean, invstd, batch_stats, d](const Tensor& gy, const Needs& need) {
                  Tensor gx = need[0] ? empty_like(gy) : Tensor();
                  Tensor ggamma = need[1] ? empty(mean.shape(), gy.dtype(), gy.device()) : Tensor();
                  Tensor gbeta = need[2] ? empty(mean.shape(), gy.dtype(), gy.device()) : Tensor();
                  dispatch(
                      gy, "batch_norm2d_backward",
                      [&](auto p) {
                        cpu::batch_norm_backward(p(xd), p(gy), p(mean), p(invstd), p.or_null(gd),
                                                 batch_stats, d, p.or_null(gx), p.or_null(ggamma),
                                                 p.or_null(gbeta));
                      },
                      [&] {
                        cuda::batch_norm_backward(f32(xd), f32(gy), f32(mean), f32(invstd),
                                                  f32_or_null(gd), batch_stats, d, f32_or_null(gx),
                                                  f32_or_null(ggamma), f32_or_null(gbeta));
                      });
                  return Grads{gx, ggamma, gbeta};
                });
}

}  // namespace maskoff
