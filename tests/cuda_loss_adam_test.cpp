// CPU-vs-CUDA comparisons of the losses (value and both input gradients) and of Adam, the
// GPU's single multi-tensor launch against the CPU's per-parameter updates over several steps.
#include "layers/elementwise.h"
#include "losses/losses.h"
#include "optim/adam.h"
#include "tests/cuda_harness.h"

namespace maskoff {
namespace {
using testing::compare_with_cpu;
using testing::fresh_seed;
using testing::kTolReduce;
using testing::random_input;
using testing::random_leaf;
using testing::seed_note;
using testing::uniform_input;
using Inputs = std::vector<Tensor>;

const Shape kImage = {2, 3, 19, 23};

TEST(CudaLoss, BceWithLogitsAgainstTensorAndConstantTargets) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 1, 30, 30}, g, 4.0);
  Tensor t = uniform_input({2, 1, 30, 30}, g, 0.0, 1.0);
  t.set_requires_grad(true);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return bce_with_logits(v[0], v[1]); },
                               {x, t}, kTolReduce, seed));
  for (double target : {0.0, 1.0})
    EXPECT_TRUE(compare_with_cpu(
        [target](const Inputs& v) { return bce_with_logits(v[0], target); }, {x}, kTolReduce,
        seed));
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
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) { return mul_scalar(l1_loss(v[0], v[1]), 100.0); }, {p, t}, kTolReduce,
      seed));
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
        [&m](const Inputs& v) { return masked_mse_loss(v[0], v[1], m.to(v[0].device())); },
        {p, t}, kTolReduce, seed))
        << "mask " << shape_str(m.shape());
  }
}

TEST(CudaLoss, LandmarkDistance) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor p = random_leaf({3, 68, 2}, g), t = random_leaf({3, 68, 2}, g);
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) { return landmark_distance_loss(v[0], v[1]); }, {p, t}, kTolReduce,
      seed));
}

// Several parameters of awkward sizes (one larger than a kernel chunk), one of which skips
// a step (no gradient), so the per-parameter step counts and bias corrections differ.
TEST(CudaAdam, MatchesTheCpuOverSeveralSteps) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  const std::vector<Shape> shapes = {{7}, {3, 5, 4, 4}, {40000}, {1}, {64, 3, 3}};
  std::vector<Tensor> pc, pg;
  for (const Shape& s : shapes) {
    Tensor p = random_leaf(s, g);
    pc.push_back(p);
    pg.push_back(testing::cuda_copy(p));
  }
  Adam cpu_adam(pc, 1e-2, 0.5, 0.999, 1e-8, 1e-3);
  Adam gpu_adam(pg, 1e-2, 0.5, 0.999, 1e-8, 1e-3);
  for (int step = 0; step < 5; ++step) {
    cpu_adam.zero_grad();
    gpu_adam.zero_grad();
    for (size_t i = 0; i < shapes.size(); ++i) {
      if (i == 3 && step == 2) {  // this parameter gets no gradient this step
        pc[i].set_grad(Tensor());
        pg[i].set_grad(Tensor());
        continue;
      }
      Tensor grad = random_input(shapes[i], g);
      pc[i].set_grad(grad);
      pg[i].set_grad(grad.to(Device::cuda()));
    }
    cpu_adam.step();
    gpu_adam.step();
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(gpu_adam.param_step(i), cpu_adam.param_step(i));
    EXPECT_TRUE(testing::close_to(pg[i], pc[i], {1e-6, 1e-5}, "parameter " + std::to_string(i)))
        << seed_note(seed);
    EXPECT_TRUE(testing::close_to(gpu_adam.exp_avg(i), cpu_adam.exp_avg(i), {1e-6, 1e-5},
                                  "exp_avg " + std::to_string(i)))
        << seed_note(seed);
    EXPECT_TRUE(testing::close_to(gpu_adam.exp_avg_sq(i), cpu_adam.exp_avg_sq(i), {1e-7, 1e-5},
                                  "exp_avg_sq " + std::to_string(i)))
        << seed_note(seed);
  }
}

}  // namespace
}  // namespace maskoff
