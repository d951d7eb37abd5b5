// CPU-vs-CUDA comparisons of the matrix products (cuBLAS): matmul and linear layers.
#include "layers/linear.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

TEST(CudaLinear, MatmulAllShapesAndLinear) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf({37, 53}, g), b = random_leaf({53, 19}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return matmul(v[0], v[1]); }, {a, b},
                               kTolReduce, seed));
  Tensor x = random_leaf({9, 70}, g), w = random_leaf({33, 70}, g), bias = random_leaf({33}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return linear(v[0], v[1], v[2]); },
                               {x, w, bias}, kTolReduce, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return linear(v[0], v[1], Tensor()); }, {x, w},
                               kTolReduce, seed));
  // An empty inner dimension gives zeros.
  Tensor e1 = zeros({4, 0}).to(Device::cuda()), e2 = zeros({0, 3}).to(Device::cuda());
  EXPECT_TRUE(testing::close_to(matmul(e1, e2), zeros({4, 3}), {0, 0}, "empty matmul"));
}

}  // namespace
}  // namespace maskoff::testing
