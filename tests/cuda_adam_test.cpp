// CPU-vs-CUDA comparison of Adam: the GPU's single multi-tensor launch against the CPU's
// per-parameter updates over several steps.
#include "optim/adam.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

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
}  // namespace maskoff::testing
