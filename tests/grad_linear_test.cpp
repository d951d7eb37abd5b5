// Matrix product and fully connected layer: gradient checks for every operand,
// hand-computed products, float32 against float64, and shape errors.
#include "layers/linear.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace maskoff::testing {
namespace {

TEST(MatmulGrad, OddShapes) {
  Generator g(61);
  Tensor a = leaf({3, 5}, g), b = leaf({5, 7}, g);
  EXPECT_TRUE(grad_check([&] { return matmul(a, b); }, {a, b}));
}
TEST(MatmulGrad, ThinShapes) {
  Generator g(62);
  Tensor r = leaf({1, 4}, g), c = leaf({4, 1}, g), a = leaf({6, 1}, g), b = leaf({1, 5}, g);
  EXPECT_TRUE(grad_check([&] { return matmul(r, c); }, {r, c}));
  EXPECT_TRUE(grad_check([&] { return matmul(c, r); }, {c, r}));
  EXPECT_TRUE(grad_check([&] { return matmul(a, b); }, {a, b}));
}
TEST(MatmulGrad, SameOperandTwice) {
  Generator g(63);
  Tensor a = leaf({4, 4}, g);
  EXPECT_TRUE(grad_check([&] { return matmul(a, a); }, {a}));
}

TEST(LinearGrad, WithBias) {
  Generator g(64);
  Tensor x = leaf({4, 7}, g), w = leaf({5, 7}, g), b = leaf({5}, g);
  EXPECT_TRUE(grad_check([&] { return linear(x, w, b); }, {x, w, b}));
}
TEST(LinearGrad, WithoutBiasAndSingleRow) {
  Generator g(65);
  Tensor x = leaf({3, 9}, g), w = leaf({2, 9}, g), x1 = leaf({1, 9}, g), b = leaf({2}, g);
  EXPECT_TRUE(grad_check([&] { return linear(x, w, {}); }, {x, w}));
  EXPECT_TRUE(grad_check([&] { return linear(x1, w, b); }, {x1, w, b}));
}

TEST(LinearForward, HandComputed) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6, 7, 8}, {2, 2});
  EXPECT_TRUE(all_close(matmul(a, b).to_vector<double>(), {19, 22, 43, 50}, 0));
  Tensor x = f64({1, 2, 3}, {1, 3}), w = f64({1, 0, -1, 2, 1, 0}, {2, 3});
  Tensor y = linear(x, w, f64({0.5, -1}, {2}));
  EXPECT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_TRUE(all_close(y.to_vector<double>(), {-1.5, 3}, 1e-15));
  EXPECT_TRUE(all_close(linear(x, w, {}).to_vector<double>(), {-2, 4}, 1e-15));
  // Empty inner dimension: the product is zero, not uninitialised memory.
  EXPECT_TRUE(all_close(matmul(zeros({2, 0}), zeros({0, 3})).to_vector<double>(),
                        std::vector<double>(6, 0.0), 0));
}

TEST(LinearForward, Float32MatchesFloat64) {
  Generator g(66);
  Tensor a = randn({64, 70}, g, DType::F64), b = randn({70, 33}, g, DType::F64);
  Tensor bias = randn({64}, g, DType::F64);
  EXPECT_TRUE(all_close(matmul(a.to(DType::F32), b.to(DType::F32)).to_vector<double>(),
                        matmul(a, b).to_vector<double>(), 1e-4, 1e-5));
  // linear(b^T-shaped input, a as weight): [33, 70] x [64, 70]^T
  Tensor x = randn({33, 70}, g, DType::F64);
  EXPECT_TRUE(
      all_close(linear(x.to(DType::F32), a.to(DType::F32), bias.to(DType::F32)).to_vector<double>(),
                linear(x, a, bias).to_vector<double>(), 1e-4, 1e-5));
}

TEST(LinearErrors, ClearMessages) {
  std::string m = error_of([] { matmul(zeros({2, 3}), zeros({4, 5})); });
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  m = error_of([] { matmul(zeros({2, 3, 1}), zeros({3, 5})); });
  EXPECT_NE(m.find("[2, 3, 1]"), std::string::npos) << m;
  m = error_of([] { linear(zeros({2, 3}), zeros({4, 5}), {}); });
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  m = error_of([] { linear(zeros({2, 3}), zeros({4, 3}), zeros({3})); });
  EXPECT_NE(m.find("bias"), std::string::npos) << m;
  EXPECT_THROW(matmul(zeros({2, 3}), zeros({3, 2}, DType::F64)), Error);
}

}  // namespace
}  // namespace maskoff::testing
