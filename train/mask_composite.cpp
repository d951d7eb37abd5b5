// The mask-aware generator's composite and delivered mask (train/mask_composite.h).
#include "train/mask_composite.h"

#include <algorithm>
#include <vector>

#include "autograd/node.h"
#include "layers/elementwise.h"
#include "layers/pool.h"
#include "layers/shape_ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "train/batch.h"

namespace maskoff::train {

GeneratorSplit split_generator_output(const Tensor& out, bool mask_head) {
  if (!mask_head) return {out, Tensor()};
  MASKOFF_CHECK(out.dim() == 4 && out.size(1) >= 2,
                "split_generator_output: expected [N, C + 1, R, R] from a generator with a mask "
                "head, got "
                    << shape_str(out.shape()));
  const int64_t c = out.size(1) - 1;
  return {slice(out, 1, 0, c), slice(out, 1, c, c + 1)};
}

Tensor composite(const Tensor& image, const Tensor& input, const Tensor& m) {
  MASKOFF_CHECK(image.dim() == 4 && image.shape() == input.shape() && m.dim() == 4 &&
                    m.size(0) == image.size(0) && m.size(1) == 1 && m.size(2) == image.size(2) &&
                    m.size(3) == image.size(3),
                "composite: image " << shape_str(image.shape()) << ", input "
                                    << shape_str(input.shape()) << " and mask "
                                    << shape_str(m.shape())
                                    << " must be [N, C, R, R], [N, C, R, R] and [N, 1, R, R]");
  const Tensor m_c =
      image.size(1) == 1
          ? m
          : concat_channels(std::vector<Tensor>(static_cast<size_t>(image.size(1)), m));
  return add(input, mul(m_c, sub(image, input)));
}

MaskEdge mask_edge_for_resolution(int64_t resolution) {
  const int64_t px = std::max<int64_t>(1, resolution / 64);
  return {px, px};
}

Tensor soft_delivered_mask(const Tensor& m, const MaskEdge& edge) {
  MASKOFF_CHECK(m.dim() == 4 && m.size(1) == 1,
                "soft_delivered_mask: expected a mask [N, 1, R, R], got " << shape_str(m.shape()));
  MASKOFF_CHECK(edge.dilate >= 0 && edge.feather >= 0 && edge.feather <= edge.dilate,
                "the delivered mask needs 0 <= feather <= dilate, got dilate "
                    << edge.dilate << " and feather " << edge.feather);
  Tensor out = m;
  if (edge.dilate > 0) out = max_pool2d(out, 2 * edge.dilate + 1, 1, edge.dilate);
  if (edge.feather > 0) out = avg_pool2d(out, 2 * edge.feather + 1, 1, edge.feather, false);
  return out;
}

Tensor delivered_mask(const Tensor& logits, const MaskEdge& edge) {
  MASKOFF_CHECK(logits.dim() == 4 && logits.size(1) == 1,
                "delivered_mask: expected logits [N, 1, R, R], got " << shape_str(logits.shape()));
  autograd::NoGradGuard no_grad;
  std::vector<float> v = logits.detach().cpu().to(DType::F32).to_vector<float>();
  for (float& x : v) x = x > 0 ? 1.f : 0.f;
  // Sums of ones and zeros are exact, so the mask's own pixels get exactly 1 and pixels
  // beyond the edge exactly 0.
  return soft_delivered_mask(from_vector(v, logits.shape()), edge);
}

std::vector<double> mask_fractions(const Tensor& logits) {
  MASKOFF_CHECK(logits.dim() == 4 && logits.size(1) == 1,
                "mask_fractions: expected logits [N, 1, R, R], got " << shape_str(logits.shape()));
  const std::vector<float> l = logits.detach().cpu().to(DType::F32).to_vector<float>();
  const int64_t n = logits.size(0), hw = logits.size(2) * logits.size(3);
  std::vector<double> f(static_cast<size_t>(n), 0.0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t c = 0;
    for (int64_t i = 0; i < hw; ++i) c += l[k * hw + i] > 0;
    f[k] = static_cast<double>(c) / static_cast<double>(hw);
  }
  return f;
}

void make_clean_pairs(PairedBatch& b, double fraction, uint64_t seed, uint64_t step) {
  if (fraction <= 0 || !b.input.defined()) return;
  const int64_t n = b.input.size(0);
  const uint64_t stream = rng_mix64(seed ^ 0x636c65616e706169ULL);  // "cleanpai"
  std::vector<Tensor> in, mask;
  bool any = false;
  for (int64_t k = 0; k < n; ++k) {
    const bool clean = rng_uniform_f64(stream, step * static_cast<uint64_t>(n) + k) < fraction;
    any = any || clean;
    in.push_back(slice(clean ? b.target : b.input, 0, k, k + 1));
    const Tensor m = slice(b.mask, 0, k, k + 1);
    mask.push_back(clean ? zeros(m.shape(), m.dtype(), m.device()) : m);
  }
  if (!any) return;
  b.input = concat(in, 0);
  b.mask = concat(mask, 0);
}

}  // namespace maskoff::train
