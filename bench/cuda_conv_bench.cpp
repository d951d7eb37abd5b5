// cuDNN convolutions at every convolution shape of pix2pix at batch 1: the U-Net-256 encoder
// (4x4 stride 2 pad 1), its decoder's transposed convolutions and the 70x70 PatchGAN, plus
// two depthwise layers like the landmark network's; forward, backward-data and
// backward-filter each, in strict FP32 and in TF32. Timed with CUDA events; FLOP/s (2 * N *
// Cout * Hout * Wout * Cin/groups * kh * kw per pass) beside the floor FLOPs / measured SGEMM
// throughput (of_floor = floor / time).
//
//   ./cuda_conv_bench [--benchmark_filter=enc] [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_main.h"
#include "bench/conv_layers.h"
#include "bench/cuda_bench_util.h"
#include "layers/cpu/conv.h"
#include "tensor/backend.h"

#ifdef MASKOFF_WITH_CUDA
#include "cuda/conv.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#endif

namespace maskoff::bench {
namespace {

using cpu::ConvGeom;

void bm_conv(benchmark::State& st, const Layer& l, Pass pass, bool tf32) {
#ifdef MASKOFF_WITH_CUDA
  if (!bench::have_gpu(st)) return;
  const bool prev = backend::tf32();
  backend::set_tf32(tf32);
  const ConvGeom g = geom(l);
  Generator gen(1);
  const Device gpu = Device::cuda();
  Tensor x = randn({g.n, g.cin, g.h, g.w}, gen).to(gpu);
  Tensor y = randn({g.n, g.cout, g.oh, g.ow}, gen).to(gpu);
  Tensor w = randn({g.cout, g.k_g()}, gen, DType::F32, Device::cpu(), 0.0, 0.05).to(gpu);
  Tensor dw = empty(w.shape(), DType::F32, gpu);
  float *xp = x.data<float>(), *yp = y.data<float>(), *wp = w.data<float>();
  float* dwp = dw.data<float>();
  // A transposed layer's forward is its underlying convolution's backward-data, and its
  // backward-data that convolution's forward.
  const bool run_fwd = pass != Pass::kBackwardWeight && (pass == Pass::kForward) != l.transposed;
  auto fn = [&] {
    if (pass == Pass::kBackwardWeight)
      cuda::conv2d_backward_filter(g, xp, yp, dwp);
    else if (run_fwd)
      cuda::conv2d_forward(g, xp, wp, nullptr, yp);
    else
      cuda::conv2d_backward_data(g, wp, yp, xp);
  };
  const double flops = 2.0 * g.n * g.cout * g.out_plane() * g.k_g();
  bench::run(st, fn, 0, flops, tf32);
  backend::set_tf32(prev);
#else
  (void)l;
  (void)pass;
  (void)tf32;
  st.SkipWithError("this build of maskoff has no CUDA support");
#endif
}

}  // namespace
}  // namespace maskoff::bench

int main(int argc, char** argv) {
  using namespace maskoff::bench;
  for (bool tf32 : {false, true}) {
    for (const Layer& l : kLayers) {
      for (const auto& p : kPasses) {
        std::string name = std::string("BM_Cuda") + (l.transposed ? "ConvTranspose2d" : "Conv2d") +
                           p.name + (tf32 ? "TF32/" : "/") + l.name;
        const Layer* lp = &l;
        const Pass pass = p.pass;
        benchmark::RegisterBenchmark(
            name.c_str(), [lp, pass, tf32](benchmark::State& st) { bm_conv(st, *lp, pass, tf32); })
            ->UseManualTime()
            ->MinTime(0.05)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return run_registered_benchmarks(argc, argv);
}
