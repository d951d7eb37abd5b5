// Pooling: gradient checks over kernel/stride/padding combinations on odd shapes,
// hand-computed 2x2 and padded cases, and argument errors.
#include <cmath>
#include <limits>
#include "tests/test_util.h"

#include "layers/pool.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

struct PoolCase {
  int64_t k, s, p;
};
// Non-overlapping, overlapping (an element can be the max of several windows), padded,
// and strides that leave a remainder in floor mode.
const PoolCase kCases[] = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {2, 1, 0},
                           {3, 3, 0}, {4, 2, 2}, {1, 2, 0}};

TEST(MaxPoolGrad, KernelStridePaddingCombinations) {
  Generator g(51);
  Tensor x = distinct_leaf({2, 2, 7, 9}, g);
  for (const PoolCase& c : kCases)
    EXPECT_TRUE(grad_check([&] { return max_pool2d(x, c.k, c.s, c.p); }, {x}))
        << "k " << c.k << " s " << c.s << " p " << c.p;
}
TEST(MaxPoolGrad, SingleWindowOverWholeInput) {
  Generator g(52);
  Tensor x = distinct_leaf({3, 1, 5, 5}, g);
  EXPECT_TRUE(grad_check([&] { return max_pool2d(x, 5, 1); }, {x}));
}

TEST(AvgPoolGrad, KernelStridePaddingCombinations) {
  Generator g(53);
  Tensor x = leaf({2, 2, 7, 9}, g);
  for (const PoolCase& c : kCases)
    for (bool include : {true, false})
      EXPECT_TRUE(grad_check([&] { return avg_pool2d(x, c.k, c.s, c.p, include); }, {x}))
          << "k " << c.k << " s " << c.s << " p " << c.p << " include_pad " << include;
}
TEST(AvgPoolGrad, OddPlaneSingleImage) {
  Generator g(54);
  Tensor x = leaf({1, 3, 5, 3}, g);
  EXPECT_TRUE(grad_check([&] { return avg_pool2d(x, 3, 2, 1, false); }, {x}));
}

TEST(PoolForward, TwoByTwoHandComputed) {
  Tensor x = f64({1, 5, 2, 0,    //
                  3, 4, 8, 6,    //
                  -1, -2, 7, 7,  //
                  -3, -9, 1, 2},
                 {1, 1, 4, 4});
  Tensor mx = max_pool2d(x, 2, 2);
  EXPECT_EQ(mx.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_TRUE(all_close(mx.to_vector<double>(), {5, 8, -1, 7}, 0));
  EXPECT_TRUE(all_close(avg_pool2d(x, 2, 2).to_vector<double>(), {13 / 4.0, 4, -15 / 4.0, 17 / 4.0},
                        1e-15));
  // The gradient goes to the first of tied maxima (the two 7s).
  x.set_requires_grad(true);
  max_pool2d(x, 2, 2).backward(f64({1, 2, 3, 4}, {1, 1, 2, 2}));
  EXPECT_TRUE(
      all_close(x.grad().to_vector<double>(), {0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 4, 0, 0, 0, 0, 0}, 0));
}

TEST(PoolForward, PaddedWindowsHandComputed) {
  // 2x2 input [[1, 2], [3, 4]], kernel 2, stride 1, padding 1: a 3x3 output.
  Tensor x = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_TRUE(all_close(avg_pool2d(x, 2, 1, 1, true).to_vector<double>(),
                        {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1}, 1e-15));
  EXPECT_TRUE(all_close(avg_pool2d(x, 2, 1, 1, false).to_vector<double>(),
                        {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}, 1e-15));
  EXPECT_TRUE(
      all_close(max_pool2d(x, 2, 1, 1).to_vector<double>(), {1, 2, 2, 3, 4, 4, 3, 4, 4}, 0));
  // Padding is -inf, not zero: all-negative inputs keep their own maxima.
  Tensor n = f64({-1, -2, -3, -4}, {1, 1, 2, 2});
  EXPECT_TRUE(all_close(max_pool2d(n, 2, 1, 1).to_vector<double>(),
                        {-1, -1, -2, -1, -1, -2, -3, -3, -4}, 0));
}

TEST(PoolForward, FloorModeOutputShapes) {
  EXPECT_EQ(max_pool2d(zeros({2, 3, 7, 9}), 2, 2).shape(), (Shape{2, 3, 3, 4}));
  EXPECT_EQ(max_pool2d(zeros({1, 1, 7, 9}), 3, 2, 1).shape(), (Shape{1, 1, 4, 5}));
  EXPECT_EQ(avg_pool2d(zeros({1, 1, 7, 9}), 3, 3).shape(), (Shape{1, 1, 2, 3}));
  EXPECT_EQ(avg_pool2d(zeros({1, 1, 2, 2}), 4, 1, 2).shape(), (Shape{1, 1, 3, 3}));
}

TEST(PoolForward, MaxPoolPropagatesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = f64({1, nan, 3, 4}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(max_pool2d(x, 2, 2).item()));
}

TEST(PoolForward, Float32MatchesFloat64) {
  Generator g(55);
  Tensor x = randn({2, 3, 33, 31}, g, DType::F64);
  Tensor x32 = x.to(DType::F32);
  EXPECT_TRUE(all_close(max_pool2d(x32, 3, 2, 1).to_vector<double>(),
                        max_pool2d(x, 3, 2, 1).to_vector<double>(), 1e-6));
  EXPECT_TRUE(all_close(avg_pool2d(x32, 3, 2, 1, false).to_vector<double>(),
                        avg_pool2d(x, 3, 2, 1, false).to_vector<double>(), 1e-6));
}

TEST(PoolErrors, ClearMessages) {
  std::string m = error_of([] { max_pool2d(zeros({1, 1, 3, 3}), 4, 1); });
  EXPECT_NE(m.find("[1, 1, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("larger"), std::string::npos) << m;
  m = error_of([] { avg_pool2d(zeros({1, 1, 2, 8}), 3, 1); });
  EXPECT_NE(m.find("[1, 1, 2, 8]"), std::string::npos) << m;
  m = error_of([] { max_pool2d(zeros({3, 8, 8}), 2, 2); });
  EXPECT_NE(m.find("[3, 8, 8]"), std::string::npos) << m;
  m = error_of([] { max_pool2d(zeros({1, 1, 8, 8}), 2, 2, 2); });
  EXPECT_NE(m.find("half"), std::string::npos) << m;
  EXPECT_THROW(avg_pool2d(zeros({1, 1, 8, 8}), 2, 0), Error);
  EXPECT_THROW(max_pool2d(zeros({1, 1, 0, 8}), 2, 2, 1), Error);
}

}  // namespace
}  // namespace maskoff::testing
