// Reductions: gradient checks for full and per-dimension sums and means, hand-computed
// values, accumulation accuracy in float32, and errors.
#include <cmath>
#include <limits>

#include "layers/elementwise.h"
#include "layers/reduce.h"
#include "tensor/parallel.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

TEST(ReduceGrad, SumAndMeanOfAll) {
  Generator g(41);
  Tensor x = leaf({3, 5, 7}, g);
  EXPECT_TRUE(grad_check([&] { return sum(x); }, {x}));
  EXPECT_TRUE(grad_check([&] { return mean(x); }, {x}));
  EXPECT_TRUE(grad_check([&] { return mean(mul(x, x)); }, {x}));
}
TEST(ReduceGrad, SumDimEveryDimension) {
  Generator g(42);
  Tensor x = leaf({3, 5, 7}, g);
  for (int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true})
      EXPECT_TRUE(grad_check([&] { return sum_dim(x, d, keep); }, {x})) << d << " " << keep;
}
TEST(ReduceGrad, MeanDimEveryDimension) {
  Generator g(43);
  Tensor x = leaf({2, 3, 5, 3}, g);
  for (int64_t d : {0, 1, 2, 3})
    for (bool keep : {false, true})
      EXPECT_TRUE(grad_check([&] { return mean_dim(x, d, keep); }, {x})) << d << " " << keep;
}
TEST(ReduceGrad, ChainedReductions) {
  Generator g(44);
  Tensor x = leaf({4, 3, 5}, g);
  EXPECT_TRUE(grad_check([&] { return mean_dim(sum_dim(mul(x, x), 2), 0); }, {x}));
}

TEST(ReduceForward, HandComputed) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor s = sum(x);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_DOUBLE_EQ(s.item(), 21.0);
  EXPECT_DOUBLE_EQ(mean(x).item(), 3.5);
  EXPECT_TRUE(all_close(sum_dim(x, 0).to_vector<double>(), {5, 7, 9}, 0));
  EXPECT_TRUE(all_close(sum_dim(x, 1).to_vector<double>(), {6, 15}, 0));
  EXPECT_TRUE(all_close(mean_dim(x, -1).to_vector<double>(), {2, 5}, 0));
  EXPECT_TRUE(all_close(mean_dim(x, 0).to_vector<double>(), {2.5, 3.5, 4.5}, 0));
  EXPECT_EQ(sum_dim(x, 0).shape(), (Shape{3}));
  EXPECT_EQ(sum_dim(x, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(mean_dim(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_DOUBLE_EQ(sum(f64({4}, {})).item(), 4.0);
}

TEST(ReduceForward, BackwardSpreadsTheGradient) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  x.set_requires_grad(true);
  mean_dim(x, 1).backward(f64({3, 6}, {2}));
  EXPECT_TRUE(all_close(x.grad().to_vector<double>(), {1, 1, 1, 2, 2, 2}, 1e-15));
  x.set_grad(Tensor());
  mean(x).backward();
  EXPECT_TRUE(all_close(x.grad().to_vector<double>(), std::vector<double>(6, 1.0 / 6), 1e-15));
}

TEST(ReduceForward, Float32AccumulatesInDoubleAndIgnoresThreadCount) {
  const int64_t n = 1 << 21;
  Tensor x = full({n}, 0.1, DType::F32);
  const double want = n * static_cast<double>(0.1f);
  EXPECT_NEAR(sum(x).item(), want, want * 1e-7);
  Generator g(45);
  Tensor big = randn({512, 130}, g, DType::F32);
  int saved = num_threads();
  Tensor wide = randn({4, 512, 130}, g, DType::F32);  // dim 1 of this one splits over tasks
  set_num_threads(1);
  std::vector<float> one = sum_dim(big, 0).to_vector<float>();
  std::vector<float> rows1 = sum_dim(big, 1).to_vector<float>();
  std::vector<float> mid1 = sum_dim(wide, 1).to_vector<float>();
  double s1 = sum(big).item();
  set_num_threads(2);
  std::vector<float> two = sum_dim(big, 0).to_vector<float>();
  std::vector<float> rows2 = sum_dim(big, 1).to_vector<float>();
  std::vector<float> mid2 = sum_dim(wide, 1).to_vector<float>();
  double s2 = sum(big).item();
  set_num_threads(saved);
  EXPECT_EQ(one, two);
  EXPECT_EQ(rows1, rows2);
  EXPECT_EQ(mid1, mid2);
  EXPECT_EQ(s1, s2);
  // Column 7 against a double loop.
  std::vector<float> v = big.to_vector<float>();
  double col = 0;
  for (int r = 0; r < 512; ++r) col += v[static_cast<size_t>(r * 130 + 7)];
  EXPECT_NEAR(one[7], col, 1e-4);
}

TEST(ReduceForward, EmptyInputs) {
  EXPECT_DOUBLE_EQ(sum(zeros({0, 3})).item(), 0.0);
  EXPECT_TRUE(std::isnan(mean(zeros({0}, DType::F64)).item()));
  EXPECT_EQ(sum_dim(zeros({0, 3}), 0).to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(ReduceForward, CountNonFiniteCountsNaNAndBothInfinities) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> v = {1, nan, -inf, 3e38, inf, -0.0, 1e-320, nan};
  const Tensor d = from_vector(v, {8}, DType::F64);
  const Tensor f = d.to(DType::F32);         // 3e38 stays finite in float32
  const Tensor big = full({1000, 37}, 2.0);  // many threads' worth, all finite
  EXPECT_EQ(count_nonfinite({d, f, big, Tensor(), zeros({0, 4})}),
            (std::vector<int64_t>{4, 4, 0, 0, 0}));
  EXPECT_EQ(count_nonfinite({from_vector(std::vector<double>{1e300 * 10}, {1})}),
            (std::vector<int64_t>{1}));
}

TEST(ReduceErrors, DimensionOutOfRange) {
  try {
    sum_dim(zeros({2, 3}), 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mean_dim(zeros({2, 3}), -3), Error);
  EXPECT_THROW(sum_dim(zeros({}), 0), Error);
}

}  // namespace
}  // namespace maskoff::testing
