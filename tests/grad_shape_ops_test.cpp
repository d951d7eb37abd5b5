// Shape operations: gradient checks for concat, slice and reshape, hand-computed layouts,
// and the errors for incompatible shapes.
#include "layers/elementwise.h"
#include "layers/shape_ops.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace maskoff::testing {
namespace {

TEST(ConcatGrad, MiddleDimThreeInputs) {
  Generator g(31);
  Tensor a = leaf({2, 3, 5}, g), b = leaf({2, 1, 5}, g), c = leaf({2, 4, 5}, g);
  EXPECT_TRUE(grad_check([&] { return concat({a, b, c}, 1); }, {a, b, c}));
}
TEST(ConcatGrad, FirstAndLastDim) {
  Generator g(32);
  Tensor a = leaf({3, 7}, g), b = leaf({2, 7}, g), c = leaf({3, 2}, g);
  EXPECT_TRUE(grad_check([&] { return concat({a, b}, 0); }, {a, b}));
  EXPECT_TRUE(grad_check([&] { return concat({a, c}, -1); }, {a, c}));
}
TEST(ConcatGrad, ChannelsOfImagesAndRepeatedInput) {
  Generator g(33);
  Tensor a = leaf({2, 2, 3, 5}, g), b = leaf({2, 3, 3, 5}, g);
  EXPECT_TRUE(grad_check([&] { return concat_channels({a, b, a}); }, {a, b}));
}
TEST(ConcatGrad, OnlySomeInputsNeedGrad) {
  Generator g(34);
  Tensor a = leaf({2, 3, 3}, g);
  Tensor b = randn({2, 2, 3}, g, DType::F64);  // a constant
  EXPECT_TRUE(grad_check([&] { return concat({b, a}, 1); }, {a}));
}

TEST(SliceGrad, EachDimension) {
  Generator g(35);
  Tensor x = leaf({3, 5, 7}, g);
  EXPECT_TRUE(grad_check([&] { return slice(x, 0, 1, 3); }, {x}));
  EXPECT_TRUE(grad_check([&] { return slice(x, 1, 2, 5); }, {x}));
  EXPECT_TRUE(grad_check([&] { return slice(x, 2, 0, 4); }, {x}));
}
TEST(SliceGrad, NegativeBoundsAndSliceOfSlice) {
  Generator g(36);
  Tensor x = leaf({2, 3, 5, 7}, g);
  EXPECT_TRUE(grad_check([&] { return slice(slice(x, -1, -5, -1), 1, 1, 3); }, {x}));
}

TEST(ReshapeGrad, ReshapeAndFlatten) {
  Generator g(37);
  Tensor x = leaf({2, 3, 5}, g);
  EXPECT_TRUE(grad_check([&] { return reshape(x, {5, -1}); }, {x}));
  EXPECT_TRUE(grad_check([&] { return flatten(x); }, {x}));
}
TEST(ReshapeGrad, InsideAComputation) {
  Generator g(38);
  Tensor x = leaf({3, 4, 5}, g), y = leaf({6, 10}, g);
  EXPECT_TRUE(grad_check([&] { return mul(reshape(mul(x, x), {6, 10}), y); }, {x, y}));
}

TEST(ShapeForward, ConcatHandComputed) {
  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {2, 1}), c = f64({7, 8}, {1, 2});
  Tensor y1 = concat({a, b}, 1);
  EXPECT_EQ(y1.shape(), (Shape{2, 3}));
  EXPECT_TRUE(all_close(y1.to_vector<double>(), {1, 2, 5, 3, 4, 6}, 0));
  Tensor y0 = concat({a, c}, 0);
  EXPECT_EQ(y0.shape(), (Shape{3, 2}));
  EXPECT_TRUE(all_close(y0.to_vector<double>(), {1, 2, 3, 4, 7, 8}, 0));
}

TEST(ShapeForward, SliceHandComputed) {
  Tensor x = f64({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  Tensor y = slice(x, 1, 1, 3);
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_TRUE(all_close(y.to_vector<double>(), {1, 2, 5, 6, 9, 10}, 0));
  EXPECT_TRUE(all_close(slice(x, 0, -1, 3).to_vector<double>(), {8, 9, 10, 11}, 0));
  EXPECT_EQ(slice(x, 0, 2, 2).shape(), (Shape{0, 4}));
  Tensor xg = x.clone();
  xg.set_requires_grad(true);
  slice(xg, 1, 1, 3).backward(ones({3, 2}, DType::F64));
  EXPECT_TRUE(all_close(xg.grad().to_vector<double>(), {0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0}, 0));
}

TEST(ShapeForward, ReshapeResolvesMinusOneAndSharesData) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = reshape(x, {-1, 2});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_TRUE(y.same_storage(x));
  EXPECT_EQ(flatten(zeros({2, 3, 4, 5})).shape(), (Shape{2, 60}));
  EXPECT_EQ(reshape(zeros({0, 3}), {-1, 3}).shape(), (Shape{0, 3}));
}

TEST(ShapeForward, LargeConcatAndSliceRoundTripInFloat) {
  // Runs longer than one copy piece, so the split-and-parallel path is exercised.
  Generator g(39);
  Tensor a = randn({2, 3, 130, 130}, g), b = randn({2, 2, 130, 130}, g);
  Tensor y = concat_channels({a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 5, 130, 130}));
  EXPECT_EQ(slice(y, 1, 0, 3).to_vector<float>(), a.to_vector<float>());
  EXPECT_EQ(slice(y, 1, 3, 5).to_vector<float>(), b.to_vector<float>());
  std::vector<float> yv = y.to_vector<float>(), bv = b.to_vector<float>();
  // b's first value sits after image 0's three channels of a.
  EXPECT_EQ(yv[3 * 130 * 130], bv[0]);
  EXPECT_EQ(yv[(5 + 3) * 130 * 130], bv[2 * 130 * 130]);
}

TEST(ShapeErrors, ClearMessages) {
  std::string m = error_of([] { concat({zeros({2, 3}), zeros({4, 5})}, 1); });
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  m = error_of([] { concat({zeros({2, 3}), zeros({2, 3, 1})}, 0); });
  EXPECT_NE(m.find("[2, 3, 1]"), std::string::npos) << m;
  EXPECT_THROW(concat({}, 0), Error);
  EXPECT_THROW(concat({zeros({2}), zeros({2}, DType::F64)}, 0), Error);
  m = error_of([] { concat({zeros({2, 3})}, 2); });
  EXPECT_NE(m.find("out of range"), std::string::npos) << m;
  m = error_of([] { concat_channels({zeros({2, 3, 4})}); });
  EXPECT_NE(m.find("[2, 3, 4]"), std::string::npos) << m;
  m = error_of([] { slice(zeros({2, 3}), 1, 2, 5); });
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_THROW(slice(zeros({2, 3}), 1, 2, 1), Error);
  m = error_of([] { reshape(zeros({2, 3}), {4, 2}); });
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 2]"), std::string::npos) << m;
  m = error_of([] { reshape(zeros({2, 3}), {4, -1}); });
  EXPECT_NE(m.find("[4, -1]"), std::string::npos) << m;
  EXPECT_THROW(reshape(zeros({2, 3}), {-1, -1}), Error);
  EXPECT_THROW(flatten(zeros({})), Error);
}

}  // namespace
}  // namespace maskoff::testing
