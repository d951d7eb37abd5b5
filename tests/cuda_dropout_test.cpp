// CPU-vs-CUDA comparison of dropout: the same keep/drop decisions, bit for bit.
#include "layers/dropout.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

// The GPU draws the very same keep/drop decisions as the CPU for the same generator state,
// so the outputs and the gradients agree bit for bit.
TEST(CudaDropout, SameMaskAsTheCpuBitForBit) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator data(seed);
  Tensor x = random_leaf({3, 5, 33, 31}, data);
  Tensor xg = testing::cuda_copy(x);
  for (double p : {0.1, 0.5, 0.9}) {
    Generator gc(seed + 1), gg(seed + 1);
    gc.take(12345);  // an arbitrary offset: any state must agree
    gg.take(12345);
    Tensor yc = dropout(x, p, gc, true);
    Tensor yg = dropout(xg, p, gg, true);
    EXPECT_EQ(gc.offset, gg.offset);
    EXPECT_TRUE(testing::close_to(yg, yc, {0, 0}, "dropout output"))
        << "p " << p << "; " << seed_note(seed);
    Tensor dy = random_input(x.shape(), data);
    x.set_grad(Tensor());
    xg.set_grad(Tensor());
    yc.backward(dy);
    yg.backward(dy.to(Device::cuda()));
    EXPECT_TRUE(testing::close_to(xg.grad(), x.grad(), {0, 0}, "dropout gradient"))
        << "p " << p << "; " << seed_note(seed);
  }
}

}  // namespace
}  // namespace maskoff::testing
