// The 68-point landmark network: the .npy reader, weight loading and its errors, the
// network's structure, the crop and resize geometry of landmarks_on_image, and gradients.
// Tests that need the pretrained weights read them from
// $MASKOFF_SHARED/weights/face_landmark_68 (default: the shared folder beside the source
// tree) and skip when it is absent; the comparison with the reference landmarks, which needs
// a JPEG decoder, lives in tests/data/landmark_reference_test.cpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "layers/elementwise.h"
#include "layers/reduce.h"
#include "models/landmark_net.h"
#include "models/npy.h"
#include "tests/data/temp_dir.h"
#include "tests/gradcheck.h"
#include "tests/npy_fixtures.h"
#include "tests/test_util.h"

namespace maskoff::models {
namespace {
using data::testing::TempDir;
using data::testing::write_bytes;
using namespace maskoff::testing;  // NOLINT(build/namespaces): the test helpers

std::string weights_dir() { return shared_weights_dir("face_landmark_68"); }
#define SKIP_WITHOUT_WEIGHTS() MASKOFF_SKIP_WITHOUT_WEIGHTS(weights_dir(), "landmark")

// ---- .npy reader ----------------------------------------------------------------------------

TEST(Npy, ReadsShapeAndValues) {
  TempDir dir;
  write_bytes(dir / "a.npy", npy_bytes(f4_dict("(2, 3)"), {1, 2, 3, 4, 5, -6.5f}));
  Tensor t = read_npy(dir / "a.npy");
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, -6.5f}));
  write_bytes(dir / "b.npy", npy_bytes(f4_dict("(4,)"), {0.25f, 0, 0, 1e-30f}));
  EXPECT_EQ(read_npy(dir / "b.npy").to_vector<float>(), (std::vector<float>{0.25f, 0, 0, 1e-30f}));
  write_bytes(dir / "c.npy", npy_bytes(f4_dict("(1, 2, 1, 1)"), {7, 8}));
  EXPECT_EQ(read_npy(dir / "c.npy").shape(), (Shape{1, 2, 1, 1}));
}

TEST(Npy, ErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"truncated.npy", npy_bytes(f4_dict("(2, 3)"), {1, 2, 3, 4, 5, 6}, 3), "truncated"},
      {"extra.npy", npy_bytes(f4_dict("(2, 2)"), {1, 2, 3, 4, 5}), "extra bytes"},
      {"f8.npy",
       npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", {1, 2, 3, 4}),
       "'<f8'"},
      {"fortran.npy",
       npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", {1, 2, 3, 4}),
       "fortran_order True"},
      {"noshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", {1}), "'shape'"},
      {"magic.npy", {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "not an .npy file"},
      {"short.npy", {0x93, 'N', 'U', 'M'}, "not an .npy file"},
  };
  for (const Case& c : cases) {
    write_bytes(dir / c.name, c.bytes);
    const std::string msg = error_of([&] { read_npy(dir / c.name); });
    EXPECT_NE(msg.find(dir / c.name), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.problem), std::string::npos) << msg;
  }
  const std::string msg = error_of([&] { read_npy(dir / "absent.npy"); });
  EXPECT_NE(msg.find(dir / "absent.npy"), std::string::npos) << msg;
}

// ---- structure and loading ------------------------------------------------------------------

TEST(LandmarkNet, ParameterNamesAndShapes) {
  LandmarkNet68 net;
  EXPECT_EQ(net.num_parameters(), 356840);  // the weight README's count, one byte each in the .bin
  auto named = net.named_parameters();
  EXPECT_EQ(named.size(), 2 + 15 * 3 + 2u);  // dense0.conv0, 15 separable convs, fc
  std::set<std::string> names;
  for (const auto& e : named) names.insert(e.first);
  EXPECT_EQ(net.parameter("dense0.conv0.weight").shape(), (Shape{32, 3, 3, 3}));
  EXPECT_EQ(net.parameter("dense0.conv0.bias").shape(), (Shape{32}));
  EXPECT_EQ(net.parameter("dense1.conv0.depthwise.weight").shape(), (Shape{32, 1, 3, 3}));
  EXPECT_EQ(net.parameter("dense1.conv0.pointwise.weight").shape(), (Shape{64, 32, 1, 1}));
  EXPECT_EQ(net.parameter("dense3.conv3.depthwise.weight").shape(), (Shape{256, 1, 3, 3}));
  EXPECT_EQ(net.parameter("dense2.conv2.bias").shape(), (Shape{128}));
  EXPECT_EQ(net.parameter("fc.weight").shape(), (Shape{136, 256}));
  EXPECT_EQ(net.parameter("fc.bias").shape(), (Shape{136}));
}

TEST(LandmarkNet, LoadsEveryWeightFileFrozen) {
  SKIP_WITHOUT_WEIGHTS();
  auto net = load_landmark_net(weights_dir());
  expect_frozen_parameter_per_npy_file(*net, weights_dir());
  EXPECT_FALSE(net->is_training());
  // The loaded values are the files' values.
  Tensor fc_bias = read_npy(weights_dir() + "/fc.bias.npy");
  EXPECT_EQ(net->fc->bias.to_vector<float>(), fc_bias.to_vector<float>());
  EXPECT_NE(net->fc->bias.to_vector<float>(), std::vector<float>(136, 0.0f));
  // Frozen weights record no graph for a constant input.
  Generator g(1);
  Tensor y = net->forward(randn({2, 3, 112, 112}, g, DType::F32, Device::cpu(), 0.0, 0.3));
  EXPECT_EQ(y.shape(), (Shape{2, 136}));
  EXPECT_FALSE(y.requires_grad());
}

TEST(LandmarkNet, MissingFolderAndFiles) {
  TempDir dir;
  expect_weight_folder_errors([](const std::string& d) { load_landmark_net(d); }, LandmarkNet68(),
                              dir, "dense2.conv1.pointwise.weight", "fc.bias", {135});
  // A truncated file names itself.
  write_bytes(dir / "fc.bias.npy", npy_bytes(f4_dict("(136,)"), std::vector<float>(136, 0.f), 5));
  const std::string msg = error_of([&] { load_landmark_net(dir.str()); });
  EXPECT_NE(msg.find(dir / "fc.bias.npy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(LandmarkNet, InputErrors) {
  LandmarkNet68 net;
  std::string msg = error_of([&] { net.forward(zeros({1, 3, 128, 128})); });
  EXPECT_NE(msg.find("[1, 3, 128, 128]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[N, 3, 112, 112]"), std::string::npos) << msg;
  msg = error_of([&] { landmarks_on_image(net, zeros({1, 3, 64, 48}), {}); });
  EXPECT_NE(msg.find("[1, 3, 64, 48]"), std::string::npos) << msg;
  msg = error_of([&] { landmarks_on_image(net, zeros({1, 3, 200, 200}), {0.2, 0.3, 0.75}); });
  EXPECT_NE(msg.find("y0 0.3, size 0.75"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 3, 200, 200]"), std::string::npos) << msg;
  EXPECT_THROW(landmarks_on_image(net, zeros({1, 3, 64, 64}), {-0.1, 0, 0.5}), Error);
  EXPECT_THROW(landmarks_on_image(net, zeros({1, 3, 64, 64}), {0, 0, 0}), Error);
}

TEST(LandmarkNet, CropRoundingStaysInside) {
  // With all-zero weights the net outputs 0, so the result is the crop's pixel corner over
  // the side: the rounding is visible directly.
  LandmarkNet68 net;
  const LandmarkCrop c = default_landmark_crop();
  EXPECT_LE(c.x0 + c.size, 1.0);
  EXPECT_LE(c.y0 + c.size, 1.0);
  struct Case {
    int64_t side, x0, y0;
  };
  // 256: side 185.6 -> 186, corner (35.2, 70.4) -> (35, 70). 100: side 72.5 -> 73 and
  // y0 27.5 -> 28 would end at 101, so the corner moves back to 27.
  for (const Case& k : {Case{256, 35, 70}, Case{128, 18, 35}, Case{100, 14, 27}, Case{32, 4, 9}}) {
    std::vector<double> p =
        landmarks_on_image(net, zeros({2, 3, k.side, k.side}), c).to_vector<double>();
    ASSERT_EQ(p.size(), 2u * 68 * 2);
    for (size_t i = 0; i < p.size(); ++i)
      ASSERT_NEAR(p[i], double(i % 2 ? k.y0 : k.x0) / double(k.side), 1e-7) << k.side << " " << i;
  }
}

// ---- the pipeline's geometry ------------------------------------------------------------------

// A smooth face-sized test pattern in [-1, 1], different per channel.
Tensor pattern(int64_t side, int64_t n = 1) {
  std::vector<double> v;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < side; ++y)
        for (int64_t x = 0; x < side; ++x)
          v.push_back(0.9 * std::sin(0.11 * double(x) * (c + 1) + 0.07 * double(y) + double(b)) *
                      std::cos(0.05 * double(y) * (2 - c)));
  return from_vector(v, {n, 3, side, side});
}

TEST(LandmarkNet, NormalisationMatchesTheDefinition) {
  SKIP_WITHOUT_WEIGHTS();
  auto net = load_landmark_net(weights_dir());
  Tensor img = pattern(112, 2);
  // The net's documented input: v = (x + 1) * 127.5, then (v - mean_c) / 255.
  std::vector<double> v = img.to_vector<double>(), in(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    in[i] = ((v[i] + 1) * 127.5 - kLandmarkMeanRgb[(i / (112 * 112)) % 3]) / 255.0;
  std::vector<double> want = net->forward(from_vector(in, img.shape())).to_vector<double>();
  std::vector<double> got = landmarks_on_image(*net, img, {}).to_vector<double>();
  ASSERT_EQ(got.size(), 2u * 68 * 2);
  EXPECT_TRUE(maskoff::testing::all_close(got, want, 2e-6));
}

TEST(LandmarkNet, CropCoordinatesMapBackToTheImage) {
  SKIP_WITHOUT_WEIGHTS();
  auto net = load_landmark_net(weights_dir());
  Tensor small = pattern(112);
  std::vector<double> full = landmarks_on_image(*net, small, {}).to_vector<double>();
  // The same 112 pixels pasted at (56, 28) of a 224 image: a crop there (no resize) must
  // find the same points, shifted and scaled into the big image's units.
  std::vector<double> big(3 * 224 * 224, -1.0), sv = small.to_vector<double>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 112; ++y)
      for (int x = 0; x < 112; ++x)
        big[(c * 224 + y + 28) * 224 + x + 56] = sv[(c * 112 + y) * 112 + x];
  std::vector<double> crop =
      landmarks_on_image(*net, from_vector(big, {1, 3, 224, 224}), {0.25, 0.125, 0.5})
          .to_vector<double>();
  std::vector<double> want(full.size());
  for (size_t i = 0; i < full.size(); ++i) want[i] = (i % 2 ? 0.125 : 0.25) + 0.5 * full[i];
  EXPECT_TRUE(maskoff::testing::all_close(crop, want, 1e-6));
  // A 2x pixel-replicated image: the legacy resize 224 -> 112 samples whole positions 2o,
  // i.e. exactly the original pixels (a half-pixel resize would blend neighbours).
  std::vector<double> up(3 * 224 * 224);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 224; ++y)
      for (int x = 0; x < 224; ++x)
        up[(c * 224 + y) * 224 + x] = sv[(c * 112 + y / 2) * 112 + x / 2];
  EXPECT_TRUE(maskoff::testing::all_close(
      landmarks_on_image(*net, from_vector(up, {1, 3, 224, 224}), {}).to_vector<double>(), full,
      1e-6));
}

// ---- gradients ---------------------------------------------------------------------------------

TEST(LandmarkNetGrad, DenseBlocksAndSeparableConvs) {
  Generator g(3);
  for (bool first : {true, false}) {
    LandmarkDenseBlock block(3, 4, first, DType::F64);
    for (const Tensor& p : block.parameters()) init_normal_(p, g, 0.0, 0.4);
    for (int64_t side : {8, 7}) {  // even: TF pads bottom/right only; odd: both sides
      Tensor x = leaf({2, 3, side, side}, g);
      std::vector<Tensor> wrt = block.parameters();
      wrt.push_back(x);
      EXPECT_TRUE(grad_check([&] { return block.forward(x); }, wrt)) << first << " " << side;
    }
  }
}

TEST(LandmarkNetGrad, LandmarksOnImageAlongRandomDirections) {
  // The full pipeline in float64 (crop, legacy resize, normalisation, net, mapping back):
  // the analytic derivative along a random direction against a central difference.
  SKIP_WITHOUT_WEIGHTS();
  auto net = load_landmark_net(weights_dir(), DType::F64);
  Generator g(4);
  const LandmarkCrop crop{0.1, 0.2, 0.75};
  Tensor img = pattern(160).to(DType::F64);
  img.set_requires_grad(true);
  Tensor r = randn({1, 68, 2}, g, DType::F64);
  auto loss = [&](const Tensor& x) { return sum(mul(landmarks_on_image(*net, x, crop), r)); };
  loss(img).backward();
  std::vector<double> grad = img.grad().to_vector<double>();
  double gmax = 0;
  for (double v : grad) gmax = std::max(gmax, std::fabs(v));
  EXPECT_GT(gmax, 0.0);
  // Pixels outside the crop get exactly zero.
  EXPECT_EQ(grad[0], 0.0);              // (0, 0) is left of and above the crop
  EXPECT_EQ(grad[160 * 160 - 1], 0.0);  // (159, 159) is right of and below it
  autograd::NoGradGuard no_grad;
  for (int k = 0; k < 3; ++k) {
    Tensor dir = randn(img.shape(), g, DType::F64);
    std::vector<double> dv = dir.to_vector<double>();
    double analytic = 0;
    for (size_t i = 0; i < dv.size(); ++i) analytic += grad[i] * dv[i];
    const double h = 1e-7;  // small: a longer step would cross ReLU kinks
    const double numeric = (loss(add(img.detach(), mul_scalar(dir, h))).item() -
                            loss(add(img.detach(), mul_scalar(dir, -h))).item()) /
                           (2 * h);
    EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::fabs(numeric)) << "direction " << k;
  }
}

}  // namespace
}  // namespace maskoff::models
