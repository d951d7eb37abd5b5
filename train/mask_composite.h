// The mask-aware generator's output: its image and mask channels, the composite that keeps
// every pixel outside the mask, and the mask as it is delivered (binary, dilated, feathered).
//
// Delivery (evaluate, remove_mask, the training samples) composites with delivered_mask():
// the pixels whose logit is positive, grown by `dilate` pixels and given a soft edge.
// Pixels farther than dilate + feather from the predicted mask get weight exactly 0, so
// they keep the input's value. Training composites with the same edge applied to the soft
// mask sigmoid(logit), so the losses reach the mask head.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace maskoff::train {

// A generator output [N, 3 (+1), R, R] split into its image (in (-1, 1)) and, with a mask
// head, the mask logit [N, 1, R, R] (undefined without one). Differentiable.
struct GeneratorSplit {
  Tensor image, logit;
};
GeneratorSplit split_generator_output(const Tensor& out, bool mask_head);

// input + m * (image - input) with m [N, 1, R, R] shared by the channels; image and input
// [N, C, R, R]. Differentiable in all three.
Tensor composite(const Tensor& image, const Tensor& input, const Tensor& m);

// The delivery edge at a model resolution: one pixel of dilation and one of feather per 64
// pixels of side.
struct MaskEdge {
  int64_t dilate = 1, feather = 1;
};
MaskEdge mask_edge_for_resolution(int64_t resolution);

// The edge applied to a soft mask m [N, 1, R, R] in [0, 1], differentiably: a (2 dilate + 1)^2
// max pool, then a (2 feather + 1)^2 mean over the pixels inside the image, both stride 1. Training
// composites with soft_delivered_mask(sigmoid(logit)), so the pixels the delivered mask's
// edge adds are trained too.
Tensor soft_delivered_mask(const Tensor& m, const MaskEdge& edge);

// logits [N, 1, R, R] (any device) -> weights [N, 1, R, R] on the CPU, float32: the pixels
// with a positive logit (as 0 or 1) through soft_delivered_mask. With feather <= dilate (required)
// every pixel of the predicted mask keeps weight exactly 1, the weight falls to 0 over the next 2
// feather pixels, and every pixel farther than dilate + feather (Chebyshev distance) from the
// predicted mask has weight exactly 0. No gradient.
Tensor delivered_mask(const Tensor& logits, const MaskEdge& edge);

// The fraction of pixels whose logit is positive, per image: [N] values in [0, 1].
std::vector<double> mask_fractions(const Tensor& logits);

}  // namespace maskoff::train
