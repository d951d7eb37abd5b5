// CPU-vs-CUDA comparisons of the reductions: sums and means over everything or one
// dimension, long rows, large sums, and the count of non-finite values.
#include <cmath>

#include "layers/reduce.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

TEST(CudaReduce, SumMeanAndPerDimension) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf(kOdd, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return sum(v[0]); }, {a}, kTolReduce, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mean(v[0]); }, {a}, kTolReduce, seed));
  for (int64_t d = -4; d < 4; ++d) {
    EXPECT_TRUE(compare_with_cpu([d](const Inputs& v) { return sum_dim(v[0], d, d % 2 == 0); }, {a},
                                 kTolReduce, seed))
        << "sum_dim " << d;
    EXPECT_TRUE(
        compare_with_cpu([d](const Inputs& v) { return mean_dim(v[0], d); }, {a}, kTolReduce, seed))
        << "mean_dim " << d;
  }
}

TEST(CudaReduce, LongRowsAndLargeSums) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  // Few outputs over long rows (one block per output), and one sum over 2^21 + 3 values
  // (the two-pass grid reduction).
  Tensor rows = random_leaf({3, 20000}, g);
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return sum_dim(v[0], 1); }, {rows}, kTolReduce, seed));
  Tensor big = random_leaf({(1 << 21) + 3}, g);
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return mean(v[0]); }, {big}, kTolReduce, seed));
}

TEST(CudaReduce, CountNonFiniteMatchesTheCpuInOneCall) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  std::vector<Tensor> cpu_in, mixed;
  for (int64_t n : {1, 257, 70000}) {
    Tensor t = random_input({n}, g);
    std::vector<float> v = t.to_vector<float>();
    for (int64_t k = 0; k < n; k += 97) v[static_cast<size_t>(k)] = k % 3 ? INFINITY : NAN;
    if (n > 1) v[1] = -INFINITY;
    t = from_vector(v, {n});
    cpu_in.push_back(t);
    mixed.push_back(n == 257 ? t : t.to(Device::cuda()));  // CPU and GPU tensors in one call
  }
  cpu_in.push_back(Tensor());
  mixed.push_back(Tensor());
  const std::vector<int64_t> want = count_nonfinite(cpu_in);
  EXPECT_GT(want[2], 700);
  EXPECT_EQ(count_nonfinite(mixed), want) << seed_note(seed);
}

}  // namespace
}  // namespace maskoff::testing
