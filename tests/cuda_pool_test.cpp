// CPU-vs-CUDA comparisons of max and average pooling.
#include <cmath>

#include "layers/pool.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

// A pooling window: kernel size, stride and padding.
struct Window {
  int64_t k, s, p;
};

TEST(CudaPool, MaxAndAveragePooling) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 3, 15, 18}, g);
  for (Window c :
       {Window{2, 2, 0}, Window{3, 2, 1}, Window{3, 1, 1}, Window{4, 3, 2}, Window{5, 2, 0}}) {
    SCOPED_TRACE("kernel " + std::to_string(c.k) + " stride " + std::to_string(c.s) + " padding " +
                 std::to_string(c.p));
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

}  // namespace
}  // namespace maskoff::testing
