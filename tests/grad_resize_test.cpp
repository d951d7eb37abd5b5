// Bilinear resizing: gradient checks for both align_corners modes and TensorFlow's legacy
// mapping when scaling up, down and mixed, hand-computed values, and errors.
#include "layers/resize.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

struct Size2 {
  int64_t h, w;
};
// Up, down, up in one axis and down in the other, non-integer ratios, unchanged, 1 x 1.
const Size2 kOutSizes[] = {{7, 9}, {3, 2}, {9, 3}, {5, 7}, {4, 5}, {1, 1}};

TEST(ResizeGrad, AlignCornersFalse) {
  Generator g(71);
  Tensor x = leaf({2, 2, 4, 5}, g);
  for (const Size2& s : kOutSizes)
    EXPECT_TRUE(grad_check([&] { return resize_bilinear(x, s.h, s.w, false); }, {x}))
        << s.h << " x " << s.w;
}
TEST(ResizeGrad, AlignCornersTrue) {
  Generator g(72);
  Tensor x = leaf({2, 2, 4, 5}, g);
  for (const Size2& s : kOutSizes)
    EXPECT_TRUE(grad_check([&] { return resize_bilinear(x, s.h, s.w, true); }, {x}))
        << s.h << " x " << s.w;
}
TEST(ResizeGrad, OddInputFromOnePixelAndDownByThree) {
  Generator g(73);
  Tensor one = leaf({1, 3, 1, 1}, g), x = leaf({1, 2, 9, 7}, g);
  for (bool align : {false, true}) {
    EXPECT_TRUE(grad_check([&] { return resize_bilinear(one, 3, 2, align); }, {one}));
    EXPECT_TRUE(grad_check([&] { return resize_bilinear(x, 3, 3, align); }, {x}));
  }
}

// x = [[1, 2], [3, 4]] = 1 + 2 * row + col, so bilinear samples are 1 + 2 * sy + sx at
// the source positions (sy, sx).
TEST(ResizeForward, TwoToFourAlignCorners) {
  // Source positions o * (2 - 1) / (4 - 1) = 0, 1/3, 2/3, 1.
  std::vector<double> want;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) want.push_back(1 + 2 * (i / 3.0) + j / 3.0);
  Tensor y = resize_bilinear(f64({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4, true);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_TRUE(all_close(y.to_vector<double>(), want, 1e-15));
}
TEST(ResizeForward, TwoToFourHalfPixel) {
  // Source positions (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past the
  // last pixel: stays on it).
  EXPECT_TRUE(
      all_close(resize_bilinear(f64({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4, false).to_vector<double>(),
                {1, 1.25, 1.75, 2,      //
                 1.5, 1.75, 2.25, 2.5,  //
                 2.5, 2.75, 3.25, 3.5,  //
                 3, 3.25, 3.75, 4},
                1e-15));
}
TEST(ResizeForward, FourToTwoBothModes) {
  std::vector<double> v;
  for (int i = 0; i < 16; ++i) v.push_back(i);  // 4 * row + col
  Tensor x = f64(v, {1, 1, 4, 4});
  // Half-pixel: positions 0.5 and 2.5, the centres of the 2x2 blocks.
  EXPECT_TRUE(all_close(resize_bilinear(x, 2, 2, false).to_vector<double>(), {2.5, 4.5, 10.5, 12.5},
                        1e-15));
  // Corners: positions 0 and 3.
  EXPECT_TRUE(all_close(resize_bilinear(x, 2, 2, true).to_vector<double>(), {0, 3, 12, 15}, 1e-15));
  // A 1x1 output reads the top-left pixel with corners aligned and the centre otherwise.
  EXPECT_DOUBLE_EQ(resize_bilinear(x, 1, 1, true).item(), 0.0);
  EXPECT_DOUBLE_EQ(resize_bilinear(x, 1, 1, false).item(), 7.5);
}
TEST(ResizeForward, NonIntegerRatio) {
  // Width 3 -> 2, half-pixel: positions 1.5 * (o + 0.5) - 0.5 = 0.25 and 1.75.
  EXPECT_TRUE(
      all_close(resize_bilinear(f64({0, 4, 8}, {1, 1, 1, 3}), 1, 2, false).to_vector<double>(),
                {1, 7}, 1e-15));
}
TEST(ResizeForward, SameSizeIsIdentityAndPlanesAreSeparate) {
  Generator g(74);
  Tensor x = randn({2, 3, 5, 4}, g, DType::F64);
  for (bool align : {false, true})
    EXPECT_TRUE(all_close(resize_bilinear(x, 5, 4, align).to_vector<double>(),
                          x.to_vector<double>(), 1e-15));
  Tensor c = f64({1, 1, 1, 1, 5, 5, 5, 5}, {1, 2, 2, 2});
  EXPECT_TRUE(all_close(resize_bilinear(c, 3, 3, false).to_vector<double>(),
                        {1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 1e-15));
}
TEST(ResizeForward, Float32MatchesFloat64) {
  Generator g(75);
  Tensor x = randn({2, 3, 37, 29}, g, DType::F64);
  for (bool align : {false, true})
    EXPECT_TRUE(all_close(resize_bilinear(x.to(DType::F32), 64, 17, align).to_vector<double>(),
                          resize_bilinear(x, 64, 17, align).to_vector<double>(), 1e-4));
}

// ---- TensorFlow's legacy mapping: src = o * in / out ----------------------------------------

TEST(ResizeGrad, TfLegacy) {
  Generator g(76);
  Tensor x = leaf({2, 2, 4, 5}, g);
  for (const Size2& s : kOutSizes)
    EXPECT_TRUE(grad_check([&] { return resize_bilinear_tf_legacy(x, s.h, s.w); }, {x}))
        << s.h << " x " << s.w;
  Tensor big = leaf({1, 1, 16, 9}, g);  // whole source positions (16 -> 8) and fractional ones
  EXPECT_TRUE(grad_check([&] { return resize_bilinear_tf_legacy(big, 8, 7); }, {big}));
}

TEST(ResizeForward, TfLegacyTwoToFour) {
  // x = [[1, 2], [3, 4]]; positions o * 2 / 4 = 0, 0.5, 1, 1.5: the last two both sit on
  // the last pixel (its neighbour min(ceil(1.5), 1) = 1 is itself), unlike half-pixel.
  EXPECT_TRUE(all_close(
      resize_bilinear_tf_legacy(f64({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4).to_vector<double>(),
      {1, 1.5, 2, 2,  //
       2, 2.5, 3, 3,  //
       3, 3.5, 4, 4,  //
       3, 3.5, 4, 4},
      1e-15));
}
TEST(ResizeForward, TfLegacyRampsDownAndUp) {
  // On a ramp v[i] = i every sample equals its source position, so the output shows the
  // mapping itself: 256 -> 112 gives o * 256 / 112 (no half-pixel shift, no clamping needed:
  // the last position is 253.71).
  std::vector<double> ramp(256);
  for (int i = 0; i < 256; ++i) ramp[i] = i;
  std::vector<double> want(112);
  for (int o = 0; o < 112; ++o) want[o] = o * 256.0 / 112.0;
  EXPECT_TRUE(
      all_close(resize_bilinear_tf_legacy(f64(ramp, {1, 1, 1, 256}), 1, 112).to_vector<double>(),
                want, 1e-12));
  EXPECT_TRUE(
      all_close(resize_bilinear_tf_legacy(f64(ramp, {1, 1, 256, 1}), 112, 1).to_vector<double>(),
                want, 1e-12));
  // 3 -> 7 upsamples: positions o * 3 / 7, those past 2 stay on the last pixel.
  EXPECT_TRUE(
      all_close(resize_bilinear_tf_legacy(f64({0, 1, 2}, {1, 1, 1, 3}), 1, 7).to_vector<double>(),
                {0, 3 / 7.0, 6 / 7.0, 9 / 7.0, 12 / 7.0, 2, 2}, 1e-15));
  // 4 -> 2 reads whole positions 0 and 2 (no averaging), 4 -> 3 reads 0, 4/3, 8/3.
  Tensor x = f64({0, 10, 20, 30}, {1, 1, 1, 4});
  EXPECT_TRUE(all_close(resize_bilinear_tf_legacy(x, 1, 2).to_vector<double>(), {0, 20}, 1e-15));
  EXPECT_TRUE(all_close(resize_bilinear_tf_legacy(x, 1, 3).to_vector<double>(),
                        {0, 40 / 3.0, 80 / 3.0}, 1e-13));
}
TEST(ResizeForward, TfLegacySameSizeIsIdentityAndFloat32MatchesFloat64) {
  Generator g(77);
  Tensor x = randn({2, 3, 5, 4}, g, DType::F64);
  EXPECT_TRUE(all_close(resize_bilinear_tf_legacy(x, 5, 4).to_vector<double>(),
                        x.to_vector<double>(), 1e-15));
  Tensor big = randn({2, 3, 37, 29}, g, DType::F64);
  EXPECT_TRUE(all_close(resize_bilinear_tf_legacy(big.to(DType::F32), 64, 17).to_vector<double>(),
                        resize_bilinear_tf_legacy(big, 64, 17).to_vector<double>(), 1e-4));
}

TEST(ResizeErrors, ClearMessages) {
  try {
    resize_bilinear(zeros({3, 4, 4}), 8, 8);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[3, 4, 4]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resize_bilinear(zeros({1, 1, 4, 4}), 0, 8), Error);
  EXPECT_THROW(resize_bilinear(zeros({1, 1, 0, 4}), 2, 2), Error);
  try {
    resize_bilinear_tf_legacy(zeros({2, 3, 4, 4, 1}), 8, 8);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resize_bilinear_tf_legacy"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3, 4, 4, 1]"), std::string::npos) << msg;
  }
  EXPECT_THROW(resize_bilinear_tf_legacy(zeros({1, 1, 4, 4}), 3, -1), Error);
}

}  // namespace
}  // namespace maskoff::testing
