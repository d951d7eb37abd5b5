// Differentiable losses: argument checks, dispatch to the fused kernels in
// losses/cpu/losses.h, and the backward closures.
#include "losses/losses.h"

#include "autograd/node.h"
#include "cuda/losses.h"
#include "layers/dispatch.h"
#include "losses/cpu/losses.h"

namespace maskoff {

using autograd::record;

namespace {

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  MASKOFF_CHECK(a.defined() && b.defined(), op << ": undefined tensor argument");
  check_binary(a, b, op);
  MASKOFF_CHECK(a.numel() > 0, op << ": the mean over an empty tensor " << shape_str(a.shape())
                                  << " is undefined");
}

Tensor scalar_like(const Tensor& x) { return empty({}, x.dtype(), x.device()); }
// A gradient buffer for input i, or undefined when it is not wanted.
Tensor grad_buffer(const Tensor& x, const Needs& need, size_t i) {
  return need[i] ? empty_like(x) : Tensor();
}

// BCE on logits against a target tensor (t defined) or a constant tc.
Tensor bce_impl(const Tensor& x, const Tensor& t, double tc) {
  Tensor y = scalar_like(x);
  dispatch(
      x, "bce_with_logits",
      [&](auto p) {
        using T = typename decltype(p)::Scalar;
        cpu::bce_with_logits(p(x), p.or_null(t), T(tc), x.numel(), p(y));
      },
      [&] {
        cuda::bce_with_logits(f32(x), f32_or_null(t), static_cast<float>(tc), x.numel(), f32(y));
      });
  Tensor xd = x.detach(), td = t.defined() ? t.detach() : Tensor();
  Grads inputs = t.defined() ? Grads{x, t} : Grads{x};
  return record(y, "bce_with_logits", inputs, [xd, td, tc](const Tensor& gy, const Needs& need) {
    Tensor dx = grad_buffer(xd, need, 0);
    Tensor dt = td.defined() ? grad_buffer(td, need, 1) : Tensor();
    dispatch(
        xd, "bce_with_logits_backward",
        [&](auto p) {
          using T = typename decltype(p)::Scalar;
          cpu::bce_with_logits_backward(p(xd), p.or_null(td), T(tc), p(gy), xd.numel(),
                                        p.or_null(dx), p.or_null(dt));
        },
        [&] {
          cuda::bce_with_logits_backward(f32(xd), f32_or_null(td), static_cast<float>(tc), f32(gy),
                                         xd.numel(), f32_or_null(dx), f32_or_null(dt));
        });
    return td.defined() ? Grads{dx, dt} : Grads{dx};
  });
}

}  // namespace

Tensor bce_with_logits(const Tensor& logits, const Tensor& target) {
  check_pair(logits, target, "bce_with_logits");
  return bce_impl(logits, target, 0.0);
}

Tensor bce_with_logits(const Tensor& logits, double target) {
  MASKOFF_CHECK(logits.defined(), "bce_with_logits: undefined logits");
  MASKOFF_CHECK(logits.numel() > 0, "bce_with_logits: the mean over an empty tensor "
                                        << shape_str(logits.shape()) << " is undefined");
  return bce_impl(logits, Tensor(), target);
}

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  check_pair(pred, target, "mse_loss");
  Tensor y = scalar_like(pred);
  dispatch(
      pred, "mse_loss", [&](auto p) { cpu::mse(p(pred), p(target), pred.numel(), p(y)); },
      [&] { cuda::mse(f32(pred), f32(target), pred.numel(), f32(y)); });
  Tensor pd = pred.detach(), td = target.detach();
  return record(y, "mse_loss", {pred, target}, [pd, td](const Tensor& gy, const Needs& need) {
    Tensor dp = grad_buffer(pd, need, 0), dt = grad_buffer(td, need, 1);
    dispatch(
        pd, "mse_loss_backward",
        [&](auto p) {
          cpu::mse_backward(p(pd), p(td), p(gy), pd.numel(), p.or_null(dp), p.or_null(dt));
        },
        [&] {
          cuda::mse_backward(f32(pd), f32(td), f32(gy), pd.numel(), f32_or_null(dp),
                             f32_or_null(dt));
        });
    return Grads{dp, dt};
  });
}

Tensor l1_loss(const Tensor& pred, const Tensor& target) {
  check_pair(pred, target, "l1_loss");
  Tensor y = scalar_like(pred);
  dispatch(
      pred, "l1_loss", [&](auto p) { cpu::l1(p(pred), p(target), pred.numel(), p(y)); },
      [&] { cuda::l1(f32(pred), f32(target), pred.numel(), f32(y)); });
  Tensor pd = pred.detach(), td = target.detach();
  return record(y, "l1_loss", {pred, target}, [pd, td](const Tensor& gy, const Needs& need) {
    Tensor dp = grad_buffer(pd, need, 0), dt = grad_buffer(td, need, 1);
    dispatch(
        pd, "l1_loss_backward",
        [&](auto p) {
          cpu::l1_backward(p(pd), p(td), p(gy), pd.numel(), p.or_null(dp), p.or_null(dt));
        },
        [&] {
          cuda::l1_backward(f32(pd), f32(td), f32(gy), pd.numel(), f32_or_null(dp),
                            f32_or_null(dt));
        });
    return Grads{dp, dt};
  });
}

Tensor masked_mse_loss(const Tensor& pred, const Tensor& target, const Tensor& mask) {
  const char* op = "masked_mse_loss";
  check_pair(pred, target, op);
  check_dim(pred, 4, op, "pred");
  check_dim(mask, 4, op, "mask");
  check_same_dtype(pred, mask, op);
  check_same_device(pred, mask, op);
  const Shape& ps = pred.shape();
  const Shape& ms = mask.shape();
  MASKOFF_CHECK(
      ms[0] == ps[0] && ms[2] == ps[2] && ms[3] == ps[3] && (ms[1] == 1 || ms[1] == ps[1]),
      op << ": mask " << shape_str(ms) << " must be [N, 1, H, W] or [N, C, H, W] for pred "
         << shape_str(ps));
  cpu::MaskedShape sh{ps[0], ps[1], ps[2] * ps[3], ms[1]};
  Tensor y = scalar_like(pred);
  double denom = 0.0;
  dispatch(
      pred, op, [&](auto p) { denom = cpu::masked_mse(p(pred), p(target), p(mask), sh, p(y)); },
      [&] { cuda::masked_mse(f32(pred), f32(target), f32(mask), sh, f32(y)); });
  Tensor pd = pred.detach(), td = target.detach(), md = mask.detach();
  // The mask is deliberately not an input of the node: it never receives a gradient.
  return record(y, op, {pred, target},
                [pd, td, md, sh, denom](const Tensor& gy, const Needs& need) {
                  Tensor dp = grad_buffer(pd, need, 0), dt = grad_buffer(td, need, 1);
                  dispatch(
                      pd, "masked_mse_loss_backward",
                      [&](auto p) {
                        cpu::masked_mse_backward(p(pd), p(td), p(md), sh, denom, p(gy),
                                                 p.or_null(dp), p.or_null(dt));
                      },
                      [&] {
                        // The GPU recomputes the mask weight on the device (denom stays 0 there):
                        // reading it back in the forward would stall the stream.
                        cuda::masked_mse_backward(f32(pd), f32(td), f32(md), sh, f32(gy),
                                                  f32_or_null(dp), f32_or_null(dt));
                      });
                  return Grads{dp, dt};
                });
}

Tensor landmark_distance_loss(const Tensor& pred, const Tensor& target) {
  const char* op = "landmark_distance_loss";
  MASKOFF_CHECK(pred.defined() && target.defined(), op << ": undefined tensor argument");
  MASKOFF_CHECK(pred.dim() == 3 && pred.size(2) == 2 && pred.shape() == target.shape(),
                op << ": pred " << shape_str(pred.shape()) << " and target "
                   << shape_str(target.shape()) << " must both be [N, P, 2]");
  check_pair(pred, target, op);
  const int64_t n = pred.numel() / 2;
  Tensor y = scalar_like(pred);
  dispatch(
      pred, op,
      [&](auto p) { cpu::point_distance(p(pred), p(target), n, kLandmarkDistanceEps, p(y)); },
      [&] { cuda::point_distance(f32(pred), f32(target), n, kLandmarkDistanceEps, f32(y)); });
  Tensor pd = pred.detach(), td = target.detach();
  return record(y, op, {pred, target}, [pd, td, n](const Tensor& gy, const Needs& need) {
    Tensor dp = grad_buffer(pd, need, 0), dt = grad_buffer(td, need, 1);
    dispatch(
        pd, "landmark_distance_loss_backward",
        [&](auto p) {
          cpu::point_distance_backward(p(pd), p(td), n, kLandmarkDistanceEps, p(gy), p.or_null(dp),
                                       p.or_null(dt));
        },
        [&] {
          cuda::point_distance_backward(f32(pd), f32(td), n, kLandmarkDistanceEps, f32(gy),
                                        f32_or_null(dp), f32_or_null(dt));
        });
    return Grads{dp, dt};
  });
}

}  // namespace maskoff
