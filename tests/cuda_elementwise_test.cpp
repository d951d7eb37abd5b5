// CPU-vs-CUDA comparisons of the elementwise ops and activations, forward and backward.
#include <cmath>

#include "layers/elementwise.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

TEST(CudaElementwise, BinaryOps) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf(kOdd, g), b = random_leaf(kOdd, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return add(v[0], v[1]); }, {a, b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return sub(v[0], v[1]); }, {a, b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mul(v[0], v[1]); }, {a, b},
                               kTolElementwise, seed));
  // The same tensor on both sides: the gradients of both uses add up.
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mul(v[0], v[0]); }, {a},
                               kTolElementwise, seed));
}

TEST(CudaElementwise, ScalarOpsAndInPlaceAdd) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf(kOdd, g);
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) { return add_scalar(mul_scalar(neg(v[0]), 2.5), -1.25); }, {a},
      kTolElementwise, seed));
  Tensor dst = random_input({1000}, g), src = random_input({1000}, g);
  Tensor dst_gpu = dst.to(Device::cuda());
  add_(dst, src, -0.75);
  add_(dst_gpu, src.to(Device::cuda()), -0.75);
  EXPECT_TRUE(testing::close_to(dst_gpu, dst, kTolElementwise, "add_")) << seed_note(seed);
}

TEST(CudaActivation, ReluLeakyReluTanhSigmoid) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf(kOdd, g, 3.0);
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return relu(v[0]); }, {a}, kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return leaky_relu(v[0], 0.2); }, {a},
                               kTolElementwise, seed));
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return tanh(v[0]); }, {a}, kTolElementwise, seed));
  EXPECT_TRUE(
      compare_with_cpu([](const Inputs& v) { return sigmoid(v[0]); }, {a}, kTolElementwise, seed));
}

TEST(CudaActivation, NaNPassesThroughEveryActivation) {
  MASKOFF_REQUIRE_CUDA();
  const Tensor x = from_vector(std::vector<float>{NAN, -1.f, 2.f}, {3}).to(Device::cuda());
  for (const Tensor& y : {relu(x), leaky_relu(x, 0.2), tanh(x), sigmoid(x)}) {
    const std::vector<float> v = y.to_vector<float>();
    EXPECT_TRUE(std::isnan(v[0]));
    EXPECT_FALSE(std::isnan(v[1]) || std::isnan(v[2]));
  }
}

TEST(CudaActivation, SigmoidAndTanhSaturateWithoutNaN) {
  MASKOFF_REQUIRE_CUDA();
  Tensor x = from_vector(std::vector<float>{-1000.f, -90.f, 0.f, 90.f, 1000.f}, {5});
  Tensor s = sigmoid(x.to(Device::cuda())).cpu(), t = tanh(x.to(Device::cuda())).cpu();
  EXPECT_TRUE(testing::close_to(s, sigmoid(x), {0, 0}, "sigmoid"));
  EXPECT_TRUE(testing::close_to(t, tanh(x), {0, 0}, "tanh"));
}

}  // namespace
}  // namespace maskoff::testing
