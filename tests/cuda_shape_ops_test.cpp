// CPU-vs-CUDA comparisons of the shape ops: concatenation, slicing and reshaping.
#include "layers/elementwise.h"
#include "layers/shape_ops.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

TEST(CudaShape, ConcatSliceReshape) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf({2, 3, 5, 7}, g), b = random_leaf({2, 4, 5, 7}, g);
  Tensor c = random_leaf({2, 1, 5, 7}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return concat_channels(v); }, {a, b, c},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) {
        return concat({v[0], v[0]}, -1);
      },
      {a}, kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return slice(v[0], 1, 1, 3); }, {b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return slice(v[0], 3, -4, 7); }, {b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mul(flatten(v[0]), flatten(v[0])); },
                               {b}, kTolElementwise, seed));
}

}  // namespace
}  // namespace maskoff::testing
