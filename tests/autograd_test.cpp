// The autograd engine itself: accumulation, no-grad scope, graph freeing and its errors.
#include "autograd/node.h"
#include "layers/elementwise.h"
#include "tensor/backend.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace maskoff {
namespace {

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, {3}, DType::F64);
  x.set_requires_grad(true);
  mul(x, x).backward(ones({3}, DType::F64));
  mul(x, x).backward(ones({3}, DType::F64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 8, 12}));
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor x = from_vector(std::vector<double>{2}, {1}, DType::F64);
  x.set_requires_grad(true);
  Tensor a = mul_scalar(x, 3), b = mul(x, x);
  add(a, b).backward();  // d/dx (3x + x^2) = 3 + 2x = 7
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = ones({2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y;
  {
    autograd::NoGradGuard guard;
    y = mul(x, x);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  EXPECT_TRUE(autograd::grad_enabled());
  EXPECT_THROW(y.backward(ones({2}, DType::F64)), Error);
}

TEST(Autograd, BackwardTwiceWithoutRetainIsAClearError) {
  Tensor x = ones({1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = tanh(mul(x, x));
  y.backward();
  try {
    y.backward();
    FAIL() << "second backward did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, RetainGraphAllowsSecondBackward) {
  Tensor x = from_vector(std::vector<double>{0.5}, {1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = mul(x, x);
  y.backward(Tensor(), true);
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 2.0);
}

TEST(Autograd, BackwardOnNonScalarNeedsGradient) {
  Tensor x = ones({3}, DType::F64);
  x.set_requires_grad(true);
  EXPECT_THROW(relu(x).backward(), Error);
  EXPECT_THROW(relu(x).backward(ones({4}, DType::F64)), Error);
}

TEST(Autograd, DeepChainDoesNotOverflowTheStack) {
  Tensor x = ones({1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = add_scalar(y, 0.0);
  y.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 1.0);
}

TEST(Autograd, InPlaceChangeBetweenForwardAndBackwardIsAnError) {
  Tensor w = ones({3}, DType::F64);
  w.set_requires_grad(true);
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, {3}, DType::F64);
  Tensor y = mul(w, x);
  add_(w, ones({3}, DType::F64));  // e.g. an optimizer step before this backward
  try {
    y.backward(ones({3}, DType::F64));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("modified in place"), std::string::npos) << e.what();
  }
  Tensor z = mul(w, x);  // a fresh forward after the update is fine
  z.backward(ones({3}, DType::F64));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

TEST(Autograd, InPlaceChangeOfASavedOutputIsAnError) {
  Tensor x = ones({2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = tanh(x);  // backward reads y
  fill_(y, 0.0);
  EXPECT_THROW(y.backward(ones({2}, DType::F64)), Error);
}

TEST(Autograd, OnlyLeavesCanBeMarked) {
  Tensor x = ones({1}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = mul_scalar(x, 2);
  EXPECT_THROW(y.set_requires_grad(false), Error);
}

TEST(Tensor, DetachSharesStorageWithoutHistory) {
  Tensor x = ones({2}, DType::F64);
  x.set_requires_grad(true);
  Tensor y = mul_scalar(x, 2);
  Tensor d = y.detach();
  EXPECT_TRUE(d.same_storage(y));
  EXPECT_FALSE(d.requires_grad());
}

TEST(Tensor, ConversionsRoundTrip) {
  Generator g(3);
  Tensor x = randn({3, 4}, g, DType::F64);
  Tensor y = x.to(DType::F32).to(DType::F64);
  std::vector<double> a = x.to_vector<double>(), b = y.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
  EXPECT_THROW(x.data<float>(), Error);
  EXPECT_THROW(x.item(), Error);
}

TEST(Tensor, CudaTensorWithoutGpuIsAClearError) {
  MASKOFF_EXPECT_WITHOUT_GPU({
    if (testing::error_of([] { zeros({2}, DType::F32, Device::cuda()); }) == "no error")
      std::exit(1);
  });
}

TEST(Random, CounterBasedStreamIsReproducible) {
  Generator a(42), b(42);
  Tensor x = randn({1000}, a), y = randn({1000}, b);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  Tensor z = randn({1000}, a);  // the stream moved on
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
  double mean = 0, var = 0;
  for (float v : x.to_vector<float>()) mean += v / 1000.0;
  for (float v : x.to_vector<float>()) var += (v - mean) * (v - mean) / 1000.0;
  EXPECT_NEAR(mean, 0.0, 0.1);
  EXPECT_NEAR(var, 1.0, 0.15);
}

TEST(Random, ConsecutiveDrawsUseDisjointCounters) {
  // A normal draw reserves exactly its n counters: the uniforms of a following draw are
  // the ones a fresh generator would give at those counters, not reused ones.
  Generator g(5);
  randn({4}, g, DType::F64);
  EXPECT_EQ(g.offset, 4u);
  Tensor u = rand({4}, g, DType::F64);
  std::vector<double> got = u.to_vector<double>();
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(got[i], rng_uniform_f64(5, 4 + i));
  // randn's own uniforms: counters 0..3 of the main stream and of its second stream.
  const uint64_t second = rng_mix64(5 ^ 0x6a09e667f3bcc909ULL);
  for (uint64_t c = 0; c < 4; ++c)
    for (uint64_t i = 0; i < 4; ++i) {
      EXPECT_NE(got[i], rng_uniform_f64(5, c));
      EXPECT_NE(got[i], rng_uniform_f64(second, c));
    }
}

}  // namespace
}  // namespace maskoff
