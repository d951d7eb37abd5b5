// The engine's own counting of ops, allocations and FLOPs (tensor/profile.h), which the step
// timing program reports.
#include <gtest/gtest.h>

#include "layers/conv.h"
#include "layers/linear.h"
#include "layers/reduce.h"
#include "tensor/profile.h"
#include "tensor/random.h"

namespace maskoff {
namespace {

TEST(Profile, CountsConvolutionCallsAndFlopsForwardAndBackward) {
  Generator g(1);
  Tensor x = randn({2, 3, 10, 12}, g), w = randn({5, 3, 3, 3}, g);
  x.set_requires_grad(true), w.set_requires_grad(true);
  const Conv2dOptions o = Conv2dOptions::make(/*stride=*/2, /*padding=*/1, /*groups=*/1);
  profile::start();
  const Tensor y = conv2d(x, w, Tensor(), o);
  const profile::Counts fwd = profile::stop();
  ASSERT_EQ(y.size(2), 5);
  ASSERT_EQ(y.size(3), 6);
  // 2 flops per multiply-add: N * Cout * OH * OW * (Cin * kh * kw).
  const double flops = 2.0 * 2 * 5 * 5 * 6 * (3 * 3 * 3);
  ASSERT_EQ(fwd.ops.count("conv2d"), 1u);
  EXPECT_EQ(fwd.ops.at("conv2d").calls, 1);
  EXPECT_DOUBLE_EQ(fwd.ops.at("conv2d").flops, flops);
  EXPECT_DOUBLE_EQ(fwd.flops(), flops);
  // The output's storage, at least.
  EXPECT_GE(fwd.bytes_allocated, static_cast<int64_t>(y.numel() * sizeof(float)));

  profile::start();
  sum(y).backward();
  const profile::Counts bwd = profile::stop();
  EXPECT_EQ(bwd.ops.at("conv2d backward-data").calls, 1);
  EXPECT_EQ(bwd.ops.at("conv2d backward-weight").calls, 1);
  EXPECT_DOUBLE_EQ(bwd.ops.at("conv2d backward-data").flops, flops);
  EXPECT_DOUBLE_EQ(bwd.ops.at("conv2d backward-weight").flops, flops);
  EXPECT_GE(bwd.calls(), 3);  // the sum's backward too
}

TEST(Profile, CountsMatmulFlopsAndAllocationsAndNothingWhenOff) {
  Generator g(2);
  const Tensor a = randn({4, 7}, g), b = randn({7, 3}, g);
  const Tensor before = matmul(a, b);  // not counted: counting is off
  profile::start();
  const Tensor c = matmul(a, b);
  const Tensor z = zeros({1000});
  const profile::Counts n = profile::stop();
  EXPECT_DOUBLE_EQ(n.flops(), 2.0 * 4 * 7 * 3);
  EXPECT_EQ(n.calls(), 1);
  EXPECT_EQ(n.allocations, 2);
  EXPECT_EQ(n.bytes_allocated, static_cast<int64_t>((4 * 3 + 1000) * sizeof(float)));

  // Stopped: nothing more is counted, and a new start begins from zero.
  (void)matmul(a, b);
  profile::start();
  EXPECT_THROW(profile::start(), std::exception);
  const profile::Counts empty = profile::stop();
  EXPECT_EQ(empty.calls(), 0);
  EXPECT_EQ(empty.allocations, 0);
}

}  // namespace
}  // namespace maskoff
