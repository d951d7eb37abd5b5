// CPU-vs-CUDA comparisons of the elementwise ops and activations, dropout (bit for bit),
// reductions, shape ops and matrix products, forward and backward.
#include <cmath>

#include "layers/dropout.h"
#include "layers/elementwise.h"
#include "layers/linear.h"
#include "layers/reduce.h"
#include "layers/shape_ops.h"
#include "tests/cuda_harness.h"

namespace maskoff {
namespace {
using testing::compare_with_cpu;
using testing::fresh_seed;
using testing::kTolElementwise;
using testing::kTolReduce;
using testing::random_input;
using testing::random_leaf;
using testing::seed_note;
using Inputs = std::vector<Tensor>;

const Shape kOdd = {2, 3, 17, 29};  // no extent a multiple of a warp or block

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
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return relu(v[0]); }, {a}, kTolElementwise,
                               seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return leaky_relu(v[0], 0.2); }, {a},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return tanh(v[0]); }, {a}, kTolElementwise,
                               seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return sigmoid(v[0]); }, {a},
                               kTolElementwise, seed));
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

// The GPU draws the very same keep/drop decisions as the CPU for the same generator state,
// so the outputs and the gradients agree bit for bit.
TEST(CudaDropout, SameMaskAsTheCpuBitForBit) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator data(seed);
  Tensor x = random_leaf({3, 5, 33, 31}, data);
  Tensor xg = testing::cuda_copy(x);
  for (double p : {0.1, 0.5, 0.9}) {
    Generator gc(seed + 1), gg(seed + 1);
    gc.take(12345);  // an arbitrary offset: any state must agree
    gg.take(12345);
    Tensor yc = dropout(x, p, gc, true);
    Tensor yg = dropout(xg, p, gg, true);
    EXPECT_EQ(gc.offset, gg.offset);
    EXPECT_TRUE(testing::close_to(yg, yc, {0, 0}, "dropout output")) << "p " << p << "; "
                                                                     << seed_note(seed);
    Tensor dy = random_input(x.shape(), data);
    x.set_grad(Tensor());
    xg.set_grad(Tensor());
    yc.backward(dy);
    yg.backward(dy.to(Device::cuda()));
    EXPECT_TRUE(testing::close_to(xg.grad(), x.grad(), {0, 0}, "dropout gradient"))
        << "p " << p << "; " << seed_note(seed);
  }
}

TEST(CudaReduce, SumMeanAndPerDimension) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf(kOdd, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return sum(v[0]); }, {a}, kTolReduce, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mean(v[0]); }, {a}, kTolReduce, seed));
  for (int64_t d = -4; d < 4; ++d) {
    EXPECT_TRUE(compare_with_cpu([d](const Inputs& v) { return sum_dim(v[0], d, d % 2 == 0); },
                                 {a}, kTolReduce, seed))
        << "sum_dim " << d;
    EXPECT_TRUE(compare_with_cpu([d](const Inputs& v) { return mean_dim(v[0], d); }, {a},
                                 kTolReduce, seed))
        << "mean_dim " << d;
  }
}

TEST(CudaReduce, LongRowsAndLargeSums) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  // Few outputs over long rows (one block per output), and one sum over 2^21 + 3 values
  // (the two-pass grid reduction).
  Tensor rows = random_leaf({3, 20000}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return sum_dim(v[0], 1); }, {rows},
                               kTolReduce, seed));
  Tensor big = random_leaf({(1 << 21) + 3}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mean(v[0]); }, {big}, kTolReduce,
                               seed));
}

TEST(CudaReduce, CountNonFiniteMatchesTheCpuInOneCall) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  std::vector<Tensor> cpu_in, mixed;
  for (int64_t n : {1, 257, 70000}) {
    Tensor t = random_input({n}, g);
    std::vector<float> v = t.to_vector<float>();
    for (int64_t k = 0; k < n; k += 97) v[static_cast<size_t>(k)] = k % 3 ? INFINITY : NAN;
    if (n > 1) v[1] = -INFINITY;
    t = from_vector(v, {n});
    cpu_in.push_back(t);
    mixed.push_back(n == 257 ? t : t.to(Device::cuda()));  // CPU and GPU tensors in one call
  }
  cpu_in.push_back(Tensor());
  mixed.push_back(Tensor());
  const std::vector<int64_t> want = count_nonfinite(cpu_in);
  EXPECT_GT(want[2], 700);
  EXPECT_EQ(count_nonfinite(mixed), want) << seed_note(seed);
}

TEST(CudaShape, ConcatSliceReshape) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf({2, 3, 5, 7}, g), b = random_leaf({2, 4, 5, 7}, g);
  Tensor c = random_leaf({2, 1, 5, 7}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return concat_channels(v); }, {a, b, c},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return concat({v[0], v[0]}, -1); }, {a},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return slice(v[0], 1, 1, 3); }, {b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return slice(v[0], 3, -4, 7); }, {b},
                               kTolElementwise, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return mul(flatten(v[0]), flatten(v[0])); },
                               {b}, kTolElementwise, seed));
}

TEST(CudaLinear, MatmulAllShapesAndLinear) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor a = random_leaf({37, 53}, g), b = random_leaf({53, 19}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return matmul(v[0], v[1]); }, {a, b},
                               kTolReduce, seed));
  Tensor x = random_leaf({9, 70}, g), w = random_leaf({33, 70}, g), bias = random_leaf({33}, g);
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return linear(v[0], v[1], v[2]); },
                               {x, w, bias}, kTolReduce, seed));
  EXPECT_TRUE(compare_with_cpu([](const Inputs& v) { return linear(v[0], v[1], Tensor()); },
                               {x, w}, kTolReduce, seed));
  // An empty inner dimension gives zeros.
  Tensor e1 = zeros({4, 0}).to(Device::cuda()), e2 = zeros({0, 3}).to(Device::cuda());
  EXPECT_TRUE(testing::close_to(matmul(e1, e2), zeros({4, 3}), {0, 0}, "empty matmul"));
}

}  // namespace
}  // namespace maskoff
