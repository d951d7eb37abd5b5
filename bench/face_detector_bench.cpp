// The face detector (models/face_detector.h) on the CPU at batch 1: the whole photo, from
// 8-bit RGB to the faces after NMS, at 640x480 and 1280x960, and its costliest layers alone
// (the 3x3 stride-2 stem, 1x1 pointwise and 3x3 depthwise convolutions at the shapes a
// 640x480 photo gives them), with GFLOP/s. The weights are the real ones when the shared
// folder holds them, random otherwise (the time does not depend on them).
//
//   OMP_NUM_THREADS=2 ./face_detector_bench [--benchmark_filter=Photo]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "layers/cpu/conv.h"
#include "layers/module.h"
#include "models/face_detector.h"
#include "tensor/random.h"

namespace {

using maskoff::cpu::ConvGeom;
namespace models = maskoff::models;

std::string weights_dir() {
  const char* env = std::getenv("MASKOFF_SHARED");
  const std::string shared = env && *env ? env : "../shared";
  return shared + "/weights/face_detector_yunet";
}

std::shared_ptr<models::FaceDetectorNet> make_net() {
  if (std::filesystem::is_directory(weights_dir()))
    return models::load_face_detector(weights_dir());
  auto net = std::make_shared<models::FaceDetectorNet>();
  maskoff::Generator g(1);
  for (const maskoff::Tensor& p : net->parameters()) maskoff::init_uniform_(p, g, -0.2, 0.2);
  return net;
}

// A photo-like image: smooth gradients plus noise, so no cell's score is special.
std::vector<uint8_t> photo(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const size_t i = (static_cast<size_t>(y) * w + x) * 3 + c;
        rgb[i] = static_cast<uint8_t>((x * (c + 1) + y * 2 + maskoff::rng_bits(7, i) % 32) % 256);
      }
  return rgb;
}

void BM_Photo(benchmark::State& st) {
  const int w = static_cast<int>(st.range(0)), h = static_cast<int>(st.range(1));
  const std::vector<uint8_t> rgb = photo(w, h);
  models::FaceDetector det(make_net(), maskoff::Device::cpu());
  auto run = [&] { return det.run(rgb.data(), w, h).size(); };
  run();  // warm-up: first-touch page faults of the activations
  for (auto _ : st) benchmark::DoNotOptimize(run());
  st.counters["photos"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = maskoff::rng_uniform(seed, i) - 0.5f;
  return v;
}

struct Layer {
  const char* name;
  int64_t cin, cout, h, w, k, stride, groups;
};
// At 640x480: the stem, the first DP block's two convolutions (240x320), the widest
// pointwise one (model2.dp2 at 120x160) and a 64-channel DP block at stride 8 (60x80).
const Layer kLayers[] = {
    {"stem_3to16_s2_480x640", 3, 16, 480, 640, 3, 2, 1},
    {"pw_16to16_240x320", 16, 16, 240, 320, 1, 1, 1},
    {"dw_16ch_240x320", 16, 16, 240, 320, 3, 1, 16},
    {"pw_32to64_120x160", 32, 64, 120, 160, 1, 1, 1},
    {"dw_64ch_120x160", 64, 64, 120, 160, 3, 1, 64},
    {"pw_64to64_60x80", 64, 64, 60, 80, 1, 1, 1},
    {"dw_64ch_60x80", 64, 64, 60, 80, 3, 1, 64},
};

void BM_Layer(benchmark::State& st, const Layer& l) {
  const int64_t pad = l.k / 2;
  const ConvGeom g = maskoff::cpu::conv2d_geom(1, l.cin, l.h, l.w, l.cout, l.k, l.k, l.stride,
                                               l.stride, pad, pad, pad, pad, l.groups);
  std::vector<float> x = random_vector(g.cin * g.in_plane(), 1);
  std::vector<float> y(static_cast<size_t>(g.cout * g.out_plane()));
  std::vector<float> w = random_vector(g.cout * g.k_g(), 2), b = random_vector(g.cout, 3);
  maskoff::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
  for (auto _ : st) {
    maskoff::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * g.cout * g.out_plane() * g.k_g();
  st.counters["FLOP"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("BM_Photo", BM_Photo)
      ->Args({640, 480})
      ->Args({1280, 960})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (const Layer& l : kLayers) {
    const Layer* lp = &l;
    maskoff::bench::register_wall_clock(
        std::string("BM_Conv2dForward/") + l.name,
        [lp](benchmark::State& st) { BM_Layer(st, *lp); }, 0.1, benchmark::kMicrosecond);
  }
  return maskoff::bench::run_registered_benchmarks(argc, argv);
}
