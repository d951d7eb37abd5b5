// CPU-vs-CUDA comparisons of batch norm: training, eval, without affine or running
// statistics, and the running-statistics update.
#include "layers/elementwise.h"
#include "layers/norm.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

TEST(CudaBatchNorm, TrainingModeWithAffineAndRunningStatistics) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  // Values far from zero check the shifted statistics; 67 x 13 per channel is no multiple of
  // the block size.
  Tensor x = random_input({3, 5, 13, 67}, g, 2.0);
  x = add_scalar(x, 40.0).detach().set_requires_grad(true);
  Tensor gamma = random_leaf({5}, g), beta = random_leaf({5}, g);
  Tensor rm_cpu = random_input({5}, g), rv_cpu = testing::uniform_input({5}, g, 0.5, 2.0);
  Tensor rm_gpu = rm_cpu.to(Device::cuda()), rv_gpu = rv_cpu.to(Device::cuda());
  EXPECT_TRUE(compare_with_cpu(
      [&](const Inputs& v) {
        const bool gpu = v[0].is_cuda();
        return batch_norm2d(v[0], v[1], v[2], gpu ? rm_gpu : rm_cpu, gpu ? rv_gpu : rv_cpu, true,
                            0.1, 1e-5);
      },
      {x, gamma, beta}, kTolReduce, seed));
  EXPECT_TRUE(testing::close_to(rm_gpu, rm_cpu, kTolReduce, "running_mean")) << seed_note(seed);
  EXPECT_TRUE(testing::close_to(rv_gpu, rv_cpu, kTolReduce, "running_var")) << seed_note(seed);
}

TEST(CudaBatchNorm, EvalModeUsesRunningStatistics) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 4, 9, 7}, g), gamma = random_leaf({4}, g), beta = random_leaf({4}, g);
  Tensor rm = random_input({4}, g), rv = testing::uniform_input({4}, g, 0.5, 2.0);
  EXPECT_TRUE(compare_with_cpu(
      [&](const Inputs& v) {
        const Device d = v[0].device();
        return batch_norm2d(v[0], v[1], v[2], rm.to(d), rv.to(d), false, 0.1, 1e-3);
      },
      {x, gamma, beta}, kTolReduce, seed));
  // Input gradient only: the elementwise backward.
  EXPECT_TRUE(compare_with_cpu(
      [&](const Inputs& v) {
        const Device d = v[0].device();
        return batch_norm2d(v[0], Tensor(), Tensor(), rm.to(d), rv.to(d), false);
      },
      {x}, kTolReduce, seed));
}

TEST(CudaBatchNorm, NoAffineNoRunningStatisticsAndOnePixelPlanes) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({3, 6, 5, 5}, g);
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) {
        return batch_norm2d(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      {x}, kTolReduce, seed));
  // The U-Net's innermost decoder norm sees 1x1 planes: batch statistics over N only.
  Tensor y = random_leaf({4, 16, 1, 1}, g), gamma = random_leaf({16}, g);
  Tensor beta = random_leaf({16}, g);
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) { return batch_norm2d(v[0], v[1], v[2], Tensor(), Tensor(), true); },
      {y, gamma, beta}, kTolReduce, seed));
}

}  // namespace
}  // namespace maskoff::testing
