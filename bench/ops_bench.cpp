// Throughput of the CPU reference ops at U-Net-256 shapes: batch norm forward + backward,
// max/avg pooling, bilinear resize and channel concatenation; and the face detector's nearest
// 2x upsampling. Bytes counted are the tensors each op must read and write at least once (the
// napkin-math floor). Times are
// wall-clock (UseRealTime): the kernels run on several OpenMP threads.
#include <benchmark/benchmark.h>

#include "layers/norm.h"
#include "layers/pool.h"
#include "layers/resize.h"
#include "layers/shape_ops.h"
#include "layers/upsample.h"
#include "tensor/random.h"

namespace maskoff {
namespace {

Shape image(const benchmark::State& st) { return {1, st.range(0), st.range(1), st.range(1)}; }
void set_bytes(benchmark::State& st, int64_t floats) {
  st.SetBytesProcessed(st.iterations() * floats * static_cast<int64_t>(sizeof(float)));
}

// Forward reads x, writes y; backward reads x and dy, writes dx: 5 tensor passes.
void BM_BatchNormTrainFwdBwd(benchmark::State& st) {
  Generator g(1);
  Tensor x = randn(image(st), g).set_requires_grad(true);
  Tensor gamma = ones({st.range(0)}).set_requires_grad(true), beta = zeros({st.range(0)});
  beta.set_requires_grad(true);
  Tensor rm = zeros({st.range(0)}), rv = ones({st.range(0)});
  Tensor dy = randn(image(st), g);
  for (auto _ : st) {
    Tensor y = batch_norm2d(x, gamma, beta, rm, rv, true);
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
  set_bytes(st, 5 * x.numel());
}
BENCHMARK(BM_BatchNormTrainFwdBwd)
    ->Args({64, 128})
    ->Args({512, 16})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_MaxPool2x2(benchmark::State& st) {
  Generator g(2);
  Tensor x = randn(image(st), g);
  for (auto _ : st) benchmark::DoNotOptimize(max_pool2d(x, 2, 2).raw_data());
  set_bytes(st, x.numel() + x.numel() / 4);
}
BENCHMARK(BM_MaxPool2x2)->Args({64, 128})->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_AvgPool3x3Pad(benchmark::State& st) {
  Generator g(3);
  Tensor x = randn(image(st), g);
  for (auto _ : st) benchmark::DoNotOptimize(avg_pool2d(x, 3, 2, 1, false).raw_data());
  set_bytes(st, x.numel() + x.numel() / 4);
}
BENCHMARK(BM_AvgPool3x3Pad)->Args({64, 128})->Unit(benchmark::kMicrosecond)->UseRealTime();

// Image-sized resizes: 256 -> 128 (e.g. a loss at half resolution) and 128 -> 256.
void BM_ResizeBilinear(benchmark::State& st) {
  Generator g(4);
  Tensor x = randn(image(st), g);
  const int64_t out = st.range(2);
  for (auto _ : st) benchmark::DoNotOptimize(resize_bilinear(x, out, out).raw_data());
  set_bytes(st, x.numel() + st.range(0) * out * out);
}
BENCHMARK(BM_ResizeBilinear)
    ->Args({3, 256, 128})
    ->Args({3, 128, 256})
    ->Args({64, 64, 128})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// A U-Net skip connection: two [1, C, S, S] halves into [1, 2C, S, S].
void BM_ConcatChannels(benchmark::State& st) {
  Generator g(5);
  Tensor a = randn(image(st), g), b = randn(image(st), g);
  for (auto _ : st) benchmark::DoNotOptimize(concat_channels({a, b}).raw_data());
  set_bytes(st, 4 * a.numel());
}
BENCHMARK(BM_ConcatChannels)
    ->Args({64, 128})
    ->Args({512, 16})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The face detector's neck: a [1, 64, S, S] map doubled to 2S (reads x, writes 4x), and the
// backward's block sums (reads 4x, writes x).
void BM_UpsampleNearest2x(benchmark::State& st) {
  Generator g(6);
  Tensor x = randn(image(st), g);
  for (auto _ : st) benchmark::DoNotOptimize(upsample_nearest2d(x, 2).raw_data());
  set_bytes(st, 5 * x.numel());
}
BENCHMARK(BM_UpsampleNearest2x)
    ->Args({64, 30})
    ->Args({64, 60})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace maskoff

BENCHMARK_MAIN();
