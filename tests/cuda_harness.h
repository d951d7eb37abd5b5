// The one CPU-vs-CUDA comparison harness. An op (any function of tensors) runs forward and
// backward on the CPU and on the GPU from the same float32 inputs; outputs and every input
// gradient are compared with |gpu - cpu| <= atol + rtol * |cpu|. The GPU side runs with the
// allocator's poison on, so an output element a kernel forgets to write is NaN and fails.
// Inputs are drawn from a fresh seed each run; a failure prints it, and MASKOFF_TEST_SEED=N
// repeats that run.
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "tensor/backend.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

// Skips the current test when there is no GPU to run it on. With MASKOFF_EXPECT_GPU=1 (the
// GPU check on a lent machine, the simulation build in CI) a missing GPU fails it instead,
// so a run that quietly tested nothing cannot pass.
#define MASKOFF_REQUIRE_CUDA()                                                 \
  do {                                                                         \
    if (!::maskoff::backend::cuda_available()) {                               \
      if (::maskoff::testing::expect_gpu())                                    \
        FAIL() << "MASKOFF_EXPECT_GPU is set, but there is no CUDA device: "   \
               << ::maskoff::backend::cuda_report();                           \
      GTEST_SKIP() << "no CUDA device: " << ::maskoff::backend::cuda_report(); \
    }                                                                          \
  } while (0)

namespace maskoff::testing {

inline bool expect_gpu() {
  const char* env = std::getenv("MASKOFF_EXPECT_GPU");
  return env != nullptr && env[0] != '\0' && env[0] != '0';
}

// Exact-size device allocations (no caching) for a scope, or caching for a scope.
class ExactAllocGuard {
 public:
  explicit ExactAllocGuard(bool on) : prev_(cuda_backend::exact_alloc()) {
    cuda_backend::set_exact_alloc(on);
  }
  ~ExactAllocGuard() { cuda_backend::set_exact_alloc(prev_); }
  ExactAllocGuard(const ExactAllocGuard&) = delete;
  ExactAllocGuard& operator=(const ExactAllocGuard&) = delete;

 private:
  bool prev_;
};

// Tolerances per kind of computation, float32 on both sides.
struct Tol {
  double atol, rtol;
};
// Elementwise maps and copies: a few ulps (different libm, fused multiply-adds).
constexpr Tol kTolElementwise{1e-6, 1e-5};
// Sums of many terms accumulated in a different order (reductions, norms, losses, GEMMs).
constexpr Tol kTolReduce{1e-5, 1e-4};
// cuDNN convolutions: the algorithm cuDNN picks (implicit GEMM, FFT, Winograd) rounds
// differently, with errors that scale with the summed terms rather than with the result, so
// near-zero results need the larger absolute slack. An indexing mistake is off by O(1).
constexpr Tol kTolConv{5e-4, 1e-3};

// The inputs handed to an op under test.
using Inputs = std::vector<Tensor>;
// A 4-D shape with no extent a multiple of a warp or a block.
inline const Shape kOdd = {2, 3, 17, 29};

// A new seed per run unless MASKOFF_TEST_SEED is set.
inline uint64_t fresh_seed() {
  if (const char* env = std::getenv("MASKOFF_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}
inline std::string seed_note(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (rerun with MASKOFF_TEST_SEED=" + std::to_string(seed) +
         ")";
}

// Turns the allocator's NaN poison on for a scope.
class PoisonGuard {
 public:
  PoisonGuard() : prev_(cuda_backend::poison()) { cuda_backend::set_poison(true); }
  ~PoisonGuard() { cuda_backend::set_poison(prev_); }
  PoisonGuard(const PoisonGuard&) = delete;
  PoisonGuard& operator=(const PoisonGuard&) = delete;

 private:
  bool prev_;
};

// A float32 CPU tensor with values from N(0, scale^2).
inline Tensor random_input(const Shape& s, Generator& g, double scale = 1.0) {
  return randn(s, g, DType::F32, Device::cpu(), 0.0, scale);
}
// The same with requires_grad set (a leaf whose gradient the harness compares).
inline Tensor random_leaf(const Shape& s, Generator& g, double scale = 1.0) {
  Tensor t = random_input(s, g, scale);
  t.set_requires_grad(true);
  return t;
}
// Values in [lo, hi).
inline Tensor uniform_input(const Shape& s, Generator& g, double lo, double hi) {
  return rand(s, g, DType::F32, Device::cpu(), lo, hi);
}

// Element-by-element comparison of a GPU result with its CPU reference.
inline ::testing::AssertionResult close_to(const Tensor& got, const Tensor& want, Tol tol,
                                           const std::string& what) {
  if (!got.defined() || !want.defined()) {
    if (got.defined() == want.defined()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what << ": defined on " << (got.defined() ? "the GPU" : "the CPU") << " only";
  }
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << what << ": shape " << shape_str(got.shape())
                                         << " on the GPU vs " << shape_str(want.shape());
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  int64_t bad = 0, first = -1;
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(g[i] - w[i]);
    if (!(err <= tol.atol + tol.rtol * std::fabs(w[i]))) {  // NaN fails too
      if (first < 0) first = static_cast<int64_t>(i);
      ++bad;
    }
    if (err > worst || std::isnan(err)) worst = err;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  const size_t f = static_cast<size_t>(first);
  return ::testing::AssertionFailure()
         << what << " " << shape_str(want.shape()) << ": " << bad << " of " << g.size()
         << " elements differ (atol " << tol.atol << ", rtol " << tol.rtol << "); first at "
         << first << ": GPU " << g[f] << ", CPU " << w[f] << "; largest |error| " << worst;
}

inline Tensor cuda_copy(const Tensor& t) {
  Tensor c = t.detach().to(Device::cuda());
  if (t.requires_grad()) c.set_requires_grad(true);
  return c;
}

// Runs f on the CPU inputs and on GPU copies of them (poison on), compares the outputs,
// then back-propagates the same random gradient through both and compares the gradient of
// every input that requires one. Each side gets its own leaves, so gradients never mix.
inline ::testing::AssertionResult compare_with_cpu(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
    Tol tol, uint64_t seed) {
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Tensor& t : inputs) {
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.set_requires_grad(true);
    cpu_in.push_back(c);
    gpu_in.push_back(cuda_copy(t));
  }
  Tensor want = f(cpu_in);
  Tensor got;
  {
    PoisonGuard poison;
    got = f(gpu_in);
  }
  if (!got.is_cuda())
    return ::testing::AssertionFailure() << "the GPU result is on " << got.device().str();
  ::testing::AssertionResult r = close_to(got, want, tol, "output");
  if (!r) return r << "; " << seed_note(seed);
  if (!want.requires_grad()) return ::testing::AssertionSuccess();

  Generator g(seed ^ 0x5eedULL);
  Tensor dy = randn(want.shape(), g, DType::F32);
  want.backward(dy);
  {
    PoisonGuard poison;
    got.backward(dy.to(Device::cuda()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    r = close_to(gpu_in[i].grad(), cpu_in[i].grad(), tol, "gradient of input " + std::to_string(i));
    if (!r) return r << "; " << seed_note(seed);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace maskoff::testing
