// Batch normalisation: gradient checks in training and eval mode, with and without the
// affine parameters, hand-computed forward values and running statistics, and errors.
#include <cmath>
#include "tests/test_util.h"

#include "autograd/node.h"
#include "layers/norm.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

TEST(BatchNormGrad, TrainingAffine) {
  Generator g(11);
  Tensor x = leaf({2, 3, 5, 7}, g, 2.0), gamma = leaf({3}, g), beta = leaf({3}, g);
  Tensor rm = zeros({3}, DType::F64), rv = ones({3}, DType::F64);
  EXPECT_TRUE(
      grad_check([&] { return batch_norm2d(x, gamma, beta, rm, rv, true); }, {x, gamma, beta}));
}
TEST(BatchNormGrad, TrainingNoAffineNoRunningStats) {
  Generator g(12);
  Tensor x = leaf({3, 2, 3, 5}, g);
  EXPECT_TRUE(grad_check([&] { return batch_norm2d(x, {}, {}, {}, {}, true); }, {x}));
}
TEST(BatchNormGrad, TrainingSingleImageOddPlane) {
  Generator g(13);
  Tensor x = leaf({1, 4, 7, 3}, g), gamma = leaf({4}, g);
  EXPECT_TRUE(
      grad_check([&] { return batch_norm2d(x, gamma, {}, {}, {}, true, 0.1, 1e-3); }, {x, gamma}));
}
TEST(BatchNormGrad, EvalAffine) {
  Generator g(14);
  Tensor x = leaf({2, 3, 4, 5}, g), gamma = leaf({3}, g), beta = leaf({3}, g);
  Tensor rm = f64({0.3, -1.0, 2.0}, {3}), rv = f64({0.5, 2.0, 1.5}, {3});
  EXPECT_TRUE(
      grad_check([&] { return batch_norm2d(x, gamma, beta, rm, rv, false); }, {x, gamma, beta}));
}
TEST(BatchNormGrad, EvalNoAffine) {
  Generator g(15);
  Tensor x = leaf({3, 2, 3, 3}, g);
  Tensor rm = f64({0.1, 0.2}, {2}), rv = f64({0.9, 3.0}, {2});
  EXPECT_TRUE(grad_check([&] { return batch_norm2d(x, {}, {}, rm, rv, false); }, {x}));
}
TEST(BatchNormGrad, EvalWithoutRunningStatsUsesBatchStats) {
  Generator g(16);
  Tensor x = leaf({2, 2, 3, 5}, g), beta = leaf({2}, g);
  EXPECT_TRUE(grad_check([&] { return batch_norm2d(x, {}, beta, {}, {}, false); }, {x, beta}));
}

// x [2, 2, 1, 2]: channel 0 holds 1, 2 | 3, 4 and channel 1 holds 0, 0 | 2, 6.
// Channel 0: mean 2.5, biased variance 1.25, unbiased 5/3.
// Channel 1: mean 2, biased variance 6, unbiased 8.
Tensor two_channel_input() { return f64({1, 2, 0, 0, 3, 4, 2, 6}, {2, 2, 1, 2}); }

TEST(BatchNormForward, TrainingHandComputed) {
  const double eps = 1e-5;
  Tensor gamma = f64({2, -1}, {2}), beta = f64({0.5, 1}, {2});
  Tensor y = batch_norm2d(two_channel_input(), gamma, beta, {}, {}, true, 0.1, eps);
  const double s0 = std::sqrt(1.25 + eps), s1 = std::sqrt(6 + eps);
  auto c0 = [&](double v) { return 2 * (v - 2.5) / s0 + 0.5; };
  auto c1 = [&](double v) { return -(v - 2) / s1 + 1; };
  EXPECT_TRUE(all_close(y.to_vector<double>(),
                        {c0(1), c0(2), c1(0), c1(0), c0(3), c0(4), c1(2), c1(6)}, 1e-12));
}

TEST(BatchNormForward, RunningStatsAfterOneStep) {
  Tensor rm = f64({0, 0}, {2}), rv = f64({1, 1}, {2});
  batch_norm2d(two_channel_input(), {}, {}, rm, rv, true, 0.1);
  // mean: 0.9 * 0 + 0.1 * [2.5, 2]; var: 0.9 * 1 + 0.1 * [5/3, 8] (unbiased).
  EXPECT_TRUE(all_close(rm.to_vector<double>(), {0.25, 0.2}, 1e-15));
  EXPECT_TRUE(all_close(rv.to_vector<double>(), {0.9 + 1.0 / 6.0, 1.7}, 1e-15));
}

TEST(BatchNormForward, RunningStatsUpdateUnderNoGradButNotInEval) {
  Tensor rm = f64({0, 0}, {2}), rv = f64({1, 1}, {2});
  {
    autograd::NoGradGuard guard;
    batch_norm2d(two_channel_input(), {}, {}, rm, rv, true, 0.5);
  }
  EXPECT_TRUE(all_close(rm.to_vector<double>(), {1.25, 1.0}, 1e-15));
  batch_norm2d(two_channel_input(), {}, {}, rm, rv, false, 0.5);
  EXPECT_TRUE(all_close(rm.to_vector<double>(), {1.25, 1.0}, 1e-15));
  EXPECT_TRUE(all_close(rv.to_vector<double>(), {0.5 + 5.0 / 6.0, 4.5}, 1e-15));
}

TEST(BatchNormForward, EvalUsesRunningStats) {
  const double eps = 1e-5;
  Tensor rm = f64({1, -1}, {2}), rv = f64({4, 0.25}, {2});
  Tensor gamma = f64({2, -1}, {2}), beta = f64({0.5, 1}, {2});
  Tensor y = batch_norm2d(two_channel_input(), gamma, beta, rm, rv, false, 0.1, eps);
  auto c0 = [&](double v) { return 2 * (v - 1) / std::sqrt(4 + eps) + 0.5; };
  auto c1 = [&](double v) { return -(v + 1) / std::sqrt(0.25 + eps) + 1; };
  EXPECT_TRUE(all_close(y.to_vector<double>(),
                        {c0(1), c0(2), c1(0), c1(0), c0(3), c0(4), c1(2), c1(6)}, 1e-12));
}

TEST(BatchNormForward, LargeOffsetKeepsVarianceAccurate) {
  // A naive float sum of squares loses the variance entirely at this offset.
  std::vector<float> v;
  for (int i = 0; i < 64; ++i) v.push_back(10000.0f + (i % 2 ? 1.0f : -1.0f));
  Tensor y = batch_norm2d(from_vector(v, {1, 1, 8, 8}), {}, {}, {}, {}, true, 0.1, 1e-5);
  std::vector<float> out = y.to_vector<float>();
  EXPECT_NEAR(out[0], -1.0, 1e-4);
  EXPECT_NEAR(out[1], 1.0, 1e-4);
}

TEST(BatchNormForward, Float32MatchesFloat64) {
  Generator g(17);
  Tensor x = randn({2, 3, 6, 5}, g, DType::F64), gamma = randn({3}, g, DType::F64);
  Tensor beta = randn({3}, g, DType::F64);
  std::vector<double> want = batch_norm2d(x, gamma, beta, {}, {}, true).to_vector<double>();
  Tensor y32 =
      batch_norm2d(x.to(DType::F32), gamma.to(DType::F32), beta.to(DType::F32), {}, {}, true);
  EXPECT_EQ(y32.dtype(), DType::F32);
  EXPECT_TRUE(all_close(y32.to_vector<double>(), want, 1e-5));
}

TEST(BatchNormErrors, ClearMessages) {
  std::string m = error_of([] { batch_norm2d(zeros({2, 3, 4}), {}, {}, {}, {}, true); });
  EXPECT_NE(m.find("[2, 3, 4]"), std::string::npos) << m;
  m = error_of([] { batch_norm2d(zeros({2, 3, 4, 4}), zeros({4}), {}, {}, {}, true); });
  EXPECT_NE(m.find("gamma"), std::string::npos) << m;
  EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3, 4, 4]"), std::string::npos) << m;
  m = error_of([] { batch_norm2d(zeros({2, 3, 4, 4}), {}, {}, zeros({3}), {}, true); });
  EXPECT_NE(m.find("running_var"), std::string::npos) << m;
  m = error_of([] { batch_norm2d(zeros({1, 3, 1, 1}), {}, {}, {}, {}, true); });
  EXPECT_NE(m.find("more than one value"), std::string::npos) << m;
  m = error_of([] { batch_norm2d(zeros({2, 3, 4, 4}), zeros({3}, DType::F64), {}, {}, {}, true); });
  EXPECT_NE(m.find("dtype"), std::string::npos) << m;
}

}  // namespace
}  // namespace maskoff::testing
