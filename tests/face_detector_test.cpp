// The face detector (models/face_detector.h): its structure and weight loading with their
// errors, the input layout, anchor-free decoding and NMS on hand-made head outputs, and
// gradients of its blocks and of the whole network in float64. The comparison with the
// reference detections, which needs a JPEG decoder, lives in
// tests/data/face_detector_reference_test.cpp. Tests that need the pretrained weights read
// them from $MASKOFF_SHARED/weights/face_detector_yunet (default: the shared folder beside
// the source tree) and skip when it is absent.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "layers/elementwise.h"
#include "layers/reduce.h"
#include "layers/upsample.h"
#include "models/face_detector.h"
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

std::string weights_dir() { return shared_weights_dir("face_detector_yunet"); }
#define SKIP_WITHOUT_WEIGHTS() MASKOFF_SKIP_WITHOUT_WEIGHTS(weights_dir(), "face detector")

// ---- structure and loading ------------------------------------------------------------------

TEST(FaceDetector, ParameterNamesAndShapes) {
  FaceDetectorNet net;
  // The weight README's counts: 53 convolutions, 53,104 parameters.
  EXPECT_EQ(net.named_parameters().size(), 106u);
  EXPECT_EQ(net.num_parameters(), 53104);
  EXPECT_EQ(net.parameter("backbone.model0.conv.weight").shape(), (Shape{16, 3, 3, 3}));
  EXPECT_EQ(net.parameter("backbone.model0.dp.pw.weight").shape(), (Shape{16, 16, 1, 1}));
  EXPECT_EQ(net.parameter("backbone.model1.dp2.pw.weight").shape(), (Shape{32, 16, 1, 1}));
  EXPECT_EQ(net.parameter("backbone.model2.dp2.dw.weight").shape(), (Shape{64, 1, 3, 3}));
  EXPECT_EQ(net.parameter("backbone.model5.dp2.dw.bias").shape(), (Shape{64}));
  EXPECT_EQ(net.parameter("neck.lateral_convs.1.pw.weight").shape(), (Shape{64, 64, 1, 1}));
  EXPECT_EQ(net.parameter("bbox_head.multi_level_kps.2.pw.weight").shape(), (Shape{10, 64, 1, 1}));
  EXPECT_EQ(net.parameter("bbox_head.multi_level_kps.2.dw.weight").shape(), (Shape{10, 1, 3, 3}));
  EXPECT_EQ(net.parameter("bbox_head.multi_level_cls.0.dw.bias").shape(), (Shape{1}));
}

TEST(FaceDetector, LoadsEveryWeightFileFrozen) {
  SKIP_WITHOUT_WEIGHTS();
  auto net = load_face_detector(weights_dir());
  expect_frozen_parameter_per_npy_file(*net, weights_dir());
  Tensor w = read_npy(weights_dir() + "/bbox_head.multi_level_bbox.1.pw.weight.npy");
  EXPECT_EQ(net->heads[1][2]->pw->weight.to_vector<float>(), w.to_vector<float>());
  // Frozen weights record no graph for a constant input.
  Tensor y = net->forward(full({1, 3, 64, 32}, 100.0));
  EXPECT_EQ(y.shape(), (Shape{1, 16, 8 * 4 + 4 * 2 + 2 * 1}));
  EXPECT_FALSE(y.requires_grad());
}

TEST(FaceDetector, MissingFolderAndFiles) {
  TempDir dir;
  expect_weight_folder_errors([](const std::string& d) { load_face_detector(d); },
                              FaceDetectorNet(), dir, "neck.lateral_convs.2.dw.weight",
                              "bbox_head.multi_level_obj.0.pw.weight", {1, 32, 1, 1});
}

TEST(FaceDetector, InputMustBePaddedToMultiplesOf32) {
  FaceDetectorNet net;
  std::string msg = error_of([&] { net.forward(zeros({1, 3, 48, 64})); });
  EXPECT_NE(msg.find("[1, 3, 48, 64]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("multiples of 32"), std::string::npos) << msg;
  EXPECT_THROW(net.forward(zeros({1, 1, 32, 32})), Error);
  // Zero weights: every raw output is 0, one column per cell of the three levels.
  Tensor y = net.forward(zeros({2, 3, 64, 96}));
  EXPECT_EQ(y.shape(), (Shape{2, 16, 8 * 12 + 4 * 6 + 2 * 3}));
  for (double v : y.to_vector<double>()) ASSERT_EQ(v, 0.0);
}

TEST(FaceDetector, InputIsBgrZeroPaddedBottomRight) {
  // A 3x2 RGB image: pixel (x, y) = (10 x + y, 100 + ..., 200 + ...).
  std::vector<uint8_t> rgb;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) rgb.push_back(static_cast<uint8_t>(100 * c + 10 * x + y));
  Tensor t = face_detector_input(rgb.data(), 3, 2);
  EXPECT_EQ(t.shape(), (Shape{1, 3, 32, 32}));
  const std::vector<float> v = t.to_vector<float>();
  auto at = [&](int c, int y, int x) { return v[static_cast<size_t>((c * 32 + y) * 32 + x)]; };
  EXPECT_EQ(at(0, 1, 2), 200 + 21);  // B
  EXPECT_EQ(at(1, 1, 2), 100 + 21);  // G
  EXPECT_EQ(at(2, 1, 2), 21);        // R
  EXPECT_EQ(at(0, 0, 0), 200);
  EXPECT_EQ(at(0, 0, 3), 0);
  EXPECT_EQ(at(2, 2, 0), 0);
  double sum = 0;
  for (float f : v) sum += f;
  double want = 0;
  for (uint8_t b : rgb) want += b;
  EXPECT_EQ(sum, want);                       // nothing but the image and zeros
  const std::vector<uint8_t> row(33 * 3, 7);  // one row 33 wide: padded to 64
  EXPECT_EQ(face_detector_input(row.data(), 33, 1).shape(), (Shape{1, 3, 32, 64}));
  EXPECT_THROW(face_detector_input(rgb.data(), 0, 2), Error);
}

// ---- decoding and NMS --------------------------------------------------------------------

// Raw outputs for a 32x32 input: 16 + 4 + 1 = 21 cells, every score near 0.
struct Raw {
  static constexpr int64_t kCells = 21;
  std::vector<float> v = std::vector<float>(16 * kCells, 0.f);
  Raw() {
    for (int64_t i = 0; i < kCells; ++i) v[i] = v[kCells + i] = -30.f;
  }
  float& at(int k, int64_t cell) { return v[static_cast<size_t>(k * kCells + cell)]; }
};

TEST(FaceDetectorDecode, BoxLandmarksAndScoreOfOneCell) {
  Raw raw;
  // Stride 8, row 1, column 2: anchor (16, 8).
  const int64_t cell = 1 * 4 + 2;
  raw.at(0, cell) = 0.f;  // sigmoid 0.5
  raw.at(1, cell) = 0.f;  // score sqrt(0.25) = 0.5, not the product 0.25
  raw.at(2, cell) = 0.5f;
  raw.at(3, cell) = -0.25f;
  raw.at(4, cell) = std::log(2.f);
  raw.at(5, cell) = 0.f;
  for (int j = 0; j < 5; ++j)
    raw.at(6 + 2 * j, cell) = float(j), raw.at(7 + 2 * j, cell) = -float(j);
  const auto d = decode_face_cells(raw.v.data(), 32, 32);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FLOAT_EQ(d[0].score, 0.5f);
  // Centre (0.5 * 8 + 16, -0.25 * 8 + 8) = (20, 6), size (2 * 8, 1 * 8).
  EXPECT_FLOAT_EQ(d[0].x1, 12);
  EXPECT_FLOAT_EQ(d[0].y1, 2);
  EXPECT_FLOAT_EQ(d[0].x2, 28);
  EXPECT_FLOAT_EQ(d[0].y2, 10);
  for (int j = 0; j < 5; ++j) {
    EXPECT_FLOAT_EQ(d[0].landmarks[2 * j], 16 + 8.f * j);
    EXPECT_FLOAT_EQ(d[0].landmarks[2 * j + 1], 8 - 8.f * j);
  }
}

TEST(FaceDetectorDecode, ThresholdOrderClampAndTopK) {
  Raw raw;
  const float logit19 = std::log(0.19f / 0.81f), logit3 = std::log(0.3f / 0.7f);
  raw.at(0, 0) = raw.at(1, 0) = logit19;  // 0.19: below the threshold
  raw.at(0, 3) = raw.at(1, 3) = logit3;   // 0.3, twice: ties keep the cell order
  raw.at(0, 17) = raw.at(1, 17) = logit3;
  raw.at(0, 20) = 1000.f;  // the stride-32 cell, clamped logits: score 1
  raw.at(1, 20) = 1000.f;
  raw.at(2, 20) = 0.25f;
  auto d = decode_face_cells(raw.v.data(), 32, 32);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_FLOAT_EQ(d[0].score, 1.f);
  EXPECT_FLOAT_EQ((d[0].x1 + d[0].x2) / 2, 0.25f * 32);
  EXPECT_NEAR(d[1].score, 0.3f, 1e-6);
  EXPECT_FLOAT_EQ(d[1].x1, 3 * 8 - 4);  // cell 3: stride 8, column 3; size exp(0) * 8
  EXPECT_FLOAT_EQ(d[2].x1, 16 - 8);     // cell 17: stride 16, row 0, column 1
  FaceDetectorOptions opt;
  opt.top_k = 2;
  EXPECT_EQ(decode_face_cells(raw.v.data(), 32, 32, opt).size(), 2u);
  opt = {};
  opt.score_threshold = 0.1f;
  EXPECT_EQ(decode_face_cells(raw.v.data(), 32, 32, opt).size(), 4u);
  EXPECT_THROW(decode_face_cells(raw.v.data(), 30, 32), Error);
}

FaceDetection box(float x1, float y1, float x2, float y2, float score) {
  FaceDetection d;
  d.x1 = x1, d.y1 = y1, d.x2 = x2, d.y2 = y2, d.score = score;
  return d;
}

TEST(FaceDetectorDecode, IouAndGreedySuppression) {
  EXPECT_FLOAT_EQ(box_iou(box(0, 0, 10, 10, 1), box(1, 0, 11, 10, 1)), 90.f / 110.f);
  EXPECT_EQ(box_iou(box(0, 0, 10, 10, 1), box(10, 0, 20, 10, 1)), 0.f);  // touching: no overlap
  EXPECT_EQ(box_iou(box(0, 0, 10, 10, 1), box(30, 30, 40, 40, 1)), 0.f);
  const std::vector<FaceDetection> sorted = {
      box(0, 0, 10, 10, 0.9f),    // kept
      box(1, 0, 11, 10, 0.8f),    // IoU 0.82 with the first: suppressed
      box(20, 20, 30, 30, 0.7f),  // apart: kept
      box(5, 0, 15, 10, 0.6f),    // IoU 1/3 with the first: kept
      box(6, 0, 16, 10, 0.5f),    // IoU 0.82 with the one before: suppressed
  };
  auto kept = suppress_overlaps(sorted);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].score, 0.9f);
  EXPECT_EQ(kept[1].score, 0.7f);
  EXPECT_EQ(kept[2].score, 0.6f);
  FaceDetectorOptions opt;
  opt.keep_top_k = 2;
  EXPECT_EQ(suppress_overlaps(sorted, opt).size(), 2u);
  opt = {};
  opt.nms_iou = 0.9f;  // a looser threshold keeps the 0.82 overlap
  EXPECT_EQ(suppress_overlaps(sorted, opt).size(), 5u);
}

TEST(FaceDetector, RunsEndToEndOnAnImage) {
  // With zero weights every cell scores sqrt(0.5 * 0.5) = 0.5 with a stride-wide square box
  // centred on its anchor. Boxes of one level only touch, and a coarser level's box overlaps a
  // finer one's by an IoU of 1/4 at most, so NMS keeps every cell.
  FaceDetector det(std::make_shared<FaceDetectorNet>(), Device::cpu());
  std::vector<uint8_t> rgb(40 * 20 * 3, 128);
  const auto faces = det.run(rgb.data(), 40, 20);
  // The padded input is 64 wide and 32 high: 8 * 4 + 4 * 2 + 2 * 1 = 42 cells.
  EXPECT_EQ(faces.size(), 42u);
  for (const FaceDetection& f : faces) EXPECT_FLOAT_EQ(f.score, 0.5f);
}

// ---- gradients ---------------------------------------------------------------------------

TEST(FaceDetectorGrad, DepthwiseBlocksWithAndWithoutRelu) {
  Generator g(5);
  for (bool relu : {true, false}) {
    DepthwiseBlock block(3, 4, relu, DType::F64);
    for (const Tensor& p : block.parameters()) init_normal_(p, g, 0.0, 0.5);
    Tensor x = leaf({2, 3, 5, 6}, g);
    std::vector<Tensor> wrt = block.parameters();
    wrt.push_back(x);
    EXPECT_TRUE(grad_check([&] { return block.forward(x); }, wrt)) << "relu " << relu;
  }
}

TEST(FaceDetectorGrad, NeckStepUpsamplesAndAdds) {
  Generator g(6);
  DepthwiseBlock block(2, 2, true, DType::F64);
  for (const Tensor& p : block.parameters()) init_normal_(p, g, 0.0, 0.5);
  Tensor coarse = leaf({1, 2, 3, 2}, g), fine = leaf({1, 2, 6, 4}, g);
  std::vector<Tensor> wrt = block.parameters();
  wrt.push_back(coarse);
  wrt.push_back(fine);
  EXPECT_TRUE(
      grad_check([&] { return block.forward(add(upsample_nearest2d(coarse, 2), fine)); }, wrt));
}

TEST(FaceDetectorGrad, WholeNetworkAlongRandomDirections) {
  // Every layer in float64 on a 64x64 input: the analytic derivative with respect to the
  // image along a random direction against a central difference. (Per-element checks
  // would cross ReLU and max-pool kinks somewhere in a network this size.)
  Generator g(7);
  FaceDetectorNet net(DType::F64);
  for (const auto& [name, p] : net.named_parameters()) {
    const double fan_in = static_cast<double>(p.numel()) / p.size(0);
    init_normal_(p, g, 0.0, name.find("bias") != std::string::npos ? 0.1 : 1.0 / std::sqrt(fan_in));
  }
  Tensor x = rand({1, 3, 64, 64}, g, DType::F64, Device::cpu(), 0.0, 2.0);
  x.set_requires_grad(true);
  Tensor r = randn({1, 16, 8 * 8 + 4 * 4 + 2 * 2}, g, DType::F64);
  auto loss = [&](const Tensor& in) { return sum(mul(net.forward(in), r)); };
  loss(x).backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  for (int trial = 0; trial < 3; ++trial) {
    Tensor dir = randn(x.shape(), g, DType::F64);
    const std::vector<double> dv = dir.to_vector<double>();
    double analytic = 0;
    for (size_t i = 0; i < dv.size(); ++i) analytic += grad[i] * dv[i];
    const double eps = 1e-6;
    autograd::NoGradGuard no_grad;
    const Tensor xd = x.detach();
    const double up = loss(add(xd, mul_scalar(dir, eps))).item();
    const double down = loss(add(xd, mul_scalar(dir, -eps))).item();
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 1e-5 * std::max(1.0, std::fabs(numeric))) << "trial " << trial;
  }
}

}  // namespace
}  // namespace maskoff::models
