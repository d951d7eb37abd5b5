// The 68-point face landmark network of face-api.js (FaceLandmark68Net), frozen, with its
// pretrained weights read from .npy files, and a differentiable helper that finds the
// landmarks of images in [-1, 1] (the facial-landmark loss runs it on generated faces).
//
// The network (see weights/face_landmark_68/README.md in the shared folder): four dense
// blocks that halve 112 -> 56 -> 28 -> 14 -> 7, each
//   o1 = ReLU(conv0(x)) (stride 2),  o2 = sep1(o1),  o3 = sep2(ReLU(o1 + o2)),
//   o4 = sep3(ReLU(o1 + o2 + o3)),   out = ReLU(o1 + o2 + o3 + o4),
// where sep = pointwise 1x1(depthwise 3x3) + bias and every 3x3 conv pads TensorFlow's way
// ('same': a stride-2 conv on an even size pads only the bottom and right); then the mean
// over the 7x7 positions and a fully connected layer to 136 = 68 interleaved (x, y) values,
// fractions of the 112x112 input.
#pragma once
#include <memory>
#include <string>

#include "layers/modules.h"

namespace maskoff::models {

// A 3x3 separable convolution: "depthwise" [C, 1, 3, 3], "pointwise" [O, C, 1, 1], "bias" [O]
// (added after the pointwise step, nothing between the two steps).
class SeparableConv : public Module {
 public:
  SeparableConv(int64_t in_channels, int64_t out_channels, int64_t stride, DType dtype);
  Tensor forward(const Tensor& x) override;

  int64_t stride;
  std::shared_ptr<Conv2d> depthwise, pointwise;
  Tensor bias;
};

// One dense block: conv0 (a regular 3x3 conv with bias in dense0, separable in the others,
// stride 2) and conv1..conv3 (separable, stride 1).
class LandmarkDenseBlock : public Module {
 public:
  LandmarkDenseBlock(int64_t in_channels, int64_t out_channels, bool first, DType dtype);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Module> conv0;
  std::shared_ptr<SeparableConv> conv1, conv2, conv3;
};

// Parameter names equal the weight files' stems: dense0.conv0.weight,
// dense1.conv2.depthwise.weight, ..., fc.weight, fc.bias. Built with zero weights;
// load_landmark_net fills and freezes them.
class LandmarkNet68 : public Module {
 public:
  static constexpr int64_t kInputSize = 112;
  static constexpr int64_t kPoints = 68;

  explicit LandmarkNet68(DType dtype = DType::F32);
  // x [N, 3, 112, 112], RGB normalised as (v - mean) / 255 for v in 0..255 and the mean of
  // kMeanRgb -> [N, 136]: (x0, y0, x1, y1, ...) as fractions of the input side.
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<LandmarkDenseBlock> dense0, dense1, dense2, dense3;
  std::shared_ptr<Linear> fc;
};

// The per-channel mean the network's inputs are centred on (0..255 scale).
constexpr double kLandmarkMeanRgb[3] = {122.782, 117.001, 104.298};

// Reads DIR/<parameter name>.npy for every parameter, checks each shape, and freezes the
// parameters (requires_grad false) in eval mode. A missing folder or file, or a file of the
// wrong shape or format, is an error naming the path.
std::shared_ptr<LandmarkNet68> load_landmark_net(const std::string& dir, DType dtype = DType::F32);

// A square crop, as fractions of the image side: left x0, top y0, side `size`.
struct LandmarkCrop {
  double x0 = 0, y0 = 0, size = 1;
};

// img [N, 3, H, W] in [-1, 1] with H == W. Crops the square (it must lie inside the image;
// side and corner are rounded to whole pixels, keeping the crop inside), resizes it to 112x112 with
// TensorFlow's legacy bilinear resize, maps to 0..255, normalises, runs the net, and returns [N,
// 68, 2] landmark (x, y) in units of the image side (0..1 over the whole image, not the crop).
// Differentiable with respect to img.
Tensor landmarks_on_image(LandmarkNet68& net, const Tensor& img, const LandmarkCrop& crop);

// The crop the landmark loss uses on FFHQ-aligned faces, chosen with landmark_crop_probe:
// side 0.725, centred horizontally, touching the bottom edge.
LandmarkCrop default_landmark_crop();

}  // namespace maskoff::models
