// tiny_demo: trains a small convolutional encoder-decoder on the CPU to fill in a masked
// square of synthetic 32x32 images (a miniature of the mask-removal task), printing the
// falling loss. Exits non-zero if the loss did not fall.
//
//   tiny_demo [steps]     (default 300)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "layers/elementwise.h"
#include "layers/modules.h"
#include "losses/losses.h"
#include "optim/adam.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

using namespace maskoff;

namespace {

constexpr int64_t kSize = 32, kImages = 96, kBatch = 16, kHole = 10;

// Smooth colourful patterns in [-1, 1]: two plane waves and a ramp per channel.
std::vector<float> make_image(Generator& g) {
  std::vector<float> img(3 * kSize * kSize);
  for (int64_t c = 0; c < 3; ++c) {
    double f1 = 0.1 + 0.3 * g.uniform(), f2 = 0.1 + 0.3 * g.uniform();
    double a1 = 6.28 * g.uniform(), a2 = 6.28 * g.uniform(), p = 6.28 * g.uniform();
    double ramp = g.uniform() - 0.5;
    for (int64_t y = 0; y < kSize; ++y)
      for (int64_t x = 0; x < kSize; ++x) {
        double v = 0.45 * std::sin(f1 * (x * std::cos(a1) + y * std::sin(a1)) + p) +
                   0.35 * std::sin(f2 * (x * std::cos(a2) + y * std::sin(a2))) +
                   ramp * (x + y) / kSize;
        img[static_cast<size_t>((c * kSize + y) * kSize + x)] =
            static_cast<float>(std::max(-1.0, std::min(1.0, v)));
      }
  }
  return img;
}

struct Batch {
  Tensor input;   // [B, 4, 32, 32]: the image with the hole zeroed, plus the mask
  Tensor target;  // [B, 3, 32, 32]
  Tensor mask;    // [B, 1, 32, 32]
};

Batch make_batch(const std::vector<std::vector<float>>& images, Generator& g) {
  const int64_t plane = kSize * kSize;
  std::vector<float> in(kBatch * 4 * plane), tg(kBatch * 3 * plane), mk(kBatch * plane, 0.0f);
  for (int64_t b = 0; b < kBatch; ++b) {
    const std::vector<float>& img = images[g.below(kImages)];
    int64_t y0 = static_cast<int64_t>(g.below(kSize - kHole)),
            x0 = static_cast<int64_t>(g.below(kSize - kHole));
    float* m = &mk[static_cast<size_t>(b * plane)];
    for (int64_t y = y0; y < y0 + kHole; ++y)
      for (int64_t x = x0; x < x0 + kHole; ++x) m[y * kSize + x] = 1.0f;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < plane; ++i) {
        float v = img[static_cast<size_t>(c * plane + i)];
        tg[static_cast<size_t>((b * 3 + c) * plane + i)] = v;
        in[static_cast<size_t>((b * 4 + c) * plane + i)] = m[i] > 0 ? 0.0f : v;
      }
    for (int64_t i = 0; i < plane; ++i) in[static_cast<size_t>((b * 4 + 3) * plane + i)] = m[i];
  }
  return {from_vector(in, {kBatch, 4, kSize, kSize}), from_vector(tg, {kBatch, 3, kSize, kSize}),
          from_vector(mk, {kBatch, 1, kSize, kSize})};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int steps = argc > 1 ? std::atoi(argv[1]) : 300;
    if (steps < 20) {
      std::fprintf(stderr, "tiny_demo: need at least 20 steps, got %d\n", steps);
      return 2;
    }
    std::printf("tiny_demo: CPU, %d OpenMP threads, float32; %d steps of batch %lld\n",
                num_threads(), steps, static_cast<long long>(kBatch));

    Generator gen(7);
    std::vector<std::vector<float>> images;
    for (int64_t i = 0; i < kImages; ++i) images.push_back(make_image(gen));

    // 32 -> 16 -> 8 -> 16 -> 32, pix2pix-style k4 s2 p1 blocks.
    Sequential net;
    net.emplace<Conv2d>(4, 32, 4, gen, 2, 1);
    net.emplace<LeakyReLU>(0.2);
    net.emplace<Conv2d>(32, 64, 4, gen, 2, 1, false);
    net.emplace<BatchNorm2d>(64);
    net.emplace<LeakyReLU>(0.2);
    net.emplace<ConvTranspose2d>(64, 32, 4, gen, 2, 1, 0, false);
    net.emplace<BatchNorm2d>(32);
    net.emplace<ReLU>();
    net.emplace<ConvTranspose2d>(32, 3, 4, gen, 2, 1);
    net.emplace<Tanh>();
    std::printf("model: %lld parameters\n", static_cast<long long>(net.num_parameters()));

    Adam opt(net.parameters(), 2e-3, 0.5, 0.999);
    const int window = std::max(5, steps / 12);
    double first = 0, window_sum = 0, last = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int step = 1; step <= steps; ++step) {
      Batch b = make_batch(images, gen);
      opt.zero_grad();
      Tensor out = net.forward(b.input);
      // Whole-image L1 plus the paper's extra weight on the pixels inside the hole.
      Tensor loss = add(l1_loss(out, b.target), masked_mse_loss(out, b.target, b.mask));
      loss.backward();
      opt.step();
      window_sum += loss.item();
      if (step % window == 0) {
        double mean = window_sum / window;
        if (step == window) first = mean;
        last = mean;
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("step %4d/%d  loss %.4f (mean of last %d)  %.1f ms/step\n", step, steps, mean,
                    window, 1e3 * secs / step);
        std::fflush(stdout);
        window_sum = 0;
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("loss fell from %.4f to %.4f in %.1f s\n", first, last, secs);
    if (!(last < first)) {
      std::fprintf(stderr, "tiny_demo: the loss did not fall\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tiny_demo: %s\n", message_of(e).c_str());
    return 1;
  }
}
