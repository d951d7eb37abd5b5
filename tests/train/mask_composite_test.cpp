// The mask-aware generator's composite and delivered mask (train/mask_composite.h): values,
// finite-difference gradients in double precision, and the promise that a pixel the
// delivered mask leaves at weight 0 keeps the input's exact value.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "layers/elementwise.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tests/gradcheck.h"
#include "train/batch.h"
#include "train/mask_composite.h"

namespace maskoff::train {
namespace {

using maskoff::testing::grad_check;
using maskoff::testing::leaf;

TEST(MaskComposite, BlendsEachChannelByTheSharedMask) {
  const Tensor image =
      from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2}, DType::F64);
  const Tensor input =
      from_vector(std::vector<double>{0, 0, 0, 0, 10, 10, 10, 10}, {1, 2, 2, 2}, DType::F64);
  const Tensor m = from_vector(std::vector<double>{0, 1, 0.5, 0.25}, {1, 1, 2, 2}, DType::F64);
  EXPECT_EQ(composite(image, input, m).to_vector<double>(),
            (std::vector<double>{0, 2, 1.5, 1, 10, 6, 8.5, 9.5}));
  EXPECT_THROW(
      composite(image, input, from_vector(std::vector<double>(8, 0), {1, 2, 2, 2}, DType::F64)),
      Error);
}

TEST(MaskComposite, GradientsOfTheCompositeAndTheSoftEdge) {
  Generator g(31);
  const Tensor image = leaf({2, 3, 6, 5}, g), input = leaf({2, 3, 6, 5}, g);
  const Tensor logit = leaf({2, 1, 6, 5}, g);
  const MaskEdge edge{1, 1};
  EXPECT_TRUE(
      grad_check([&] { return composite(image, input, soft_delivered_mask(sigmoid(logit), edge)); },
                 {image, input, logit}));
  const MaskEdge wide{2, 1};
  EXPECT_TRUE(grad_check([&] { return soft_delivered_mask(sigmoid(logit), wide); }, {logit}));
}

TEST(MaskComposite, DeliveredMaskIsOneOnTheMaskAndZeroBeyondItsEdge) {
  // One positive logit at (row 5, column 6) of a 12x12 image, and one in the corner.
  std::vector<float> l(144, -3.f);
  l[5 * 12 + 6] = 0.1f;
  l[0] = 2.f;
  const Tensor logits = from_vector(l, {1, 1, 12, 12});
  for (const MaskEdge edge : {MaskEdge{1, 1}, MaskEdge{2, 1}, MaskEdge{2, 2}, MaskEdge{1, 0}}) {
    const std::vector<float> w = delivered_mask(logits, edge).to_vector<float>();
    const int64_t reach = edge.dilate + edge.feather;
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x) {
        const int64_t d = std::min(std::max(std::abs(y - 5), std::abs(x - 6)), std::max(y, x));
        const float v = w[y * 12 + x];
        if (d <= edge.dilate - edge.feather)
          EXPECT_EQ(v, 1.f) << y << "," << x;
        else if (d > reach)
          EXPECT_EQ(v, 0.f) << y << "," << x;
        else
          EXPECT_TRUE(v > 0 && v < 1) << y << "," << x << ": " << v;
      }
  }
  EXPECT_EQ(mask_fractions(logits), std::vector<double>{2.0 / 144});
  EXPECT_THROW(delivered_mask(logits, MaskEdge{1, 2}), Error);  // feather > dilate
  EXPECT_THROW(delivered_mask(from_vector(l, {1, 144}), MaskEdge{1, 1}), Error);
}

TEST(MaskComposite, PixelsOutsideTheDeliveredMaskKeepTheirExactValue) {
  Generator g(32);
  const Tensor input = rand({2, 3, 16, 16}, g, DType::F32, Device::cpu(), -1.0, 1.0);
  const Tensor image = rand({2, 3, 16, 16}, g, DType::F32, Device::cpu(), -1.0, 1.0);
  // Mostly negative logits, so the delivered mask leaves many pixels at 0.
  const Tensor logits = add_scalar(randn({2, 1, 16, 16}, g), -2.0);
  const Tensor m = delivered_mask(logits, MaskEdge{1, 1});
  const auto out = composite(image, input, m).to_vector<float>();
  const auto in = input.to_vector<float>(), w = m.to_vector<float>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 256; ++i)
        if (w[n * 256 + i] == 0) {
          ASSERT_EQ(out[(n * 3 + c) * 256 + i], in[(n * 3 + c) * 256 + i]);
        }
  // A sparse mask leaves some pixels alone.
  std::vector<float> sparse(2 * 256, -1.f);
  sparse[40] = 1.f;
  const auto w2 = delivered_mask(from_vector(sparse, {2, 1, 16, 16}), MaskEdge{1, 1});
  int64_t zeros = 0;
  for (float v : w2.to_vector<float>()) zeros += v == 0;
  EXPECT_EQ(zeros, 2 * 256 - 25);
}

TEST(MaskComposite, SplitsTheMaskHeadsOutput) {
  Generator g(33);
  const Tensor out = randn({2, 4, 8, 8}, g);
  const GeneratorSplit s = split_generator_output(out, true);
  EXPECT_EQ(s.image.shape(), (Shape{2, 3, 8, 8}));
  EXPECT_EQ(s.logit.shape(), (Shape{2, 1, 8, 8}));
  const GeneratorSplit plain = split_generator_output(out, false);
  EXPECT_FALSE(plain.logit.defined());
  EXPECT_EQ(plain.image.shape(), out.shape());
  EXPECT_EQ(mask_edge_for_resolution(64).dilate, 1);
  EXPECT_EQ(mask_edge_for_resolution(256).dilate, 4);
  EXPECT_EQ(mask_edge_for_resolution(32).feather, 1);
}

TEST(MaskComposite, CleanPairsShowTheRealFaceWithAnEmptyMask) {
  Generator g(34);
  auto batch = [&] {
    PairedBatch b;
    b.input = randn({4, 3, 8, 8}, g);
    b.target = randn({4, 3, 8, 8}, g);
    b.mask = full({4, 1, 8, 8}, 1.0);
    return b;
  };
  const PairedBatch b0 = batch();
  PairedBatch b = b0;
  make_clean_pairs(b, 0.0, 1, 5);
  EXPECT_EQ(b.input.to_vector<float>(), b0.input.to_vector<float>());
  make_clean_pairs(b, 1.0, 1, 5);
  EXPECT_EQ(b.input.to_vector<float>(), b0.target.to_vector<float>());
  EXPECT_EQ(b.mask.to_vector<float>(), std::vector<float>(4 * 64, 0.f));
  // About the fraction asked for, and the same pairs for the same (seed, step).
  int64_t clean = 0, total = 0;
  for (uint64_t step = 0; step < 250; ++step) {
    PairedBatch x = batch(), y = x;
    make_clean_pairs(x, 0.3, 9, step);
    make_clean_pairs(y, 0.3, 9, step);
    EXPECT_EQ(x.input.to_vector<float>(), y.input.to_vector<float>());
    const auto m = x.mask.to_vector<float>();
    for (int k = 0; k < 4; ++k) clean += m[k * 64] == 0, ++total;
  }
  EXPECT_NEAR(static_cast<double>(clean) / total, 0.3, 0.05);
}

}  // namespace
}  // namespace maskoff::train
