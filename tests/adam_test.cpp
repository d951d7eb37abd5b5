// Adam against closed forms and a scalar reference recursion, plus skipping, zero_grad,
// state access and argument errors.
#include "optim/adam.h"

#include <cmath>

#include "losses/losses.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

Tensor param(const std::vector<double>& v, DType t = DType::F64) {
  Tensor p = from_vector(v, {static_cast<int64_t>(v.size())}, t);
  p.set_requires_grad(true);
  return p;
}
void set_grad(const Tensor& p, const std::vector<double>& g) {
  p.set_grad(from_vector(g, p.shape(), p.dtype()));
}

// The update of one scalar, written straight from the formula in optim/adam.h.
struct ScalarAdam {
  double lr, b1, b2, eps, wd, m = 0, v = 0;
  int t = 0;
  double step(double p, double g) {
    ++t;
    g += wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double mhat = m / (1 - std::pow(b1, t)), vhat = v / (1 - std::pow(b2, t));
    return p - lr * mhat / (std::sqrt(vhat) + eps);
  }
};

TEST(Adam, FirstStepMovesByLrTimesSign) {
  // Step 1: m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps).
  Tensor p = param({1.0, -2.0, 0.5, 3.0});
  Adam opt({p}, 0.1);
  set_grad(p, {0.3, -4.0, 1e-3, 0.0});
  opt.step();
  double e = 1e-8;
  EXPECT_TRUE(all_close(p.to_vector<double>(),
                        {1.0 - 0.1 * 0.3 / (0.3 + e), -2.0 + 0.1 * 4.0 / (4.0 + e),
                         0.5 - 0.1 * 1e-3 / (1e-3 + e), 3.0},
                        1e-15));
  EXPECT_EQ(opt.steps(), 1);
  EXPECT_EQ(opt.param_step(0), 1);
}

TEST(Adam, ConstantGradientClosedForm) {
  // With the same g every step the bias corrections cancel exactly:
  // p_t = p_0 - t * lr * g / (|g| + eps).
  Tensor p = param({0.25, -1.0});
  Adam opt({p}, 2e-4, 0.5, 0.999);
  for (int t = 0; t < 10; ++t) {
    set_grad(p, {0.5, -0.02});
    opt.step();
  }
  double e = 1e-8;
  EXPECT_TRUE(all_close(p.to_vector<double>(),
                        {0.25 - 10 * 2e-4 * 0.5 / (0.5 + e), -1.0 + 10 * 2e-4 * 0.02 / (0.02 + e)},
                        1e-15));
  // The moments themselves: m = (1 - 0.5^10) g, v = (1 - 0.999^10) g^2.
  EXPECT_TRUE(all_close(opt.exp_avg(0).to_vector<double>(),
                        {(1 - std::pow(0.5, 10)) * 0.5, -(1 - std::pow(0.5, 10)) * 0.02}, 1e-16));
  EXPECT_TRUE(all_close(opt.exp_avg_sq(0).to_vector<double>(),
                        {(1 - std::pow(0.999, 10)) * 0.25, (1 - std::pow(0.999, 10)) * 4e-4}, 1e-17,
                        1e-14));
}

TEST(Adam, MatchesScalarRecursionWithVaryingGradients) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-6, wd = 0.1;
  Tensor p = param({0.7, -0.3, 2.0});
  Adam opt({p}, lr, b1, b2, eps, wd);
  std::vector<ScalarAdam> ref(3, ScalarAdam{lr, b1, b2, eps, wd});
  std::vector<double> want = p.to_vector<double>();
  for (int t = 0; t < 7; ++t) {
    std::vector<double> g = {std::sin(t + 1.0), 0.1 * t - 0.3, std::cos(3.0 * t)};
    set_grad(p, g);
    opt.step();
    for (size_t i = 0; i < 3; ++i) want[i] = ref[i].step(want[i], g[i]);
  }
  EXPECT_TRUE(all_close(p.to_vector<double>(), want, 1e-15, 1e-13));
}

TEST(Adam, Float32AgreesWithFloat64) {
  Tensor p32 = param({0.7, -0.3, 2.0}, DType::F32), p64 = param({0.7, -0.3, 2.0});
  Adam a32({p32}), a64({p64});
  for (int t = 0; t < 5; ++t) {
    std::vector<double> g = {0.1 * t - 0.2, std::sin(t * 1.0), 3.0};
    set_grad(p32, g);
    set_grad(p64, g);
    a32.step();
    a64.step();
  }
  EXPECT_TRUE(all_close(p32.to_vector<double>(), p64.to_vector<double>(), 1e-6, 1e-6));
}

TEST(Adam, ParametersWithoutGradientAreSkipped) {
  Tensor a = param({1.0}), b = param({2.0});
  Adam opt({a, b}, 0.1);
  set_grad(a, {1.0});
  opt.step();
  EXPECT_EQ(b.to_vector<double>()[0], 2.0);
  EXPECT_EQ(opt.param_step(0), 1);
  EXPECT_EQ(opt.param_step(1), 0);
  EXPECT_EQ(opt.exp_avg(1).to_vector<double>()[0], 0.0);
  // b's first real step uses t = 1 (full bias correction), like PyTorch's per-parameter count.
  set_grad(b, {-3.0});
  opt.step();
  EXPECT_NEAR(b.to_vector<double>()[0], 2.0 + 0.1 * 3.0 / (3.0 + 1e-8), 1e-15);
  EXPECT_EQ(opt.param_step(1), 1);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Adam, ZeroGradZeroesInPlace) {
  Tensor a = param({1.0, 2.0}), b = param({3.0});
  Adam opt({a, b});
  mse_loss(a, from_vector(std::vector<double>{0, 0}, {2}, DType::F64)).backward();
  Tensor g = a.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_NE(g.to_vector<double>()[1], 0.0);
  opt.zero_grad();
  EXPECT_EQ(a.grad().impl(), g.impl());  // the same gradient tensor, not a new one
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{0, 0}));
  EXPECT_FALSE(b.grad().defined());  // never had one, still has none
  // A step with all-zero gradients does not move the parameters.
  opt.step();
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1, 2}));
  // The next backward accumulates into the zeroed tensor.
  mse_loss(a, from_vector(std::vector<double>{0, 0}, {2}, DType::F64)).backward();
  EXPECT_EQ(a.grad().impl(), g.impl());
  EXPECT_TRUE(all_close(g.to_vector<double>(), {1.0, 2.0}, 1e-15));  // 2 (p - 0) / 2
}

TEST(Adam, MinimisesAQuadratic) {
  Tensor p = param({5.0, -3.0, 0.0});
  Tensor c = from_vector(std::vector<double>{1.0, 2.0, -1.0}, {3}, DType::F64);
  Adam opt({p}, 0.05, 0.9, 0.999);
  double first = 0, last = 0;
  for (int t = 0; t < 600; ++t) {
    opt.zero_grad();
    Tensor loss = mse_loss(p, c);
    if (t == 0) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  EXPECT_GT(first, 10.0);
  EXPECT_LT(last, 1e-4);
}

TEST(Adam, StateRestoresExactly) {
  // Copying moments and step counts into a fresh optimiser continues the same trajectory.
  Tensor a = param({0.5, -0.5}), b = param({0.5, -0.5});
  Adam oa({a}, 0.01), ob({b}, 0.01);
  for (int t = 0; t < 3; ++t) {
    set_grad(a, {0.3 * t + 0.1, -0.2});
    oa.step();
  }
  copy_(b, a.detach());
  copy_(ob.exp_avg(0), oa.exp_avg(0));
  copy_(ob.exp_avg_sq(0), oa.exp_avg_sq(0));
  ob.set_param_step(0, oa.param_step(0));
  ob.set_steps(oa.steps());
  set_grad(a, {0.7, 0.4});
  set_grad(b, {0.7, 0.4});
  oa.step();
  ob.step();
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
  EXPECT_EQ(ob.steps(), 4);
}

TEST(Adam, LearningRateCanChange) {
  Tensor p = param({0.0});
  Adam opt({p}, 0.1);
  opt.set_lr(0.01);
  EXPECT_EQ(opt.lr(), 0.01);
  set_grad(p, {1.0});
  opt.step();
  EXPECT_NEAR(p.to_vector<double>()[0], -0.01, 1e-10);
}

TEST(AdamErrors, BadArguments) {
  Tensor p = param({1.0});
  EXPECT_THROW(Adam({p, p}), Error);          // duplicate
  EXPECT_THROW(Adam({zeros({2})}), Error);    // does not require grad
  EXPECT_THROW(Adam({p}, 1e-3, 1.0), Error);  // beta1 out of range
  EXPECT_THROW(Adam({p}, -1.0), Error);       // negative lr
  Adam opt({p});
  EXPECT_THROW(opt.exp_avg(1), Error);
  EXPECT_THROW(p.set_grad(zeros({1}, DType::F32)), Error);  // rejected where it is set
  p.impl()->grad = zeros({1}, DType::F32).impl_ptr();       // bypassing set_grad
  EXPECT_THROW(opt.step(), Error);  // gradient dtype differs from the parameter's
}

}  // namespace
}  // namespace maskoff::testing
