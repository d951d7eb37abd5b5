// Every hand-written CUDA kernel at the shapes pix2pix's U-Net-256 and PatchGAN run it on
// (batch 1), timed with CUDA events. Bytes counted are what the kernel must read and write
// at least once; the floor beside each result is those bytes over the device-to-device copy
// bandwidth measured at start-up (of_floor = floor / time: 1.0 = memory-bound at the copy
// speed). Adam runs over the parameter list of the real U-Net-256 in one launch.
//
// It times; it does not check results. Its correctness check is the Cuda* tests
// (tests/cuda_<family>_test.cpp), which compare every kernel timed here with its CPU
// reference and which bench/gpu_check.sh runs on the same build before this program.
//
//   ./cuda_ops_bench [--benchmark_filter=BatchNorm] [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include "bench/cuda_bench_util.h"
#include "tensor/backend.h"

#ifdef MASKOFF_WITH_CUDA
#include <vector>

#include "cuda/adam.h"
#include "cuda/bias.h"
#include "cuda/dropout.h"
#include "cuda/elementwise.h"
#include "cuda/losses.h"
#include "cuda/norm.h"
#include "cuda/pool.h"
#include "cuda/reduce.h"
#include "cuda/resize.h"
#include "cuda/shape_ops.h"
#include "cuda/upsample.h"
#include "cuda/window.h"
#include "models/pix2pix.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace maskoff {
namespace {

constexpr double kF = sizeof(float);

// Device tensors with random values (fixed seed).
Tensor dev(const Shape& s, double lo = -1.0, double hi = 1.0) {
  static Generator g(7);
  return rand(s, g, DType::F32, Device::cpu(), lo, hi).to(Device::cuda());
}
float* p(const Tensor& t) { return t.data<float>(); }

// An activation of the U-Net at 128x128 with 64 channels (enc1's output): 1M elements.
const Shape kAct = {1, 64, 128, 128};
const double kActN = 64.0 * 128 * 128;

#define GPU_OR_SKIP(st) \
  if (!bench::have_gpu(st)) return

void BM_Relu(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::relu(p(x), p(y), x.numel()); }, 2 * kF * kActN, 0);
}
void BM_ReluBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), dy = dev(kAct), dx = dev(kAct);
  bench::run(
      st, [&] { cuda::relu_backward(p(x), p(dy), p(dx), x.numel()); }, 3 * kF * kActN, 0);
}
void BM_LeakyRelu(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::leaky_relu(p(x), p(y), x.numel(), 0.2f); }, 2 * kF * kActN, 0);
}
void BM_LeakyReluBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), dy = dev(kAct), dx = dev(kAct);
  bench::run(
      st, [&] { cuda::leaky_relu_backward(p(x), p(dy), p(dx), x.numel(), 0.2f); }, 3 * kF * kActN,
      0);
}
void BM_Tanh(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::tanh(p(x), p(y), x.numel()); }, 2 * kF * kActN, 0);
}
void BM_TanhBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor y = dev(kAct), dy = dev(kAct), dx = dev(kAct);
  bench::run(
      st, [&] { cuda::tanh_backward(p(y), p(dy), p(dx), y.numel()); }, 3 * kF * kActN, 0);
}
void BM_Sigmoid(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::sigmoid(p(x), p(y), x.numel()); }, 2 * kF * kActN, 0);
}
void BM_Add(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kAct), b = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::add(p(a), p(b), p(y), a.numel()); }, 3 * kF * kActN, 0);
}
void BM_Affine(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::affine(p(x), p(y), x.numel(), 100.f, 0.f); }, 2 * kF * kActN, 0);
}
void BM_Axpy(benchmark::State& st) {  // gradient accumulation
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::axpy(p(x), p(y), x.numel(), 1.f); }, 3 * kF * kActN, 0);
}
void BM_Dropout(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev(kAct);
  bench::run(
      st, [&] { cuda::dropout_mask(p(x), p(y), x.numel(), 1, 0, 0.5f, 2.f); }, 2 * kF * kActN, 0);
}
// A U-Net skip connection: two [1, 64, 128, 128] halves into [1, 128, 128, 128].
void BM_ConcatChannels(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kAct), b = dev(kAct), y = dev({1, 128, 128, 128});
  const int64_t run = a.numel();
  bench::run(
      st,
      [&] {
        cuda::copy_blocks(p(a), run, p(y), 2 * run, 1, run);
        cuda::copy_blocks(p(b), run, p(y) + run, 2 * run, 1, run);
      },
      4 * kF * kActN, 0);
}
void BM_SumAll(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev({1});
  bench::run(
      st, [&] { cuda::sum_middle(p(x), p(y), 1, x.numel(), 1, 1.0); }, kF * kActN, 0);
}
void BM_SumPerChannel(benchmark::State& st) {  // [64, 16384] rows: one block per output
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev({64});
  bench::run(
      st, [&] { cuda::sum_middle(p(x), p(y), 64, 128 * 128, 1, 1.0); }, kF * kActN, 0);
}
void BM_SumOverBatch(benchmark::State& st) {  // [1, 64, 16384] over dim 1: thread per output
  GPU_OR_SKIP(st);
  Tensor x = dev(kAct), y = dev({128 * 128});
  bench::run(
      st, [&] { cuda::sum_middle(p(x), p(y), 1, 64, 128 * 128, 1.0); }, kF * kActN, 0);
}
void BM_Expand(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor gy = dev({64}), gx = dev(kAct);
  bench::run(
      st, [&] { cuda::expand_middle(p(gy), p(gx), 64, 128 * 128, 1, 1.f); }, kF * kActN, 0);
}

// Batch norm after enc2 (128 channels at 64x64) and in the bottleneck (512 at 2x2).
Shape bn_shape(const benchmark::State& st) { return {1, st.range(0), st.range(1), st.range(1)}; }
void BM_BatchNormTrain(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const Shape s = bn_shape(st);
  const cpu::BatchNormDims d{s[0], s[1], s[2] * s[3]};
  Tensor x = dev(s), y = dev(s), gamma = dev({s[1]}), beta = dev({s[1]}), mean = dev({s[1]});
  Tensor invstd = dev({s[1]}), rm = dev({s[1]}), rv = dev({s[1]}, 0.5, 1.5);
  bench::run(
      st,
      [&] {
        cuda::batch_norm_train(p(x), p(gamma), p(beta), 1e-5f, d, p(y), p(mean), p(invstd), p(rm),
                               p(rv), 0.1);
      },
      2 * kF * x.numel(), 0);
}
void BM_BatchNormBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const Shape s = bn_shape(st);
  const cpu::BatchNormDims d{s[0], s[1], s[2] * s[3]};
  Tensor x = dev(s), dy = dev(s), dx = dev(s), gamma = dev({s[1]}), mean = dev({s[1]});
  Tensor invstd = dev({s[1]}, 0.5, 1.5), dg = dev({s[1]}), db = dev({s[1]});
  bench::run(
      st,
      [&] {
        cuda::batch_norm_backward(p(x), p(dy), p(mean), p(invstd), p(gamma), true, d, p(dx), p(dg),
                                  p(db));
      },
      3 * kF * x.numel(), 0);
}
void BM_BatchNormEval(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const Shape s = bn_shape(st);
  const cpu::BatchNormDims d{s[0], s[1], s[2] * s[3]};
  Tensor x = dev(s), y = dev(s), gamma = dev({s[1]}), beta = dev({s[1]}), mean = dev({s[1]});
  Tensor invstd = dev({s[1]}), rm = dev({s[1]}), rv = dev({s[1]}, 0.5, 1.5);
  bench::run(
      st,
      [&] {
        cuda::batch_norm_eval(p(x), p(rm), p(rv), p(gamma), p(beta), 1e-5, d, p(y), p(mean),
                              p(invstd));
      },
      2 * kF * x.numel(), 0);
}

void BM_MaxPool2x2(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::PoolGeom g{128, 128, 64, 64, 2, 2, 0};
  Tensor x = dev(kAct), y = dev({1, 64, 64, 64});
  bench::run(
      st, [&] { cuda::max_pool2d(p(x), p(y), 64, g); }, 1.25 * kF * kActN, 0);
}
void BM_MaxPool2x2Backward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::PoolGeom g{128, 128, 64, 64, 2, 2, 0};
  Tensor x = dev(kAct), dy = dev({1, 64, 64, 64}), dx = dev(kAct);
  bench::run(
      st, [&] { cuda::max_pool2d_backward(p(x), p(dy), p(dx), 64, g); }, 2.25 * kF * kActN, 0);
}
void BM_AvgPool3x3Pad(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::PoolGeom g{128, 128, 64, 64, 3, 2, 1};
  Tensor x = dev(kAct), y = dev({1, 64, 64, 64});
  bench::run(
      st, [&] { cuda::avg_pool2d(p(x), p(y), 64, g, false); }, 1.25 * kF * kActN, 0);
}
void BM_AvgPool3x3PadBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::PoolGeom g{128, 128, 64, 64, 3, 2, 1};
  Tensor dy = dev({1, 64, 64, 64}), dx = dev(kAct);
  bench::run(
      st, [&] { cuda::avg_pool2d_backward(p(dy), p(dx), 64, g, false); }, 1.25 * kF * kActN, 0);
}

// Image-sized resizes: 256 -> 128 and 128 -> 256, 3 channels; 64 channels 64 -> 128.
void BM_ResizeBilinear(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const int64_t c = st.range(0), in = st.range(1), out = st.range(2);
  const cpu::ResizeGeom g{in, in, out, out};
  const auto taps = cpu::lerp_taps<float>(in, out, false);
  Tensor x = dev({1, c, in, in}), y = dev({1, c, out, out});
  bench::run(
      st, [&] { cuda::resize_bilinear(p(x), p(y), c, g, taps.data(), taps.data()); },
      kF * static_cast<double>(x.numel() + y.numel()), 0);
}
void BM_ResizeBilinearBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const int64_t c = st.range(0), in = st.range(1), out = st.range(2);
  const cpu::ResizeGeom g{in, in, out, out};
  const auto taps = cpu::lerp_taps<float>(in, out, false);
  Tensor dx = dev({1, c, in, in}), dy = dev({1, c, out, out});
  bench::run(
      st, [&] { cuda::resize_bilinear_backward(p(dy), p(dx), c, g, taps.data(), taps.data()); },
      kF * static_cast<double>(dx.numel() + dy.numel()), 0);
}

// The face detector's neck: 64 channels of a 640x480 photo's stride-16 and stride-32 maps
// (30x40 and 15x20) doubled. Forward reads x and writes 4x; backward the reverse.
void BM_UpsampleNearest2x(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::UpsampleGeom g{st.range(0), st.range(1), 2};
  Tensor x = dev({1, 64, g.h, g.w}), y = dev({1, 64, g.oh(), g.ow()});
  bench::run(
      st, [&] { cuda::upsample_nearest(p(x), p(y), 64, g); },
      kF * static_cast<double>(x.numel() + y.numel()), 0);
}
void BM_UpsampleNearest2xBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  const cpu::UpsampleGeom g{st.range(0), st.range(1), 2};
  Tensor dx = dev({1, 64, g.h, g.w}), dy = dev({1, 64, g.oh(), g.ow()});
  bench::run(
      st, [&] { cuda::upsample_nearest_backward(p(dy), p(dx), 64, g); },
      kF * static_cast<double>(dx.numel() + dy.numel()), 0);
}

// The losses on a 256x256 RGB image (L1, MSE, masked MSE) and on the 30x30 PatchGAN logits.
const Shape kImage = {1, 3, 256, 256};
const double kImageN = 3.0 * 256 * 256;
void BM_L1Loss(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kImage), b = dev(kImage), y = dev({1});
  bench::run(
      st, [&] { cuda::l1(p(a), p(b), a.numel(), p(y)); }, 2 * kF * kImageN, 0);
}
void BM_L1LossBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kImage), b = dev(kImage), gy = dev({1}), da = dev(kImage);
  bench::run(
      st, [&] { cuda::l1_backward(p(a), p(b), p(gy), a.numel(), p(da), nullptr); },
      3 * kF * kImageN, 0);
}
void BM_MseLoss(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kImage), b = dev(kImage), y = dev({1});
  bench::run(
      st, [&] { cuda::mse(p(a), p(b), a.numel(), p(y)); }, 2 * kF * kImageN, 0);
}
void BM_MaskedMseLoss(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kImage), b = dev(kImage), m = dev({1, 1, 256, 256}, 0, 1), y = dev({1});
  const cpu::MaskedShape sh{1, 3, 256 * 256, 1};
  bench::run(
      st, [&] { cuda::masked_mse(p(a), p(b), p(m), sh, p(y)); }, kF * (2 * kImageN + kImageN / 3),
      0);
}
void BM_MaskedMseLossBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor a = dev(kImage), b = dev(kImage), m = dev({1, 1, 256, 256}, 0, 1), gy = dev({1});
  Tensor da = dev(kImage);
  const cpu::MaskedShape sh{1, 3, 256 * 256, 1};
  bench::run(
      st, [&] { cuda::masked_mse_backward(p(a), p(b), p(m), sh, p(gy), p(da), nullptr); },
      kF * (3 * kImageN + 2 * kImageN / 3), 0);
}
void BM_BceWithLogits(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev({1, 1, 30, 30}), y = dev({1});
  bench::run(
      st, [&] { cuda::bce_with_logits(p(x), nullptr, 1.f, x.numel(), p(y)); }, kF * 900, 0);
}
void BM_BceWithLogitsBackward(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev({1, 1, 30, 30}), gy = dev({1}), dx = dev({1, 1, 30, 30});
  bench::run(
      st,
      [&] { cuda::bce_with_logits_backward(p(x), nullptr, 1.f, p(gy), x.numel(), p(dx), nullptr); },
      2 * kF * 900, 0);
}

void BM_ChannelBiasAdd(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor y = dev(kAct), b = dev({64});
  bench::run(
      st, [&] { cuda::add_channel_bias(p(y), p(b), 1, 64, 128 * 128); }, 2 * kF * kActN, 0);
}
void BM_ChannelBiasGrad(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor dy = dev(kAct), db = dev({64});
  bench::run(
      st, [&] { cuda::channel_bias_grad(p(dy), 1, 64, 128 * 128, p(db)); }, kF * kActN, 0);
}
// The explicit padding of an asymmetrically padded convolution: 128 x 64 x 64 into 65 x 65.
void BM_PadWindow(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Tensor x = dev({1, 128, 64, 64}), y = dev({1, 128, 65, 65});
  bench::run(
      st, [&] { cuda::copy_window(p(x), 128, 64, 64, p(y), 65, 65, 0, 0); },
      kF * static_cast<double>(x.numel() + y.numel()), 0);
}

// One Adam step over the 54M parameters of pix2pix's U-Net-256, all in one launch.
void BM_AdamUNet256(benchmark::State& st) {
  GPU_OR_SKIP(st);
  Generator init(3);
  models::UNetConfig cfg;
  cfg.dropout = false;
  models::UNetGenerator net(cfg, init);
  std::vector<Tensor> state;
  std::vector<cuda::AdamSlot> slots;
  double n = 0;
  for (const Tensor& param : net.parameters()) {
    Tensor pp = param.detach().to(Device::cuda()), g = dev(param.shape());
    Tensor m = zeros(param.shape(), DType::F32, Device::cuda());
    Tensor v = zeros(param.shape(), DType::F32, Device::cuda());
    state.insert(state.end(), {pp, g, m, v});
    slots.push_back({p(pp), p(g), p(m), p(v), pp.numel(), 2e-4f, 1.f});
    n += static_cast<double>(pp.numel());
  }
  st.counters["tensors"] = static_cast<double>(slots.size());
  bench::run(
      st,
      [&] {
        cuda::adam_update_multi(slots.data(), static_cast<int>(slots.size()), 0.5f, 0.999f, 1e-8f,
                                0.f);
      },
      7 * kF * n, 0);
}

#define GPU_BENCH(fn) BENCHMARK(fn)->UseManualTime()->Unit(benchmark::kMicrosecond)
GPU_BENCH(BM_Relu);
GPU_BENCH(BM_ReluBackward);
GPU_BENCH(BM_LeakyRelu);
GPU_BENCH(BM_LeakyReluBackward);
GPU_BENCH(BM_Tanh);
GPU_BENCH(BM_TanhBackward);
GPU_BENCH(BM_Sigmoid);
GPU_BENCH(BM_Add);
GPU_BENCH(BM_Affine);
GPU_BENCH(BM_Axpy);
GPU_BENCH(BM_Dropout);
GPU_BENCH(BM_ConcatChannels);
GPU_BENCH(BM_SumAll);
GPU_BENCH(BM_SumPerChannel);
GPU_BENCH(BM_SumOverBatch);
GPU_BENCH(BM_Expand);
GPU_BENCH(BM_BatchNormTrain)->Args({128, 64})->Args({512, 2});
GPU_BENCH(BM_BatchNormBackward)->Args({128, 64})->Args({512, 2});
GPU_BENCH(BM_BatchNormEval)->Args({128, 64});
GPU_BENCH(BM_MaxPool2x2);
GPU_BENCH(BM_MaxPool2x2Backward);
GPU_BENCH(BM_AvgPool3x3Pad);
GPU_BENCH(BM_AvgPool3x3PadBackward);
GPU_BENCH(BM_ResizeBilinear)->Args({3, 256, 128})->Args({3, 128, 256})->Args({64, 64, 128});
GPU_BENCH(BM_ResizeBilinearBackward)->Args({3, 256, 128})->Args({3, 128, 256})->Args({64, 64, 128});
GPU_BENCH(BM_UpsampleNearest2x)->Args({15, 20})->Args({30, 40});
GPU_BENCH(BM_UpsampleNearest2xBackward)->Args({15, 20})->Args({30, 40});
GPU_BENCH(BM_L1Loss);
GPU_BENCH(BM_L1LossBackward);
GPU_BENCH(BM_MseLoss);
GPU_BENCH(BM_MaskedMseLoss);
GPU_BENCH(BM_MaskedMseLossBackward);
GPU_BENCH(BM_BceWithLogits);
GPU_BENCH(BM_BceWithLogitsBackward);
GPU_BENCH(BM_ChannelBiasAdd);
GPU_BENCH(BM_ChannelBiasGrad);
GPU_BENCH(BM_PadWindow);
GPU_BENCH(BM_AdamUNet256);

}  // namespace
}  // namespace maskoff

#else  // a build without CUDA: one benchmark that says so

namespace {
void BM_CudaOps(benchmark::State& st) {
  st.SkipWithError("this build of maskoff has no CUDA support");
}
BENCHMARK(BM_CudaOps);
}  // namespace

#endif

BENCHMARK_MAIN();
