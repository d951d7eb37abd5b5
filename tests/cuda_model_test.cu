// The CUDA execution model, checked with small kernels of the tests' own: block barriers,
// shared memory, warp shuffles and votes, atomics, launch limits, stream and event order,
// graph capture, and device memory seen from the host. On a GPU these tests hold by CUDA's
// rules; in the simulation build (-DMASKOFF_CUDA=SIM) they show that cudasim keeps the
// same rules. The CudaSim tests at the end check what only the simulator promises: a clear
// report of a bug that a GPU would let pass silently, or hang on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/device_buffer.h"
#include "cuda/kernel_util.cuh"
#include "tests/cuda_harness.h"
#include "tests/test_util.h"

namespace maskoff {
namespace {

using cuda::DeviceBuffer;
using testing::error_of;

template <class T>
std::vector<T> to_host(const DeviceBuffer& d, size_t n) {
  std::vector<T> h(n);
  MASKOFF_CUDA_CHECK(
      cudaMemcpyAsync(h.data(), d.as<T>(), n * sizeof(T), cudaMemcpyDeviceToHost, cuda::stream()));
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
  return h;
}
template <class T>
void to_device(const DeviceBuffer& d, const std::vector<T>& h) {
  MASKOFF_CUDA_CHECK(cudaMemcpyAsync(d.as<T>(), h.data(), h.size() * sizeof(T),
                                     cudaMemcpyHostToDevice, cuda::stream()));
}
void sync() { MASKOFF_CUDA_CHECK(cudaStreamSynchronize(cuda::stream())); }

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- barriers and shared memory --------------------------------------------------------

// Each thread writes its slot, then reads its neighbour's: only a barrier makes that safe.
__global__ void neighbour_kernel(int* out) {
  __shared__ int slots[1024];
  const int n = static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
  const int t =
      static_cast<int>(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  slots[t] = 3 * t + static_cast<int>(blockIdx.x);
  __syncthreads();
  out[static_cast<int>(blockIdx.x) * n + t] = slots[(t + 1) % n];
}

TEST(CudaModel, BarrierMakesEveryThreadsSharedWriteVisible) {
  MASKOFF_REQUIRE_CUDA();
  const dim3 block(8, 4, 32);  // 1024 threads, the most a block may have, in three dimensions
  const int n = 1024, blocks = 3;
  DeviceBuffer out(sizeof(int) * n * blocks);
  MASKOFF_LAUNCH(neighbour_kernel, blocks, block, 0, out.as<int>());
  const std::vector<int> got = to_host<int>(out, n * blocks);
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < n; ++t) ASSERT_EQ(got[b * n + t], 3 * ((t + 1) % n) + b) << b << ", " << t;
}

__global__ void barrier_votes_kernel(const int* pred, int* out) {
  const int p = pred[threadIdx.x];
  const int count = __syncthreads_count(p);
  const int all = __syncthreads_and(p);
  const int any = __syncthreads_or(p);
  if (threadIdx.x == 0) out[0] = count, out[1] = all, out[2] = any;
}

TEST(CudaModel, BarrierCountsAndVotes) {
  MASKOFF_REQUIRE_CUDA();
  DeviceBuffer pred(sizeof(int) * 96), out(sizeof(int) * 3);
  std::vector<int> p(96);
  for (int i = 0; i < 96; ++i) p[i] = i % 5 == 0 ? 7 : 0;  // 20 of 96 true
  to_device(pred, p);
  MASKOFF_LAUNCH(barrier_votes_kernel, 1, 96, 0, pred.as<int>(), out.as<int>());
  EXPECT_EQ(to_host<int>(out, 3), (std::vector<int>{20, 0, 1}));
  to_device(pred, std::vector<int>(96, 1));
  MASKOFF_LAUNCH(barrier_votes_kernel, 1, 96, 0, pred.as<int>(), out.as<int>());
  EXPECT_EQ(to_host<int>(out, 3), (std::vector<int>{96, 1, 1}));
}

// Every block puts its index in the same __shared__ variable: each must read its own.
__global__ void own_block_kernel(int* out) {
  __shared__ int mine;
  if (threadIdx.x == 0) mine = static_cast<int>(blockIdx.x * 10 + blockIdx.y);
  __syncthreads();
  const int b = static_cast<int>(blockIdx.y * gridDim.x + blockIdx.x);
  out[b * static_cast<int>(blockDim.x) + static_cast<int>(threadIdx.x)] = mine;
}

TEST(CudaModel, SharedMemoryBelongsToOneBlock) {
  MASKOFF_REQUIRE_CUDA();
  const dim3 grid(7, 3);
  DeviceBuffer out(sizeof(int) * 21 * 64);
  MASKOFF_LAUNCH(own_block_kernel, grid, 64, 0, out.as<int>());
  const std::vector<int> got = to_host<int>(out, 21 * 64);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 7; ++x)
      for (int t = 0; t < 64; ++t) ASSERT_EQ(got[(y * 7 + x) * 64 + t], x * 10 + y);
}

__global__ void reverse_kernel(float* out, int n) {
  MASKOFF_DYNAMIC_SHARED(float, buf);
  for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x))
    buf[i] = 0.5f * static_cast<float>(i) + static_cast<float>(blockIdx.x);
  __syncthreads();
  for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x))
    out[static_cast<int>(blockIdx.x) * n + i] = buf[n - 1 - i];
}

TEST(CudaModel, DynamicSharedMemorySizedAtLaunch) {
  MASKOFF_REQUIRE_CUDA();
  const int n = 4096;  // 16 KiB
  DeviceBuffer out(sizeof(float) * n * 2);
  MASKOFF_LAUNCH(reverse_kernel, 2, 128, n * sizeof(float), out.as<float>(), n);
  const std::vector<float> got = to_host<float>(out, 2 * n);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[b * n + i], 0.5f * (n - 1 - i) + b);
}

// ---- warps ----------------------------------------------------------------------------

constexpr unsigned kFull = 0xffffffffu;

__global__ void shuffle_kernel(const int* in, int* out) {
  const int t = static_cast<int>(threadIdx.x), n = static_cast<int>(blockDim.x);
  const int v = in[t];
  out[0 * n + t] = __shfl_down_sync(kFull, v, 3);
  out[1 * n + t] = __shfl_up_sync(kFull, v, 5);
  out[2 * n + t] = __shfl_xor_sync(kFull, v, 9);
  out[3 * n + t] = __shfl_sync(kFull, v, 7);
  out[4 * n + t] = __shfl_down_sync(kFull, v, 2, 8);  // within groups of 8 lanes
  out[5 * n + t] = __shfl_sync(kFull, v, t + 3, 16);  // source lane taken modulo 16
  out[6 * n + t] = static_cast<int>(__ballot_sync(kFull, v & 1));
  out[7 * n + t] = __any_sync(kFull, v == 40) + 2 * __all_sync(kFull, v >= 0);
  const double d = __shfl_xor_sync(kFull, 0.25 * v, 1);  // 8-byte values move whole
  out[8 * n + t] = static_cast<int>(4 * d);
}

TEST(CudaModel, WarpShufflesAndVotesInLockstep) {
  MASKOFF_REQUIRE_CUDA();
  const int n = 64;  // two warps
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = (i * 37 + 11) % 101;
  DeviceBuffer din(sizeof(int) * n), dout(sizeof(int) * 9 * n);
  to_device(din, in);
  MASKOFF_LAUNCH(shuffle_kernel, 1, n, 0, din.as<int>(), dout.as<int>());
  const std::vector<int> got = to_host<int>(dout, 9 * n);
  for (int t = 0; t < n; ++t) {
    const int lane = t % 32, base = t - lane;
    auto at = [&](int l) { return in[base + l]; };
    EXPECT_EQ(got[0 * n + t], lane + 3 < 32 ? at(lane + 3) : at(lane)) << t;
    EXPECT_EQ(got[1 * n + t], lane >= 5 ? at(lane - 5) : at(lane)) << t;
    EXPECT_EQ(got[2 * n + t], at(lane ^ 9)) << t;
    EXPECT_EQ(got[3 * n + t], at(7)) << t;
    EXPECT_EQ(got[4 * n + t], lane % 8 + 2 < 8 ? at(lane + 2) : at(lane)) << t;
    EXPECT_EQ(got[5 * n + t], at(lane / 16 * 16 + (lane + 3) % 16)) << t;
    unsigned ballot = 0;
    bool any = false;
    for (int l = 0; l < 32; ++l) {
      ballot |= static_cast<unsigned>(at(l) & 1) << l;
      any |= at(l) == 40;
    }
    EXPECT_EQ(static_cast<unsigned>(got[6 * n + t]), ballot) << t;
    EXPECT_EQ(got[7 * n + t], (any ? 1 : 0) + 2) << t;
    EXPECT_EQ(got[8 * n + t], at(lane ^ 1)) << t;
  }
}

// Two half-warps, each shuffling within its own mask at the same time.
__global__ void half_warp_kernel(int* out) {
  const int lane = static_cast<int>(threadIdx.x);
  const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  out[lane] = __shfl_xor_sync(mask, 100 + lane, 1);
  __syncwarp(mask);
}

TEST(CudaModel, DisjointMasksShuffleIndependently) {
  MASKOFF_REQUIRE_CUDA();
  DeviceBuffer out(sizeof(int) * 32);
  MASKOFF_LAUNCH(half_warp_kernel, 1, 32, 0, out.as<int>());
  const std::vector<int> got = to_host<int>(out, 32);
  for (int l = 0; l < 32; ++l) EXPECT_EQ(got[l], 100 + (l ^ 1)) << l;
}

// ---- atomics and block order ------------------------------------------------------------

__global__ void atomics_kernel(int* count, float* fsum, double* dsum, unsigned* top,
                               unsigned long long* cas_count) {
  const unsigned id = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(count, 1);
  atomicAdd(fsum, 0.5f);
  atomicAdd(dsum, 0.25);
  atomicMax(top, id);
  unsigned long long old = *cas_count, seen;
  do {  // an increment built from compare-and-swap, as lock-free code does
    seen = old;
    old = atomicCAS(cas_count, seen, seen + 1);
  } while (old != seen);
}

TEST(CudaModel, AtomicsFromEveryThreadOfEveryBlock) {
  MASKOFF_REQUIRE_CUDA();
  DeviceBuffer mem(64);
  MASKOFF_CUDA_CHECK(cudaMemsetAsync(mem.as<char>(), 0, 64, cuda::stream()));
  char* base = mem.as<char>();
  auto* count = reinterpret_cast<int*>(base);
  auto* fsum = reinterpret_cast<float*>(base + 4);
  auto* dsum = reinterpret_cast<double*>(base + 8);
  auto* top = reinterpret_cast<unsigned*>(base + 16);
  auto* cas = reinterpret_cast<unsigned long long*>(base + 24);
  MASKOFF_LAUNCH(atomics_kernel, 13, 96, 0, count, fsum, dsum, top, cas);
  const std::vector<char> h = to_host<char>(mem, 32);
  int c;
  float f;
  double d;
  unsigned m;
  unsigned long long k;
  std::memcpy(&c, h.data(), 4);
  std::memcpy(&f, h.data() + 4, 4);
  std::memcpy(&d, h.data() + 8, 8);
  std::memcpy(&m, h.data() + 16, 4);
  std::memcpy(&k, h.data() + 24, 8);
  EXPECT_EQ(c, 13 * 96);
  EXPECT_EQ(f, 0.5f * 13 * 96);  // exact: every partial sum is a multiple of 0.5 below 2^24
  EXPECT_EQ(d, 0.25 * 13 * 96);
  EXPECT_EQ(m, 13u * 96 - 1);
  EXPECT_EQ(k, 13ull * 96);
}

__global__ void arrival_kernel(int* next, int* order) {
  if (threadIdx.x == 0) order[atomicAdd(next, 1)] = static_cast<int>(blockIdx.x);
}

std::vector<int> arrival_order(int blocks) {
  DeviceBuffer next(sizeof(int)), order(sizeof(int) * blocks);
  MASKOFF_CUDA_CHECK(cudaMemsetAsync(next.as<int>(), 0, sizeof(int), cuda::stream()));
  MASKOFF_LAUNCH(arrival_kernel, blocks, 32, 0, next.as<int>(), order.as<int>());
  return to_host<int>(order, blocks);
}

TEST(CudaModel, BlocksRunInNoPromisedOrder) {
  MASKOFF_REQUIRE_CUDA();
  std::vector<int> got = arrival_order(64);
  std::vector<int> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(64);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);  // every block ran exactly once, in whatever order
#ifdef MASKOFF_CUDA_SIM
  // CUDASIM_SEED shuffles the order (and the order threads are resumed in), so a kernel
  // that depends on the order gives results that change with the seed.
  setenv("CUDASIM_SEED", "7", 1);
  const std::vector<int> seven = arrival_order(64);
  setenv("CUDASIM_SEED", "8", 1);
  const std::vector<int> eight = arrival_order(64);
  unsetenv("CUDASIM_SEED");
  EXPECT_NE(seven, identity);
  EXPECT_NE(seven, eight);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, identity);
#endif
}

// ---- launch limits --------------------------------------------------------------------

__global__ void noop_kernel(int* out) {
  if (out && threadIdx.x == 0 && blockIdx.x == 0) out[0] = 1;
}

TEST(CudaModel, BadLaunchConfigurationsAreRefusedAtTheLaunch) {
  MASKOFF_REQUIRE_CUDA();
  int* none = nullptr;
  const std::string threads = error_of([&] { MASKOFF_LAUNCH(noop_kernel, 1, 1025, 0, none); });
  EXPECT_TRUE(contains(threads, "launch of noop_kernel with grid (1, 1, 1), block (1025, 1, 1)"))
      << threads;
  EXPECT_TRUE(contains(threads, "cudaErrorInvalidConfiguration")) << threads;
  EXPECT_TRUE(contains(threads, "cuda_model_test.cu")) << threads;
  const std::string depth =
      error_of([&] { MASKOFF_LAUNCH(noop_kernel, 1, dim3(1, 1, 65), 0, none); });
  EXPECT_TRUE(contains(depth, "cudaErrorInvalidConfiguration")) << depth;
  const std::string grid_y =
      error_of([&] { MASKOFF_LAUNCH(noop_kernel, dim3(1, 65536), 32, 0, none); });
  EXPECT_TRUE(contains(grid_y, "cudaErrorInvalidConfiguration")) << grid_y;
  // More dynamic shared memory than a block may have without opting in.
  const std::string shared = error_of([&] { MASKOFF_LAUNCH(noop_kernel, 1, 32, 64 * 1024, none); });
  EXPECT_TRUE(contains(shared, "cudaErrorInvalidValue")) << shared;
  // A refused launch leaves nothing behind; the limits themselves are fine.
  DeviceBuffer out(sizeof(int));
  MASKOFF_CUDA_CHECK(cudaMemsetAsync(out.as<int>(), 0, sizeof(int), cuda::stream()));
  MASKOFF_LAUNCH(noop_kernel, dim3(1, 65535), 32, 0, out.as<int>());
  MASKOFF_LAUNCH(noop_kernel, 1, dim3(16, 1, 64), 0, out.as<int>());
  EXPECT_EQ(to_host<int>(out, 1)[0], 1);
}

// ---- copies, streams, events and graphs -------------------------------------------------

__global__ void fill_kernel(float* x, int n, float v) { MASKOFF_GRID_LOOP(i, n) x[i] = v; }
__global__ void scale_kernel(float* x, int n, float a) { MASKOFF_GRID_LOOP(i, n) x[i] *= a; }
__global__ void scale_by_kernel(float* x, int n, const float* a) {
  MASKOFF_GRID_LOOP(i, n) x[i] *= *a;
}

TEST(CudaModel, PageableCopyIsTakenAtTheCall) {
  MASKOFF_REQUIRE_CUDA();
  std::vector<float> h(1000, 1.f);
  DeviceBuffer d(sizeof(float) * h.size());
  to_device(d, h);
  std::fill(h.begin(), h.end(), 2.f);  // allowed at once: the bytes were staged
  for (float v : to_host<float>(d, h.size())) ASSERT_EQ(v, 1.f);
}

TEST(CudaModel, AnEventOrdersWorkAcrossStreams) {
  MASKOFF_REQUIRE_CUDA();
  const int n = 3000;
  DeviceBuffer a(sizeof(float) * n), b(sizeof(float) * n);
  cudaStream_t other;
  cudaEvent_t filled;
  MASKOFF_CUDA_CHECK(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking));
  MASKOFF_CUDA_CHECK(cudaEventCreateWithFlags(&filled, cudaEventDisableTiming));
  MASKOFF_LAUNCH(fill_kernel, cuda::grid_for(n), cuda::kThreads, 0, a.as<float>(), n, 7.f);
  MASKOFF_CUDA_CHECK(cudaEventRecord(filled, cuda::stream()));
  MASKOFF_CUDA_CHECK(cudaStreamWaitEvent(other, filled, 0));
  MASKOFF_CUDA_CHECK(cudaMemcpyAsync(b.as<float>(), a.as<float>(), sizeof(float) * n,
                                     cudaMemcpyDeviceToDevice, other));
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(other));
  std::vector<float> got(n);
  MASKOFF_CUDA_CHECK(
      cudaMemcpy(got.data(), b.as<float>(), sizeof(float) * n, cudaMemcpyDeviceToHost));
  for (float v : got) ASSERT_EQ(v, 7.f);
  MASKOFF_CUDA_CHECK(cudaEventDestroy(filled));
  MASKOFF_CUDA_CHECK(cudaStreamDestroy(other));
}

// A kernel argument is copied when the launch is captured, so a graph replays the value of
// capture time, whatever the host variable holds later: a step-dependent scalar (Adam's
// step, the learning rate, a dropout seed) passed by value is frozen into the graph. Read
// through a device pointer instead, it can change between replays.
TEST(CudaModel, GraphReplaysTheArgumentsOfCaptureTime) {
  MASKOFF_REQUIRE_CUDA();
  const int n = 256;
  DeviceBuffer x(sizeof(float) * n), scalar(sizeof(float));
  MASKOFF_LAUNCH(fill_kernel, 1, 256, 0, x.as<float>(), n, 1.f);
  sync();
  float lr = 2.f;
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  MASKOFF_CUDA_CHECK(cudaStreamBeginCapture(cuda::stream(), cudaStreamCaptureModeGlobal));
  MASKOFF_LAUNCH(scale_kernel, 1, 256, 0, x.as<float>(), n, lr);
  MASKOFF_LAUNCH(scale_by_kernel, 1, 256, 0, x.as<float>(), n, scalar.as<float>());
  MASKOFF_CUDA_CHECK(cudaStreamEndCapture(cuda::stream(), &graph));
  MASKOFF_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  for (float s : {3.f, 5.f}) {
    lr = 10.f;  // too late: the captured launch holds 2
    MASKOFF_CUDA_CHECK(cudaMemcpy(scalar.as<float>(), &s, sizeof s, cudaMemcpyHostToDevice));
    MASKOFF_CUDA_CHECK(cudaGraphLaunch(exec, cuda::stream()));
  }
  for (float v : to_host<float>(x, n)) ASSERT_EQ(v, 1.f * 2 * 3 * 2 * 5);
  MASKOFF_CUDA_CHECK(cudaGraphExecDestroy(exec));
  MASKOFF_CUDA_CHECK(cudaGraphDestroy(graph));
}

TEST(CudaModel, CaptureRefusesWorkThatMustRunNow) {
  MASKOFF_REQUIRE_CUDA();
  DeviceBuffer x(sizeof(float) * 4);
  float host[4];
  cudaGraph_t graph = nullptr;
  MASKOFF_CUDA_CHECK(cudaStreamBeginCapture(cuda::stream(), cudaStreamCaptureModeGlobal));
  // A copy into pageable memory must finish before the call returns: not capturable.
  EXPECT_NE(
      cudaMemcpyAsync(host, x.as<float>(), sizeof host, cudaMemcpyDeviceToHost, cuda::stream()),
      cudaSuccess);
  EXPECT_EQ(cudaStreamEndCapture(cuda::stream(), &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  cudaGetLastError();
  // The stream works as before afterwards.
  MASKOFF_LAUNCH(fill_kernel, 1, 32, 0, x.as<float>(), 4, 1.5f);
  EXPECT_EQ(to_host<float>(x, 4), std::vector<float>(4, 1.5f));
}

// ---- device memory from the host ---------------------------------------------------------

TEST(CudaModel, HostReadOfADevicePointerFailsLoudly) {
  MASKOFF_REQUIRE_CUDA();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#ifdef MASKOFF_CUDA_SIM
  const char* says = "host code dereferenced device memory at 0x[0-9a-f]+, byte 0 of a 64-byte";
#else
  const char* says = "";
#endif
  EXPECT_DEATH(
      {
        DeviceBuffer d(64);
        MASKOFF_CUDA_CHECK(cudaMemsetAsync(d.as<char>(), 0, 64, cuda::stream()));
        sync();
        volatile float v = *d.as<float>();  // a bug: d lives on the device
        std::printf("%f\n", static_cast<double>(v));
      },
      says);
}

// ---- what only the simulator promises ----------------------------------------------------
#ifdef MASKOFF_CUDA_SIM

#if defined(__SANITIZE_ADDRESS__)
#define MASKOFF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MASKOFF_TEST_ASAN 1
#endif
#endif
#ifndef MASKOFF_TEST_ASAN
#define MASKOFF_TEST_ASAN 0
#endif

// Runs `body` in a child process and expects it to leave `error` from the synchronisation
// that follows and to print `says` (sticky errors stay in the child).
#define EXPECT_DEVICE_FAULT(body, error, says)                                \
  do {                                                                        \
    GTEST_FLAG_SET(death_test_style, "threadsafe");                           \
    EXPECT_EXIT(                                                              \
        {                                                                     \
          body;                                                               \
          const cudaError_t e = cudaStreamSynchronize(cuda::stream());        \
          std::fprintf(stderr, "synchronisation: %s\n", cudaGetErrorName(e)); \
          std::exit(e == (error) ? 0 : 1);                                    \
        },                                                                    \
        ::testing::ExitedWithCode(0), says);                                  \
  } while (0)

__global__ void off_by_one_kernel(float* y, int n) {
  MASKOFF_GRID_LOOP(i, n + 1) y[i] = 1.f;  // <= n: one element too many
}

TEST(CudaSim, AWritePastAnAllocationIsReportedWithTheKernel) {
#if MASKOFF_TEST_ASAN
  // AddressSanitizer stops at the write itself: the bytes behind an allocation are poisoned.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        testing::ExactAllocGuard exact(true);
        DeviceBuffer y(sizeof(float) * 100);
        MASKOFF_LAUNCH(off_by_one_kernel, 1, 128, 0, y.as<float>(), 100);
        sync();
      },
      "AddressSanitizer: use-after-poison.*WRITE of size 4");
#else
  // Without it, the guard bytes behind the allocation are found changed after the kernel.
  EXPECT_DEVICE_FAULT(
      {
        testing::ExactAllocGuard exact(true);
        DeviceBuffer y(sizeof(float) * 100);
        MASKOFF_LAUNCH(off_by_one_kernel, 1, 128, 0, y.as<float>(), 100);
      },
      cudaErrorIllegalAddress,
      "kernel off_by_one_kernel wrote past the end of a 400-byte device allocation");
#endif
}

// A block sum with the barrier between the warps' writes and warp 0's reads left out.
__global__ void racy_block_sum_kernel(const float* x, float* out) {
  __shared__ float partial[32];
  const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
  float v = x[threadIdx.x];
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(kFull, v, off);
  if (lane == 0) partial[warp] = v;
  // missing: __syncthreads();
  if (warp == 0) {
    float s = lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : 0.f;
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(kFull, s, off);
    if (lane == 0) out[0] = s;
  }
}

TEST(CudaSim, AMissingBarrierReadsSharedMemoryBeforeItIsWritten) {
  // Fresh values each run, so what an earlier launch left in shared memory is no help.
  const uint64_t seed = testing::fresh_seed();
  std::vector<float> v(256);
  Generator g(seed);
  const std::vector<float> r = randn({256}, g).to_vector<float>();
  double want = 0;
  for (int i = 0; i < 256; ++i) want += v[i] = std::round(8 * r[i]);  // exact float sums
  DeviceBuffer x(sizeof(float) * 256), out(sizeof(float));
  to_device(x, v);
  MASKOFF_LAUNCH(racy_block_sum_kernel, 1, 256, 0, x.as<float>(), out.as<float>());
  const float got = to_host<float>(out, 1)[0];
  EXPECT_NE(got, want) << testing::seed_note(seed);  // warp 0 ran ahead of the others' writes
#if CUDASIM_POISONS_SHARED
  EXPECT_TRUE(std::isnan(got)) << got;  // shared memory starts as 0xFF bytes: NaN
#endif
}

__global__ void divergent_collective_kernel(float* out) {
  // Lanes 0-15 shuffle with the whole warp while lanes 16-31 wait at the block barrier.
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(kFull, 1.f, 1);
  __syncthreads();
}
__global__ void mask_without_self_kernel(float* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, 2.f, 0);  // only lane 0 may name this mask
}

TEST(CudaSim, DeadlocksAndBadMasksAreReportedInsteadOfHanging) {
  EXPECT_DEVICE_FAULT(
      {
        DeviceBuffer out(sizeof(float) * 32);
        MASKOFF_LAUNCH(divergent_collective_kernel, 1, 32, 0, out.as<float>());
      },
      cudaErrorLaunchFailure, "kernel divergent_collective_kernel, block \\(0,0,0\\), deadlock");
  EXPECT_DEVICE_FAULT(
      {
        DeviceBuffer out(sizeof(float) * 32);
        MASKOFF_LAUNCH(mask_without_self_kernel, 1, 32, 0, out.as<float>());
      },
      cudaErrorLaunchFailure,
      "__shfl_sync\\(mask 0x00000001\\) from lane 1, which the mask leaves out");
}

// Work runs only when the host must see it, so a reader that forgets to wait for the
// producer's stream sees what was there before.
TEST(CudaSim, StreamsRunLazilySoAMissingWaitShows) {
  const int n = 64;
  DeviceBuffer a(sizeof(float) * n), b(sizeof(float) * n);
  to_device(a, std::vector<float>(n, 1.f));
  sync();
  cudaStream_t other;
  MASKOFF_CUDA_CHECK(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking));
  MASKOFF_LAUNCH(fill_kernel, 1, 64, 0, a.as<float>(), n, 9.f);
  // missing: cudaStreamWaitEvent(other, <event recorded after the fill>)
  MASKOFF_CUDA_CHECK(cudaMemcpyAsync(b.as<float>(), a.as<float>(), sizeof(float) * n,
                                     cudaMemcpyDeviceToDevice, other));
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(other));
  EXPECT_EQ(to_host<float>(b, n), std::vector<float>(n, 1.f));  // the fill had not run
  EXPECT_EQ(to_host<float>(a, n), std::vector<float>(n, 9.f));  // it has, once waited for
  MASKOFF_CUDA_CHECK(cudaStreamDestroy(other));
}

#endif  // MASKOFF_CUDA_SIM

}  // namespace
}  // namespace maskoff
