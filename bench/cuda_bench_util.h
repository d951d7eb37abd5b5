// Shared pieces of the GPU benchmarks: CUDA-event timing of one call per iteration, and the
// napkin-math floors every result is held against, measured once at start-up on the device
// itself: device-to-device copy bandwidth (for memory-bound kernels: bytes / bandwidth) and
// cuBLAS SGEMM throughput (for convolutions: FLOPs / throughput).
//
// Counters per benchmark: bytes_per_second or FLOP/s (from the manual, event-measured time),
// floor_us (the floor for this call) and of_floor (floor / measured time: 1.0 = at the floor).
#pragma once
#ifdef MASKOFF_WITH_CUDA
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>

#include "cuda/blas.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/device_buffer.h"
#include "tensor/backend.h"

namespace maskoff::bench {

// Times fn() with events around it on the engine stream.
template <class F>
double time_ms(F&& fn) {
  cudaEvent_t start, stop;
  MASKOFF_CUDA_CHECK(cudaEventCreate(&start));
  MASKOFF_CUDA_CHECK(cudaEventCreate(&stop));
  MASKOFF_CUDA_CHECK(cudaEventRecord(start, cuda::stream()));
  fn();
  MASKOFF_CUDA_CHECK(cudaEventRecord(stop, cuda::stream()));
  MASKOFF_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  MASKOFF_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  MASKOFF_CUDA_CHECK(cudaEventDestroy(start));
  MASKOFF_CUDA_CHECK(cudaEventDestroy(stop));
  return ms;
}

struct Ceilings {
  double copy_bytes_per_s = 0;   // bytes read + written per second by cudaMemcpyAsync D2D
  double sgemm_flops_per_s = 0;  // strict float32 4096^3 GEMM
  double tf32_flops_per_s = 0;   // the same with TF32 tensor cores
};

// Best of several runs, measured on first use and printed once.
inline const Ceilings& ceilings() {
  static const Ceilings c = [] {
    Ceilings r;
    const size_t bytes = size_t{256} << 20;
    {
      cuda::DeviceBuffer a(bytes), b(bytes);
      MASKOFF_CUDA_CHECK(cudaMemsetAsync(a.as<char>(), 1, bytes, cuda::stream()));
      double best = 1e30;
      for (int i = 0; i < 10; ++i)
        best = std::min(
            best, time_ms([&] {
              MASKOFF_CUDA_CHECK(cudaMemcpyAsync(b.as<char>(), a.as<char>(), bytes,
                                                 cudaMemcpyDeviceToDevice, cuda::stream()));
            }));
      r.copy_bytes_per_s = 2.0 * static_cast<double>(bytes) / (best * 1e-3);
    }
    const int64_t n = 4096;
    cuda::DeviceBuffer a(n * n * 4), b(n * n * 4), c(n * n * 4);
    MASKOFF_CUDA_CHECK(cudaMemsetAsync(a.as<char>(), 0, n * n * 4, cuda::stream()));
    MASKOFF_CUDA_CHECK(cudaMemsetAsync(b.as<char>(), 0, n * n * 4, cuda::stream()));
    for (bool tf32 : {false, true}) {
      const bool prev = backend::tf32();
      backend::set_tf32(tf32);
      double best = 1e30;
      for (int i = 0; i < 6; ++i)
        best = std::min(best, time_ms([&] {
                          cuda::gemm(a.as<float>(), false, b.as<float>(), false, c.as<float>(), n,
                                     n, n);
                        }));
      backend::set_tf32(prev);
      (tf32 ? r.tf32_flops_per_s : r.sgemm_flops_per_s) = 2.0 * n * n * n / (best * 1e-3);
    }
    std::printf("%s\nfloors: D2D copy %.0f GB/s, SGEMM %.1f TFLOP/s (FP32), %.1f TFLOP/s (TF32)\n",
                backend::cuda_report().c_str(), r.copy_bytes_per_s / 1e9,
                r.sgemm_flops_per_s / 1e12, r.tf32_flops_per_s / 1e12);
    return r;
  }();
  return c;
}

// Runs fn once to warm up (first-call algorithm searches, allocator fills), then times one
// call per iteration. `bytes` (memory-bound kernels) or `flops` (convolutions) set the
// counters and the floor.
template <class F>
void run(benchmark::State& st, F&& fn, double bytes, double flops, bool tf32_floor = false) {
  fn();
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
  double total_ms = 0;
  for (auto _ : st) {
    const double ms = time_ms(fn);
    st.SetIterationTime(ms * 1e-3);
    total_ms += ms;
  }
  const double iters = static_cast<double>(std::max<int64_t>(1, st.iterations()));
  const double mean_s = total_ms * 1e-3 / iters;
  double floor_s = 0;
  if (bytes > 0) {
    st.SetBytesProcessed(static_cast<int64_t>(bytes) * st.iterations());
    floor_s = bytes / ceilings().copy_bytes_per_s;
  }
  if (flops > 0) {
    st.counters["FLOP/s"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
    floor_s = flops / (tf32_floor ? ceilings().tf32_flops_per_s : ceilings().sgemm_flops_per_s);
  }
  st.counters["floor_us"] = floor_s * 1e6;
  st.counters["of_floor"] = mean_s > 0 ? floor_s / mean_s : 0;
}

// False (and the benchmark marked skipped) when there is no GPU, or when the device is
// cudasim's: the simulation build runs kernels on the CPU, so their timings mean nothing.
inline bool have_gpu(benchmark::State& st) {
#ifdef MASKOFF_CUDA_SIM
  st.SkipWithError("simulation build: no timings (the CUDA tests are its correctness check)");
  return false;
#else
  if (backend::cuda_available()) return true;
  st.SkipWithError("no CUDA device");
  return false;
#endif
}

}  // namespace maskoff::bench
#endif
