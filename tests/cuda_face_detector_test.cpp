// CPU-vs-CUDA comparison of the face detector: the whole network forward and its input
// gradient (random weights, an image-like input that is no square), and FaceDetector::run's
// faces on both devices.
#include <cmath>

#include "models/face_detector.h"
#include "tests/cuda_harness.h"

namespace maskoff::models {
namespace {
using maskoff::testing::compare_with_cpu;
using maskoff::testing::fresh_seed;
using Inputs = std::vector<Tensor>;

// Random weights scaled by fan-in, so activations keep their size through the 53 layers.
std::shared_ptr<FaceDetectorNet> random_net(Generator& g) {
  auto net = std::make_shared<FaceDetectorNet>();
  for (const auto& [name, p] : net->named_parameters()) {
    const double fan_in = static_cast<double>(p.numel()) / p.size(0);
    init_normal_(p, g, 0.0, name.find("bias") != std::string::npos ? 0.1 : 1.0 / std::sqrt(fan_in));
    Tensor(p).set_requires_grad(false);
  }
  return net;
}

std::shared_ptr<FaceDetectorNet> copy_to_cuda(const FaceDetectorNet& src) {
  auto net = std::make_shared<FaceDetectorNet>();
  const auto from = src.named_parameters(), to = net->named_parameters();
  for (size_t i = 0; i < from.size(); ++i) {
    copy_(to[i].second, from[i].second);
    Tensor(to[i].second).set_requires_grad(false);
  }
  net->to_(Device::cuda());
  return net;
}

TEST(CudaFaceDetector, NetworkForwardAndInputGradient) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  auto cpu_net = random_net(g);
  auto gpu_net = copy_to_cuda(*cpu_net);
  // 96 x 64: three levels of 12 x 8, 6 x 4 and 3 x 2 cells; inputs on the image's scale.
  Tensor x = rand({1, 3, 64, 96}, g, DType::F32, Device::cpu(), 0.0, 255.0);
  x.set_requires_grad(true);
  // Values grow to a few hundred through the layers; the tolerance scales with them.
  const testing::Tol tol{1e-2, 1e-3};
  EXPECT_TRUE(compare_with_cpu(
      [&](const Inputs& v) { return (v[0].is_cuda() ? gpu_net : cpu_net)->forward(v[0]); }, {x},
      tol, seed));
}

TEST(CudaFaceDetector, SameFacesOnBothDevices) {
  // Zero weights but for the class heads' last biases, one per level: every cell of a level
  // gets the same score and a stride-wide box on its anchor, so the faces after NMS are
  // known exactly (ties keep the cell order) and must come out the same on both devices.
  MASKOFF_REQUIRE_CUDA();
  auto net = std::make_shared<FaceDetectorNet>();
  const float bias[3] = {-1.f, 0.5f, 2.f};
  for (int l = 0; l < 3; ++l) fill_(net->heads[l][0]->dw->bias, bias[l]);
  FaceDetector cpu(net, Device::cpu()), gpu(copy_to_cuda(*net), Device::cuda());
  const int w = 70, h = 45;  // padded to 96 x 64
  std::vector<uint8_t> rgb(static_cast<size_t>(w * h * 3), 90);
  const auto want = cpu.run(rgb.data(), w, h), got = gpu.run(rgb.data(), w, h);
  ASSERT_EQ(want.size(), 12u * 8 + 6 * 4 + 3 * 2);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].score, want[i].score) << i;
    EXPECT_EQ(got[i].x1, want[i].x1) << i;
    EXPECT_EQ(got[i].y2, want[i].y2) << i;
    EXPECT_EQ(got[i].landmarks, want[i].landmarks) << i;
  }
  // Best level first: stride 32 (bias 2), then 16, then 8.
  EXPECT_EQ(want.front().width(), 32.f);
  EXPECT_EQ(want.back().width(), 8.f);
}

}  // namespace
}  // namespace maskoff::models
