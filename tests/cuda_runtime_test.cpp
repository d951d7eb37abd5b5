// The CUDA device services: the start-up report, copies, the caching allocator (reuse, no
// growth over repeated training steps, NaN poison), Module::to_ moving a model in place,
// and the clear errors for what the GPU path does not do. The error tests also run without
// a GPU, where they check the messages a CPU-only machine gives.
#include "layers/conv.h"
#include "layers/dispatch.h"
#include "layers/elementwise.h"
#include "layers/modules.h"
#include "layers/reduce.h"
#include "losses/losses.h"
#include "optim/adam.h"
#include "tests/cuda_harness.h"
#include "tests/test_util.h"

namespace maskoff::testing {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(CudaRuntime, ReportNamesDeviceVersionsAndMathMode) {
  const std::string r = backend::cuda_report();
  ASSERT_FALSE(r.empty());
  if (!backend::cuda_available()) {
    EXPECT_TRUE(contains(r, "no CUDA")) << r;
    return;
  }
  for (const char* part :
       {"compute capability", "GiB", "CUDA runtime", "driver", "cuDNN", "cuBLAS", "math FP32"})
    EXPECT_TRUE(contains(r, part)) << "'" << part << "' missing from: " << r;
}

TEST(CudaRuntime, CopiesRoundTripExactly) {
  MASKOFF_REQUIRE_CUDA();
  Generator g(fresh_seed());
  for (DType t : {DType::F32, DType::F64}) {
    Tensor x = randn({3, 1001}, g, t);
    Tensor d = x.to(Device::cuda());
    EXPECT_TRUE(d.is_cuda());
    Tensor d2 = d.clone();  // device to device
    EXPECT_TRUE(testing::close_to(d2.cpu(), x, {0, 0}, "round trip"));
    EXPECT_TRUE(testing::close_to(zeros({5, 7}, t, Device::cuda()).cpu(), zeros({5, 7}, t), {0, 0},
                                  "zeros"));
    EXPECT_TRUE(testing::close_to(full({9}, 2.5, t, Device::cuda()).cpu(), full({9}, 2.5, t),
                                  {0, 0}, "full"));
  }
}

TEST(CudaAllocator, FreedBlocksAreReusedWithoutCudaMalloc) {
  MASKOFF_REQUIRE_CUDA();
  testing::ExactAllocGuard caching(false);
  { Tensor warm = empty({1000, 37}, DType::F32, Device::cuda()); }
  const auto before = cuda_backend::allocator_stats();
  for (int i = 0; i < 20; ++i) {
    Tensor t = empty({1000, 37}, DType::F32, Device::cuda());  // same size class each time
  }
  const auto after = cuda_backend::allocator_stats();
  EXPECT_EQ(after.device_allocs, before.device_allocs);
  EXPECT_EQ(after.requests, before.requests + 20);
  EXPECT_EQ(after.cache_hits, before.cache_hits + 20);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(CudaAllocator, EmptyCacheReturnsFreeBlocks) {
  MASKOFF_REQUIRE_CUDA();
  testing::ExactAllocGuard caching(false);
  { Tensor t = empty({1 << 20}, DType::F32, Device::cuda()); }
  cuda_backend::empty_cache();
  const auto s = cuda_backend::allocator_stats();
  EXPECT_EQ(s.bytes_reserved, s.bytes_in_use);  // nothing cached
}

// The exact mode (MASKOFF_CUDA_EXACT_ALLOC=1, the default of the simulation build) gives every
// tensor its own cudaMalloc of exactly its bytes and frees it on release, so a memory checker
// sees an overrun of one element, which a size class's slack would hide.
TEST(CudaAllocator, ExactModeGivesEachTensorItsOwnBlock) {
  MASKOFF_REQUIRE_CUDA();
  testing::ExactAllocGuard exact(true);
  const auto before = cuda_backend::allocator_stats();
  {
    Tensor a = empty({1000, 37}, DType::F32, Device::cuda());
    Tensor b = empty({1000, 37}, DType::F32, Device::cuda());
    EXPECT_NE(a.data<float>(), b.data<float>());
    const auto during = cuda_backend::allocator_stats();
    EXPECT_EQ(during.device_allocs, before.device_allocs + 2);
    EXPECT_EQ(during.cache_hits, before.cache_hits);
    EXPECT_EQ(during.bytes_in_use, before.bytes_in_use + 2 * 1000 * 37 * 4);  // not rounded
  }
  const auto after = cuda_backend::allocator_stats();
  EXPECT_EQ(after.device_frees, before.device_frees + 2);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.bytes_reserved, before.bytes_reserved);  // nothing kept back
}

TEST(CudaAllocator, PoisonFillsNewBlocksWithNaN) {
  MASKOFF_REQUIRE_CUDA();
  testing::PoisonGuard poison;
  Tensor t = empty({4, 33}, DType::F32, Device::cuda());
  for (float v : t.to_vector<float>()) ASSERT_TRUE(std::isnan(v));
}

// A small conv/BN/deconv net, trained for a few steps on the GPU. The first step creates
// the gradients, which from then on stay allocated, so the second step holds more memory
// during its forward pass than the first did; from the second step on, the allocator serves
// every request from its free lists.
TEST(CudaAllocator, NoDeviceAllocationOnceTheGradientsExist) {
  MASKOFF_REQUIRE_CUDA();
  testing::ExactAllocGuard caching(false);
  Generator g(fresh_seed());
  auto net = std::make_shared<Sequential>();
  net->emplace<Conv2d>(3, 8, 4, g, 2, 1);
  net->emplace<BatchNorm2d>(8);
  net->emplace<LeakyReLU>(0.2);
  net->emplace<ConvTranspose2d>(8, 3, 4, g, 2, 1);
  net->emplace<Tanh>();
  net->to_(Device::cuda());
  Adam adam(net->parameters());
  Tensor x = random_input({2, 3, 32, 32}, g).to(Device::cuda());
  Tensor target = random_input({2, 3, 32, 32}, g).to(Device::cuda());
  auto step = [&] {
    adam.zero_grad();
    Tensor loss = l1_loss(net->forward(x), target);
    loss.backward();
    adam.step();
    backend::synchronize();
  };
  step();
  step();
  const auto warm = cuda_backend::allocator_stats();
  for (int i = 0; i < 3; ++i) step();
  const auto later = cuda_backend::allocator_stats();
  EXPECT_EQ(later.device_allocs, warm.device_allocs);
  EXPECT_EQ(later.device_frees, warm.device_frees);
  EXPECT_EQ(later.bytes_reserved, warm.bytes_reserved);
  EXPECT_EQ(later.bytes_in_use, warm.bytes_in_use);
  EXPECT_GT(later.cache_hits, warm.cache_hits);
}

TEST(CudaModule, ToMovesParametersBuffersAndGradientsInPlace) {
  MASKOFF_REQUIRE_CUDA();
  Generator g(fresh_seed());
  auto net = std::make_shared<Sequential>();
  auto conv = net->emplace<Conv2d>(3, 4, 3, g, 1, 1);
  auto bn = net->emplace<BatchNorm2d>(4);
  Tensor held_weight = conv->weight;  // a handle kept elsewhere, as an optimizer does
  const std::vector<float> w_before = held_weight.to_vector<float>();
  Tensor x = random_input({2, 3, 8, 8}, g);
  sum(net->forward(x)).backward();  // gradients exist before the move
  const std::vector<float> grad_before = held_weight.grad().to_vector<float>();

  net->to_(Device::cuda());
  for (const Tensor& p : net->parameters()) {
    EXPECT_TRUE(p.is_cuda()) << p.str();
    EXPECT_TRUE(p.grad().is_cuda()) << p.str();
  }
  for (const Tensor& b : net->buffers()) EXPECT_TRUE(b.is_cuda()) << b.str();
  EXPECT_TRUE(held_weight.is_cuda());
  EXPECT_TRUE(conv->weight.same_storage(held_weight));
  EXPECT_EQ(held_weight.to_vector<float>(), w_before);
  EXPECT_EQ(held_weight.grad().to_vector<float>(), grad_before);
  EXPECT_TRUE(bn->running_mean.is_cuda());
  EXPECT_TRUE(net->forward(x.to(Device::cuda())).is_cuda());

  net->to_(Device::cpu());
  EXPECT_FALSE(held_weight.is_cuda());
  EXPECT_EQ(held_weight.to_vector<float>(), w_before);
}

TEST(CudaModule, AdamMadeBeforeTheMoveFollowsTheParameters) {
  MASKOFF_REQUIRE_CUDA();
  Generator g(fresh_seed());
  auto lin = std::make_shared<Linear>(5, 3, g);
  Adam adam(lin->parameters());
  lin->to_(Device::cuda());
  Tensor x = random_input({4, 5}, g).to(Device::cuda());
  sum(lin->forward(x)).backward();
  adam.step();
  EXPECT_TRUE(adam.exp_avg(0).is_cuda());
  EXPECT_TRUE(lin->weight.is_cuda());
}

// ---- what the GPU path refuses, and how it says so ---------------------------------------

TEST(CudaFallback, MovingToTheGpuWithoutOneSaysWhy) {
#ifdef MASKOFF_WITH_CUDA
  const char* want = "no CUDA device is available";
#else
  const char* want = "no CUDA support";
#endif
  MASKOFF_EXPECT_WITHOUT_GPU({
    const std::string e = error_of([] { zeros({2}).to(Device::cuda()); });
    if (!contains(e, want)) {
      std::fprintf(stderr, "expected '%s' in: %s\n", want, e.c_str());
      std::exit(1);
    }
  });
}

TEST(CudaFallback, OnlyCudaZeroIsSupported) {
  const std::string e = error_of([] { empty({2}, DType::F32, Device::cuda(1)); });
  EXPECT_TRUE(contains(e, "only cuda:0")) << e;
}

TEST(CudaFallback, Float64OnTheGpuNamesTheOpAndTheTensor) {
  MASKOFF_REQUIRE_CUDA();
  Tensor x = zeros({3}, DType::F64, Device::cuda());
  const std::string e = error_of([&] { relu(x); });
  EXPECT_TRUE(contains(e, "relu: CUDA kernels take float32")) << e;
  EXPECT_TRUE(contains(e, "float64[3] on cuda:0")) << e;
}

TEST(CudaFallback, MixedDevicesNameBothTensors) {
  MASKOFF_REQUIRE_CUDA();
  Tensor a = zeros({2, 3}), b = zeros({2, 3}).to(Device::cuda());
  const std::string e = error_of([&] { add(a, b); });
  EXPECT_TRUE(contains(e, "device mismatch")) << e;
  EXPECT_TRUE(contains(e, "on cpu")) << e;
  EXPECT_TRUE(contains(e, "on cuda:0")) << e;
  Tensor w = zeros({4, 2, 3, 3});
  const std::string ec = error_of([&] {
    conv2d(zeros({1, 2, 5, 5}).to(Device::cuda()), w, Tensor(), Conv2dOptions::make(1, 1));
  });
  EXPECT_TRUE(contains(ec, "conv2d: device mismatch")) << ec;
}

TEST(CudaFallback, AnOpWithoutACudaKernelSaysSo) {
  MASKOFF_REQUIRE_CUDA();
  Tensor x = zeros({2}).to(Device::cuda());
  const std::string e = error_of([&] { dispatch(x, "some_op", [](auto) {}); });
  EXPECT_TRUE(contains(e, "some_op: no CUDA implementation for float32[2] on cuda:0")) << e;
}

}  // namespace
}  // namespace maskoff::testing
