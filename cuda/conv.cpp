// cuDNN convolutions with a plan cache.
//
// A plan holds the tensor, filter and convolution descriptors of one geometry in one math
// mode, and the algorithm of each pass, found the first time that pass runs (cuDNN's
// heuristics list the candidates, cudnnFind*AlgorithmEx times them on the real buffers,
// and the fastest that fits the workspace cap wins). Later calls with the same geometry
// reuse everything: no descriptor calls, no search, no allocation. All passes share one
// workspace that only grows.
//
// Math type. cuDNN's CUDNN_DEFAULT_MATH lets float32 convolutions use TF32 tensor cores on
// Ampere and later GPUs, which rounds the inputs to a 10-bit mantissa: not the float32 the
// CPU reference computes. Strict float32 therefore sets CUDNN_FMA_MATH (FMA kernels only);
// with backend::set_tf32(true) the plan sets CUDNN_TENSOR_OP_MATH (tensor cores allowed,
// still no down-conversion to half precision, which _ALLOW_CONVERSION would permit).
//
// Padding. cuDNN pads symmetrically. When the geometry's top/left padding p also gives the
// right number of outputs with p at the bottom/right (the usual case, and always for a
// transposed convolution), cuDNN runs it directly. Otherwise the input is copied into the
// window the kernel actually sweeps ((oh-1)*stride + kh rows, starting at row -pad_top, with
// zeros outside the input) and convolved with no padding; the input gradient is computed in
// that window and cut back out.
#include "cuda/conv.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/bias.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/device_buffer.h"
#include "cuda/window.h"

namespace maskoff::cuda {

namespace {

// Algorithms that want more workspace than this are passed over.
constexpr size_t kMaxWorkspace = size_t{1} << 30;

struct Key {
  int64_t v[15];
  bool operator==(const Key& o) const { return std::memcmp(v, o.v, sizeof v) == 0; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 1469598103934665603ull;
    for (int64_t e : k.v) h = (h ^ static_cast<size_t>(e)) * 1099511628211ull;
    return h;
  }
};

Key key_of(const cpu::ConvGeom& g, bool tf32_on) {
  return Key{{g.n, g.cin, g.h, g.w, g.cout, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w,
              g.pad_top, g.pad_left, g.groups, tf32_on ? 1 : 0}};
}

int as_int(int64_t v, const char* what) {
  MASKOFF_CHECK(v >= 0 && v <= INT_MAX,
                "cuDNN convolution: " << what << " " << v << " exceeds cuDNN's int range");
  return static_cast<int>(v);
}

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool padded = false;     // convolve an explicitly padded copy of x
  int64_t xh = 0, xw = 0;  // extent of the input cuDNN sees
  bool have_fwd = false, have_data = false, have_filter = false;
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t data{};
  cudnnConvolutionBwdFilterAlgo_t filter{};
  size_t fwd_ws = 0, data_ws = 0, filter_ws = 0;
};

struct State {
  std::mutex mutex;
  std::unordered_map<Key, std::unique_ptr<Plan>, KeyHash> plans;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  ConvCacheStats stats;
};
// Never destroyed (see cuda/context.cpp).
State& state() {
  static State* s = new State();
  return *s;
}

void* workspace(State& s, size_t bytes) {
  if (bytes <= s.workspace_bytes) return s.workspace;
  // Kernels queued earlier may still use the old buffer: let them finish first.
  MASKOFF_CUDA_CHECK(cudaStreamSynchronize(stream()));
  if (s.workspace) MASKOFF_CUDA_CHECK(cudaFree(s.workspace));
  s.workspace = nullptr;
  s.workspace_bytes = 0;
  MASKOFF_CUDA_CHECK(cudaMalloc(&s.workspace, bytes));
  s.workspace_bytes = bytes;
  s.stats.workspace_bytes = bytes;
  ++s.stats.workspace_grows;
  return s.workspace;
}

// cuDNN's own output size for symmetric padding p (floor division, as ours).
int64_t cudnn_out(int64_t in, int64_t k, int64_t stride, int64_t p) {
  return (in + 2 * p - k) / stride + 1;
}

bool direct_ok(const cpu::ConvGeom& g) {
  return g.pad_top >= 0 && g.pad_left >= 0 && g.pad_top < g.kh && g.pad_left < g.kw &&
         g.h + 2 * g.pad_top >= g.kh && g.w + 2 * g.pad_left >= g.kw &&
         cudnn_out(g.h, g.kh, g.stride_h, g.pad_top) == g.oh &&
         cudnn_out(g.w, g.kw, g.stride_w, g.pad_left) == g.ow;
}

Plan* plan_for(State& s, const cpu::ConvGeom& g) {
  const bool tf32_on = tf32();
  const Key key = key_of(g, tf32_on);
  auto it = s.plans.find(key);
  if (it != s.plans.end()) return it->second.get();

  auto p = std::make_unique<Plan>();
  p->padded = !direct_ok(g);
  p->xh = p->padded ? (g.oh - 1) * g.stride_h + g.kh : g.h;
  p->xw = p->padded ? (g.ow - 1) * g.stride_w + g.kw : g.w;
  const int pad_h = p->padded ? 0 : as_int(g.pad_top, "padding");
  const int pad_w = p->padded ? 0 : as_int(g.pad_left, "padding");
  const int n = as_int(g.n, "batch"), cin = as_int(g.cin, "input channels");
  const int cout = as_int(g.cout, "output channels");

  MASKOFF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x));
  MASKOFF_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y));
  MASKOFF_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
  MASKOFF_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
  MASKOFF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, cin,
                                                 as_int(p->xh, "height"), as_int(p->xw, "width")));
  MASKOFF_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, cout,
                                                 as_int(g.oh, "height"), as_int(g.ow, "width")));
  MASKOFF_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cout,
                                                 as_int(g.cin_g(), "channels per group"),
                                                 as_int(g.kh, "kernel"), as_int(g.kw, "kernel")));
  MASKOFF_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
      p->conv, pad_h, pad_w, as_int(g.stride_h, "stride"), as_int(g.stride_w, "stride"), 1, 1,
      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  MASKOFF_CUDNN_CHECK(cudnnSetConvolutionGroupCount(p->conv, as_int(g.groups, "groups")));
  MASKOFF_CUDNN_CHECK(
      cudnnSetConvolutionMathType(p->conv, tf32_on ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));

  int on = 0, oc = 0, oh = 0, ow = 0;
  MASKOFF_CUDNN_CHECK(
      cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &on, &oc, &oh, &ow));
  MASKOFF_CHECK(on == g.n && oc == g.cout && oh == g.oh && ow == g.ow,
                "cuDNN convolution: expected output ["
                    << g.n << ", " << g.cout << ", " << g.oh << ", " << g.ow
                    << "], cuDNN computes [" << on << ", " << oc << ", " << oh << ", " << ow
                    << "]");
  ++s.stats.plans;
  Plan* raw = p.get();
  s.plans.emplace(key, std::move(p));
  return raw;
}

bool math_ok(cudnnMathType_t m, bool tf32_on) {
  return tf32_on || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

// The largest workspace any candidate wants, capped.
template <class Perf>
size_t workspace_limit(const std::vector<Perf>& cands, int count) {
  size_t limit = 0;
  for (int i = 0; i < count; ++i)
    if (cands[i].status == CUDNN_STATUS_SUCCESS && cands[i].memory <= kMaxWorkspace)
      limit = std::max(limit, cands[i].memory);
  return limit;
}

// The fastest timed algorithm that succeeded, fits and has the right math type.
template <class Perf, class Algo>
bool pick(const std::vector<Perf>& found, int count, size_t limit, bool tf32_on, Algo& algo,
          size_t& ws) {
  for (int i = 0; i < count; ++i) {
    const Perf& f = found[i];
    if (f.status == CUDNN_STATUS_SUCCESS && f.memory <= limit && math_ok(f.mathType, tf32_on)) {
      algo = f.algo;
      ws = f.memory;
      return true;
    }
  }
  return false;
}

void find_forward(State& s, Plan& p, const float* x, const float* w, float* y) {
  cudnnHandle_t h = cudnn();
  int max = 0, count = 0;
  MASKOFF_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max));
  MASKOFF_CUDNN_CHECK(
      cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, max, &count, perf.data()));
  const size_t limit = workspace_limit(perf, count);
  void* ws = workspace(s, limit);
  MASKOFF_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, p.x, x, p.w, w, p.conv, p.y, y, max,
                                                             &count, perf.data(), ws, limit));
  MASKOFF_CHECK(pick(perf, count, limit, tf32(), p.fwd, p.fwd_ws),
                "cuDNN found no usable forward convolution algorithm");
  p.have_fwd = true;
  ++s.stats.searches;
}

void find_backward_data(State& s, Plan& p, const float* w, const float* dy, float* dx) {
  cudnnHandle_t h = cudnn();
  int max = 0, count = 0;
  MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max));
  MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, max,
                                                                  &count, perf.data()));
  const size_t limit = workspace_limit(perf, count);
  void* ws = workspace(s, limit);
  MASKOFF_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
      h, p.w, w, p.y, dy, p.conv, p.x, dx, max, &count, perf.data(), ws, limit));
  MASKOFF_CHECK(pick(perf, count, limit, tf32(), p.data, p.data_ws),
                "cuDNN found no usable backward-data convolution algorithm");
  p.have_data = true;
  ++s.stats.searches;
}

void find_backward_filter(State& s, Plan& p, const float* x, const float* dy, float* dw) {
  cudnnHandle_t h = cudnn();
  int max = 0, count = 0;
  MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max));
  MASKOFF_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w, max,
                                                                    &count, perf.data()));
  const size_t limit = workspace_limit(perf, count);
  void* ws = workspace(s, limit);
  MASKOFF_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
      h, p.x, x, p.y, dy, p.conv, p.w, dw, max, &count, perf.data(), ws, limit));
  MASKOFF_CHECK(pick(perf, count, limit, tf32(), p.filter, p.filter_ws),
                "cuDNN found no usable backward-filter convolution algorithm");
  p.have_filter = true;
  ++s.stats.searches;
}

// The input as cuDNN sees it: x itself, or its padded window copied into `buf`.
const float* conv_input(const cpu::ConvGeom& g, const Plan& p, const float* x,
                        std::unique_ptr<DeviceBuffer>& buf) {
  if (!p.padded) return x;
  buf = std::make_unique<DeviceBuffer>(static_cast<size_t>(g.n * g.cin * p.xh * p.xw) *
                                       sizeof(float));
  copy_window(x, g.n * g.cin, g.h, g.w, buf->as<float>(), p.xh, p.xw, -g.pad_top, -g.pad_left);
  return buf->as<float>();
}

}  // namespace

void conv2d_forward(const cpu::ConvGeom& g, const float* x, const float* w, const float* bias,
                    float* y) {
  if (g.n == 0 || g.cout == 0) return;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Plan& p = *plan_for(s, g);
  std::unique_ptr<DeviceBuffer> padded;
  const float* xin = conv_input(g, p, x, padded);
  if (!p.have_fwd) find_forward(s, p, xin, w, y);
  const float one = 1.f, zero = 0.f;
  MASKOFF_CUDNN_CHECK(cudnnConvolutionForward(cudnn(), &one, p.x, xin, p.w, w, p.conv, p.fwd,
                                              workspace(s, p.fwd_ws), p.fwd_ws, &zero, p.y, y));
  if (bias) add_channel_bias(y, bias, g.n, g.cout, g.out_plane());
}

void conv2d_backward_data(const cpu::ConvGeom& g, const float* w, const float* dy, float* dx) {
  if (g.n == 0 || g.cin == 0) return;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Plan& p = *plan_for(s, g);
  std::unique_ptr<DeviceBuffer> padded;
  float* dxin = dx;
  if (p.padded) {
    padded = std::make_unique<DeviceBuffer>(static_cast<size_t>(g.n * g.cin * p.xh * p.xw) *
                                            sizeof(float));
    dxin = padded->as<float>();
  }
  if (!p.have_data) find_backward_data(s, p, w, dy, dxin);
  const float one = 1.f, zero = 0.f;
  MASKOFF_CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn(), &one, p.w, w, p.y, dy, p.conv, p.data,
                                                   workspace(s, p.data_ws), p.data_ws, &zero, p.x,
                                                   dxin));
  // Input elements outside the swept window (possible when the bottom/right padding is
  // negative) get zero, which is their true gradient.
  if (p.padded) copy_window(dxin, g.n * g.cin, p.xh, p.xw, dx, g.h, g.w, g.pad_top, g.pad_left);
}

void conv2d_backward_filter(const cpu::ConvGeom& g, const float* x, const float* dy, float* dw) {
  if (g.cout == 0 || g.k_g() == 0) return;
  if (g.n == 0) {  // no samples: the gradient is zero, not undefined
    MASKOFF_CUDA_CHECK(
        cudaMemsetAsync(dw, 0, static_cast<size_t>(g.cout * g.k_g()) * sizeof(float), stream()));
    return;
  }
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Plan& p = *plan_for(s, g);
  std::unique_ptr<DeviceBuffer> padded;
  const float* xin = conv_input(g, p, x, padded);
  if (!p.have_filter) find_backward_filter(s, p, xin, dy, dw);
  const float one = 1.f, zero = 0.f;
  MASKOFF_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn(), &one, p.x, xin, p.y, dy, p.conv,
                                                     p.filter, workspace(s, p.filter_ws),
                                                     p.filter_ws, &zero, p.w, dw));
}

ConvCacheStats conv_cache_stats() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.stats;
}

}  // namespace maskoff::cuda
