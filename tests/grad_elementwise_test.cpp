// Gradient checks and hand-computed forward cases for elementwise ops and activations.
#include "layers/elementwise.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

const Shape kOdd = {2, 3, 5, 7};

TEST(ElementwiseGrad, Add) {
  Generator g(1);
  Tensor a = leaf(kOdd, g), b = leaf(kOdd, g);
  EXPECT_TRUE(grad_check([&] { return add(a, b); }, {a, b}));
}
TEST(ElementwiseGrad, AddSameInputTwice) {
  Generator g(2);
  Tensor a = leaf({3, 4}, g);
  EXPECT_TRUE(grad_check([&] { return add(a, a); }, {a}));
}
TEST(ElementwiseGrad, Sub) {
  Generator g(3);
  Tensor a = leaf(kOdd, g), b = leaf(kOdd, g);
  EXPECT_TRUE(grad_check([&] { return sub(a, b); }, {a, b}));
}
TEST(ElementwiseGrad, Mul) {
  Generator g(4);
  Tensor a = leaf(kOdd, g), b = leaf(kOdd, g);
  EXPECT_TRUE(grad_check([&] { return mul(a, b); }, {a, b}));
}
TEST(ElementwiseGrad, ScalarOps) {
  Generator g(5);
  Tensor a = leaf({4, 9}, g);
  EXPECT_TRUE(grad_check([&] { return add_scalar(mul_scalar(neg(a), 2.5), -1.0); }, {a}));
}
TEST(ActivationGrad, Relu) {
  Generator g(6);
  Tensor a = distinct_leaf(kOdd, g);
  EXPECT_TRUE(grad_check([&] { return relu(a); }, {a}));
}
TEST(ActivationGrad, LeakyRelu) {
  Generator g(7);
  Tensor a = distinct_leaf(kOdd, g);
  EXPECT_TRUE(grad_check([&] { return leaky_relu(a, 0.2); }, {a}));
}
TEST(ActivationGrad, Tanh) {
  Generator g(8);
  Tensor a = leaf(kOdd, g, 2.0);
  EXPECT_TRUE(grad_check([&] { return tanh(a); }, {a}));
}
TEST(ActivationGrad, Sigmoid) {
  Generator g(9);
  Tensor a = leaf(kOdd, g, 3.0);
  EXPECT_TRUE(grad_check([&] { return sigmoid(a); }, {a}));
}

TEST(ElementwiseForward, HandComputed) {
  Tensor x = from_vector(std::vector<double>{-2, -0.5, 0, 1.5}, {4}, DType::F64);
  EXPECT_TRUE(all_close(relu(x).to_vector<double>(), {0, 0, 0, 1.5}, 0));
  EXPECT_TRUE(all_close(leaky_relu(x, 0.2).to_vector<double>(), {-0.4, -0.1, 0, 1.5}, 1e-15));
  EXPECT_TRUE(all_close(sigmoid(x).to_vector<double>(),
                        {0.11920292202211755, 0.3775406687981454, 0.5, 0.8175744761936437}, 1e-15));
  EXPECT_TRUE(all_close(tanh(x).to_vector<double>(),
                        {-0.9640275800758169, -0.46211715726000974, 0, 0.9051482536448664}, 1e-15));
  Tensor big = from_vector(std::vector<double>{-1000, 1000}, {2}, DType::F64);
  EXPECT_TRUE(all_close(sigmoid(big).to_vector<double>(), {0, 1}, 1e-300));
}

// A NaN must reach the non-finite checks downstream: no activation may turn it into a
// number (relu once did, as u > 0 ? u : 0).
TEST(ElementwiseForward, NaNPassesThroughEveryActivation) {
  for (DType t : {DType::F32, DType::F64}) {
    const Tensor x = from_vector(std::vector<double>{std::nan(""), -1, 2}, {3}, t);
    for (const Tensor& y : {relu(x), leaky_relu(x, 0.2), tanh(x), sigmoid(x)}) {
      const std::vector<double> v = y.to_vector<double>();
      EXPECT_TRUE(std::isnan(v[0]));
      EXPECT_FALSE(std::isnan(v[1]) || std::isnan(v[2]));
    }
  }
}

TEST(ElementwiseErrors, ShapeMismatchNamesBothShapes) {
  Tensor a = zeros({2, 3}), b = zeros({3, 2});
  try {
    add(a, b);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 2]"), std::string::npos) << m;
  }
}
TEST(ElementwiseErrors, DtypeMismatch) {
  EXPECT_THROW(add(zeros({2}), zeros({2}, DType::F64)), Error);
}

}  // namespace
}  // namespace maskoff::testing
