// Dropout: gradient checks under a fixed mask, mask statistics, reproducibility from the
// generator state, and argument errors.
#include "layers/dropout.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

TEST(DropoutGrad, FixedSeed) {
  Generator g(21);
  Tensor x = leaf({3, 5, 7}, g);
  // A fresh generator in every evaluation: each one draws the same mask.
  EXPECT_TRUE(grad_check(
      [&] {
        Generator gen(99);
        gen.offset = 12345;
        return dropout(x, 0.3, gen, true);
      },
      {x}));
}
TEST(DropoutGrad, HalfOnOddImage) {
  Generator g(22);
  Tensor x = leaf({2, 3, 5, 7}, g);
  EXPECT_TRUE(grad_check(
      [&] {
        Generator gen(7);
        return dropout(x, 0.5, gen, true);
      },
      {x}));
}
TEST(DropoutGrad, EvalIsIdentity) {
  Generator g(23);
  Tensor x = leaf({4, 9}, g);
  Generator gen(1);
  EXPECT_TRUE(grad_check([&] { return dropout(x, 0.5, gen, false); }, {x}));
}

TEST(DropoutForward, KeepsAboutOneMinusPAndScalesSurvivors) {
  const int64_t n = 100000;
  const double p = 0.3;
  Tensor x = full({n}, 2.0, DType::F64);
  Generator gen(5);
  std::vector<double> y = dropout(x, p, gen, true).to_vector<double>();
  int64_t kept = 0;
  for (double v : y) {
    if (v != 0.0) {
      ++kept;
      EXPECT_DOUBLE_EQ(v, 2.0 / (1.0 - p));
    }
  }
  // 0.7 * n kept, standard deviation sqrt(n * 0.21) ~ 145: allow 5 sigma.
  EXPECT_NEAR(static_cast<double>(kept), 0.7 * n, 725.0);
  EXPECT_EQ(gen.offset, static_cast<uint64_t>(n));
}

TEST(DropoutForward, MaskFollowsTheCounterFormula) {
  Generator gen(31);
  gen.offset = 1000;
  Tensor x = ones({257}, DType::F64);
  std::vector<double> y = dropout(x, 0.4, gen, true).to_vector<double>();
  for (size_t i = 0; i < y.size(); ++i) {
    bool keep = rng_uniform(31, 1000 + i) >= 0.4f;
    EXPECT_EQ(y[i] != 0.0, keep) << "element " << i;
  }
}

TEST(DropoutForward, SameStateSameMaskNewStateNewMask) {
  Generator g(3);
  Tensor x = randn({3, 4, 17}, g, DType::F32);
  Generator a(8), b(8), c(9);
  std::vector<float> ya = dropout(x, 0.5, a, true).to_vector<float>();
  std::vector<float> yb = dropout(x, 0.5, b, true).to_vector<float>();
  std::vector<float> yc = dropout(x, 0.5, c, true).to_vector<float>();
  std::vector<float> ya2 = dropout(x, 0.5, a, true).to_vector<float>();  // advanced stream
  EXPECT_EQ(ya, yb);
  EXPECT_NE(ya, yc);
  EXPECT_NE(ya, ya2);
}

TEST(DropoutForward, Float32AndFloat64DrawTheSameMask) {
  Generator g(4);
  Tensor x = randn({5, 31}, g, DType::F64);
  Generator a(77), b(77);
  std::vector<double> y64 = dropout(x, 0.25, a, true).to_vector<double>();
  std::vector<double> y32 = dropout(x.to(DType::F32), 0.25, b, true).to_vector<double>();
  EXPECT_TRUE(all_close(y32, y64, 1e-6));
}

TEST(DropoutForward, IdentityCasesAndPOne) {
  Tensor x = from_vector(std::vector<double>{1, -2, 3}, {3}, DType::F64);
  Generator gen(1);
  EXPECT_TRUE(dropout(x, 0.5, gen, false).same_storage(x));
  EXPECT_TRUE(dropout(x, 0.0, gen, true).same_storage(x));
  EXPECT_EQ(gen.offset, 0u);
  EXPECT_TRUE(all_close(dropout(x, 1.0, gen, true).to_vector<double>(), {0, 0, 0}, 0));
}

TEST(DropoutForward, BackwardUsesTheForwardMask) {
  Generator g(6);
  Tensor x = randn({64}, g, DType::F64);
  x.set_requires_grad(true);
  Generator gen(12);
  Tensor y = dropout(x, 0.5, gen, true);
  y.backward(ones({64}, DType::F64));
  std::vector<double> yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_EQ(gv[i], yv[i] != 0.0 ? 2.0 : 0.0) << i;
}

TEST(DropoutErrors, ProbabilityOutOfRange) {
  Generator gen(1);
  EXPECT_THROW(dropout(zeros({2}), 1.5, gen, true), Error);
  EXPECT_THROW(dropout(zeros({2}), -0.1, gen, true), Error);
}

}  // namespace
}  // namespace maskoff::testing
