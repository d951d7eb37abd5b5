// End to end: three pix2pix training steps of a small U-Net and PatchGAN (the paper's
// generator loss: GAN + 100 * L1 + masked-region MSE), once on the CPU and once on the GPU
// from the same initial weights and data. Every loss along the way agrees to 1e-4 relative,
// which exercises every kernel the real training uses, forward and backward, plus Adam and
// Module::to_.
#include <cmath>

#include "layers/elementwise.h"
#include "layers/shape_ops.h"
#include "losses/losses.h"
#include "models/pix2pix.h"
#include "optim/adam.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

struct Losses {
  double d, g_gan, g_l1, g_masked;
};

class Pix2pixRun {
 public:
  Pix2pixRun(uint64_t seed, Device device) : device_(device) {
    Generator init(seed);
    models::UNetConfig gc;
    gc.num_downs = 5;  // 32 x 32 images
    gc.ngf = 8;
    gc.dropout = false;
    models::PatchGANConfig dc;
    dc.ndf = 8;
    gen_ = std::make_shared<models::UNetGenerator>(gc, init);
    disc_ = std::make_shared<models::PatchGANDiscriminator>(dc, init);
    gen_->to_(device);
    disc_->to_(device);
    opt_g_ = std::make_unique<Adam>(gen_->parameters(), 2e-4, 0.5, 0.999);
    opt_d_ = std::make_unique<Adam>(disc_->parameters(), 2e-4, 0.5, 0.999);
  }

  // One pix2pix iteration: the discriminator's update, then the generator's.
  Losses step(const Tensor& masked_cpu, const Tensor& real_cpu, const Tensor& mask_cpu) {
    const Tensor input = masked_cpu.to(device_), real = real_cpu.to(device_);
    const Tensor mask = mask_cpu.to(device_);
    Tensor fake = gen_->forward(input);

    Tensor pred_fake = disc_->forward(concat_channels({input, fake.detach()}));
    Tensor pred_real = disc_->forward(concat_channels({input, real}));
    Tensor loss_d =
        mul_scalar(add(bce_with_logits(pred_fake, 0.0), bce_with_logits(pred_real, 1.0)), 0.5);
    opt_d_->zero_grad();
    loss_d.backward();
    opt_d_->step();

    Tensor gan = bce_with_logits(disc_->forward(concat_channels({input, fake})), 1.0);
    Tensor l1 = l1_loss(fake, real);
    Tensor masked = masked_mse_loss(fake, real, mask);
    Tensor loss_g = add(add(gan, mul_scalar(l1, 100.0)), masked);
    opt_g_->zero_grad();
    loss_g.backward();
    opt_g_->step();
    return {loss_d.item(), gan.item(), l1.item(), masked.item()};
  }

 private:
  Device device_;
  std::shared_ptr<models::UNetGenerator> gen_;
  std::shared_ptr<models::PatchGANDiscriminator> disc_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
};

::testing::AssertionResult relative_close(double got, double want, double rtol, const char* what) {
  if (std::fabs(got - want) <= rtol * std::fabs(want)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": GPU " << got << ", CPU " << want << " (relative error "
         << std::fabs(got - want) / std::fabs(want) << ")";
}

TEST(CudaTrainStep, Pix2pixLossesMatchTheCpuOverThreeSteps) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Pix2pixRun cpu(seed, Device::cpu()), gpu(seed, Device::cuda());
  Generator data(seed + 1);
  for (int step = 0; step < 3; ++step) {
    const Shape image = {2, 3, 32, 32};
    Tensor real = rand(image, data, DType::F32, Device::cpu(), -1.0, 1.0);
    Tensor mask = rand({2, 1, 32, 32}, data, DType::F32, Device::cpu(), 0.0, 1.0);
    // A binary mask over roughly the lower half, as a face mask would cover.
    std::vector<float> m = mask.to_vector<float>();
    for (size_t i = 0; i < m.size(); ++i) m[i] = (i % 1024) >= 448 && m[i] < 0.9f ? 1.f : 0.f;
    mask = from_vector(m, {2, 1, 32, 32});
    Tensor masked = rand(image, data, DType::F32, Device::cpu(), -1.0, 1.0);
    const Losses want = cpu.step(masked, real, mask);
    const Losses got = gpu.step(masked, real, mask);
    SCOPED_TRACE("step " + std::to_string(step + 1) + ", " + seed_note(seed));
    EXPECT_TRUE(relative_close(got.d, want.d, 1e-4, "discriminator loss"));
    EXPECT_TRUE(relative_close(got.g_gan, want.g_gan, 1e-4, "generator GAN loss"));
    EXPECT_TRUE(relative_close(got.g_l1, want.g_l1, 1e-4, "generator L1 loss"));
    EXPECT_TRUE(relative_close(got.g_masked, want.g_masked, 1e-4, "generator masked MSE"));
  }
}

}  // namespace
}  // namespace maskoff::testing
