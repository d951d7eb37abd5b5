// Nearest-neighbour upsampling: gradient checks for several factors and odd shapes,
// hand-computed forward and backward values, and errors.
#include "layers/elementwise.h"
#include "layers/upsample.h"
#include "tests/gradcheck.h"

namespace maskoff {
namespace {
using testing::all_close;
using testing::f64;
using testing::grad_check;
using testing::leaf;

TEST(UpsampleGrad, FactorsOneToThreeOnOddShapes) {
  Generator g(81);
  Tensor x = leaf({2, 3, 3, 5}, g);
  for (int64_t s : {1, 2, 3})
    EXPECT_TRUE(grad_check([&] { return upsample_nearest2d(x, s); }, {x})) << "scale " << s;
  Tensor one = leaf({1, 1, 1, 1}, g), tall = leaf({1, 2, 7, 1}, g);
  EXPECT_TRUE(grad_check([&] { return upsample_nearest2d(one, 2); }, {one}));
  EXPECT_TRUE(grad_check([&] { return upsample_nearest2d(tall, 2); }, {tall}));
}

TEST(UpsampleGrad, ThroughASecondUse) {
  // The detector's neck adds the upsampled map to a finer one: both paths carry gradient.
  Generator g(82);
  Tensor coarse = leaf({1, 2, 2, 3}, g), fine = leaf({1, 2, 4, 6}, g);
  EXPECT_TRUE(grad_check([&] { return mul(add(upsample_nearest2d(coarse, 2), fine), fine); },
                         {coarse, fine}));
}

TEST(UpsampleForward, CopiesEachValueIntoABlock) {
  Tensor y = upsample_nearest2d(f64({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}), 2);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
  EXPECT_TRUE(all_close(y.to_vector<double>(), {1, 1, 2, 2, 3, 3,  //
                                                1, 1, 2, 2, 3, 3,  //
                                                4, 4, 5, 5, 6, 6,  //
                                                4, 4, 5, 5, 6, 6},
                        0));
  // Planes stay apart, and scale 1 is the identity.
  Tensor two = f64({1, 2, 3, 4, 10, 20, 30, 40}, {2, 1, 2, 2});
  EXPECT_TRUE(
      all_close(upsample_nearest2d(two, 1).to_vector<double>(), two.to_vector<double>(), 0));
  const std::vector<double> up3 = upsample_nearest2d(two, 3).to_vector<double>();
  ASSERT_EQ(up3.size(), 72u);
  EXPECT_EQ(up3[0], 1);
  EXPECT_EQ(up3[5], 2);
  EXPECT_EQ(up3[3 * 6], 3);
  EXPECT_EQ(up3[35], 4);
  EXPECT_EQ(up3[36], 10);
  EXPECT_EQ(up3[71], 40);
}

TEST(UpsampleForward, BackwardSumsEachBlock) {
  Tensor x = f64({0, 0, 0, 0}, {1, 1, 2, 2}).set_requires_grad(true);
  Tensor y = upsample_nearest2d(x, 2);
  std::vector<double> gy(16);
  for (int i = 0; i < 16; ++i) gy[i] = i;  // row-major 4x4: block sums 0+1+4+5, 2+3+6+7, ...
  y.backward(f64(gy, {1, 1, 4, 4}));
  EXPECT_TRUE(all_close(x.grad().to_vector<double>(), {10, 18, 42, 50}, 0));
}

TEST(UpsampleForward, Float32MatchesFloat64) {
  Generator g(83);
  Tensor x = randn({2, 3, 11, 7}, g, DType::F64);
  EXPECT_TRUE(all_close(upsample_nearest2d(x.to(DType::F32), 2).to_vector<double>(),
                        upsample_nearest2d(x, 2).to(DType::F32).to_vector<double>(), 0));
}

TEST(UpsampleErrors, ClearMessages) {
  try {
    upsample_nearest2d(zeros({3, 4, 4}), 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("upsample_nearest2d"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 4, 4]"), std::string::npos) << msg;
  }
  try {
    upsample_nearest2d(zeros({1, 1, 4, 4}), 0);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scale 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(upsample_nearest2d(Tensor(), 2), Error);
}

}  // namespace
}  // namespace maskoff
