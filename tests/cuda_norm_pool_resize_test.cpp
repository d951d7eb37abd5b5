// CPU-vs-CUDA comparisons of batch norm (training, eval, without affine or running
// statistics, and the running-statistics update), max and average pooling, and bilinear
// resizing in every mode.
#include "layers/elementwise.h"
#include "layers/norm.h"
#include "layers/pool.h"
#include "layers/resize.h"
#include "tests/cuda_harness.h"

namespace maskoff {
namespace {
using testing::compare_with_cpu;
using testing::fresh_seed;
using testing::kTolElementwise;
using testing::kTolReduce;
using testing::random_input;
using testing::random_leaf;
using testing::seed_note;
using Inputs = std::vector<Tensor>;

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

TEST(CudaPool, MaxAndAveragePooling) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 3, 15, 18}, g);
  struct Case {
    int64_t k, s, p;
  };
  for (Case c : {Case{2, 2, 0}, Case{3, 2, 1}, Case{3, 1, 1}, Case{4, 3, 2}, Case{5, 2, 0}}) {
    SCOPED_TRACE("kernel " + std::to_string(c.k) + " stride " + std::to_string(c.s) +
                 " padding " + std::to_string(c.p));
    EXPECT_TRUE(compare_with_cpu([c](const Inputs& v) { return max_pool2d(v[0], c.k, c.s, c.p); },
                                 {x}, kTolElementwise, seed));
    for (bool include : {true, false})
      EXPECT_TRUE(compare_with_cpu(
          [c, include](const Inputs& v) { return avg_pool2d(v[0], c.k, c.s, c.p, include); }, {x},
          kTolElementwise, seed));
  }
}

TEST(CudaPool, MaxPoolPropagatesNaN) {
  MASKOFF_REQUIRE_CUDA();
  Tensor x = from_vector(std::vector<float>{1.f, NAN, 3.f, 2.f}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(max_pool2d(x.to(Device::cuda()), 2, 2).item()));
}

TEST(CudaResize, BilinearEveryModeUpAndDown) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 3, 13, 20}, g);
  struct Size {
    int64_t h, w;
  };
  for (Size s : {Size{26, 40}, Size{7, 9}, Size{13, 20}, Size{1, 1}, Size{31, 5}}) {
    SCOPED_TRACE(std::to_string(s.h) + "x" + std::to_string(s.w));
    for (bool corners : {false, true})
      EXPECT_TRUE(compare_with_cpu(
          [s, corners](const Inputs& v) { return resize_bilinear(v[0], s.h, s.w, corners); }, {x},
          kTolReduce, seed))
          << "align_corners " << corners;
    EXPECT_TRUE(compare_with_cpu(
        [s](const Inputs& v) { return resize_bilinear_tf_legacy(v[0], s.h, s.w); }, {x},
        kTolReduce, seed))
        << "tf_legacy";
  }
}

}  // namespace
}  // namespace maskoff
