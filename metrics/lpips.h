// LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a
// Perceptual Metric"), version 0.1 with the AlexNet backbone, built from the engine's ops
// and the pretrained weights in weights/lpips_alex of the shared folder (its README gives
// the network and the reference values the tests reproduce).
//
// For images a and b: map [0, 1] -> [-1, 1]; scale each channel, (x - shift_c) / scale_c;
// run AlexNet's five conv + ReLU stages (taps after conv1..conv5; 3x3 stride-2 max pools
// after taps 1 and 2); unit-normalise each tap over channels (metrics/channel_norm.h); take
// the squared difference of a's and b's normalised taps, weight the channels with the tap's
// linear head (a 1x1 conv, no bias, weights >= 0), average over the positions, and sum the
// five tap terms. 0 for identical images; larger is more different.
#pragma once
#include <memory>
#include <string>

#include "layers/modules.h"
#include "metrics/image.h"

namespace maskoff::metrics {

class Lpips : public Module {
 public:
  static constexpr int64_t kTaps = 5;
  // The smallest side AlexNet's stages accept: conv1 (11x11, stride 4, pad 2) must leave
  // 7 positions for the two 3x3 stride-2 pools to leave one.
  static constexpr int64_t kMinSide = 31;

  // Zero weights; load() fills them. Parameter names are the weight files' stems:
  // conv1.weight, conv1.bias, ..., conv5.bias, lin0.weight, ..., lin4.weight.
  explicit Lpips(DType dtype = DType::F32);

  // Reads DIR/<parameter name>.npy for every parameter, checks each shape, and freezes the
  // parameters. A missing folder or file, or a file of the wrong shape, is an error naming
  // the path.
  static std::shared_ptr<Lpips> load(const std::string& dir, DType dtype = DType::F32);

  // Images as in metrics/image.h: [N, 3, H, W] or [3, H, W] in [0, 1], H and W >= 31, of
  // the network's dtype, on the CPU. Returns [N] (one distance per image pair; [1] for a
  // single image), differentiable with respect to a and b.
  Tensor distance(const Tensor& a, const Tensor& b);
  // The five tap terms that distance() sums, [N, 5].
  Tensor tap_distances(const Tensor& a, const Tensor& b);
  // distance() of the crops of a and b to `box` (e.g. mask_box(mask)), which must be at
  // least 31 x 31.
  Tensor distance_in_box(const Tensor& a, const Tensor& b, const Box& box);

  std::shared_ptr<Conv2d> conv1, conv2, conv3, conv4, conv5;
  std::shared_ptr<Conv2d> lin0, lin1, lin2, lin3, lin4;
};

// The scaling layer's constants (R, G, B) for inputs in [-1, 1].
constexpr double kLpipsShift[3] = {-0.030, -0.088, -0.188};
constexpr double kLpipsScale[3] = {0.458, 0.448, 0.450};

}  // namespace maskoff::metrics
