// What the batch-norm kernels pay for their indexing, measured on the CPU. A CUDA thread of
// bn_train_kernel strides over one channel's N*H*W values and turns the j-th into its NCHW
// index with cpu::BatchNormDims::at: a 64-bit division and a modulo per element. The CPU
// kernel walks the images, then the plane, with no division. Both variants here sum one
// channel's values and squares in double, as the kernels do, one channel after another on
// one thread, so the difference between them is the cost of the index.
//
//   OMP_NUM_THREADS=1 ./build/norm_bench
#include <benchmark/benchmark.h>

#include <vector>

#include "layers/cpu/norm.h"
#include "tensor/random.h"

namespace maskoff {
namespace {

struct Data {
  cpu::BatchNormDims d;
  std::vector<float> x;
};

// Args: N, C, H (= W).
Data make_data(const benchmark::State& st) {
  const int64_t n = st.range(0), c = st.range(1), hw = st.range(2) * st.range(2);
  Data data{{n, c, hw}, std::vector<float>(static_cast<size_t>(n * c * hw))};
  for (size_t i = 0; i < data.x.size(); ++i)
    data.x[i] = rng_uniform(1, static_cast<uint64_t>(i)) - 0.5f;
  return data;
}

// Times visit(x, d, c, add) channel after channel, where visit calls add(value) for each of
// channel c's values; add accumulates the sum and the sum of squares in double.
template <class Visit>
void channel_sums(benchmark::State& st, Visit visit) {
  const Data data = make_data(st);
  for (auto _ : st) {
    for (int64_t c = 0; c < data.d.c; ++c) {
      double s1 = 0, s2 = 0;
      visit(data.x.data(), data.d, c, [&](double u) {
        s1 += u;
        s2 += u * u;
      });
      benchmark::DoNotOptimize(s1);
      benchmark::DoNotOptimize(s2);
    }
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(data.x.size()));
  st.counters["per_channel"] = static_cast<double>(data.d.per_channel());
}

// j = 0 .. N*H*W - 1 through at(c, j), as a CUDA thread indexes.
void BM_ChannelSumsByIndex(benchmark::State& st) {
  channel_sums(st, [](const float* x, const cpu::BatchNormDims& d, int64_t c, auto add) {
    for (int64_t j = 0; j < d.per_channel(); ++j) add(x[d.at(c, j)]);
  });
}

// A loop over the images, then over the plane, as the CPU kernel walks.
void BM_ChannelSumsByLoops(benchmark::State& st) {
  channel_sums(st, [](const float* x, const cpu::BatchNormDims& d, int64_t c, auto add) {
    for (int64_t n = 0; n < d.n; ++n) {
      const float* xp = x + (n * d.c + c) * d.hw;
      for (int64_t i = 0; i < d.hw; ++i) add(xp[i]);
    }
  });
}

// The U-Net's batch norms at batch 1 and 16: after enc2 (128 channels of 64x64) and in the
// bottleneck (512 channels of 2x2, where the planes are shortest).
#define NORM_SHAPES(b) \
  b->Args({1, 128, 64})->Args({16, 128, 64})->Args({1, 512, 2})->Args({16, 512, 2})
NORM_SHAPES(BENCHMARK(BM_ChannelSumsByIndex));
NORM_SHAPES(BENCHMARK(BM_ChannelSumsByLoops));

}  // namespace
}  // namespace maskoff

BENCHMARK_MAIN();
