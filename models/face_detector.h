// A small CNN face detector (libfacedetection's YuNet, 53k parameters, trained on WIDER
// FACE), run inside our engine with its pretrained weights read from .npy files. It finds
// faces that a mask half hides far more often than dlib's HOG detector, which was built for
// unmasked frontal faces.
//
// The network (see weights/face_detector_yunet/README.md in the shared folder): batch norm
// is already folded into the convolutions, so every layer is a convolution with bias.
//   backbone  conv 3x3/2 (3->16) + ReLU, then "DP" blocks (1x1 conv, 3x3 depthwise conv,
//             ReLU) and 2x2 max pools down to strides 8, 16 and 32 (64 channels each);
//   neck      P32 = DP(F32), P16 = DP(up2(P32) + F16), P8 = DP(up2(P16) + F8);
//   heads     per level, four DP blocks without ReLU: class (1), objectness (1), box (4) and
//             five landmarks (10).
// Decoding is anchor-free: cell (r, c) of stride s sits at (c * s, r * s); boxes and points
// are offsets in units of s, sizes exp() of them, and the score is
// sqrt(sigmoid(class) * sigmoid(objectness)). Greedy NMS then keeps the best of each cluster.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/modules.h"

namespace maskoff::models {

// One "DP" block: pw, a 1x1 convolution with bias; dw, a 3x3 depthwise convolution with bias
// and zero padding 1; then ReLU unless `relu` is false (the heads).
class DepthwiseBlock : public Module {
 public:
  DepthwiseBlock(int64_t in_channels, int64_t out_channels, bool relu, DType dtype);
  Tensor forward(const Tensor& x) override;

  bool relu;
  std::shared_ptr<Conv2d> pw, dw;
};

// Parameter names equal the weight files' stems: backbone.model0.conv.weight,
// backbone.model1.dp2.dw.bias, neck.lateral_convs.0.pw.weight,
// bbox_head.multi_level_kps.2.dw.bias, ... Built with zero weights; load_face_detector
// fills and freezes them.
class FaceDetectorNet : public Module {
 public:
  static constexpr int64_t kStrides[3] = {8, 16, 32};
  // Rows of the raw output per cell: class, objectness, box (4), landmarks (10).
  static constexpr int64_t kOutputs = 16;
  // Input sides must be multiples of this (three 2x2 pools after a stride-2 conv).
  static constexpr int64_t kAlign = 32;

  explicit FaceDetectorNet(DType dtype = DType::F32);
  // x [N, 3, H, W]: B, G, R in 0..255, H and W multiples of 32 -> [N, 16, cells], the raw
  // head outputs of every cell in decoding order (stride 8 row-major, then 16, then 32).
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv0;                 // backbone.model0.conv (3x3, stride 2)
  std::shared_ptr<DepthwiseBlock> dp0;           // backbone.model0.dp
  std::shared_ptr<DepthwiseBlock> stages[5][2];  // backbone.model1..5, dp1 and dp2
  std::shared_ptr<DepthwiseBlock> lateral[3];    // neck.lateral_convs.0..2 (P8, P16, P32)
  // bbox_head, per level: class, objectness, box, landmarks.
  std::shared_ptr<DepthwiseBlock> heads[3][4];
};

// Reads DIR/<parameter name>.npy for every parameter, checks each shape, and freezes the
// parameters (requires_grad false). A missing folder or file, or a file of the wrong shape
// or format, is an error naming the path.
std::shared_ptr<FaceDetectorNet> load_face_detector(const std::string& dir,
                                                    DType dtype = DType::F32);

// One face, in input-image pixels (continuous coordinates; boxes may reach past the edges).
struct FaceDetection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float score = 0;
  // (x, y) of the eye on the image's left, the eye on the image's right, the nose tip, the
  // mouth corner on the image's left and the one on the image's right.
  std::array<float, 10> landmarks{};
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

// The library's fixed post-processing values, which reference_outputs.tsv was made with.
struct FaceDetectorOptions {
  float score_threshold = 0.2f;  // cells scoring below are dropped
  float nms_iou = 0.45f;         // a box overlapping a kept one by more is suppressed
  int top_k = 1000;              // candidates entering NMS, best first
  int keep_top_k = 512;          // detections kept after NMS
};

// Intersection over union of two boxes in continuous coordinates (no +1); 0 when apart.
float box_iou(const FaceDetection& a, const FaceDetection& b);

// Every cell of the raw output [16, cells] (one image, float32, on the host) of an input
// padded to hp x wp, decoded; those scoring at least the threshold, sorted by score
// (stable, so ties keep the cell order), at most top_k.
std::vector<FaceDetection> decode_face_cells(const float* raw, int64_t hp, int64_t wp,
                                             const FaceDetectorOptions& opt = {});

// Greedy non-maximum suppression of detections sorted best first: a box is kept when its
// IoU with every kept box is at most opt.nms_iou; at most opt.keep_top_k are kept.
std::vector<FaceDetection> suppress_overlaps(const std::vector<FaceDetection>& sorted,
                                             const FaceDetectorOptions& opt = {});

// The network's input for an interleaved 8-bit RGB image (data::Image's layout): float32
// [1, 3, Hp, Wp] in B, G, R order, values 0..255, zero-padded at the bottom and right to
// the next multiples of 32.
Tensor face_detector_input(const uint8_t* rgb, int width, int height);

// The network and its post-processing on one device: run() on an RGB image gives the faces
// after NMS, best first.
class FaceDetector {
 public:
  // Loads the weights from `dir` (load_face_detector) onto `device`.
  explicit FaceDetector(const std::string& dir, Device device = Device::cpu());
  // An already built network (tests, benchmarks), moved to `device`.
  FaceDetector(std::shared_ptr<FaceDetectorNet> net, Device device);
  std::vector<FaceDetection> run(const uint8_t* rgb, int width, int height,
                                 const FaceDetectorOptions& opt = {});
  FaceDetectorNet& net() { return *net_; }
  Device device() const { return device_; }

 private:
  std::shared_ptr<FaceDetectorNet> net_;
  Device device_;
};

}  // namespace maskoff::models
