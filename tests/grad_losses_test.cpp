// Losses: finite-difference gradient checks for every input, hand-computed values, the
// empty-mask case, and argument errors.
#include <cmath>
#include <utility>

#include "layers/elementwise.h"
#include "losses/losses.h"
#include "tensor/parallel.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

// A soft mask in [0, 1] with some exact zeros and ones.
Tensor soft_mask(const Shape& s, Generator& g) {
  std::vector<double> v = rand(s, g, DType::F64).to_vector<double>();
  for (double& e : v) e = e < 0.3 ? 0.0 : (e > 0.8 ? 1.0 : e);
  return f64(v, s);
}

// ---- gradient checks -----------------------------------------------------------------

TEST(LossGrad, BceWithLogitsBothInputs) {
  Generator g(11);
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 1, 3, 1}, Shape{13}}) {
    Tensor x = leaf(s, g, 3.0);
    Tensor t = rand(s, g, DType::F64);
    t.set_requires_grad(true);
    EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, t); }, {x, t})) << shape_str(s);
  }
}
TEST(LossGrad, BceWithLogitsConstantTarget) {
  Generator g(12);
  Tensor x = leaf({3, 1, 5, 3}, g, 4.0);
  EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, 1.0); }, {x}));
  EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, 0.0); }, {x}));
  EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, 0.9); }, {x}));
}
TEST(LossGrad, BceWithLogitsLargeLogits) {
  // Far in both tails the gradient is sigmoid(x) - t, which must not become NaN.
  Tensor x = f64({-60, -30, 30, 60, 0.5}, {5});
  x.set_requires_grad(true);
  EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, 1.0); }, {x}));
  EXPECT_TRUE(grad_check([&] { return bce_with_logits(x, 0.0); }, {x}));
}
TEST(LossGrad, Mse) {
  Generator g(13);
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 3, 1, 5}, Shape{7}}) {
    Tensor p = leaf(s, g), t = leaf(s, g);
    EXPECT_TRUE(grad_check([&] { return mse_loss(p, t); }, {p, t})) << shape_str(s);
  }
}
TEST(LossGrad, L1) {
  Generator g(14);
  // p and -t on one shuffled grid keep |p - t| well away from the kink.
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{3, 1, 3, 3}}) {
    Tensor p = distinct_leaf(s, g, 0.01);
    Tensor t = f64(distinct_leaf(s, g, 0.01).to_vector<double>(), s);
    std::vector<double> pv = p.to_vector<double>(), tv = t.to_vector<double>();
    for (size_t i = 0; i < pv.size(); ++i)
      if (std::fabs(pv[i] - tv[i]) < 1e-3) tv[i] += 5e-3;
    t = f64(tv, s);
    t.set_requires_grad(true);
    EXPECT_TRUE(grad_check([&] { return l1_loss(p, t); }, {p, t})) << shape_str(s);
  }
}
TEST(LossGrad, MaskedMseSharedMask) {
  Generator g(15);
  for (Shape s : {Shape{2, 3, 5, 7}, Shape{1, 1, 3, 5}, Shape{3, 2, 1, 9}}) {
    Tensor p = leaf(s, g), t = leaf(s, g);
    Tensor m = soft_mask({s[0], 1, s[2], s[3]}, g);
    EXPECT_TRUE(grad_check([&] { return masked_mse_loss(p, t, m); }, {p, t})) << shape_str(s);
  }
}
TEST(LossGrad, MaskedMsePerChannelMask) {
  Generator g(16);
  Shape s{2, 3, 3, 5};
  Tensor p = leaf(s, g), t = leaf(s, g);
  Tensor m = soft_mask(s, g);
  EXPECT_TRUE(grad_check([&] { return masked_mse_loss(p, t, m); }, {p, t}));
}
TEST(LossGrad, MaskedMseEmptyMask) {
  Generator g(17);
  Shape s{2, 3, 4, 5};
  Tensor p = leaf(s, g), t = leaf(s, g);
  Tensor m = zeros({2, 1, 4, 5}, DType::F64);
  EXPECT_TRUE(grad_check([&] { return masked_mse_loss(p, t, m); }, {p, t}));
  p.set_grad(Tensor());
  t.set_grad(Tensor());
  Tensor loss = masked_mse_loss(p, t, m);
  EXPECT_EQ(loss.item(), 0.0);
  loss.backward();
  for (double v : p.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
  for (double v : t.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
}
TEST(LossGrad, LandmarkDistanceBothInputs) {
  Generator g(22);
  for (Shape s : {Shape{2, 68, 2}, Shape{3, 5, 2}, Shape{1, 1, 2}}) {
    Tensor p = leaf(s, g, 0.3), t = leaf(s, g, 0.3);
    EXPECT_TRUE(grad_check([&] { return landmark_distance_loss(p, t); }, {p, t})) << shape_str(s);
  }
  // Nearly coinciding points (1e-3 apart, still far above sqrt(eps) = 1e-6).
  Tensor t = leaf({2, 4, 2}, g, 0.3);
  std::vector<double> pv = t.to_vector<double>();
  for (double& v : pv) v += 1e-3 * (2 * g.uniform() - 1);
  Tensor p = f64(pv, t.shape());
  p.set_requires_grad(true);
  EXPECT_TRUE(grad_check([&] { return landmark_distance_loss(p, t); }, {p, t}, {1e-8, 1e-6, 1e-5}));
}
TEST(LossGrad, LossInsideAGraph) {
  // A loss as the root of a longer chain: the incoming gradient scales every output.
  Generator g(18);
  Tensor x = leaf({2, 2, 3, 3}, g), t = leaf({2, 2, 3, 3}, g);
  Tensor m = soft_mask({2, 1, 3, 3}, g);
  EXPECT_TRUE(grad_check(
      [&] {
        Tensor y = tanh(x);
        return add(add(mul_scalar(l1_loss(y, t), 0.5), mse_loss(y, t)),
                   add(bce_with_logits(y, 1.0), mul_scalar(masked_mse_loss(y, t, m), 3.0)));
      },
      {x, t}));
}

// ---- values --------------------------------------------------------------------------

TEST(LossForward, BceHandComputed) {
  EXPECT_NEAR(bce_with_logits(f64({0}, {1}), 1.0).item(), std::log(2.0), 1e-15);
  EXPECT_NEAR(bce_with_logits(f64({0, 0}, {2}), 0.0).item(), std::log(2.0), 1e-15);
  // log(1 + e^-2) for (x=2, t=1); log(1 + e^-1) for (x=-1, t=0); then mixed targets
  // (reference: the definition -t log s(x) - (1-t) log(1-s(x)), evaluated in double).
  EXPECT_NEAR(bce_with_logits(f64({2, -1}, {2}), f64({1, 0}, {2})).item(),
              (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2, 1e-15);
  EXPECT_NEAR(bce_with_logits(f64({2, -1, 0.5, -3}, {4}), f64({1, 0, 0.25, 1}, {4})).item(),
              1.084463508578761, 1e-14);
  // No overflow: 1000 with target 0 costs 1000, -1000 with target 0 costs nothing.
  EXPECT_NEAR(bce_with_logits(f64({1000, -1000}, {2}), 0.0).item(), 500.0, 1e-12);
}
TEST(LossForward, ResultIsRankZero) {
  Tensor p = zeros({2, 3}), t = ones({2, 3});
  EXPECT_EQ(mse_loss(p, t).shape(), Shape{});
  EXPECT_EQ(l1_loss(p, t).shape(), Shape{});
  EXPECT_EQ(bce_with_logits(p, t).shape(), Shape{});
  EXPECT_EQ(bce_with_logits(p, 1.0).dtype(), DType::F32);
}
TEST(LossForward, MseAndL1HandComputed) {
  Tensor p = f64({1, 2, 3}, {3}), t = f64({0, 0, 5}, {3});
  EXPECT_DOUBLE_EQ(mse_loss(p, t).item(), 3.0);       // (1 + 4 + 4) / 3
  EXPECT_DOUBLE_EQ(l1_loss(p, t).item(), 5.0 / 3.0);  // (1 + 2 + 2) / 3
}
TEST(LossForward, L1SubgradientAtZeroIsZero) {
  Tensor p = f64({1, 2, 3}, {3}), t = f64({1, 0, 3}, {3});
  p.set_requires_grad(true);
  l1_loss(p, t).backward();
  EXPECT_TRUE(all_close(p.grad().to_vector<double>(), {0, 1.0 / 3, 0}, 1e-16));
}
TEST(LossForward, MaskedMseHandComputed) {
  // pred - target per channel over a 2x2 image; mask [1, 0; 0, 0.5] shared by both channels.
  Tensor p = f64({1, 2, 3, 4, /*c1*/ 0, 0, 0, -2}, {1, 2, 2, 2});
  Tensor t = zeros({1, 2, 2, 2}, DType::F64);
  Tensor m = f64({1, 0, 0, 0.5}, {1, 1, 2, 2});
  // numerator: 1*1 + 0.5*16 + 1*0 + 0.5*4 = 11; denominator: 2 channels * 1.5 = 3.
  EXPECT_DOUBLE_EQ(masked_mse_loss(p, t, m).item(), 11.0 / 3.0);
  // The same mask written out per channel gives the same value.
  Tensor m2 = f64({1, 0, 0, 0.5, 1, 0, 0, 0.5}, {1, 2, 2, 2});
  EXPECT_DOUBLE_EQ(masked_mse_loss(p, t, m2).item(), 11.0 / 3.0);
  // A full mask is plain MSE.
  EXPECT_DOUBLE_EQ(masked_mse_loss(p, t, ones({1, 1, 2, 2}, DType::F64)).item(),
                   mse_loss(p, t).item());
  // Gradient: 2 m (p - t) / 3.
  p.set_requires_grad(true);
  masked_mse_loss(p, t, m).backward();
  EXPECT_TRUE(
      all_close(p.grad().to_vector<double>(), {2.0 / 3, 0, 0, 4.0 / 3, 0, 0, 0, -2.0 / 3}, 1e-15));
}
TEST(LossForward, LandmarkDistanceHandComputed) {
  // Two images, two points each; distances 0, 5 (3-4-5), 1 and 13 (5-12-13).
  Tensor p = f64({0, 0, 3, 4, 1, 1, 2, 3}, {2, 2, 2});
  Tensor t = f64({0, 0, 0, 0, 1, 2, 7, 15}, {2, 2, 2});
  const double e = kLandmarkDistanceEps;  // a zero distance costs sqrt(e) = 1e-6
  EXPECT_NEAR(landmark_distance_loss(p, t).item(),
              (std::sqrt(e) + std::sqrt(25 + e) + std::sqrt(1 + e) + std::sqrt(169 + e)) / 4.0,
              1e-15);
  EXPECT_NEAR(landmark_distance_loss(p, t).item(), 4.75 + 2.5e-7, 1e-12);
  p.set_requires_grad(true);
  t.set_requires_grad(true);
  landmark_distance_loss(p, t).backward();
  // d/dp = (p - t) / |p - t| / 4, exactly 0 where the points coincide; d/dt = -d/dp.
  const std::vector<double> want = {0, 0, 3 / 20.0, 4 / 20.0, 0, -1 / 4.0, -5 / 52.0, -12 / 52.0};
  EXPECT_TRUE(all_close(p.grad().to_vector<double>(), want, 1e-12));
  std::vector<double> neg = want;
  for (double& v : neg) v = -v;
  EXPECT_TRUE(all_close(t.grad().to_vector<double>(), neg, 1e-12));
  for (double v : p.grad().to_vector<double>()) EXPECT_TRUE(std::isfinite(v));
}
TEST(LossForward, LandmarkDistanceFloat32) {
  Generator g(23);
  Tensor p = rand({4, 68, 2}, g, DType::F64), t = rand({4, 68, 2}, g, DType::F64);
  Tensor p32 = p.to(DType::F32), t32 = t.to(DType::F32);
  Tensor loss = landmark_distance_loss(p32, t32);
  EXPECT_EQ(loss.dtype(), DType::F32);
  EXPECT_NEAR(loss.item(), landmark_distance_loss(p32.to(DType::F64), t32.to(DType::F64)).item(),
              1e-7);
}
TEST(LossForward, SharedMaskEqualsExpandedMask) {
  // Broadcasting a [N, 1, H, W] mask over channels must pick the right sample's mask.
  Generator g(21);
  Shape s{3, 2, 3, 4};
  Tensor p = randn(s, g, DType::F64), t = randn(s, g, DType::F64);
  Tensor m = soft_mask({3, 1, 3, 4}, g);
  std::vector<double> mv = m.to_vector<double>(), ev;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < 2; ++c)
      ev.insert(ev.end(), mv.begin() + n * 12, mv.begin() + (n + 1) * 12);
  EXPECT_NEAR(masked_mse_loss(p, t, m).item(), masked_mse_loss(p, t, f64(ev, s)).item(), 1e-14);
}
TEST(LossForward, MaskNeverGetsAGradient) {
  Generator g(19);
  Tensor p = leaf({1, 2, 3, 3}, g), t = leaf({1, 2, 3, 3}, g);
  Tensor m = soft_mask({1, 1, 3, 3}, g);
  m.set_requires_grad(true);
  masked_mse_loss(p, t, m).backward();
  EXPECT_TRUE(p.grad().defined());
  EXPECT_FALSE(m.grad().defined());
}
TEST(LossForward, Float32MatchesFloat64OnALargeMean) {
  // Double accumulation keeps a float32 mean over ~200k elements at float precision.
  Generator g(20);
  Shape s{4, 3, 128, 128};
  Tensor p = randn(s, g, DType::F64), t = randn(s, g, DType::F64);
  Tensor m = rand({4, 1, 128, 128}, g, DType::F64);
  Tensor p32 = p.to(DType::F32), t32 = t.to(DType::F32), m32 = m.to(DType::F32);
  // Compare against double on the float-rounded inputs, so only the kernel's rounding counts.
  Tensor pr = p32.to(DType::F64), tr = t32.to(DType::F64), mr = m32.to(DType::F64);
  auto close = [](double a, double b) { return std::fabs(a - b) <= 2e-7 * std::fabs(b); };
  EXPECT_TRUE(close(mse_loss(p32, t32).item(), mse_loss(pr, tr).item()));
  EXPECT_TRUE(close(l1_loss(p32, t32).item(), l1_loss(pr, tr).item()));
  EXPECT_TRUE(close(bce_with_logits(p32, 1.0).item(), bce_with_logits(pr, 1.0).item()));
  EXPECT_TRUE(close(masked_mse_loss(p32, t32, m32).item(), masked_mse_loss(pr, tr, mr).item()));
}

// ---- errors --------------------------------------------------------------------------

TEST(LossForward, ValuesDoNotDependOnTheThreadCount) {
  Generator g(77);
  const Shape s{4, 3, 64, 64};  // large enough to run in parallel
  Tensor a = randn(s, g, DType::F64), b = randn(s, g, DType::F64);
  Tensor m = rand({4, 1, 64, 64}, g, DType::F64);
  auto all = [&] {
    return std::vector<double>{mse_loss(a, b).item(), l1_loss(a, b).item(),
                               bce_with_logits(a, 1.0).item(), masked_mse_loss(a, b, m).item()};
  };
  const int saved = num_threads();
  set_num_threads(1);
  std::vector<double> one = all();
  set_num_threads(2);
  std::vector<double> two = all();
  set_num_threads(3);
  std::vector<double> three = all();
  set_num_threads(saved);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, three);
}

TEST(LossErrors, ShapeMismatchNamesBothShapes) {
  try {
    mse_loss(zeros({2, 3}), zeros({3, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 2]"), std::string::npos) << msg;
  }
  EXPECT_THROW(l1_loss(zeros({4}), zeros({5})), Error);
  EXPECT_THROW(bce_with_logits(zeros({4}), zeros({4}, DType::F64)), Error);
}
TEST(LossErrors, BadMaskShape) {
  Tensor p = zeros({2, 3, 4, 4}), t = zeros({2, 3, 4, 4});
  try {
    masked_mse_loss(p, t, zeros({2, 2, 4, 4}));
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("[2, 2, 4, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3, 4, 4]"), std::string::npos) << msg;
  }
  EXPECT_THROW(masked_mse_loss(p, t, zeros({1, 1, 4, 4})), Error);
  EXPECT_THROW(masked_mse_loss(p, t, zeros({2, 4, 4})), Error);
  EXPECT_THROW(masked_mse_loss(zeros({3, 4}), zeros({3, 4}), zeros({3, 4})), Error);
}
TEST(LossErrors, LandmarkDistanceShapes) {
  for (auto [a, b] : {std::pair<Shape, Shape>{{2, 68, 2}, {2, 67, 2}},
                      {{2, 68, 3}, {2, 68, 3}},
                      {{136}, {136}},
                      {{1, 68, 2}, {2, 68, 2}}}) {
    try {
      landmark_distance_loss(zeros(a), zeros(b));
      ADD_FAILURE() << "no error for " << shape_str(a) << " and " << shape_str(b);
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("landmark_distance_loss"), std::string::npos) << msg;
      EXPECT_NE(msg.find(shape_str(a)), std::string::npos) << msg;
      EXPECT_NE(msg.find(shape_str(b)), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(landmark_distance_loss(zeros({0, 68, 2}), zeros({0, 68, 2})), Error);
  EXPECT_THROW(landmark_distance_loss(zeros({1, 68, 2}), zeros({1, 68, 2}, DType::F64)), Error);
}
TEST(LossErrors, EmptyInput) {
  EXPECT_THROW(mse_loss(zeros({0, 3}), zeros({0, 3})), Error);
  EXPECT_THROW(bce_with_logits(zeros({0}), 1.0), Error);
}

}  // namespace
}  // namespace maskoff::testing
