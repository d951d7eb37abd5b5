// Bilinear resizing: gradient checks for both align_corners modes when scaling up, down
// and mixed, hand-computed 2x2 -> 4x4 and 4x4 -> 2x2 values, and errors.
#include "layers/resize.h"
#include "tests/gradcheck.h"

namespace maskoff {
namespace {
using testing::all_close;
using testing::grad_check;
using testing::leaf;
using testing::f64;

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
  EXPECT_TRUE(all_close(resize_bilinear(f64({1, 2, 3, 4}, {1, 1, 2, 2}), 4, 4, false)
                            .to_vector<double>(),
                        {1, 1.25, 1.75, 2,  //
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
  EXPECT_TRUE(all_close(resize_bilinear(x, 2, 2, false).to_vector<double>(),
                        {2.5, 4.5, 10.5, 12.5}, 1e-15));
  // Corners: positions 0 and 3.
  EXPECT_TRUE(all_close(resize_bilinear(x, 2, 2, true).to_vector<double>(), {0, 3, 12, 15}, 1e-15));
  // A 1x1 output reads the top-left pixel with corners aligned and the centre otherwise.
  EXPECT_DOUBLE_EQ(resize_bilinear(x, 1, 1, true).item(), 0.0);
  EXPECT_DOUBLE_EQ(resize_bilinear(x, 1, 1, false).item(), 7.5);
}
TEST(ResizeForward, NonIntegerRatio) {
  // Width 3 -> 2, half-pixel: positions 1.5 * (o + 0.5) - 0.5 = 0.25 and 1.75.
  EXPECT_TRUE(all_close(resize_bilinear(f64({0, 4, 8}, {1, 1, 1, 3}), 1, 2, false)
                            .to_vector<double>(),
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

TEST(ResizeErrors, ClearMessages) {
  try {
    resize_bilinear(zeros({3, 4, 4}), 8, 8);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[3, 4, 4]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resize_bilinear(zeros({1, 1, 4, 4}), 0, 8), Error);
  EXPECT_THROW(resize_bilinear(zeros({1, 1, 0, 4}), 2, 2), Error);
}

}  // namespace
}  // namespace maskoff
