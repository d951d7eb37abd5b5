// float32 CPU convolution kernels on every convolution of pix2pix at batch 1: the U-Net-256
// encoder (4x4 stride 2 pad 1), its decoder's transposed convolutions (4x4 stride 2 pad 1)
// and the 70x70 PatchGAN, plus two depthwise layers like the landmark network's. Forward,
// backward-data and backward-weight each, with GFLOP/s (2 * N * Cout * Hout * Wout *
// Cin/groups * kh * kw per pass) to hold against gemm_bench.
//
//   OMP_NUM_THREADS=2 ./conv_bench [--benchmark_filter=enc]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "bench/conv_layers.h"
#include "layers/cpu/conv.h"
#include "tensor/random.h"

namespace maskoff::bench {
namespace {

using cpu::ConvGeom;

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = rng_uniform(seed, i) - 0.5f;
  return v;
}

// One pass of the layer, run by the kernel that plays that role: a transposed layer's
// forward is its underlying convolution's backward-data, and its backward-data that
// convolution's forward.
void bm_conv(benchmark::State& state, const Layer& l, Pass pass) {
  const ConvGeom g = geom(l);
  std::vector<float> x = random_vector(g.n * g.cin * g.in_plane(), 1);
  std::vector<float> y = random_vector(g.n * g.cout * g.out_plane(), 2);
  std::vector<float> w = random_vector(g.cout * g.k_g(), 3), b = random_vector(g.cout, 4);
  std::vector<float> dw(w.size());
  enum { kFwd, kBwdData, kBwdWeight } kernel;
  if (pass == Pass::kBackwardWeight) {
    kernel = kBwdWeight;
  } else if ((pass == Pass::kForward) != l.transposed) {
    kernel = kFwd;
  } else {
    kernel = kBwdData;
  }
  auto run = [&] {
    switch (kernel) {
      case kFwd:
        cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
        break;
      case kBwdData:
        cpu::conv2d_backward_data(g, w.data(), y.data(), x.data());
        break;
      case kBwdWeight:
        cpu::conv2d_backward_weight(g, x.data(), y.data(), dw.data());
        break;
    }
  };
  // Warm-up: the first call page-faults the scratch buffers in, as a training run does once.
  run();
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * g.n * g.cout * g.out_plane() * g.k_g();
  state.counters["FLOP"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace
}  // namespace maskoff::bench

int main(int argc, char** argv) {
  using namespace maskoff::bench;
  for (const Layer& l : kLayers) {
    for (const auto& p : kPasses) {
      std::string name = std::string("BM_") + (l.transposed ? "ConvTranspose2d" : "Conv2d") +
                         p.name + "/" + l.name;
      const Layer* lp = &l;
      const Pass pass = p.pass;
      register_wall_clock(
          name, [lp, pass](benchmark::State& st) { bm_conv(st, *lp, pass); }, 0.1,
          benchmark::kMillisecond);
    }
  }
  return run_registered_benchmarks(argc, argv);
}
