// conv2d and conv_transpose2d: gradient checks for every input over many geometries,
// comparisons with a direct seven-loop reference, hand-computed cases, the adjoint identity,
// TF-'same' padding sizes and argument errors.
#include <cmath>
#include <string>

#include "layers/conv.h"
#include "tensor/parallel.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

// ---- direct references, straight from the definitions --------------------------------------

std::vector<double> naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b,
                                 const Conv2dOptions& o) {
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  const auto bv = b.defined() ? b.to_vector<double>() : std::vector<double>();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t M = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3);
  const int64_t OH = (H + o.pad_top + o.pad_bottom - KH) / o.stride_h + 1;
  const int64_t OW = (W + o.pad_left + o.pad_right - KW) / o.stride_w + 1;
  const int64_t Mg = M / o.groups;
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bv.empty() ? 0.0 : bv[m];
          for (int64_t cl = 0; cl < Cg; ++cl)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t c = (m / Mg) * Cg + cl;
                const int64_t iy = oy * o.stride_h - o.pad_top + ky;
                const int64_t ix = ox * o.stride_w - o.pad_left + kx;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc +=
                    xv[((n * C + c) * H + iy) * W + ix] * wv[((m * Cg + cl) * KH + ky) * KW + kx];
              }
          y.push_back(acc);
        }
  EXPECT_EQ(static_cast<int64_t>(y.size()), N * M * OH * OW);
  (void)C;
  return y;
}

// Each input pixel scatters x * w into the output window it maps to.
std::vector<double> naive_conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b,
                                           const ConvTranspose2dOptions& o) {
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  const auto bv = b.defined() ? b.to_vector<double>() : std::vector<double>();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Mg = w.size(1), KH = w.size(2), KW = w.size(3), M = Mg * o.groups;
  const int64_t OH = (H - 1) * o.stride - 2 * o.padding + KH + o.output_padding;
  const int64_t OW = (W - 1) * o.stride - 2 * o.padding + KW + o.output_padding;
  const int64_t Cg = C / o.groups;
  std::vector<double> y(static_cast<size_t>(N * M * OH * OW), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < OH * OW; ++i) y[(n * M + m) * OH * OW + i] = bv.empty() ? 0.0 : bv[m];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix)
          for (int64_t ml = 0; ml < Mg; ++ml)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t m = (c / Cg) * Mg + ml;
                const int64_t oy = iy * o.stride - o.padding + ky;
                const int64_t ox = ix * o.stride - o.padding + kx;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                y[((n * M + m) * OH + oy) * OW + ox] +=
                    xv[((n * C + c) * H + iy) * W + ix] * wv[((c * Mg + ml) * KH + ky) * KW + kx];
              }
  return y;
}

// ---- conv2d: reference comparison + gradient check per configuration ------------------------

struct ConvCase {
  Shape x, w;
  Conv2dOptions o;
  bool bias = true;
};

void check_conv(const ConvCase& c, uint64_t seed) {
  Generator g(seed);
  Tensor x = leaf(c.x, g), w = leaf(c.w, g, 0.5);
  Tensor b = c.bias ? leaf({c.w[0]}, g) : Tensor();
  EXPECT_TRUE(all_close(conv2d(x, w, b, c.o).to_vector<double>(), naive_conv2d(x, w, b, c.o), 1e-12,
                        1e-12));
  std::vector<Tensor> wrt{x, w};
  if (c.bias) wrt.push_back(b);
  EXPECT_TRUE(grad_check([&] { return conv2d(x, w, b, c.o); }, wrt));
}

TEST(ConvGrad, Pointwise1x1) {
  check_conv({{2, 3, 5, 7}, {4, 3, 1, 1}, Conv2dOptions::make(1, 0)}, 1);
}
TEST(ConvGrad, Kernel1Stride2) {
  check_conv({{1, 3, 7, 9}, {2, 3, 1, 1}, Conv2dOptions::make(2, 0)}, 2);
}
TEST(ConvGrad, Kernel1Padded) {
  check_conv({{1, 2, 4, 5}, {3, 2, 1, 1}, Conv2dOptions::make(1, 1)}, 3);
}
TEST(ConvGrad, Kernel3Stride1Pad1) {
  check_conv({{2, 3, 7, 9}, {4, 3, 3, 3}, Conv2dOptions::make(1, 1)}, 4);
}
TEST(ConvGrad, Kernel3Stride2Pad1) {
  check_conv({{1, 3, 7, 9}, {4, 3, 3, 3}, Conv2dOptions::make(2, 1)}, 5);
}
TEST(ConvGrad, Kernel3Stride3NoPad) {
  check_conv({{1, 2, 9, 7}, {3, 2, 3, 3}, Conv2dOptions::make(3, 0)}, 6);
}
TEST(ConvGrad, Kernel4Stride2Pad1UNet) {
  check_conv({{2, 3, 8, 8}, {4, 3, 4, 4}, Conv2dOptions::make(2, 1)}, 7);
}
TEST(ConvGrad, Kernel4Stride1Pad1OddInput) {  // the PatchGAN's last two layers
  check_conv({{1, 3, 7, 9}, {2, 3, 4, 4}, Conv2dOptions::make(1, 1)}, 8);
}
TEST(ConvGrad, Kernel5Stride3Pad2) {
  check_conv({{1, 2, 9, 11}, {3, 2, 5, 5}, Conv2dOptions::make(3, 2)}, 9);
}
TEST(ConvGrad, AsymmetricPadding) {
  check_conv({{1, 2, 7, 9}, {3, 2, 3, 3}, Conv2dOptions::make(2, 2, 0, 2, 1, 0)}, 10);
}
TEST(ConvGrad, RectangularKernelMixedStrides) {
  check_conv({{1, 2, 6, 7}, {3, 2, 2, 3}, Conv2dOptions::make(1, 2, 1, 0, 0, 2)}, 11);
}
TEST(ConvGrad, Groups2) {
  check_conv({{1, 4, 6, 7}, {6, 2, 3, 3}, Conv2dOptions::make(1, 1, 2)}, 12);
}
TEST(ConvGrad, Groups2Kernel4Stride2NoBias) {
  check_conv({{2, 4, 6, 6}, {4, 2, 4, 4}, Conv2dOptions::make(2, 1, 2), false}, 13);
}
TEST(ConvGrad, Groups2Pointwise) {
  check_conv({{1, 4, 5, 6}, {6, 2, 1, 1}, Conv2dOptions::make(1, 0, 2)}, 14);
}
TEST(ConvGrad, DepthwiseTfSameStride1) {
  check_conv({{2, 3, 7, 9}, {3, 1, 3, 3}, Conv2dOptions::tf_same(7, 9, 3, 3, 1, 3)}, 15);
}
TEST(ConvGrad, DepthwiseTfSameStride2) {  // odd input: padding (1,1); even: (0,1)
  check_conv({{1, 4, 7, 8}, {4, 1, 3, 3}, Conv2dOptions::tf_same(7, 8, 3, 3, 2, 4)}, 16);
}
TEST(ConvGrad, DepthwiseMultiplier2NoBias) {
  check_conv({{1, 3, 6, 7}, {6, 1, 3, 3}, Conv2dOptions::make(1, 1, 3), false}, 17);
}
TEST(ConvGrad, DepthwiseKernel5Stride3Asymmetric) {
  check_conv({{2, 2, 9, 8}, {2, 1, 5, 5}, Conv2dOptions::make(3, 3, 2, 1, 0, 2, 2)}, 18);
}
TEST(ConvGrad, SingleOutputChannelPatchGanHead) {  // direct loops: one output channel
  check_conv({{2, 3, 7, 9}, {1, 3, 4, 4}, Conv2dOptions::make(1, 1)}, 21);
}
TEST(ConvGrad, Groups2OneOutputPerGroup) {
  check_conv({{1, 4, 6, 7}, {2, 2, 3, 3}, Conv2dOptions::make(2, 1, 1, 0, 2, 1, 2)}, 22);
}
TEST(ConvGrad, NoBiasBatch3) {
  check_conv({{3, 2, 5, 6}, {3, 2, 3, 3}, Conv2dOptions::make(1, 0), false}, 19);
}
TEST(ConvGrad, KernelCoversWholeInput) {
  check_conv({{2, 3, 4, 5}, {2, 3, 4, 5}, Conv2dOptions::make(1, 0)}, 20);
}

// ---- conv_transpose2d ------------------------------------------------------------------------

struct TransposeCase {
  Shape x, w;
  ConvTranspose2dOptions o;  // {stride, padding, output_padding, groups}, as everywhere below
  bool bias = true;
};

void check_transpose(const TransposeCase& c, uint64_t seed) {
  Generator g(seed);
  Tensor x = leaf(c.x, g), w = leaf(c.w, g, 0.5);
  Tensor b = c.bias ? leaf({c.w[1] * c.o.groups}, g) : Tensor();
  EXPECT_TRUE(all_close(conv_transpose2d(x, w, b, c.o).to_vector<double>(),
                        naive_conv_transpose2d(x, w, b, c.o), 1e-12, 1e-12));
  std::vector<Tensor> wrt{x, w};
  if (c.bias) wrt.push_back(b);
  EXPECT_TRUE(grad_check([&] { return conv_transpose2d(x, w, b, c.o); }, wrt));
}

TEST(ConvTransposeGrad, Stride1Pad0) { check_transpose({{1, 3, 4, 5}, {3, 2, 3, 3}, {1, 0}}, 31); }
TEST(ConvTransposeGrad, Stride1Pad1) { check_transpose({{2, 2, 5, 4}, {2, 3, 3, 3}, {1, 1}}, 32); }
TEST(ConvTransposeGrad, Stride2Pad0) { check_transpose({{1, 3, 3, 4}, {3, 2, 3, 3}, {2, 0}}, 33); }
TEST(ConvTransposeGrad, Stride2Pad1OutputPadding1) {
  check_transpose({{1, 2, 4, 3}, {2, 3, 3, 3}, {2, 1, 1}}, 34);
}
TEST(ConvTransposeGrad, Kernel4Stride2Pad1UNet) {
  check_transpose({{2, 4, 3, 3}, {4, 3, 4, 4}, {2, 1}}, 35);
}
TEST(ConvTransposeGrad, Kernel4Stride2Pad1From1x1) {  // the U-Net's innermost up-convolution
  check_transpose({{2, 5, 1, 1}, {5, 3, 4, 4}, {2, 1}}, 36);
}
TEST(ConvTransposeGrad, OutputPaddingBeyondPadding) {  // bottom/right rows get only the bias
  check_transpose({{1, 2, 3, 3}, {2, 2, 2, 2}, {3, 0, 2}}, 37);
}
TEST(ConvTransposeGrad, Groups2NoBias) {
  check_transpose({{1, 4, 3, 4}, {4, 2, 3, 3}, {2, 1, 1, 2}, false}, 38);
}
TEST(ConvTransposeGrad, Depthwise) {
  check_transpose({{1, 3, 4, 4}, {3, 1, 3, 3}, {2, 1, 1, 3}}, 39);
}
TEST(ConvTransposeGrad, SingleInputChannel) {  // direct loops
  check_transpose({{2, 1, 3, 4}, {1, 3, 4, 4}, {2, 1}}, 42);
}
TEST(ConvTransposeGrad, Kernel1Stride2) {
  check_transpose({{1, 3, 3, 3}, {3, 2, 1, 1}, {2, 0, 1}}, 40);
}
TEST(ConvTransposeGrad, Pointwise) { check_transpose({{2, 3, 4, 3}, {3, 4, 1, 1}, {1, 0}}, 41); }

// The input-gradient is skipped when the input does not need one; the others still flow.
TEST(ConvGrad, InputWithoutGradSkipsInputGradient) {
  Generator g(50);
  Tensor x = randn({1, 3, 6, 6}, g, DType::F64);
  Tensor w = leaf({4, 3, 3, 3}, g), b = leaf({4}, g);
  EXPECT_TRUE(grad_check([&] { return conv2d(x, w, b, Conv2dOptions::make(2, 1)); }, {w, b}));
  EXPECT_FALSE(x.grad().defined());
  Tensor xt = randn({1, 4, 3, 3}, g, DType::F64), wt = leaf({4, 2, 4, 4}, g);
  EXPECT_TRUE(grad_check([&] { return conv_transpose2d(xt, wt, Tensor(), {2, 1}); }, {wt}));
  EXPECT_FALSE(xt.grad().defined());
  // The closure itself must skip the input gradient when told it is not needed (the engine
  // would drop it anyway, so only a direct call shows whether the work was skipped).
  Tensor y = conv2d(x, w, b, Conv2dOptions::make(2, 1));
  std::vector<Tensor> grads = y.grad_fn()->backward(ones_like(y), {false, true, true});
  ASSERT_EQ(grads.size(), 3u);
  EXPECT_FALSE(grads[0].defined());
  EXPECT_TRUE(grads[1].defined());
  EXPECT_TRUE(grads[2].defined());
  Tensor yt = conv_transpose2d(xt, wt, Tensor(), {2, 1});
  std::vector<Tensor> gt = yt.grad_fn()->backward(ones_like(yt), {false, true, false});
  EXPECT_FALSE(gt[0].defined());
  EXPECT_TRUE(gt[1].defined());
}

TEST(ConvGrad, EmptyBatchGivesZeroWeightGradient) {
  Generator g(51);
  Tensor w = leaf({4, 3, 3, 3}, g), b = leaf({4}, g);
  Tensor x = zeros({0, 3, 6, 6}, DType::F64);
  Tensor y = conv2d(x, w, b, Conv2dOptions::make(1, 1));
  EXPECT_EQ(y.shape(), (Shape{0, 4, 6, 6}));
  y.backward(zeros_like(y));
  for (double v : w.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
  for (double v : b.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
  Tensor wt = leaf({3, 2, 4, 4}, g);
  Tensor yt = conv_transpose2d(x, wt, Tensor(), {2, 1});
  yt.backward(zeros_like(yt));
  for (double v : wt.grad().to_vector<double>()) EXPECT_EQ(v, 0.0);
  // The chunked GEMM paths (larger float32 layers) with an empty batch as well.
  Tensor xf = zeros({0, 16, 32, 32});
  Tensor wf = randn({32, 16, 3, 3}, g).set_requires_grad(true);
  Tensor yf = conv2d(xf, wf, Tensor(), Conv2dOptions::make(1, 1));
  EXPECT_EQ(yf.shape(), (Shape{0, 32, 32, 32}));
  yf.backward(zeros_like(yf));
  for (float v : wf.grad().to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

// ---- hand-computed forward cases ------------------------------------------------------------

TEST(ConvForward, HandComputed2x2Kernel) {
  Tensor x = f64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  // 1*1+2*2+4*3+5*4 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77; plus the bias.
  EXPECT_TRUE(
      all_close(conv2d(x, w, f64({0.5}, {1}), Conv2dOptions::make(1, 0)).to_vector<double>(),
                {37.5, 47.5, 67.5, 77.5}, 1e-12));
  // Stride 2, padding 1: windows at rows/cols {-1,0} and {1,2}.
  EXPECT_TRUE(all_close(conv2d(x, w, Tensor(), Conv2dOptions::make(2, 1)).to_vector<double>(),
                        {1 * 4, 2 * 3 + 3 * 4, 4 * 2 + 7 * 4, 5 * 1 + 6 * 2 + 8 * 3 + 9 * 4},
                        1e-12));
  // Padding only at the bottom/right: the last window reads one zero row and column.
  const Conv2dOptions bottom_right = Conv2dOptions::make(2, 2, 0, 1, 0, 1);
  EXPECT_TRUE(all_close(conv2d(x, w, Tensor(), bottom_right).to_vector<double>(),
                        {37, 3 * 1 + 6 * 3, 7 * 1 + 8 * 2, 9 * 1}, 1e-12));
}

TEST(ConvForward, HandComputedGroups) {
  Tensor x = f64({3, 5}, {1, 2, 1, 1});
  EXPECT_TRUE(all_close(conv2d(x, f64({2, 7}, {2, 1, 1, 1}), Tensor(), Conv2dOptions::make(1, 0, 2))
                            .to_vector<double>(),
                        {6, 35}, 0));
  // Depthwise with multiplier 2: channel 0 feeds outputs 0 and 1, channel 1 outputs 2 and 3.
  EXPECT_TRUE(
      all_close(conv2d(x, f64({1, 2, 3, 4}, {4, 1, 1, 1}), Tensor(), Conv2dOptions::make(1, 0, 2))
                    .to_vector<double>(),
                {3, 6, 15, 20}, 0));
}

TEST(ConvTransposeForward, SinglePixelReproducesKernel) {
  Tensor w = f64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor y = conv_transpose2d(f64({2}, {1, 1, 1, 1}), w, Tensor(), {});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_TRUE(all_close(y.to_vector<double>(), {2, 4, 6, 8, 10, 12, 14, 16, 18}, 0));
  // Padding 1 crops the border: only the centre tap is left.
  EXPECT_TRUE(all_close(
      conv_transpose2d(f64({2}, {1, 1, 1, 1}), w, Tensor(), {1, 1}).to_vector<double>(), {10}, 0));
}

TEST(ConvTransposeForward, Stride2TilesScaledKernels) {
  Tensor x = f64({1, 10, 100, 1000}, {1, 1, 2, 2});
  Tensor w = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = conv_transpose2d(x, w, f64({0.25}, {1}), {2, 0});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_TRUE(all_close(y.to_vector<double>(),
                        {1.25, 2.25, 10.25, 20.25,          //
                         3.25, 4.25, 30.25, 40.25,          //
                         100.25, 200.25, 1000.25, 2000.25,  //
                         300.25, 400.25, 3000.25, 4000.25},
                        1e-12));
  // Kernel 4, stride 2, padding 1 doubles the size (the U-Net's up-convolution).
  EXPECT_EQ(conv_transpose2d(zeros({1, 2, 5, 7}), zeros({2, 3, 4, 4}), Tensor(), {2, 1}).shape(),
            (Shape{1, 3, 10, 14}));
}

// ---- conv_transpose2d is the adjoint of conv2d: <conv(x), y> == <x, convT(y)> ---------------

double dot(const Tensor& a, const Tensor& b) {
  auto u = a.to_vector<double>(), v = b.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < u.size(); ++i) s += u[i] * v[i];
  return s;
}

void check_adjoint(const Shape& xs, const Shape& ws, int64_t stride, int64_t pad, int64_t groups,
                   uint64_t seed) {
  Generator g(seed);
  Tensor x = randn(xs, g, DType::F64), w = randn(ws, g, DType::F64);
  Tensor cx = conv2d(x, w, Tensor(), Conv2dOptions::make(stride, pad, groups));
  Tensor y = randn(cx.shape(), g, DType::F64);
  // output_padding recovers the rows the forward's floor division dropped.
  const int64_t op = (xs[2] + 2 * pad - ws[2]) % stride;
  ASSERT_EQ(op, (xs[3] + 2 * pad - ws[3]) % stride) << "pick a shape with equal remainders";
  Tensor ty = conv_transpose2d(y, w, Tensor(), {stride, pad, op, groups});
  ASSERT_EQ(ty.shape(), x.shape());
  const double lhs = dot(cx, y), rhs = dot(x, ty);
  EXPECT_NEAR(lhs, rhs, 1e-10 * (1 + std::fabs(lhs))) << "stride " << stride << " pad " << pad;
}

TEST(ConvAdjoint, TransposeIsAdjointOfConv) {
  check_adjoint({2, 3, 8, 8}, {5, 3, 4, 4}, 2, 1, 1, 60);
  check_adjoint({1, 4, 9, 11}, {6, 2, 3, 3}, 2, 1, 2, 61);
  check_adjoint({1, 3, 10, 7}, {4, 3, 5, 5}, 3, 2, 1, 62);
  check_adjoint({2, 4, 7, 9}, {4, 1, 3, 3}, 1, 1, 4, 63);
  check_adjoint({1, 6, 12, 12}, {6, 6, 1, 1}, 1, 0, 1, 64);
  check_adjoint({1, 2, 8, 8}, {3, 2, 3, 3}, 2, 1, 1, 66);       // needs output_padding 1
  check_adjoint({1, 16, 32, 32}, {32, 16, 4, 4}, 2, 1, 1, 65);  // large enough to run threaded
}

// ---- the float path on shapes large enough to run threaded, against the reference ----------

TEST(ConvForward, Float32MatchesReferenceOnLargerShapes) {
  Generator g(70);
  struct Case {
    Shape x, w;
    Conv2dOptions o;
  };
  for (const Case& c :
       {Case{{2, 16, 24, 24}, {32, 16, 4, 4}, Conv2dOptions::make(2, 1)},
        Case{{1, 32, 33, 31}, {32, 1, 3, 3}, Conv2dOptions::tf_same(33, 31, 3, 3, 2, 32)},
        Case{{2, 64, 20, 20}, {48, 64, 1, 1}, Conv2dOptions::make(1, 0)}}) {
    Tensor x = randn(c.x, g), w = randn(c.w, g), b = randn({c.w[0]}, g);
    EXPECT_TRUE(all_close(conv2d(x, w, b, c.o).to_vector<double>(), naive_conv2d(x, w, b, c.o),
                          1e-3, 1e-4));
  }
  Tensor x = randn({2, 32, 12, 12}, g), w = randn({32, 16, 4, 4}, g);
  EXPECT_TRUE(all_close(conv_transpose2d(x, w, Tensor(), {2, 1}).to_vector<double>(),
                        naive_conv_transpose2d(x, w, Tensor(), {2, 1}), 1e-3, 1e-4));
}

// ---- threaded passes: every thread count gives the same results -----------------------------
// The gradient checks above use shapes too small to be split across threads; these shapes
// are above the threading threshold (a few MFLOP per image), and 3 threads split unevenly.

struct PassResults {
  std::vector<double> y, gx, gw;
};

PassResults run_passes(const std::function<Tensor()>& f, const Tensor& x, const Tensor& w) {
  x.set_grad(Tensor());
  w.set_grad(Tensor());
  Tensor y = f();
  Generator g(90);
  y.backward(randn(y.shape(), g, DType::F64));
  return {y.to_vector<double>(), x.grad().to_vector<double>(), w.grad().to_vector<double>()};
}

void check_thread_counts(const std::function<Tensor()>& f, const Tensor& x, const Tensor& w,
                         const char* what) {
  const int saved = num_threads();
  set_num_threads(1);
  const PassResults one = run_passes(f, x, w);
  for (int t : {2, 3}) {
    set_num_threads(t);
    const PassResults many = run_passes(f, x, w);
    EXPECT_TRUE(all_close(many.y, one.y, 1e-11, 1e-11)) << what << ", forward, " << t << " threads";
    EXPECT_TRUE(all_close(many.gx, one.gx, 1e-11, 1e-11))
        << what << ", input grad, " << t << " threads";
    EXPECT_TRUE(all_close(many.gw, one.gw, 1e-11, 1e-11))
        << what << ", weight grad, " << t << " threads";
  }
  set_num_threads(saved);
}

TEST(ConvGrad, ThreadCountDoesNotChangeResults) {
  Generator g(91);
  {  // wide output (split along pixels), groups 2
    Tensor x = leaf({2, 32, 24, 26}, g), w = leaf({32, 16, 3, 3}, g);
    const Conv2dOptions o = Conv2dOptions::make(1, 1, 2);
    check_thread_counts([&] { return conv2d(x, w, Tensor(), o); }, x, w, "conv 3x3");
    EXPECT_TRUE(all_close(conv2d(x, w, Tensor(), o).to_vector<double>(),
                          naive_conv2d(x, w, Tensor(), o), 1e-10, 1e-10));
  }
  {  // 2x2 output: split along channels, backward-data through the column-major temporary
    Tensor x = leaf({1, 256, 4, 4}, g), w = leaf({256, 256, 4, 4}, g, 0.1);
    check_thread_counts([&] { return conv2d(x, w, Tensor(), Conv2dOptions::make(2, 1)); }, x, w,
                        "conv 4x4 s2 at 4px");
  }
  {  // direct loops: one output channel, and depthwise with TF-'same' stride 2
    Tensor x = leaf({2, 64, 20, 21}, g), w = leaf({1, 64, 4, 4}, g);
    check_thread_counts([&] { return conv2d(x, w, Tensor(), Conv2dOptions::make(1, 1)); }, x, w,
                        "conv to one channel");
    Tensor xd = leaf({2, 64, 24, 23}, g), wd = leaf({64, 1, 3, 3}, g);
    const Conv2dOptions od = Conv2dOptions::tf_same(24, 23, 3, 3, 2, 64);
    check_thread_counts([&] { return conv2d(xd, wd, Tensor(), od); }, xd, wd, "depthwise");
  }
  {  // pointwise, with many pixels and with few
    Tensor x = leaf({1, 64, 24, 24}, g), w = leaf({96, 64, 1, 1}, g);
    check_thread_counts([&] { return conv2d(x, w, Tensor(), Conv2dOptions::make(1, 0)); }, x, w,
                        "pointwise 24px");
    Tensor xs = leaf({1, 512, 4, 4}, g), ws = leaf({512, 512, 1, 1}, g, 0.1);
    check_thread_counts([&] { return conv2d(xs, ws, Tensor(), Conv2dOptions::make(1, 0)); }, xs, ws,
                        "pointwise 4px");
  }
  {  // up-convolution to 3 channels: too few channels to share out by channel
    Tensor x = leaf({1, 64, 32, 32}, g), w = leaf({64, 3, 4, 4}, g);
    check_thread_counts(
        [&] {
          return conv_transpose2d(x, w, Tensor(), {2, 1});
        },
        x, w, "transposed to 3 channels");
  }
  {  // the U-Net's up-convolution
    Tensor x = leaf({1, 64, 16, 16}, g), w = leaf({64, 32, 4, 4}, g);
    check_thread_counts(
        [&] {
          return conv_transpose2d(x, w, Tensor(), {2, 1});
        },
        x, w, "transposed 4x4 s2");
  }
}

// ---- TF 'same' padding --------------------------------------------------------------------

TEST(ConvForward, TfSamePadding) {
  struct Case {
    int64_t in, k, s, lo, hi;
  };
  for (const Case& c : {Case{7, 3, 1, 1, 1}, Case{7, 3, 2, 1, 1}, Case{8, 3, 2, 0, 1},
                        Case{128, 3, 2, 0, 1}, Case{8, 4, 2, 1, 1}, Case{5, 1, 2, 0, 0},
                        Case{6, 3, 3, 0, 0}, Case{4, 5, 1, 2, 2}, Case{2, 5, 2, 1, 2}}) {
    Conv2dOptions o = Conv2dOptions::tf_same(c.in, c.in + 1, c.k, c.k, c.s);
    EXPECT_EQ(o.pad_top, c.lo) << "in " << c.in << " k " << c.k << " s " << c.s;
    EXPECT_EQ(o.pad_bottom, c.hi) << "in " << c.in << " k " << c.k << " s " << c.s;
    const int64_t out_h = (c.in + c.s - 1) / c.s, out_w = (c.in + 1 + c.s - 1) / c.s;
    Tensor y = conv2d(zeros({1, 2, c.in, c.in + 1}), zeros({2, 1, c.k, c.k}), Tensor(),
                      Conv2dOptions::tf_same(c.in, c.in + 1, c.k, c.k, c.s, 2));
    EXPECT_EQ(y.shape(), (Shape{1, 2, out_h, out_w}))
        << "in " << c.in << " k " << c.k << " s " << c.s;
  }
}

// ---- errors name the shapes -----------------------------------------------------------------

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << m;
  }
}

TEST(ConvErrors, ClearMessagesNamingShapes) {
  const Conv2dOptions o = Conv2dOptions::make(1, 0);
  expect_error(
      [&] {
        conv2d(zeros({3, 8, 8}), zeros({4, 3, 3, 3}), Tensor(), o);
      },
      {"conv2d", "[3, 8, 8]", "[4, 3, 3, 3]", "4 dimensions"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 2, 3, 3}), Tensor(), o);
      },
      {"[1, 3, 8, 8]", "[4, 2, 3, 3]", "input channels"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 1, 3, 3}), Tensor(), Conv2dOptions::make(1, 0, 2));
      },
      {"[1, 3, 8, 8]", "[4, 1, 3, 3]", "divisible by groups 2"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 2, 2}), zeros({4, 3, 3, 3}), Tensor(), o);
      },
      {"[1, 3, 2, 2]", "[4, 3, 3, 3]", "no output pixels"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 3, 3, 3}), zeros({3}), o);
      },
      {"[1, 3, 8, 8]", "bias [3]", "[4]"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 3, 3, 3}), Tensor(), Conv2dOptions::make(0, 0));
      },
      {"[1, 3, 8, 8]", "stride"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 3, 3, 3}, DType::F64), Tensor(), o);
      },
      {"dtype"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 3, 4, 4}), zeros({4, 2, 4, 4}), Tensor(), {2, 1});
      },
      {"conv_transpose2d", "[1, 3, 4, 4]", "[4, 2, 4, 4]", "weight.size(0) 4"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 3, 4, 4}), zeros({3, 2, 4, 4}), Tensor(), {2, 1, 2});
      },
      {"[1, 3, 4, 4]", "output_padding 2", "smaller than stride 2"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 3, 4, 4}), zeros({3, 2, 4, 4}), Tensor(), {1, 0, 0, 2});
      },
      {"[1, 3, 4, 4]", "divisible by groups 2"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 2, 1, 1}), zeros({2, 2, 1, 1}), Tensor(), {1, 1});
      },
      {"[1, 2, 1, 1]", "not positive"});
  expect_error(
      [&] {
        conv_transpose2d(zeros({1, 2, 3, 3}), zeros({2, 2, 3, 3}), zeros({2, 1}), {1, 0});
      },
      {"bias [2, 1]"});
}

}  // namespace
}  // namespace maskoff::testing
