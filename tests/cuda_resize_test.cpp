// CPU-vs-CUDA comparisons of bilinear resizing in every mode, up and down.
#include "layers/resize.h"
#include "tests/cuda_harness.h"

namespace maskoff::testing {
namespace {

// An output size.
struct Size {
  int64_t h, w;
};

TEST(CudaResize, BilinearEveryModeUpAndDown) {
  MASKOFF_REQUIRE_CUDA();
  const uint64_t seed = fresh_seed();
  Generator g(seed);
  Tensor x = random_leaf({2, 3, 13, 20}, g);
  for (Size s : {Size{26, 40}, Size{7, 9}, Size{13, 20}, Size{1, 1}, Size{31, 5}}) {
    SCOPED_TRACE(std::to_string(s.h) + "x" + std::to_string(s.w));
    for (bool corners : {false, true})
      EXPECT_TRUE(compare_with_cpu(
          [s, corners](const Inputs& v) { return resize_bilinear(v[0], s.h, s.w, corners); }, {x},
          kTolReduce, seed))
          << "align_corners " << corners;
    EXPECT_TRUE(
        compare_with_cpu([s](const Inputs& v) { return resize_bilinear_tf_legacy(v[0], s.h, s.w); },
                         {x}, kTolReduce, seed))
        << "tf_legacy";
  }
}

}  // namespace
}  // namespace maskoff::testing
