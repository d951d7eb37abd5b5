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

#include "layers/cpu/conv.h"
#include "tensor/random.h"

namespace {

using maskoff::cpu::ConvGeom;

struct Layer {
  const char* name;
  bool transposed;
  int64_t cin, cout, size, stride, pad;     // size: the layer's input height = width
  int64_t k = 4, pad_end = -1, groups = 1;  // pad_end: bottom/right padding when it differs
};

// Encoder and PatchGAN layers are convolutions, decoder layers transposed convolutions.
const Layer kLayers[] = {
    {"enc1_3to64_256px", false, 3, 64, 256, 2, 1},
    {"enc2_64to128_128px", false, 64, 128, 128, 2, 1},
    {"enc3_128to256_64px", false, 128, 256, 64, 2, 1},
    {"enc4_256to512_32px", false, 256, 512, 32, 2, 1},
    {"enc5_512to512_16px", false, 512, 512, 16, 2, 1},
    {"enc6_512to512_8px", false, 512, 512, 8, 2, 1},
    {"enc7_512to512_4px", false, 512, 512, 4, 2, 1},
    {"enc8_512to512_2px", false, 512, 512, 2, 2, 1},
    {"dec1_512to512_1px", true, 512, 512, 1, 2, 1},
    {"dec2_1024to512_2px", true, 1024, 512, 2, 2, 1},
    {"dec3_1024to512_4px", true, 1024, 512, 4, 2, 1},
    {"dec4_1024to512_8px", true, 1024, 512, 8, 2, 1},
    {"dec5_1024to256_16px", true, 1024, 256, 16, 2, 1},
    {"dec6_512to128_32px", true, 512, 128, 32, 2, 1},
    {"dec7_256to64_64px", true, 256, 64, 64, 2, 1},
    {"dec8_128to3_128px", true, 128, 3, 128, 2, 1},
    {"patch1_6to64_256px", false, 6, 64, 256, 2, 1},
    {"patch2_64to128_128px", false, 64, 128, 128, 2, 1},
    {"patch3_128to256_64px", false, 128, 256, 64, 2, 1},
    {"patch4_256to512_32px", false, 256, 512, 32, 1, 1},
    {"patch5_512to1_31px", false, 512, 1, 31, 1, 1},
    // Depthwise 3x3 with TF-'same' padding, as in the face-landmark network (direct loops).
    {"dw3x3s1_128ch_64px", false, 128, 128, 64, 1, 1, 3, 1, 128},
    {"dw3x3s2_128ch_64px", false, 128, 128, 64, 2, 0, 3, 1, 128},
};

// The underlying convolution of the layer (for a transposed layer, the one it is the adjoint of).
ConvGeom geom(const Layer& l) {
  if (l.transposed)
    return maskoff::cpu::conv_transpose2d_geom(1, l.cin, l.size, l.size, l.cout, l.k, l.k, l.stride,
                                               l.pad, 0, l.groups);
  const int64_t end = l.pad_end < 0 ? l.pad : l.pad_end;
  return maskoff::cpu::conv2d_geom(1, l.cin, l.size, l.size, l.cout, l.k, l.k, l.stride, l.stride,
                                   l.pad, end, l.pad, end, l.groups);
}

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = maskoff::rng_uniform(seed, i) - 0.5f;
  return v;
}

enum class Pass { kForward, kBackwardData, kBackwardWeight };

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
        maskoff::cpu::conv2d_forward(g, x.data(), w.data(), b.data(), y.data());
        break;
      case kBwdData:
        maskoff::cpu::conv2d_backward_data(g, w.data(), y.data(), x.data());
        break;
      case kBwdWeight:
        maskoff::cpu::conv2d_backward_weight(g, x.data(), y.data(), dw.data());
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

int main(int argc, char** argv) {
  const struct {
    Pass pass;
    const char* name;
  } passes[] = {{Pass::kForward, "Forward"},
                {Pass::kBackwardData, "BackwardData"},
                {Pass::kBackwardWeight, "BackwardWeight"}};
  for (const Layer& l : kLayers) {
    for (const auto& p : passes) {
      std::string name = std::string("BM_") + (l.transposed ? "ConvTranspose2d" : "Conv2d") +
                         p.name + "/" + l.name;
      const Layer* lp = &l;
      const Pass pass = p.pass;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [lp, pass](benchmark::State& st) { bm_conv(st, *lp, pass); })
          ->UseRealTime()
          ->MinTime(0.1)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
