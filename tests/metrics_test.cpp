// The evaluation metrics: MSE, PSNR and SSIM against scikit-image on images rebuilt from the
// formula in scripts/golden/make_metrics_reference.py (tests/fixtures/metrics_reference.txt),
// their masked variants, LPIPS against the reference values of the weights' README, the
// channel normalisation's gradients, the landmark NME, identities and argument errors.
// LPIPS tests that need the pretrained weights read them from
// $MASKOFF_SHARED/weights/lpips_alex (default: the shared folder beside the source tree) and
// skip when it is absent.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "layers/elementwise.h"
#include "layers/reduce.h"
#include "layers/shape_ops.h"
#include "metrics/channel_norm.h"
#include "metrics/metrics.h"
#include "models/npy.h"
#include "tests/golden_fixture.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace maskoff::metrics {
namespace {
namespace fs = std::filesystem;
using maskoff::testing::error_of;
using maskoff::testing::grad_check;
using maskoff::testing::GradCheckOptions;
using maskoff::testing::leaf;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- the fixture's images, rebuilt ------------------------------------------------------

// The script's hash32, in the same 32-bit wrapping arithmetic.
uint32_t hash32(uint32_t seed, uint32_t i) {
  uint32_t h = i * 0x9E3779B1u + seed * 0x85EBCA77u + 0x165667B1u;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

// The script's image(): [3, h, w] 8-bit values. The expressions keep its operation order.
std::vector<int64_t> image8(int64_t h, int64_t w, double phase, int64_t noise, uint32_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(3 * h * w));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const double s =
            128.0 + 70.0 * std::sin(0.23 * double(x) + 0.17 * double(y) + 1.1 * double(c) + phase) +
            40.0 * std::cos(0.31 * double(y) - 0.07 * double(c + 1) * double(x) + 0.5 * phase);
        int64_t q = static_cast<int64_t>(std::floor(s + 0.5));
        const int64_t i = (c * h + y) * w + x;
        if (noise) q += int64_t(hash32(seed, uint32_t(i)) % uint32_t(2 * noise + 1)) - noise;
        v[static_cast<size_t>(i)] = std::clamp<int64_t>(q, 0, 255);
      }
  return v;
}

std::vector<double> checksums(const std::vector<int64_t>& v) {
  int64_t s = 0, ws = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    s += v[i];
    ws += v[i] * int64_t(i % 251 + 1);
  }
  return {double(s), double(ws)};
}

Tensor to_unit(const std::vector<int64_t>& v, const Shape& s, DType dtype) {
  std::vector<double> d(v.size());
  for (size_t i = 0; i < v.size(); ++i) d[i] = double(v[i]) / 255.0;
  return from_vector(d, s, dtype);
}

// The script's elliptic mask, in integers.
Tensor ellipse_mask(int64_t h, int64_t w, int64_t cy, int64_t cx, int64_t ry, int64_t rx) {
  std::vector<double> m(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      m[static_cast<size_t>(y * w + x)] =
          (y - cy) * (y - cy) * rx * rx + (x - cx) * (x - cx) * ry * ry <= rx * rx * ry * ry;
  return from_vector(m, {h, w}, DType::F32);
}

struct Pair {
  std::map<std::string, std::vector<double>> ref;  // fixture entries without the prefix
  Tensor a, b, mask;                               // mask undefined when the pair has none
};

std::vector<Pair> fixture_pairs(DType dtype) {
  const std::string path =
      std::string(MASKOFF_SOURCE_DIR) + "/tests/fixtures/metrics_reference.txt";
  std::map<std::string, std::map<std::string, std::vector<double>>> by_pair;
  for (auto& [name, e] : maskoff::testing::read_golden_fixture(path)) {
    const size_t slash = name.find('/');
    by_pair[name.substr(0, slash)][name.substr(slash + 1)] = e.values;
  }
  std::vector<Pair> pairs;
  for (auto& [name, ref] : by_pair) {
    const std::vector<double>& p = ref.at("params");
    const int64_t h = int64_t(p[0]), w = int64_t(p[1]);
    std::vector<int64_t> a8 = image8(h, w, p[2], int64_t(p[4]), uint32_t(p[6]));
    std::vector<int64_t> b8 = image8(h, w, p[3], int64_t(p[5]), uint32_t(p[7]));
    std::vector<double> sums = checksums(a8), sb = checksums(b8);
    sums.insert(sums.end(), sb.begin(), sb.end());
    EXPECT_EQ(sums, ref.at("checksums")) << name << ": the rebuilt images differ from the script's";
    Pair pair{ref, to_unit(a8, {3, h, w}, dtype), to_unit(b8, {3, h, w}, dtype), Tensor()};
    if (ref.count("mask")) {
      const std::vector<double>& m = ref.at("mask");
      pair.mask = ellipse_mask(h, w, int64_t(m[0]), int64_t(m[1]), int64_t(m[2]), int64_t(m[3]));
    }
    pairs.push_back(pair);
  }
  EXPECT_EQ(pairs.size(), 4u);
  return pairs;
}

double rel_diff(double got, double want) { return std::fabs(got - want) / std::fabs(want); }

// ---- conventions, MSE, PSNR ----------------------------------------------------------------

TEST(Metrics, FromNetworkRange) {
  Tensor x = from_vector(std::vector<double>{-1, -0.5, 0, 1}, {4}, DType::F64);
  EXPECT_EQ(from_network_range(x).to_vector<double>(), (std::vector<double>{0, 0.25, 0.5, 1}));
}

TEST(Metrics, IdenticalImages) {
  Generator g(11);
  Tensor a = rand({2, 3, 16, 20}, g);
  EXPECT_EQ(mse(a, a), (std::vector<double>{0, 0}));
  EXPECT_EQ(psnr(a, a), (std::vector<double>{kPsnrCapDb, kPsnrCapDb}));
  for (double s : ssim(a, a)) EXPECT_NEAR(s, 1.0, 1e-12);
  Tensor one = rand({3, 12, 12}, g, DType::F64);
  EXPECT_EQ(mse(one, one).size(), 1u);
  EXPECT_NEAR(ssim(one, one)[0], 1.0, 1e-12);
  // The cap starts at MSE 1e-10; just above it the formula applies.
  EXPECT_EQ(psnr_of_mse(1e-10), kPsnrCapDb);
  EXPECT_NEAR(psnr_of_mse(1.01e-10), 100.0 - 10 * std::log10(1.01), 1e-9);
}

TEST(Metrics, MseAndPsnrKnownAnswers) {
  // Image 0: b - a = 0.5 on every element: MSE 0.25, PSNR 10 log10(4) = 6.0206 dB.
  // Image 1: one element of 3 * 2 * 2 = 12 differs by 0.3: MSE 0.09 / 12 = 0.0075.
  std::vector<double> a(24, 0.2), b(24, 0.2);
  for (int i = 0; i < 12; ++i) b[size_t(i)] = 0.7;
  b[12 + 5] = 0.5;
  Tensor ta = from_vector(a, {2, 3, 2, 2}, DType::F64),
         tb = from_vector(b, {2, 3, 2, 2}, DType::F64);
  std::vector<double> m = mse(ta, tb), p = psnr(ta, tb);
  EXPECT_NEAR(m[0], 0.25, 1e-15);
  EXPECT_NEAR(m[1], 0.0075, 1e-15);
  EXPECT_NEAR(p[0], 6.020599913279624, 1e-12);
  EXPECT_NEAR(p[1], 21.249387366082999, 1e-12);
  // Peak 1 on [0, 1] equals peak 255 on the same images in 0..255.
  EXPECT_NEAR(p[1], 10 * std::log10(255.0 * 255.0 / (0.0075 * 255.0 * 255.0)), 1e-12);
  // Symmetric, and float32 images give the same values to float precision.
  EXPECT_EQ(mse(tb, ta), m);
  EXPECT_NEAR(mse(ta.to(DType::F32), tb.to(DType::F32))[1], 0.0075, 1e-8);
}

TEST(Metrics, MaskedMseCountsOnlyMaskPixels) {
  // 4x4 images; the mask covers 3 pixels. Inside, a and b differ by 0.1 in every channel;
  // outside they differ wildly, which must not count.
  std::vector<double> m(16, 0.0);
  m[5] = m[6] = m[9] = 1;
  std::vector<double> a(48), b(48);
  for (size_t i = 0; i < 48; ++i) {
    a[i] = 0.5;
    b[i] = m[i % 16] ? 0.6 : (i % 2 ? 0.0 : 1.0);
  }
  Tensor ta = from_vector(a, {1, 3, 4, 4}, DType::F64),
         tb = from_vector(b, {1, 3, 4, 4}, DType::F64);
  for (const Tensor& mask : {from_vector(m, {4, 4}), from_vector(m, {1, 4, 4}, DType::F64)}) {
    EXPECT_NEAR(mse_in_mask(ta, tb, mask)[0], 0.01, 1e-15);
    EXPECT_NEAR(psnr_in_mask(ta, tb, mask)[0], 20.0, 1e-12);
    EXPECT_EQ(mask_box(mask), (Box{1, 1, 3, 3}));
  }
  EXPECT_NEAR(mse(ta, tb)[0], (13 * 0.25 + 3 * 0.01) / 16, 1e-15);
  EXPECT_EQ(mse_in_mask(ta, ta, from_vector(m, {4, 4}))[0], 0.0);
  EXPECT_EQ(psnr_in_mask(ta, ta, from_vector(m, {4, 4}))[0], kPsnrCapDb);
}

TEST(Metrics, MaskBoxAndCrop) {
  std::vector<double> m(6 * 7, 0.0);
  m[1 * 7 + 4] = m[3 * 7 + 2] = m[4 * 7 + 5] = 1;  // rows 1..4, columns 2..5
  const Box box = mask_box(from_vector(m, {1, 6, 7}));
  EXPECT_EQ(box, (Box{1, 2, 5, 6}));
  EXPECT_EQ(box.height(), 4);
  EXPECT_EQ(box.width(), 4);
  std::vector<double> v(2 * 3 * 6 * 7);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i);
  Tensor c = crop_box(from_vector(v, {2, 3, 6, 7}, DType::F64), box);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 4, 4}));
  std::vector<double> cv = c.to_vector<double>();
  // Element (n 1, c 2, row 3, column 1) of the crop is (1, 2, 4, 3) of the image.
  EXPECT_EQ(cv[((1 * 3 + 2) * 4 + 3) * 4 + 1], double(((1 * 3 + 2) * 6 + 4) * 7 + 3));
  EXPECT_EQ(crop_box(from_vector(v, {3, 6, 14}, DType::F64), box).shape(), (Shape{3, 4, 4}));
}

// ---- against scikit-image ----------------------------------------------------------------

TEST(Metrics, MatchesScikitImage) {
  for (DType dtype : {DType::F64, DType::F32}) {
    // Both sides compute in double, so float64 images agree to rounding. float32 holds
    // v / 255 to 6e-8 relative, which moves MSE and PSNR by about 1e-7 relative and SSIM by
    // about 1e-8. (The SSIM bound is far below the 1e-4 that is asked of it: a K2 of 0.0301
    // instead of 0.03 moves these SSIMs by 4e-5.)
    const double rel = dtype == DType::F64 ? 1e-9 : 1e-6;
    const double ssim_tol = dtype == DType::F64 ? 1e-10 : 1e-6;
    double worst_mse = 0, worst_psnr = 0, worst_ssim = 0, worst_masked = 0, worst_box = 0;
    for (const Pair& p : fixture_pairs(dtype)) {
      const double m = mse(p.a, p.b)[0], ps = psnr(p.a, p.b)[0], s = ssim(p.a, p.b)[0];
      EXPECT_LE(rel_diff(m, p.ref.at("mse")[0]), rel) << m;
      EXPECT_LE(rel_diff(ps, p.ref.at("psnr")[0]), rel) << ps;
      EXPECT_NEAR(s, p.ref.at("ssim")[0], ssim_tol);
      worst_mse = std::max(worst_mse, rel_diff(m, p.ref.at("mse")[0]));
      worst_psnr = std::max(worst_psnr, rel_diff(ps, p.ref.at("psnr")[0]));
      worst_ssim = std::max(worst_ssim, std::fabs(s - p.ref.at("ssim")[0]));
      // The same pair in a batch of two, and swapped: per-image values, symmetric metrics.
      Tensor a2 = concat({reshape(p.a, {1, 3, p.a.size(1), p.a.size(2)}),
                          reshape(p.b, {1, 3, p.a.size(1), p.a.size(2)})},
                         0);
      Tensor b2 = concat({reshape(p.b, {1, 3, p.a.size(1), p.a.size(2)}),
                          reshape(p.a, {1, 3, p.a.size(1), p.a.size(2)})},
                         0);
      std::vector<double> batch = ssim(a2, b2);
      ASSERT_EQ(batch.size(), 2u);
      EXPECT_NEAR(batch[0], s, 1e-12);
      EXPECT_NEAR(batch[1], s, 1e-12);
      if (!p.mask.defined()) continue;
      const Box box = mask_box(p.mask);
      const std::vector<double>& rb = p.ref.at("box");
      EXPECT_EQ(box, (Box{int64_t(rb[0]), int64_t(rb[1]), int64_t(rb[2]), int64_t(rb[3])}));
      const double mm = mse_in_mask(p.a, p.b, p.mask)[0], pm = psnr_in_mask(p.a, p.b, p.mask)[0];
      const double sb = ssim_in_box(p.a, p.b, box)[0];
      EXPECT_LE(rel_diff(mm, p.ref.at("mse_in_mask")[0]), rel) << mm;
      EXPECT_LE(rel_diff(pm, p.ref.at("psnr_in_mask")[0]), rel) << pm;
      EXPECT_NEAR(sb, p.ref.at("ssim_in_box")[0], ssim_tol);
      worst_masked = std::max({worst_masked, rel_diff(mm, p.ref.at("mse_in_mask")[0]),
                               rel_diff(pm, p.ref.at("psnr_in_mask")[0])});
      worst_box = std::max(worst_box, std::fabs(sb - p.ref.at("ssim_in_box")[0]));
    }
    std::cout << "[ measured ] " << dtype_name(dtype) << " vs scikit-image: MSE rel " << worst_mse
              << ", PSNR rel " << worst_psnr << ", SSIM abs " << worst_ssim
              << ", masked MSE/PSNR rel " << worst_masked << ", SSIM in box abs " << worst_box
              << "\n";
  }
}

// ---- argument errors -----------------------------------------------------------------------

TEST(Metrics, ErrorsNameTheShapes) {
  Tensor a = full({1, 3, 16, 16}, 0.5), b = full({1, 3, 16, 17}, 0.5);
  for (const std::string& msg : {error_of([&] { mse(a, b); }), error_of([&] { psnr(a, b); }),
                                 error_of([&] { ssim(a, b); }), error_of([&] {
                                   mse_in_mask(a, b, ones({16, 16}));
                                 }),
                                 error_of([&] {
                                   ssim_in_box(a, b, Box{0, 0, 12, 12});
                                 })}) {
    EXPECT_TRUE(contains(msg, "[1, 3, 16, 16]")) << msg;
    EXPECT_TRUE(contains(msg, "[1, 3, 16, 17]")) << msg;
  }
  std::string msg = error_of([&] { mse(full({2, 1, 8, 8}, 0.5), full({2, 1, 8, 8}, 0.5)); });
  EXPECT_TRUE(contains(msg, "[2, 1, 8, 8]") && contains(msg, "[N, 3, H, W]")) << msg;
  // A [-1, 1] image left unmapped.
  msg = error_of([&] { psnr(full({3, 8, 8}, -0.5), full({3, 8, 8}, 0.5)); });
  EXPECT_TRUE(contains(msg, "outside [0, 1]") && contains(msg, "from_network_range")) << msg;
  msg = error_of([&] { mse(full({3, 8, 8}, 0.5), full({3, 8, 8}, std::nan(""))); });
  EXPECT_TRUE(contains(msg, "NaN")) << msg;
  msg = error_of([&] { ssim(full({3, 10, 30}, 0.5), full({3, 10, 30}, 0.5)); });
  EXPECT_TRUE(contains(msg, "[3, 10, 30]") && contains(msg, "11 x 11")) << msg;
  msg = error_of([&] { ssim_in_box(a, a, Box{2, 2, 12, 14}); });
  EXPECT_TRUE(contains(msg, "rows [2, 12) x columns [2, 14)") && contains(msg, "11 x 11")) << msg;
  msg = error_of([&] { crop_box(a, Box{4, 4, 20, 10}); });
  EXPECT_TRUE(contains(msg, "rows [4, 20)") && contains(msg, "[1, 3, 16, 16]")) << msg;
  // Masks: empty, not binary, of another size or rank.
  msg = error_of([&] { mask_box(zeros({5, 6})); });
  EXPECT_TRUE(contains(msg, "[5, 6]") && contains(msg, "no pixel")) << msg;
  msg = error_of([&] { mse_in_mask(a, a, zeros({16, 16})); });
  EXPECT_TRUE(contains(msg, "no pixel")) << msg;
  msg = error_of([&] { mask_box(full({1, 4, 4}, 0.5)); });
  EXPECT_TRUE(contains(msg, "0.5") && contains(msg, "0 or 1")) << msg;
  msg = error_of([&] { psnr_in_mask(a, a, ones({1, 16, 15})); });
  EXPECT_TRUE(contains(msg, "[1, 16, 15]") && contains(msg, "16 x 16")) << msg;
  msg = error_of([&] { mask_box(ones({2, 4, 4})); });
  EXPECT_TRUE(contains(msg, "[2, 4, 4]") && contains(msg, "[H, W] or [1, H, W]")) << msg;
}

// ---- landmark NME ------------------------------------------------------------------------

Landmarks68 face() {
  Landmarks68 p;
  for (int i = 0; i < 68; ++i) p[i] = {10.0 + 1.5 * i, 40.0 - 0.25 * i * (i % 5)};
  p[kLeftEyeOuter] = {20, 30};
  p[kRightEyeOuter] = {50, 70};  // outer eye corners 50 apart (a 30-40-50 triangle)
  return p;
}

TEST(Nme, KnownAnswers) {
  const Landmarks68 ref = face();
  EXPECT_EQ(nme(ref, ref), 0.0);
  EXPECT_EQ(nme(ref, ref, true), 0.0);
  // Every point moved by (6, 8): distance 10 each, over 50.
  Landmarks68 got = ref;
  for (auto& [x, y] : got) x += 6, y += 8;
  EXPECT_NEAR(nme(got, ref), 0.2, 1e-15);
  EXPECT_NEAR(nme(got, ref, true), 0.2, 1e-15);
  // Only the 20 mouth points moved, by 5: mouth 5 / 50 = 0.1; all 68: 20 * 5 / 68 / 50.
  got = ref;
  for (int i = kMouthFirst; i < 68; ++i) got[i].second -= 5;
  EXPECT_NEAR(nme(got, ref, true), 0.1, 1e-15);
  EXPECT_NEAR(nme(got, ref), 100.0 / 68 / 50, 1e-15);
  // Only point 0 moved by 34 (a jaw point): mouth NME 0, full 34 / 68 / 50 = 0.01.
  got = ref;
  got[0].first += 34;
  EXPECT_EQ(nme(got, ref, true), 0.0);
  EXPECT_NEAR(nme(got, ref), 0.01, 1e-15);
  // The normaliser is the reference's eye distance, not got's.
  got = ref;
  got[kRightEyeOuter] = {80, 110};
  EXPECT_NEAR(nme(got, ref), 50.0 / 68 / 50, 1e-15);
}

TEST(Nme, Errors) {
  Landmarks68 ref = face();
  ref[kRightEyeOuter] = ref[kLeftEyeOuter];
  std::string msg = error_of([&] { nme(face(), ref); });
  EXPECT_TRUE(contains(msg, "36") && contains(msg, "45") && contains(msg, "coincide")) << msg;
  Landmarks68 got = face();
  got[60].first = std::nan("");
  msg = error_of([&] { nme(got, face()); });
  EXPECT_TRUE(contains(msg, "point 60")) << msg;
}

// ---- channel normalisation ------------------------------------------------------------------

TEST(LpipsGrad, NormalizeChannelsForward) {
  // Pixel 0: (3, 4) -> (0.6, 0.8); pixel 1: (0, 0) stays 0; pixel 2: (-1, 0) -> (-1, 0).
  Tensor x = maskoff::testing::f64({3, 0, -1, 4, 0, 0}, {1, 2, 1, 3});
  std::vector<double> y = normalize_channels(x).to_vector<double>();
  EXPECT_TRUE(maskoff::testing::all_close(y, {0.6, 0, -1, 0.8, 0, 0}, 1e-9));
  EXPECT_TRUE(maskoff::testing::all_close(normalize_channels(x, 1.0).to_vector<double>(),
                                          {0.5, 0, -0.5, 4.0 / 6, 0, 0}, 1e-15));
  std::string msg = error_of([&] { normalize_channels(zeros({2, 3})); });
  EXPECT_TRUE(contains(msg, "normalize_channels")) << msg;
}

TEST(LpipsGrad, NormalizeChannels) {
  Generator g(21);
  Tensor x = leaf({2, 5, 3, 4}, g);
  EXPECT_TRUE(grad_check([&] { return normalize_channels(x); }, {x}));
  // A zero feature vector (pixel (0, 0, 0)), where the Jacobian is I / eps; a large eps
  // keeps the finite difference meaningful there.
  Tensor z = leaf({1, 3, 2, 3}, g);
  for (int64_t c = 0; c < 3; ++c) z.data<double>()[c * 6] = 0.0;
  EXPECT_TRUE(grad_check([&] { return normalize_channels(z, 0.5); }, {z}));
}

// ---- LPIPS -----------------------------------------------------------------------------------

std::string lpips_dir() {
  const char* env = std::getenv("MASKOFF_SHARED");
  const std::string shared = env && *env ? env : std::string(MASKOFF_SOURCE_DIR) + "/../shared";
  return shared + "/weights/lpips_alex";
}

#define SKIP_WITHOUT_LPIPS()                            \
  if (!fs::is_directory(lpips_dir()))                   \
  GTEST_SKIP() << "no LPIPS weights at " << lpips_dir() \
               << " (set MASKOFF_SHARED to the shared data folder)"

// The README's values for test_input_noise.npy vs test_input_clean.npy: a float64 numpy
// forward pass, its five tap terms, and the number the converter's notebook published
// (TensorFlow on a GPU, with TF32 convolutions).
constexpr double kRefLpips = 0.44617392;
constexpr double kRefTaps[5] = {0.01184296, 0.05141995, 0.09830586, 0.12161988, 0.16298527};
constexpr double kPublishedLpips = 0.44629833;

TEST(Lpips, MatchesTheReferenceValues) {
  SKIP_WITHOUT_LPIPS();
  for (DType dtype : {DType::F64, DType::F32}) {
    auto net = Lpips::load(lpips_dir(), dtype);
    // The stored inputs are in [-1, 1]; distance() takes [0, 1].
    Tensor noise =
        from_network_range(models::read_npy(lpips_dir() + "/test_input_noise.npy").to(dtype));
    Tensor clean =
        from_network_range(models::read_npy(lpips_dir() + "/test_input_clean.npy").to(dtype));
    ASSERT_EQ(noise.shape(), (Shape{1, 3, 64, 64}));
    Tensor d = net->distance(noise, clean);
    ASSERT_EQ(d.shape(), (Shape{1}));
    const double got = d.item();
    std::vector<double> taps = net->tap_distances(noise, clean).to_vector<double>();
    ASSERT_EQ(taps.size(), 5u);
    // The reference has 8 decimals; float32 arithmetic adds about 1e-7.
    const double tol = dtype == DType::F64 ? 1e-8 : 2e-6;
    EXPECT_NEAR(got, kRefLpips, tol) << dtype_name(dtype);
    double worst_tap = 0;
    for (int k = 0; k < 5; ++k) {
      EXPECT_NEAR(taps[size_t(k)], kRefTaps[k], tol) << "tap " << k + 1;
      worst_tap = std::max(worst_tap, std::fabs(taps[size_t(k)] - kRefTaps[k]));
    }
    EXPECT_NEAR(got, kPublishedLpips, 2e-4);
    std::cout << "[ measured ] LPIPS " << dtype_name(dtype) << " " << got << ": vs numpy "
              << got - kRefLpips << " (worst tap " << worst_tap << "), vs published "
              << got - kPublishedLpips << "\n";
    // Symmetric, zero on identical images, per image in a batch.
    EXPECT_NEAR(net->distance(clean, noise).item(), got, 1e-12);
    EXPECT_EQ(net->distance(clean, clean).item(), 0.0);
    Tensor batch_a = concat({noise, clean}, 0), batch_b = concat({clean, clean}, 0);
    std::vector<double> per = net->distance(batch_a, batch_b).to_vector<double>();
    ASSERT_EQ(per.size(), 2u);
    EXPECT_NEAR(per[0], got, dtype == DType::F64 ? 1e-12 : 1e-6);
    EXPECT_EQ(per[1], 0.0);
  }
}

TEST(Lpips, LoadsFrozenWeights) {
  SKIP_WITHOUT_LPIPS();
  auto net = Lpips::load(lpips_dir());
  EXPECT_EQ(net->named_parameters().size(), 15u);
  for (const auto& [name, p] : net->named_parameters()) {
    EXPECT_FALSE(p.requires_grad()) << name;
    EXPECT_EQ(p.to_vector<float>(),
              models::read_npy(lpips_dir() + "/" + name + ".npy").to_vector<float>())
        << name;
  }
  EXPECT_EQ(net->lin2->weight.shape(), (Shape{1, 384, 1, 1}));
  for (float w : net->lin4->weight.to_vector<float>()) EXPECT_GE(w, 0.0f);
}

TEST(Lpips, InBoxEqualsTheCrop) {
  SKIP_WITHOUT_LPIPS();
  auto net = Lpips::load(lpips_dir());
  Generator g(31);
  Tensor a = rand({2, 3, 48, 56}, g), b = rand({2, 3, 48, 56}, g);
  const Box box{5, 9, 41, 45};
  std::vector<double> in_box = net->distance_in_box(a, b, box).to_vector<double>();
  std::vector<double> want = net->distance(crop_box(a, box), crop_box(b, box)).to_vector<double>();
  EXPECT_EQ(in_box, want);
  std::vector<double> whole = net->distance(a, b).to_vector<double>();
  EXPECT_NE(in_box, whole);
  // A [3, H, W] image gives one value, equal to its row of the batch.
  Tensor a1 = reshape(slice(a, 0, 1, 2), {3, 48, 56}), b1 = reshape(slice(b, 0, 1, 2), {3, 48, 56});
  Tensor d1 = net->distance(a1, b1);
  ASSERT_EQ(d1.shape(), (Shape{1}));
  EXPECT_NEAR(d1.item(), whole[1], 1e-6);
}

TEST(Lpips, Errors) {
  Lpips net;  // zero weights are enough for argument checks
  Tensor a = full({1, 3, 40, 40}, 0.5);
  std::string msg = error_of([&] { net.distance(a, full({1, 3, 40, 41}, 0.5)); });
  EXPECT_TRUE(contains(msg, "[1, 3, 40, 40]") && contains(msg, "[1, 3, 40, 41]")) << msg;
  msg = error_of([&] { net.distance(full({1, 3, 30, 64}, 0.5), full({1, 3, 30, 64}, 0.5)); });
  EXPECT_TRUE(contains(msg, "[1, 3, 30, 64]") && contains(msg, "31 x 31")) << msg;
  msg = error_of([&] { net.distance(a.to(DType::F64), a.to(DType::F64)); });
  EXPECT_TRUE(contains(msg, "float64") && contains(msg, "float32")) << msg;
  msg = error_of([&] { net.distance(a, full({1, 3, 40, 40}, -0.5)); });
  EXPECT_TRUE(contains(msg, "from_network_range")) << msg;
  msg = error_of([&] { net.distance_in_box(a, a, Box{0, 0, 30, 40}); });
  EXPECT_TRUE(contains(msg, "rows [0, 30)") && contains(msg, "31 x 31")) << msg;
  msg = error_of([] { Lpips::load("/nonexistent/lpips_alex"); });
  EXPECT_TRUE(contains(msg, "/nonexistent/lpips_alex")) << msg;
}

TEST(LpipsGrad, DistanceAlongRandomDirections) {
  // The whole distance in float64 with random weights (heads >= 0 as in the real ones): the
  // analytic derivative along random directions against a central difference, for both
  // images. The smallest input AlexNet takes keeps it quick.
  Lpips net(DType::F64);
  Generator g(41);
  for (const Tensor& p : net.parameters()) init_normal_(p, g, 0.0, 0.05);
  for (const auto& lin : {net.lin0, net.lin1, net.lin2, net.lin3, net.lin4})
    init_uniform_(lin->weight, g, 0.0, 0.1);
  Tensor a = rand({2, 3, 31, 35}, g, DType::F64, Device::cpu(), 0.1, 0.9);
  Tensor b = rand({2, 3, 31, 35}, g, DType::F64, Device::cpu(), 0.1, 0.9);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor r = from_vector(std::vector<double>{0.7, -1.3}, {2}, DType::F64);
  auto loss = [&](const Tensor& x, const Tensor& y) { return sum(mul(net.distance(x, y), r)); };
  loss(a, b).backward();
  const std::vector<double> ga = a.grad().to_vector<double>(), gb = b.grad().to_vector<double>();
  autograd::NoGradGuard no_grad;
  for (int k = 0; k < 3; ++k) {
    Tensor da = randn(a.shape(), g, DType::F64), db = randn(b.shape(), g, DType::F64);
    const std::vector<double> va = da.to_vector<double>(), vb = db.to_vector<double>();
    double analytic = 0;
    for (size_t i = 0; i < va.size(); ++i) analytic += ga[i] * va[i] + gb[i] * vb[i];
    const double h = 1e-6;
    const double numeric =
        (loss(add(a.detach(), mul_scalar(da, h)), add(b.detach(), mul_scalar(db, h))).item() -
         loss(add(a.detach(), mul_scalar(da, -h)), add(b.detach(), mul_scalar(db, -h))).item()) /
        (2 * h);
    EXPECT_GT(std::fabs(analytic), 1e-8);
    EXPECT_NEAR(analytic, numeric, 1e-7 + 1e-5 * std::fabs(numeric)) << "direction " << k;
  }
}

}  // namespace
}  // namespace maskoff::metrics
