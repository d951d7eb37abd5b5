// Homography estimation, inversion and the perspective warp: exact recovery from 4 and 6
// pairs, least squares under noise, degenerate inputs, hand-computed bilinear samples,
// transparency outside the source, no dark fringe at alpha edges, and warp round trips.
#include <gtest/gtest.h>
#include "tests/test_util.h"

#include <algorithm>
#include <cmath>

#include "data/homography.h"
#include "data/warp.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace maskoff::data {
namespace {
using maskoff::testing::error_of;

// A homography with rotation, anisotropic scale, shear, translation and perspective terms.
const Mat3 kTrue = {1.13, 0.21, 31.5, -0.17, 0.94, 12.25, 3.1e-4, -2.2e-4, 1.0};

std::vector<Point2> map_all(const Mat3& h, const std::vector<Point2>& pts) {
  std::vector<Point2> out;
  for (const Point2& p : pts) out.push_back(apply_homography(h, p));
  return out;
}

void expect_matrix_near(const Mat3& got, const Mat3& want, double tol) {
  for (int i = 0; i < 9; ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "element " << i;
}

TEST(Homography, FromFourExactPairs) {
  const std::vector<Point2> src = {{10, 20}, {400, 35}, {380, 300}, {25, 280}};
  const Mat3 h = homography_from_points(src, map_all(kTrue, src));
  expect_matrix_near(h, kTrue, 1e-9);
  EXPECT_EQ(h[8], 1.0);
}

TEST(Homography, FromSixExactPairs) {
  // The six mask anchors of a template in their usual layout (a, b, c, f, e, d).
  const std::vector<Point2> src = {{21, 97},   {307, 22},  {600, 99},
                                   {600, 323}, {295, 470}, {25, 322}};
  const Mat3 h = homography_from_points(src, map_all(kTrue, src));
  expect_matrix_near(h, kTrue, 1e-9);
}

TEST(Homography, SmallAndLargeCoordinateScales) {
  // Normalisation makes the estimate independent of the coordinate range.
  for (double scale : {1e-3, 1.0, 1e3}) {
    const Mat3 s = mat3_scale(scale, scale);
    const Mat3 h_true = mat3_mul(s, mat3_mul(kTrue, invert(s)));
    std::vector<Point2> src;
    for (Point2 p :
         {Point2{10, 20}, Point2{400, 35}, Point2{380, 300}, Point2{25, 280}, Point2{200, 150}})
      src.push_back({p.x * scale, p.y * scale});
    const Mat3 h = homography_from_points(src, map_all(h_true, src));
    const Mat3 want = [&] {
      Mat3 w = h_true;
      for (double& v : w) v /= h_true[8];
      return w;
    }();
    expect_matrix_near(h, want, 1e-8);
  }
}

TEST(Homography, LeastSquaresWithNoiseIsClose) {
  Generator g(11);
  std::vector<Point2> src, dst;
  for (int i = 0; i < 40; ++i) {
    Point2 p{g.uniform() * 500, g.uniform() * 400};
    Point2 q = apply_homography(kTrue, p);
    src.push_back(p);
    dst.push_back({q.x + (g.uniform() - 0.5), q.y + (g.uniform() - 0.5)});  // +-0.5 px
  }
  const Mat3 h = homography_from_points(src, dst);
  double worst = 0, rms = 0, noise_rms = 0;
  for (int i = 0; i < 40; ++i) {
    Point2 est = apply_homography(h, src[i]), truth = apply_homography(kTrue, src[i]);
    double d = std::hypot(est.x - truth.x, est.y - truth.y);
    worst = std::max(worst, d);
    rms += d * d;
    noise_rms += std::pow(dst[i].x - truth.x, 2) + std::pow(dst[i].y - truth.y, 2);
  }
  rms = std::sqrt(rms / 40);
  noise_rms = std::sqrt(noise_rms / 40);
  // Fitting 8 parameters to 80 noisy coordinates averages the noise down.
  EXPECT_LT(rms, 0.5 * noise_rms);
  EXPECT_LT(worst, 0.5);
  // And the noise-free pairs are still recovered exactly.
  expect_matrix_near(homography_from_points(src, map_all(kTrue, src)), kTrue, 1e-9);
}

TEST(Homography, ApplyInvertAndCompose) {
  const Point2 p{123.5, -45.25};
  // Hand-computed: w = 3.1e-4*123.5 - 2.2e-4*(-45.25) + 1.
  const double w = 3.1e-4 * 123.5 + 2.2e-4 * 45.25 + 1;
  const Point2 q = apply_homography(kTrue, p);
  EXPECT_NEAR(q.x, (1.13 * 123.5 - 0.21 * 45.25 + 31.5) / w, 1e-12);
  EXPECT_NEAR(q.y, (-0.17 * 123.5 - 0.94 * 45.25 + 12.25) / w, 1e-12);
  const Mat3 inv = invert(kTrue);
  EXPECT_NEAR(inv[8], 1.0, 1e-15);
  const Point2 back = apply_homography(inv, q);
  EXPECT_NEAR(back.x, p.x, 1e-9);
  EXPECT_NEAR(back.y, p.y, 1e-9);
  const Mat3 id = mat3_mul(kTrue, inv);
  const double s = id[8];
  expect_matrix_near(
      {id[0] / s, id[1] / s, id[2] / s, id[3] / s, id[4] / s, id[5] / s, id[6] / s, id[7] / s, 1},
      mat3_identity(), 1e-12);
}

TEST(Homography, DegenerateInputsRaise) {
  const std::vector<Point2> three = {{0, 0}, {1, 0}, {0, 1}};
  EXPECT_NE(error_of([&] { homography_from_points(three, three); }).find("at least 4"),
            std::string::npos);
  const std::vector<Point2> four = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  EXPECT_NE(error_of([&] { homography_from_points(four, three); }).find("4 source points but 3"),
            std::string::npos);
  const std::vector<Point2> collinear = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {5, 5}};
  const std::vector<Point2> fine = {{0, 0}, {10, 0}, {10, 10}, {0, 10}, {5, 3}};
  EXPECT_NE(error_of([&] {
              homography_from_points(collinear, fine);
            }).find("source points are collinear"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              homography_from_points(fine, collinear);
            }).find("destination points are collinear"),
            std::string::npos);
  // Three of four on a line: the pairs admit a whole family of (singular) solutions.
  const std::vector<Point2> three_on_line = {{0, 0}, {5, 0}, {10, 0}, {3, 7}};
  EXPECT_NE(error_of([&] { homography_from_points(three_on_line, four); }).find("degenerate"),
            std::string::npos);
  const std::vector<Point2> same = {{2, 2}, {2, 2}, {2, 2}, {2, 2}};
  EXPECT_NE(error_of([&] { homography_from_points(same, four); }).find("coincide"),
            std::string::npos);
  std::vector<Point2> nan_pts = four;
  nan_pts[2].x = std::nan("");
  EXPECT_NE(error_of([&] { homography_from_points(nan_pts, four); }).find("not finite"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              invert({1, 2, 3, 2, 4, 6, 0, 0, 1});
            }).find("singular"),
            std::string::npos);
}

// ---- warp -----------------------------------------------------------------------------

Image smooth_image(int w, int h) {
  Image img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.at(x, y, 0) = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.11) * std::cos(y * 0.07));
      img.at(x, y, 1) = static_cast<uint8_t>(40 + 3 * y);
      img.at(x, y, 2) = static_cast<uint8_t>(200 - 2 * x);
    }
  return img;
}

TEST(Warp, IdentityIsExact) {
  const Image src = smooth_image(37, 29);
  const Image out = warp_perspective(src, mat3_identity(), 37, 29);
  ASSERT_EQ(out.channels, 4);
  for (int y = 0; y < 29; ++y)
    for (int x = 0; x < 37; ++x) {
      for (int c = 0; c < 3; ++c) ASSERT_EQ(out.at(x, y, c), src.at(x, y, c)) << x << "," << y;
      ASSERT_EQ(out.at(x, y, 3), 255);
    }
}

TEST(Warp, HandComputedBilinearSamples) {
  // A 2x2 grey image moved right by 0.25 px and down by 0.5 px: destination (1, 1) samples
  // source (0.75, 0.5) = 0.25*0.5*10 + 0.75*0.5*50 + 0.25*0.5*90 + 0.75*0.5*130 = 80,
  // all four taps inside, alpha 255. Destination (0, 0) samples (-0.25, -0.5): only tap
  // (0, 0) is inside, with weight 0.75*0.5, so alpha is 0.375*255 and the colour is 10.
  Image src(2, 2, 1);
  src.pixels = {10, 50, 90, 130};
  const Image out = warp_perspective(src, {1, 0, 0.25, 0, 1, 0.5, 0, 0, 1}, 3, 3);
  EXPECT_EQ(out.at(1, 1, 0), 80);
  EXPECT_EQ(out.at(1, 1, 2), 80);
  EXPECT_EQ(out.at(1, 1, 3), 255);
  EXPECT_EQ(out.at(0, 0, 0), 10);
  EXPECT_EQ(out.at(0, 0, 3), 96);  // 95.625
  // (2, 2) samples (1.75, 1.5): only tap (1, 1), weight 0.25*0.5.
  EXPECT_EQ(out.at(2, 2, 0), 130);
  EXPECT_EQ(out.at(2, 2, 3), 32);  // 31.875
}

TEST(Warp, OutsideTheSourceIsTransparent) {
  const Image src = smooth_image(20, 10);
  // Scale 2 and move by (30, 40): the source lands on [30, 68] x [40, 58].
  const Mat3 h = {2, 0, 30, 0, 2, 40, 0, 0, 1};
  const Image out = warp_perspective(src, h, 100, 80);
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 100; ++x) {
      const bool inside = x >= 30 && x <= 68 && y >= 40 && y <= 58;
      const bool outside = x < 28 || x > 70 || y < 38 || y > 60;
      if (inside) {
        EXPECT_EQ(out.at(x, y, 3), 255) << x << "," << y;
      }
      if (outside) {
        for (int c = 0; c < 4; ++c) ASSERT_EQ(out.at(x, y, c), 0) << x << "," << y;
      }
    }
  // A source point mapped exactly: source (3, 2) -> destination (36, 44).
  EXPECT_EQ(out.at(36, 44, 0), src.at(3, 2, 0));
}

TEST(Warp, NoDarkFringeAtTransparentEdges) {
  // A white opaque disc on a transparent black surround, warped with a scale and a
  // sub-pixel shift: every pixel with any coverage must stay pure white.
  Image src(41, 41, 4, 0);
  for (int y = 0; y < 41; ++y)
    for (int x = 0; x < 41; ++x)
      if (std::hypot(x - 20, y - 20) < 15) {
        for (int c = 0; c < 3; ++c) src.at(x, y, c) = 255;
        src.at(x, y, 3) = 255;
      }
  const Mat3 h = {1.37, 0.1, 3.3, -0.05, 1.21, 2.7, 4e-4, 1e-4, 1};
  const Image out = warp_perspective(src, h, 70, 70);
  int partial = 0;
  for (int y = 0; y < 70; ++y)
    for (int x = 0; x < 70; ++x) {
      const int a = out.at(x, y, 3);
      if (a == 0) continue;
      if (a < 255) ++partial;
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(out.at(x, y, c), 255) << x << "," << y << " alpha " << a;
    }
  EXPECT_GT(partial, 20);  // the edge really is soft
}

TEST(Warp, RoundTripRecoversInterior) {
  const Image src = smooth_image(64, 48);
  // Mild perspective with an enlargement, so the forward warp loses little detail.
  const Mat3 h = {1.35, 0.12, 10, -0.08, 1.3, 14, 6e-4, 3e-4, 1};
  const Image fwd = warp_perspective(src, h, 120, 100);
  const Image back = warp_perspective(fwd, invert(h), 64, 48);
  int n = 0;
  double sum = 0;
  int worst = 0;
  for (int y = 3; y < 45; ++y)
    for (int x = 3; x < 61; ++x) {
      ASSERT_EQ(back.at(x, y, 3), 255) << x << "," << y;
      for (int c = 0; c < 3; ++c) {
        int d = std::abs(back.at(x, y, c) - src.at(x, y, c));
        worst = std::max(worst, d);
        sum += d;
        ++n;
      }
    }
  EXPECT_LE(worst, 6);
  EXPECT_LT(sum / n, 1.0);
}

TEST(Warp, PartlyBehindTheCameraDoesNotCrash) {
  // The line w = 0 crosses the source: part of it has no image. Those destination pixels
  // are transparent and the rest is finite.
  const Image src = smooth_image(50, 50);
  const Mat3 h = {1, 0, 0, 0, 1, 0, -0.04, 0, 1};  // w <= 0 for source x >= 25
  const Image out = warp_perspective(src, h, 60, 60);
  int opaque = 0;
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 60; ++x) opaque += out.at(x, y, 3) == 255;
  EXPECT_GT(opaque, 100);
}

TEST(Warp, BadArgumentsRaise) {
  const Image src = smooth_image(8, 8);
  EXPECT_NE(error_of([&] { warp_perspective(src, mat3_identity(), 0, 5); }).find("bad output size"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { warp_perspective(Image(), mat3_identity(), 5, 5); }).find("empty source"),
      std::string::npos);
  EXPECT_NE(
      error_of([&] { warp_perspective(Image(4, 4, 2), mat3_identity(), 5, 5); }).find("2 channels"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              warp_perspective(src, {1, 2, 3, 2, 4, 6, 0, 0, 1}, 5, 5);
            }).find("singular"),
            std::string::npos);
}

TEST(Warp, HalveIsPremultiplied) {
  // One opaque red texel among three transparent black ones: the average keeps pure red
  // at a quarter coverage; a 3x3 image halves to 2x2 with the missing texels transparent.
  Image src(3, 3, 4, 0);
  src.at(0, 0, 0) = 255;
  src.at(0, 0, 3) = 255;
  src.at(2, 2, 1) = 200;
  src.at(2, 2, 3) = 100;
  const Image out = halve_rgba(src);
  ASSERT_EQ(out.width, 2);
  ASSERT_EQ(out.height, 2);
  EXPECT_EQ(out.at(0, 0, 0), 255);
  EXPECT_EQ(out.at(0, 0, 1), 0);
  EXPECT_EQ(out.at(0, 0, 3), 64);  // 63.75
  EXPECT_EQ(out.at(1, 1, 1), 200);
  EXPECT_EQ(out.at(1, 1, 3), 25);
  EXPECT_EQ(out.at(1, 0, 3), 0);
}

}  // namespace
}  // namespace maskoff::data
