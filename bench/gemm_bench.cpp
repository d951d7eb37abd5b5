// float32 Eigen GEMM on row-major maps, the way the convolution kernels call it: the
// ceiling the im2col convolutions can approach. Square sizes plus the shapes of the big
// U-Net layers (M = output channels, K = Cin*kh*kw, N = output pixels).
//
//   OMP_NUM_THREADS=2 ./gemm_bench
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "bench/bench_main.h"
#include "tensor/random.h"

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = maskoff::rng_uniform(seed, i) - 0.5f;
  return v;
}

void bm_gemm(benchmark::State& state, int64_t m, int64_t k, int64_t n) {
  std::vector<float> a = random_vector(m * k, 1), b = random_vector(k * n, 2), c(m * n);
  Eigen::Map<const RowMat> A(a.data(), m, k), B(b.data(), k, n);
  Eigen::Map<RowMat> C(c.data(), m, n);
  for (auto _ : state) {
    C.noalias() = A * B;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOP"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

struct Size {
  const char* name;
  int64_t m, k, n;
};

}  // namespace

int main(int argc, char** argv) {
  const Size sizes[] = {
      {"square_512", 512, 512, 512},
      {"square_1024", 1024, 1024, 1024},
      {"square_2048", 2048, 2048, 2048},
      {"enc1_fwd_64x48x16384", 64, 48, 16384},
      {"enc2_fwd_128x1024x4096", 128, 1024, 4096},
      {"enc4_fwd_512x4096x256", 512, 4096, 256},
      {"patch4_fwd_512x4096x961", 512, 4096, 961},
      {"enc2_bwd_data_1024x128x4096", 1024, 128, 4096},
      {"enc2_bwd_weight_128x4096x1024", 128, 4096, 1024},
  };
  for (const Size& s : sizes) {
    maskoff::bench::register_wall_clock(
        std::string("BM_Gemm/") + s.name, [s](benchmark::State& st) { bm_gemm(st, s.m, s.k, s.n); },
        0.2, benchmark::kMillisecond);
  }
  return maskoff::bench::run_registered_benchmarks(argc, argv);
}
