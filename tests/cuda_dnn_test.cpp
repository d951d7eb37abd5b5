// cuDNN's legacy float32 convolution API through its public C calls, on the engine's handle
// and stream: forward, backward-data and backward-filter for every algorithm the heuristics
// call usable, with groups, depthwise filters, strides, padding and dilation that differ
// in height and width, both modes (CUDNN_CONVOLUTION flips the filter), alpha and beta; the
// output size, the group-count check, cudnnFind*AlgorithmEx, workspaces, and strict
// float32 (CUDNN_FMA_MATH) versus TF32 (CUDNN_TENSOR_OP_MATH). References are plain
// double-precision loops written from cuDNN's documented semantics, and one test also holds
// cuDNN against the CPU engine's conv2d and its gradients. The engine's convolutions rest
// on these promises, so they are checked on their own, on a GPU and in the simulation build.
#ifdef MASKOFF_WITH_CUDA
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"
#include "layers/conv.h"
#include "tests/cuda_harness.h"
#include "tests/cuda_memory.h"

namespace maskoff::testing {
namespace {

enum class Pass { kForward, kData, kFilter };
const Pass kPasses[] = {Pass::kForward, Pass::kData, Pass::kFilter};

const char* pass_name(Pass p) {
  return p == Pass::kForward ? "forward" : p == Pass::kData ? "backward data" : "backward filter";
}

// One NCHW float32 convolution: input [n, c, h, w], filter [k, c / groups, r, s].
struct Geometry {
  const char* name;
  int n, c, h, w;
  int k, r, s;
  int groups;
  int pad_h, pad_w, u, v, dil_h, dil_w;
  cudnnConvolutionMode_t mode;

  int cg() const { return c / groups; }
  // cuDNN's documented output size.
  int out_h() const { return 1 + (h + 2 * pad_h - ((r - 1) * dil_h + 1)) / u; }
  int out_w() const { return 1 + (w + 2 * pad_w - ((s - 1) * dil_w + 1)) / v; }
  size_t x_count() const { return size_t(n) * c * h * w; }
  size_t w_count() const { return size_t(k) * cg() * r * s; }
  size_t y_count() const { return size_t(n) * k * out_h() * out_w(); }
  size_t out_count(Pass p) const {
    return p == Pass::kForward ? y_count() : p == Pass::kData ? x_count() : w_count();
  }
};

// Calls f(x index, w index, y index) for every product the forward pass sums: output
// (b, ko, oy, ox) reads input row oy*u - pad_h + tr*dil_h and column ox*v - pad_w +
// ts*dil_w (nothing outside the input) of the channels of ko's group, times filter tap
// (tr, ts), or (r-1-tr, s-1-ts) in CUDNN_CONVOLUTION mode. Backward data and backward
// filter are the same products summed into x and into w.
template <class F>
void for_each_product(const Geometry& g, F&& f) {
  const int oh = g.out_h(), ow = g.out_w(), cg = g.cg(), kg = g.k / g.groups;
  const bool flip = g.mode == CUDNN_CONVOLUTION;
  for (int b = 0; b < g.n; ++b)
    for (int ko = 0; ko < g.k; ++ko) {
      const int first_channel = ko / kg * cg;
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
          for (int ci = 0; ci < cg; ++ci)
            for (int tr = 0; tr < g.r; ++tr) {
              const int iy = oy * g.u - g.pad_h + tr * g.dil_h;
              if (iy < 0 || iy >= g.h) continue;
              for (int ts = 0; ts < g.s; ++ts) {
                const int ix = ox * g.v - g.pad_w + ts * g.dil_w;
                if (ix < 0 || ix >= g.w) continue;
                const int fr = flip ? g.r - 1 - tr : tr, fs = flip ? g.s - 1 - ts : ts;
                f(((size_t(b) * g.c + first_channel + ci) * g.h + iy) * g.w + ix,
                  ((size_t(ko) * cg + ci) * g.r + fr) * g.s + fs,
                  ((size_t(b) * g.k + ko) * oh + oy) * ow + ox);
              }
            }
    }
}

// The host values of one problem: the two inputs each pass reads (x, w, dy) and what each
// pass's output holds before it runs (blended in with beta).
struct Problem {
  std::vector<float> x, w, dy;
  std::vector<float> before[3];  // indexed by Pass
  const std::vector<float>& dst0(Pass p) const { return before[static_cast<int>(p)]; }
};

std::vector<float> uniform(size_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& e : v) e = u(rng);
  return v;
}

// Destinations for beta == 0, which cuDNN documents it does not read: NaN there would
// otherwise reach the result.
void nan_destinations(const Geometry& g, Problem* p) {
  for (Pass pass : kPasses)
    p->before[static_cast<int>(pass)].assign(g.out_count(pass),
                                             std::numeric_limits<float>::quiet_NaN());
}

Problem random_problem(const Geometry& g, std::mt19937_64& rng) {
  Problem p;
  p.x = uniform(g.x_count(), rng);
  p.w = uniform(g.w_count(), rng);
  p.dy = uniform(g.y_count(), rng);
  for (Pass pass : kPasses) p.before[static_cast<int>(pass)] = uniform(g.out_count(pass), rng);
  return p;
}

// Each output element of a pass in double, alpha * sum + beta * before, with the sum of the
// magnitudes of its terms (what float32 rounding error scales with), the sum of its
// squared products and the magnitude of their sum (what TF32 rounding error scales with).
struct Reference {
  std::vector<double> value, abs_sum, product_sq, product_sum;
};

Reference reference(Pass pass, const Geometry& g, const Problem& p, double alpha, double beta) {
  const size_t count = g.out_count(pass);
  std::vector<double> sum(count, 0.0), abs(count, 0.0), sq(count, 0.0);
  for_each_product(g, [&](size_t xi, size_t wi, size_t yi) {
    double t = 0;
    size_t o = 0;
    switch (pass) {
      case Pass::kForward:
        t = double(p.x[xi]) * p.w[wi], o = yi;
        break;
      case Pass::kData:
        t = double(p.dy[yi]) * p.w[wi], o = xi;
        break;
      case Pass::kFilter:
        t = double(p.dy[yi]) * p.x[xi], o = wi;
        break;
    }
    sum[o] += t;
    abs[o] += std::fabs(t);
    sq[o] += t * t;
  });
  Reference r;
  const std::vector<float>& before = p.dst0(pass);
  for (size_t e = 0; e < count; ++e) {
    // beta == 0: the destination is not read (and may hold anything).
    const double old = beta == 0 ? 0.0 : beta * double(before[e]);
    r.value.push_back(alpha * sum[e] + old);
    r.abs_sum.push_back(std::fabs(alpha) * abs[e] + std::fabs(old));
    r.product_sq.push_back(alpha * alpha * sq[e]);
    r.product_sum.push_back(std::fabs(alpha * sum[e]));
  }
  return r;
}

// Strict float32 sums of products: at most about (terms) * 2^-24 of the summed magnitudes
// (under 1e-5 of them for the few hundred terms here); a product taken from the wrong
// place, a missed tap or an unflipped filter is off by whole terms.
constexpr Tol kStrict{1e-5, 1e-5};
// FFT and Winograd algorithms (which a GPU may pick even in CUDNN_FMA_MATH) transform the
// operands and round differently from a sum of products, by up to a few 1e-5 of the
// magnitudes involved; still orders of magnitude below an indexing mistake.
constexpr Tol kTransformed{1e-4, 1e-3};

bool transforms(Pass pass, int algo) {
  switch (pass) {
    case Pass::kForward:
      return algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
    case Pass::kData:
      return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
    case Pass::kFilter:
      return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD ||
             algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
  }
  return false;
}
Tol fma_tol(Pass pass, int algo) { return transforms(pass, algo) ? kTransformed : kStrict; }

// TF32 keeps 10 of float32's 23 mantissa bits of each input: rounded to nearest an input is
// off by at most 2^-11 of itself, truncated by at most 2^-10, so a product is off by at
// most 2^-9 of itself. The errors of different products are independent, so a sum's error
// has a random part with a standard deviation below 2^-10 * sqrt(sum of squared products)
// (about sqrt(terms) * 2^-10 * |product|), plus, when inputs are truncated, a bias of
// -2^-10 times the exact sum. This allows that bias and eight standard deviations.
double tf32_bound(const Reference& r, size_t e) {
  return 1e-5 + std::ldexp(r.product_sum[e], -10) + 8 * std::ldexp(std::sqrt(r.product_sq[e]), -10);
}

using Bound = std::function<double(const Reference&, size_t)>;
Bound tol_bound(Tol t) {
  return [t](const Reference& r, size_t e) { return t.atol + t.rtol * r.abs_sum[e]; };
}

::testing::AssertionResult matches(const std::vector<float>& got, const Reference& want,
                                   const Bound& bound) {
  if (got.size() != want.value.size())
    return ::testing::AssertionFailure()
           << got.size() << " elements, the reference has " << want.value.size();
  size_t bad = 0, first = 0;
  for (size_t e = 0; e < got.size(); ++e)
    if (!(std::fabs(got[e] - want.value[e]) <= bound(want, e)) && bad++ == 0) first = e;
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << got.size() << " elements differ; first at " << first << ": got "
         << got[first] << ", want " << want.value[first] << " +- " << bound(want, first);
}

// The descriptors of one geometry; the output descriptor takes the size cuDNN computes.
class Descriptors {
 public:
  Descriptors(const Geometry& g, cudnnMathType_t math) {
    MASKOFF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    MASKOFF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    MASKOFF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    MASKOFF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    MASKOFF_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.n, g.c, g.h, g.w));
    MASKOFF_CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.k, g.cg(), g.r, g.s));
    MASKOFF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, g.pad_h, g.pad_w, g.u, g.v, g.dil_h,
                                                        g.dil_w, g.mode, CUDNN_DATA_FLOAT));
    MASKOFF_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, g.groups));
    MASKOFF_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, math));
    MASKOFF_CUDNN_CHECK(
        cudnnGetConvolution2dForwardOutputDim(conv, x, w, &out[0], &out[1], &out[2], &out[3]));
    MASKOFF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, out[0],
                                                   out[1], out[2], out[3]));
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int out[4] = {};  // n, k, out_h, out_w as cuDNN computes them
};

// A problem's tensors on the device: x, w and dy (the inputs), y, dx and dw (the outputs).
struct DeviceProblem {
  explicit DeviceProblem(const Geometry& g, const Problem& p)
      : x(g.x_count() * sizeof(float)),
        w(g.w_count() * sizeof(float)),
        dy(g.y_count() * sizeof(float)),
        y(g.y_count() * sizeof(float)),
        dx(g.x_count() * sizeof(float)),
        dw(g.w_count() * sizeof(float)) {
    x.upload(p.x);
    w.upload(p.w);
    dy.upload(p.dy);
  }
  DeviceBytes& out(Pass pass) { return pass == Pass::kForward ? y : pass == Pass::kData ? dx : dw; }
  DeviceBytes x, w, dy, y, dx, dw;
};

// One entry of a heuristics or search result, whichever pass it is for.
struct Algo {
  int algo;
  cudnnStatus_t status;
  size_t memory;
};

template <class Perf>
std::vector<Algo> algos_of(const std::vector<Perf>& perf, int returned) {
  std::vector<Algo> r;
  for (int i = 0; i < returned; ++i)
    r.push_back({static_cast<int>(perf[i].algo), perf[i].status, perf[i].memory});
  return r;
}

// cudnnGet*Algorithm_v7: every algorithm, ranked, each with its status and workspace.
std::vector<Algo> heuristics(Pass pass, const Descriptors& d) {
  cudnnHandle_t h = cuda::cudnn();
  int max = 0, returned = 0;
  switch (pass) {
    case Pass::kForward: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, max,
                                                                 &returned, perf.data()));
      return algos_of(perf, returned);
    }
    case Pass::kData: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, max,
                                                                      &returned, perf.data()));
      return algos_of(perf, returned);
    }
    case Pass::kFilter: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, d.x, d.y, d.conv, d.w, max, &returned, perf.data()));
      return algos_of(perf, returned);
    }
  }
  return {};
}

// cudnnFind*AlgorithmEx on the problem's buffers (it overwrites the pass's output).
std::vector<Algo> find(Pass pass, const Descriptors& d, DeviceProblem& b, DeviceBytes& ws) {
  cudnnHandle_t h = cuda::cudnn();
  int max = 0, returned = 0;
  switch (pass) {
    case Pass::kForward: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
          h, d.x, b.x.get(), d.w, b.w.get(), d.conv, d.y, b.y.get(), max, &returned, perf.data(),
          ws.get(), ws.bytes()));
      return algos_of(perf, returned);
    }
    case Pass::kData: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
          h, d.w, b.w.get(), d.y, b.dy.get(), d.conv, d.x, b.dx.get(), max, &returned, perf.data(),
          ws.get(), ws.bytes()));
      return algos_of(perf, returned);
    }
    case Pass::kFilter: {
      MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max));
      MASKOFF_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
          h, d.x, b.x.get(), d.y, b.dy.get(), d.conv, d.w, b.dw.get(), max, &returned, perf.data(),
          ws.get(), ws.bytes()));
      return algos_of(perf, returned);
    }
  }
  return {};
}

cudnnStatus_t workspace_size(Pass pass, const Descriptors& d, int algo, size_t* bytes) {
  cudnnHandle_t h = cuda::cudnn();
  switch (pass) {
    case Pass::kForward:
      return cudnnGetConvolutionForwardWorkspaceSize(
          h, d.x, d.w, d.conv, d.y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    case Pass::kData:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, d.w, d.y, d.conv, d.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    case Pass::kFilter:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, d.x, d.y, d.conv, d.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// Queues one pass (forward reads x and w into y; backward data reads w and dy into dx;
// backward filter reads x and dy into dw) with `ws_bytes` of the workspace.
cudnnStatus_t run(Pass pass, const Descriptors& d, DeviceProblem& b, int algo, float alpha,
                  float beta, void* ws, size_t ws_bytes) {
  cudnnHandle_t h = cuda::cudnn();
  switch (pass) {
    case Pass::kForward:
      return cudnnConvolutionForward(h, &alpha, d.x, b.x.get(), d.w, b.w.get(), d.conv,
                                     static_cast<cudnnConvolutionFwdAlgo_t>(algo), ws, ws_bytes,
                                     &beta, d.y, b.y.get());
    case Pass::kData:
      return cudnnConvolutionBackwardData(h, &alpha, d.w, b.w.get(), d.y, b.dy.get(), d.conv,
                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), ws,
                                          ws_bytes, &beta, d.x, b.dx.get());
    case Pass::kFilter:
      return cudnnConvolutionBackwardFilter(h, &alpha, d.x, b.x.get(), d.y, b.dy.get(), d.conv,
                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), ws,
                                            ws_bytes, &beta, d.w, b.dw.get());
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// Runs every algorithm the heuristics call usable for `pass`, each on an output pre-filled
// with the problem's `before` values and with a workspace of exactly the size cuDNN asks
// for, and checks each result. Returns how many ran.
int run_every_algorithm(
    Pass pass, const Descriptors& d, DeviceProblem& b, const Problem& p, float alpha, float beta,
    const std::function<::testing::AssertionResult(const std::vector<float>&, int)>& check) {
  int ran = 0;
  for (const Algo& a : heuristics(pass, d)) {
    if (a.status != CUDNN_STATUS_SUCCESS) continue;
    SCOPED_TRACE(std::string(pass_name(pass)) + " algorithm " + std::to_string(a.algo));
    size_t bytes = 0;
    const cudnnStatus_t size_status = workspace_size(pass, d, a.algo, &bytes);
#ifdef MASKOFF_CUDA_SIM
    EXPECT_EQ(size_status, CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(bytes, a.memory);
#endif
    // A GPU's heuristics may list an algorithm that this exact geometry then turns down.
    if (size_status != CUDNN_STATUS_SUCCESS) continue;
    DeviceBytes ws(bytes);
    b.out(pass).upload(p.dst0(pass));
    const cudnnStatus_t st = run(pass, d, b, a.algo, alpha, beta, ws.get(), ws.bytes());
    EXPECT_EQ(st, CUDNN_STATUS_SUCCESS) << cudnnGetErrorString(st);
    if (st != CUDNN_STATUS_SUCCESS) continue;
    EXPECT_TRUE(check(b.out(pass).floats(), a.algo));
    ++ran;
  }
  return ran;
}

TEST(CudaDnn, ConvolutionPassesMatchAReference) {
  MASKOFF_REQUIRE_CUDA();
  // Heights and widths differ in every parameter, so one applied to the wrong axis shows;
  // the filters are not square, so a filter flipped along one axis only shows.
  const Geometry cases[] = {
      {"groups 1, stride 2x1, padding 1x2", 2, 3, 9, 8, 4, 3, 3, 1, 1, 2, 2, 1, 1, 1,
       CUDNN_CROSS_CORRELATION},
      {"groups 2, stride 1x2, padding 2x1, dilation 2, convolution mode", 2, 4, 10, 9, 6, 3, 2, 2,
       2, 1, 1, 2, 2, 2, CUDNN_CONVOLUTION},
      {"depthwise x2, stride 2, padding 0x2, dilation 1x2, convolution mode", 1, 5, 8, 11, 10, 2, 3,
       5, 0, 2, 2, 2, 1, 2, CUDNN_CONVOLUTION},
      {"groups 1, stride 1x2, padding 2x1, dilation 2, cross-correlation", 2, 3, 8, 9, 2, 3, 2, 1,
       2, 1, 1, 2, 2, 2, CUDNN_CROSS_CORRELATION},
  };
  const float alpha = 0.7f, beta = 0.3f;
  for (const Geometry& g : cases) {
    SCOPED_TRACE(g.name);
    const uint64_t seed = fresh_seed();
    SCOPED_TRACE(seed_note(seed));
    std::mt19937_64 rng(seed);
    const Problem p = random_problem(g, rng);
    const Descriptors d(g, CUDNN_FMA_MATH);
    EXPECT_EQ(d.out[0], g.n);
    EXPECT_EQ(d.out[1], g.k);
    EXPECT_EQ(d.out[2], g.out_h());
    EXPECT_EQ(d.out[3], g.out_w());
    if (d.out[2] != g.out_h() || d.out[3] != g.out_w()) continue;
    DeviceProblem b(g, p);
    for (Pass pass : kPasses) {
      const Reference want = reference(pass, g, p, alpha, beta);
      const int ran = run_every_algorithm(
          pass, d, b, p, alpha, beta, [&](const std::vector<float>& got, int algo) {
            return matches(got, want, tol_bound(fma_tol(pass, algo)));
          });
      EXPECT_GE(ran, 1) << pass_name(pass) << ": no algorithm ran";
#ifdef MASKOFF_CUDA_SIM
      // The direct loop and the column-matrix product: both implementations are checked.
      EXPECT_EQ(ran, 2) << pass_name(pass);
#endif
    }
  }
}

TEST(CudaDnn, GroupCountMustMatchTheChannels) {
  MASKOFF_REQUIRE_CUDA();
  cudnnTensorDescriptor_t x = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  MASKOFF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
  MASKOFF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
  MASKOFF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  MASKOFF_CUDNN_CHECK(
      cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 8, 6, 6));
  // 4 input channels per group: right for 2 groups of the 8 input channels only.
  MASKOFF_CUDNN_CHECK(
      cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 8, 4, 3, 3));
  MASKOFF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  int n = -1, c = -1, h = -1, wd = -1;
  // The group count left at its default of 1.
  EXPECT_EQ(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd),
            CUDNN_STATUS_BAD_PARAM);
  MASKOFF_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, 4));
  EXPECT_EQ(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd),
            CUDNN_STATUS_BAD_PARAM);
  MASKOFF_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, 2));
  EXPECT_EQ(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(c, 8);
  EXPECT_EQ(h, 6);
  EXPECT_EQ(wd, 6);
  cudnnDestroyConvolutionDescriptor(conv);
  cudnnDestroyFilterDescriptor(w);
  cudnnDestroyTensorDescriptor(x);
}

#ifdef MASKOFF_CUDA_SIM
// The simulator's column-matrix algorithm of each pass: the one that uses a workspace.
int workspace_algo(Pass pass) {
  switch (pass) {
    case Pass::kForward:
      return CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
    case Pass::kData:
      return CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    case Pass::kFilter:
      return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  }
  return -1;
}
#endif

TEST(CudaDnn, FindRunsUsableAlgorithms) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  const Geometry g{"groups 2, stride 2",   2, 4, 8, 7, 6, 3, 3, 2, 1, 1, 2, 2, 1, 1,
                   CUDNN_CROSS_CORRELATION};
  const Problem p = random_problem(g, rng);
  const Descriptors d(g, CUDNN_FMA_MATH);
  DeviceProblem b(g, p);
  const float alpha = 0.7f, beta = 0.3f;
  for (Pass pass : kPasses) {
    SCOPED_TRACE(pass_name(pass));
    size_t largest = 0;
    for (const Algo& a : heuristics(pass, d))
      if (a.status == CUDNN_STATUS_SUCCESS) largest = std::max(largest, a.memory);
    DeviceBytes ws(largest);
    const std::vector<Algo> found = find(pass, d, b, ws);
    const auto first = std::find_if(found.begin(), found.end(),
                                    [](const Algo& a) { return a.status == CUDNN_STATUS_SUCCESS; });
    ASSERT_NE(first, found.end()) << "no algorithm succeeded";
    EXPECT_LE(first->memory, largest);
    SCOPED_TRACE("algorithm " + std::to_string(first->algo));
    const Reference want = reference(pass, g, p, alpha, beta);
    b.out(pass).upload(p.dst0(pass));
    MASKOFF_CUDNN_CHECK(run(pass, d, b, first->algo, alpha, beta, ws.get(), ws.bytes()));
    EXPECT_TRUE(matches(b.out(pass).floats(), want, tol_bound(fma_tol(pass, first->algo))));
#ifdef MASKOFF_CUDA_SIM
    // The search ranks the column-matrix algorithm first, and it works in the workspace:
    // after a pass over a workspace of NaN bytes, the result is right (nothing was read
    // before it was written) and the workspace holds something else.
    EXPECT_EQ(found.front().algo, workspace_algo(pass));
    EXPECT_EQ(found.front().status, CUDNN_STATUS_SUCCESS);
    ASSERT_GT(first->memory, 0u);
    ws.fill(0xFF);
    b.out(pass).upload(p.dst0(pass));
    MASKOFF_CUDNN_CHECK(run(pass, d, b, first->algo, alpha, beta, ws.get(), first->memory));
    EXPECT_TRUE(matches(b.out(pass).floats(), want, tol_bound(kStrict)));
    const std::vector<unsigned char> bytes = ws.raw();
    EXPECT_TRUE(std::any_of(bytes.begin(), bytes.end(), [](unsigned char c) { return c != 0xFF; }))
        << "the workspace was never written";
    // One byte short is refused before anything runs: the output keeps its values.
    b.out(pass).upload(p.dst0(pass));
    EXPECT_EQ(run(pass, d, b, first->algo, alpha, beta, ws.get(), first->memory - 1),
              CUDNN_STATUS_BAD_PARAM);
    EXPECT_EQ(b.out(pass).floats(), p.dst0(pass));
#endif
  }
}

TEST(CudaDnn, Tf32MathIsLooserThanFmaMath) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  // 16 channels x 3x3 taps: up to 144 products per output.
  const Geometry g{"3x3, 16 channels",     2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                   CUDNN_CROSS_CORRELATION};
  Problem p = random_problem(g, rng);
  nan_destinations(g, &p);
  const Reference want = reference(Pass::kForward, g, p, 1.0, 0.0);
  DeviceProblem b(g, p);
  const auto strict = [&](const std::vector<float>& got, int algo) {
    return matches(got, want, tol_bound(fma_tol(Pass::kForward, algo)));
  };
  const auto tf32 = [&](const std::vector<float>& got, int algo) {
    const Tol t = fma_tol(Pass::kForward, algo);
    ::testing::AssertionResult r = matches(got, want, [&](const Reference& ref, size_t e) {
      return tf32_bound(ref, e) + t.atol + t.rtol * ref.abs_sum[e];
    });
#ifdef MASKOFF_CUDA_SIM
    // The simulator always rounds to TF32 here, so the result must be visibly less precise
    // than strict float32 (a GPU may still pick an FMA kernel).
    if (r && matches(got, want, tol_bound(kStrict)))
      return ::testing::AssertionFailure() << "CUDNN_TENSOR_OP_MATH gave strict float32";
#endif
    return r;
  };
  {
    SCOPED_TRACE("CUDNN_FMA_MATH");
    const Descriptors d(g, CUDNN_FMA_MATH);
    EXPECT_GE(run_every_algorithm(Pass::kForward, d, b, p, 1.f, 0.f, strict), 1);
  }
  {
    SCOPED_TRACE("CUDNN_TENSOR_OP_MATH");
    const Descriptors d(g, CUDNN_TENSOR_OP_MATH);
    EXPECT_GE(run_every_algorithm(Pass::kForward, d, b, p, 1.f, 0.f, tf32), 1);
  }
#ifdef MASKOFF_CUDA_SIM
  // A designed case: 1 + 2^-12 is a float32 that TF32's 10-bit mantissa rounds to 1.
  const Geometry one{"1x1", 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION};
  Problem q = random_problem(one, rng);
  const float tiny = 1.f + std::ldexp(1.f, -12);
  q.x = {tiny};
  q.w = {1.f};
  nan_destinations(one, &q);
  DeviceProblem c(one, q);
  for (cudnnMathType_t math : {CUDNN_FMA_MATH, CUDNN_TENSOR_OP_MATH}) {
    SCOPED_TRACE(math == CUDNN_FMA_MATH ? "1x1, CUDNN_FMA_MATH" : "1x1, CUDNN_TENSOR_OP_MATH");
    const float expected = math == CUDNN_FMA_MATH ? tiny : 1.f;
    const auto exact = [&](const std::vector<float>& got, int) {
      if (got.size() == 1 && got[0] == expected) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << "got " << got[0] << ", want " << expected;
    };
    const Descriptors d(one, math);
    EXPECT_EQ(run_every_algorithm(Pass::kForward, d, c, q, 1.f, 0.f, exact), 2);
  }
#endif
}

TEST(CudaDnn, PassesMatchTheCpuEngine) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE(seed_note(seed));
  std::mt19937_64 rng(seed);
  // The engine's conv2d is a cross-correlation without dilation; its padding may be
  // asymmetric, cuDNN's is not.
  const Geometry g{"groups 2, stride 2x1, padding 1x2",
                   2,
                   4,
                   9,
                   7,
                   6,
                   3,
                   3,
                   2,
                   1,
                   2,
                   2,
                   1,
                   1,
                   1,
                   CUDNN_CROSS_CORRELATION};
  Problem p = random_problem(g, rng);
  nan_destinations(g, &p);
  Conv2dOptions o;
  o.stride_h = g.u;
  o.stride_w = g.v;
  o.pad_top = o.pad_bottom = g.pad_h;
  o.pad_left = o.pad_right = g.pad_w;
  o.groups = g.groups;
  Tensor x = from_vector(p.x, {g.n, g.c, g.h, g.w}).set_requires_grad(true);
  Tensor w = from_vector(p.w, {g.k, g.cg(), g.r, g.s}).set_requires_grad(true);
  const Shape y_shape{g.n, g.k, g.out_h(), g.out_w()};
  const Tensor y = conv2d(x, w, Tensor(), o);
  ASSERT_EQ(y.shape(), y_shape);
  y.backward(from_vector(p.dy, y_shape));
  const Tensor want[3] = {y.detach(), x.grad(), w.grad()};

  const Descriptors d(g, CUDNN_FMA_MATH);
  DeviceProblem b(g, p);
  for (Pass pass : kPasses) {
    const Shape& shape = want[static_cast<int>(pass)].shape();
    const int ran =
        run_every_algorithm(pass, d, b, p, 1.f, 0.f, [&](const std::vector<float>& got, int) {
          return testing::close_to(from_vector(got, shape), want[static_cast<int>(pass)],
                                   testing::kTolConv, pass_name(pass));
        });
    EXPECT_GE(ran, 1) << pass_name(pass);
  }
}

}  // namespace
}  // namespace maskoff::testing
#endif  // MASKOFF_WITH_CUDA
