// CPU-vs-CUDA comparison of nearest-neighbour upsampling, forward and backward, for the
// detector's factor 2 and others, on planes that are no multiple of the block size.
#include "layers/upsample.h"
#include "tests/cuda_harness.h"

namespace maskoff {
namespace {
using testing::compare_with_cpu;
using testing::fresh_seed;
using testing::kTolElementwise;
using testing::kTolReduce;
using testing::random_leaf;
using Inputs = std::vector<Tensor>;

TEST(CudaUpsample, NearestEveryFactor) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 3, 13, 21}, g);
  for (int64_t s : {1, 2, 3}) {
    SCOPED_TRACE("scale " + std::to_string(s));
    // The forward copies (exact); the backward sums s * s terms in the CPU's order.
    EXPECT_TRUE(compare_with_cpu([s](const Inputs& v) { return upsample_nearest2d(v[0], s); }, {x},
                                 s == 1 ? kTolElementwise : kTolReduce, seed));
  }
  Tensor one = random_leaf({1, 1, 1, 1}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return upsample_nearest2d(v[0], 2); }, {one},
                               kTolElementwise, seed));
}

}  // namespace
}  // namespace maskoff
