// The training losses: binary cross-entropy on logits, MSE, L1, and the paper's two extra
// terms, the masked-region MSE and the facial-landmark distance. Each is one differentiable op with
// its own fused kernel (not a composition of elementwise ops), reduces by the mean, and returns a
// rank-0 tensor (shape {}).
#pragma once
#include "tensor/tensor.h"

namespace maskoff {

// mean(max(x,0) - x*t + log(1 + exp(-|x|))), the stable form of
// mean(-t log sigmoid(x) - (1-t) log(1 - sigmoid(x))). Gradients flow to both inputs.
Tensor bce_with_logits(const Tensor& logits, const Tensor& target);
// The same against a constant target for every element (1 = "real", 0 = "fake").
Tensor bce_with_logits(const Tensor& logits, double target);

// mean((pred - target)^2); gradients flow to both inputs.
Tensor mse_loss(const Tensor& pred, const Tensor& target);
// mean(|pred - target|); the subgradient at pred == target is 0.
Tensor l1_loss(const Tensor& pred, const Tensor& target);

// sum(mask * (pred - target)^2) / sum(mask broadcast to pred's shape).
// pred, target: [N, C, H, W]; mask: [N, 1, H, W] (shared by the channels) or [N, C, H, W],
// weights in [0, 1] (soft masks allowed). An all-zero mask gives exactly 0 and zero
// gradients, so a batch without a masked region contributes nothing. Gradients flow to pred
// and target; the mask never receives one, even if it requires grad.
Tensor masked_mse_loss(const Tensor& pred, const Tensor& target, const Tensor& mask);

// Mean Euclidean distance between corresponding points: pred, target [N, P, 2] (x, y), the
// mean over N * P of sqrt(dx^2 + dy^2 + kLandmarkDistanceEps). The epsilon keeps the gradient
// d/|d| defined (zero) where the points coincide and bounded by 1 everywhere; it adds at most
// 1e-6 to the loss, 2.6e-4 px for points given in units of a 256-pixel image side. Gradients
// flow to both inputs.
constexpr double kLandmarkDistanceEps = 1e-12;
Tensor landmark_distance_loss(const Tensor& pred, const Tensor& target);

}  // namespace maskoff
