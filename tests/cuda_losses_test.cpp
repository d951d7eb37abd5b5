// CPU-vs-CUDA comparisons of the losses: the value and both input gradients.
#include "layers/elementwise.h"
#include "losses/losses.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

const Shape kImage = {2, 3, 19, 23};

TEST(CudaLoss, BceWithLogitsAgainstTensorAndConstantTargets) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 1, 30, 30}, g, 4.0);
  Tensor t = uniform_input({2, 1, 30, 30}, g, 0.0, 1.0);
  t.set_requires_grad(true);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return bce_with_logits(v[0], v[1]); }, {x, t},
                               kTolReduce, seed));
  for (double target : {0.0, 1.0})
    EXPECT_TRUE(
        compare_with_cpu([target](const Inputs& v) { return bce_with_logits(v[0], target); }, {x},
                         kTolReduce, seed));
}

TEST(CudaLoss, MseAndL1) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor p = random_leaf(kImage, g), t = random_leaf(kImage, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mse_loss(v[0], v[1]); }, {p, t},
                               kTolReduce, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return l1_loss(v[0], v[1]); }, {p, t},
                               kTolReduce, seed));
  // A scaled loss: the upstream gradient is read on the device.
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return mul_scalar(l1_loss(v[0], v[1]), 100.0); },
                       {p, t}, kTolReduce, seed));
}

TEST(CudaLoss, MaskedMseSharedPerChannelAndEmptyMasks) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor p = random_leaf(kImage, g), t = random_leaf(kImage, g);
  Tensor shared = uniform_input({2, 1, 19, 23}, g, 0.0, 1.0);
  Tensor per_channel = uniform_input(kImage, g, 0.0, 1.0);
  Tensor empty_mask = zeros({2, 1, 19, 23});
  for (const Tensor& m : {shared, per_channel, empty_mask}) {
    EXPECT_TRUE(compare_with_cpu(
        [&m](const Inputs& v) { return masked_mse_loss(v[0], v[1], m.to(v[0].device())); }, {p, t},
        kTolReduce, seed))
        << "mask " << shape_str(m.shape());
  }
}

TEST(CudaLoss, LandmarkDistance) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor p = random_leaf({3, 68, 2}, g), t = random_leaf({3, 68, 2}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return landmark_distance_loss(v[0], v[1]); },
                               {p, t}, kTolReduce, seed));
}

}  // namespace
}  // namespace maskoff::testing
