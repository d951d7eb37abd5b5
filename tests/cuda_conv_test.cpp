// CPU-vs-CUDA comparisons of conv2d and conv_transpose2d (cuDNN): forward, input gradient,
// weight gradient and bias gradient on odd shapes, strides, groups, depthwise layers,
// asymmetric and TensorFlow-'same' padding, and the plan cache and math-mode switch.
#include "layers/conv.h"
#include "tests/cuda_harness.h"
#ifdef MASKOFF_WITH_CUDA
#include "cuda/conv.h"
#endif

namespace maskoff::testing {
namespace {

struct ConvCase {
  const char* name;
  int64_t n, cin, h, w, cout, kh, kw;
  Conv2dOptions o;
  bool bias;
};

// A convolution op (conv2d or conv_transpose2d with fixed options) on random x [x_shape],
// w [w_shape] and, where bias_channels > 0, a bias: the same on the GPU as on the CPU.
template <class Op>
void check_conv_op(const char* name, const Shape& x_shape, const Shape& w_shape,
                   int64_t bias_channels, Op op) {
  SCOPED_TRACE(name);
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Inputs in = {random_leaf(x_shape, g), random_leaf(w_shape, g, 0.3)};
  if (bias_channels > 0) in.push_back(random_leaf({bias_channels}, g));
  EXPECT_TRUE(compare_with_cpu(
      [op](const Inputs& v) { return op(v[0], v[1], v.size() > 2 ? v[2] : Tensor()); }, in,
      kTolConv, seed));
}

void check_conv(const ConvCase& c) {
  const Conv2dOptions o = c.o;
  check_conv_op(
      c.name, {c.n, c.cin, c.h, c.w}, {c.cout, c.cin / c.o.groups, c.kh, c.kw}, c.bias ? c.cout : 0,
      [o](const Tensor& x, const Tensor& w, const Tensor& b) { return conv2d(x, w, b, o); });
}

TEST(CudaConv, Conv2dShapesStridesAndPadding) {
  MASKOFF_REQUIRE_CUDA();
  const ConvCase cases[] = {
      {"3x3 s1 p1 with bias", 2, 3, 13, 11, 5, 3, 3, Conv2dOptions::make(1, 1), true},
      {"pix2pix 4x4 s2 p1", 3, 6, 16, 16, 8, 4, 4, Conv2dOptions::make(2, 1), false},
      {"PatchGAN head 4x4 s1 p1 to one channel", 1, 16, 9, 9, 1, 4, 4, Conv2dOptions::make(1, 1),
       true},
      {"1x1 pointwise", 2, 7, 5, 6, 9, 1, 1, Conv2dOptions::make(1, 0), true},
      {"5x3 kernel, stride 2x3", 2, 4, 15, 17, 6, 5, 3, Conv2dOptions::make(2, 3, 2, 2, 1, 1),
       true},
      {"stride leaves the last rows unused", 1, 3, 8, 10, 4, 3, 3, Conv2dOptions::make(2, 0), true},
      {"asymmetric padding", 2, 3, 9, 8, 5, 3, 3, Conv2dOptions::make(1, 1, 0, 2, 1, 0), true},
      {"asymmetric padding with stride", 2, 4, 12, 11, 3, 4, 4,
       Conv2dOptions::make(2, 2, 1, 2, 2, 1), false},
      {"padding wider than the kernel", 1, 2, 6, 6, 3, 1, 1, Conv2dOptions::make(1, 1), true},
      {"TensorFlow same, stride 2, even input", 2, 3, 16, 16, 4, 3, 3,
       Conv2dOptions::tf_same(16, 16, 3, 3, 2), true},
      {"groups 2", 2, 6, 10, 9, 4, 3, 3, Conv2dOptions::make(1, 1, 2), true},
      {"depthwise", 2, 8, 11, 13, 8, 3, 3, Conv2dOptions::make(1, 1, 8), true},
      {"depthwise x2, stride 2, TF same", 1, 6, 14, 14, 12, 3, 3,
       Conv2dOptions::tf_same(14, 14, 3, 3, 2, 6), false},
  };
  for (const ConvCase& c : cases) check_conv(c);
}

TEST(CudaConv, EmptyBatchGivesZeroWeightAndBiasGradients) {
  MASKOFF_REQUIRE_CUDA();
  testing::PoisonGuard poison;
  Tensor x = zeros({0, 3, 8, 8}).to(Device::cuda());
  Tensor w = testing::cuda_copy(ones({4, 3, 3, 3}).set_requires_grad(true));
  Tensor b = testing::cuda_copy(ones({4}).set_requires_grad(true));
  Tensor y = conv2d(x, w, b, Conv2dOptions::make(1, 1));
  EXPECT_EQ(y.shape(), (Shape{0, 4, 8, 8}));
  y.backward(zeros({0, 4, 8, 8}).to(Device::cuda()));
  EXPECT_TRUE(testing::close_to(w.grad(), zeros({4, 3, 3, 3}), {0, 0}, "weight gradient"));
  EXPECT_TRUE(testing::close_to(b.grad(), zeros({4}), {0, 0}, "bias gradient"));
}

struct DeconvCase {
  const char* name;
  int64_t n, cin, h, w, cout, k;
  ConvTranspose2dOptions o;  // {stride, padding, output_padding, groups}
  bool bias;
};

TEST(CudaConv, ConvTranspose2dShapes) {
  MASKOFF_REQUIRE_CUDA();
  const DeconvCase cases[] = {
      {"pix2pix 4x4 s2 p1 with bias", 2, 8, 7, 9, 3, 4, {2, 1, 0}, true},
      {"U-Net bottleneck from 1x1", 2, 16, 1, 1, 8, 4, {2, 1, 0}, false},
      {"3x3 s2 p1 output_padding 1", 2, 5, 6, 5, 4, 3, {2, 1, 1}, true},
      {"3x3 s1 p0", 1, 4, 5, 7, 6, 3, {1, 0, 0}, true},
      {"stride 3, output_padding above padding", 2, 3, 4, 5, 2, 2, {3, 0, 2}, true},
      {"groups 2", 2, 6, 5, 5, 4, 3, {2, 1, 1, 2}, true},
  };
  for (const DeconvCase& c : cases) {
    const ConvTranspose2dOptions o = c.o;
    check_conv_op(c.name, {c.n, c.cin, c.h, c.w}, {c.cin, c.cout / c.o.groups, c.k, c.k},
                  c.bias ? c.cout : 0, [o](const Tensor& x, const Tensor& w, const Tensor& b) {
                    return conv_transpose2d(x, w, b, o);
                  });
  }
}

// Restores strict float32 even when a check fails.
struct Tf32Guard {
  explicit Tf32Guard(bool on) : prev(backend::tf32()) { backend::set_tf32(on); }
  ~Tf32Guard() { backend::set_tf32(prev); }
  bool prev;
};

TEST(CudaConv, Tf32IsOffByDefaultAndLooserWhenOn) {
  MASKOFF_REQUIRE_CUDA();
  EXPECT_FALSE(backend::tf32());
  EXPECT_NE(backend::cuda_report().find("FP32"), std::string::npos) << backend::cuda_report();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 64, 16, 16}, g), w = random_leaf({32, 64, 3, 3}, g, 0.05);
  Tf32Guard tf32(true);
  EXPECT_NE(backend::cuda_report().find("TF32"), std::string::npos) << backend::cuda_report();
  // TF32 keeps 10 mantissa bits of each product's inputs (relative error up to 2^-11 per
  // input, ~4e-4 rms per product), and the error grows with the number of terms, not with
  // the result, which cancellation can make small. The weight gradient sums 2*16*16 = 512
  // products of two N(0, 1) values: error ~4e-4 * sqrt(512) = 9e-3 rms, so the largest of
  // its 18432 elements is ~0.035 off. 0.06 is over six standard deviations; an indexing
  // mistake is off by O(1).
  EXPECT_TRUE(compare_with_cpu(
      [](const Inputs& v) { return conv2d(v[0], v[1], Tensor(), Conv2dOptions::make(1, 1)); },
      {x, w}, {6e-2, 1e-2}, seed));
}

#ifdef MASKOFF_WITH_CUDA
TEST(CudaConv, PlanAndAlgorithmFoundOncePerGeometry) {
  MASKOFF_REQUIRE_CUDA();
  Generator g(fresh_seed());
  // A geometry no other test (and no earlier repetition of this one) uses, so the first
  // call builds its plan.
  static int64_t repetition = 0;
  const int64_t width = 19 + repetition++;
  Tensor x = random_leaf({1, 5, 23, width}, g), w = random_leaf({7, 5, 3, 3}, g);
  Tensor xg = testing::cuda_copy(x), wg = testing::cuda_copy(w);
  const Tensor dy = ones({1, 7, 23, width}).to(Device::cuda());
  const cuda::ConvCacheStats before = cuda::conv_cache_stats();
  conv2d(xg, wg, Tensor(), Conv2dOptions::make(1, 1)).backward(dy);
  const cuda::ConvCacheStats first = cuda::conv_cache_stats();
  EXPECT_EQ(first.plans, before.plans + 1);
  EXPECT_EQ(first.searches, before.searches + 3);  // forward, backward-data, backward-filter
  for (int i = 0; i < 3; ++i) conv2d(xg, wg, Tensor(), Conv2dOptions::make(1, 1)).backward(dy);
  const cuda::ConvCacheStats later = cuda::conv_cache_stats();
  EXPECT_EQ(later.plans, first.plans);
  EXPECT_EQ(later.searches, first.searches);
  EXPECT_EQ(later.workspace_grows, first.workspace_grows);
}
#endif

}  // namespace
}  // namespace maskoff::testing
