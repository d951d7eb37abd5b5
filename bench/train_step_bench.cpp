// Time per pix2pix training step (G forward, D update, G update with both Adam steps) at
// 64, 128 and 256 pixels, batch 1, ngf = ndf = 64, as train_pix2pix runs it. Two
// objectives: GAN + L1 + masked MSE (the paper's pixel terms), and the same plus the
// differentiable landmark network (when its weights are found; skipped otherwise).
// Inputs are random: a step's cost does not depend on the pixel values. Counters: the
// U-Net's multiply-adds per step (forward + two backward passes ~ 3x forward) are not
// reported, as the conv benchmarks give per-layer FLOP/s; this is the end-to-end number.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "tensor/random.h"
#include "train/pix2pix.h"

namespace maskoff::train {
namespace {

PairedBatch random_batch(int64_t r, Generator& g) {
  PairedBatch b;
  b.input = rand({1, 3, r, r}, g, DType::F32, Device::cpu(), -1, 1);
  b.target = rand({1, 3, r, r}, g, DType::F32, Device::cpu(), -1, 1);
  Tensor m = zeros({1, 1, r, r});
  float* mp = m.data<float>();
  for (int64_t y = r / 2; y < r * 7 / 8; ++y)
    for (int64_t x = r / 4; x < r * 3 / 4; ++x) mp[y * r + x] = 1;
  b.mask = m;
  b.landmarks = rand({1, 68, 2}, g, DType::F32, Device::cpu(), 0.2, 0.8);
  return b;
}

void BM_TrainStepCpu(benchmark::State& st) {
  TrainOptions o;
  o.resolution = st.range(0);
  o.device = "cpu";
  // mask 0: the paper's plain generator (the step bench/reference/ times in PyTorch);
  // mask 1: the mask-aware generator, train_pix2pix's default.
  o.predict_mask = st.range(2) != 0;
  const bool landmarks = st.range(1) != 0;
  if (landmarks) {
    const std::string w = default_landmark_weights();
    if (w.empty() || !std::filesystem::exists(w)) {
      st.SkipWithError("landmark network weights not found (set MASKOFF_SHARED)");
      return;
    }
    o.landmark_loss = "cnn";
  } else {
    o.landmark_loss = "none";
  }
  Pix2Pix model(o, Device::cpu());
  Generator g(5);
  const PairedBatch b = random_batch(o.resolution, g);
  model.train_step(b);  // first step allocates the optimiser's buffers
  for (auto _ : st) benchmark::DoNotOptimize(model.train_step(b).g_total);
  st.counters["images/s"] =
      benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
  st.SetLabel(std::string(landmarks ? "GAN+L1+mask+landmark(cnn)" : "GAN+L1+mask") +
              (o.predict_mask ? "+seg, composite" : ""));
}
BENCHMARK(BM_TrainStepCpu)
    ->ArgNames({"res", "landmark", "mask"})
    ->Args({64, 0, 0})
    ->Args({64, 0, 1})
    ->Args({64, 1, 0})
    ->Args({128, 0, 0})
    ->Args({128, 1, 0})
    ->Args({256, 0, 0})
    ->Args({256, 0, 1})
    ->Args({256, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace maskoff::train

BENCHMARK_MAIN();
