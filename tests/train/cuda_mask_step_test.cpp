// The mask-aware training step (train/pix2pix.h with predict_mask) on CUDA against the CPU:
// the mask head's logit, the soft delivered mask (max and mean pooling), the composite the
// discriminator judges and the cross-entropy, over two steps with both decoders. Skips
// without a CUDA device (the simulation build runs it on the CPU).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/cuda_harness.h"
#include "train/pix2pix.h"

namespace maskoff::train {
namespace {

::testing::AssertionResult close(double got, double want, const std::string& what) {
  if (std::fabs(got - want) <= 1e-4 * std::fabs(want) + 1e-6) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": CUDA " << got << ", CPU " << want;
}

TEST(CudaMaskAware, TrainStepLossesMatchTheCpu) {
  MASKOFF_REQUIRE_CUDA();
  for (const char* upsample : {"transpose", "resize"}) {
    SCOPED_TRACE(upsample);
    TrainOptions o;
    o.resolution = 32;
    o.ngf = 8;
    o.ndf = 8;
    o.batch_size = 2;
    o.landmark_loss = "none";
    o.upsample = upsample;
    ASSERT_TRUE(o.predict_mask);
    Pix2Pix cpu(o, Device::cpu()), gpu(o, Device::cuda());
    Generator data(77);
    for (int step = 0; step < 2; ++step) {
      PairedBatch b;
      b.input = rand({2, 3, 32, 32}, data, DType::F32, Device::cpu(), -1.0, 1.0);
      b.target = rand({2, 3, 32, 32}, data, DType::F32, Device::cpu(), -1.0, 1.0);
      std::vector<float> m(2 * 32 * 32);
      for (size_t i = 0; i < m.size(); ++i) m[i] = (i % 1024) >= 512 ? 1.f : 0.f;
      b.mask = from_vector(m, {2, 1, 32, 32});
      b.landmarks = zeros({2, 68, 2});
      const LossTerms want = cpu.train_step(b), got = gpu.train_step(b);
      const auto names = loss_names();
      const auto w = loss_values(want), g = loss_values(got);
      for (size_t k = 0; k < names.size(); ++k)
        EXPECT_TRUE(close(g[k], w[k], names[k] + " at step " + std::to_string(step + 1)));
      EXPECT_GT(want.g_seg, 0.1);  // the mask head is trained
    }
  }
}

}  // namespace
}  // namespace maskoff::train
