// YuNet: the layers, weight loading, the input layout, anchor-free decoding and NMS.
#include "models/face_detector.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autograd/node.h"
#include "layers/conv.h"
#include "layers/elementwise.h"
#include "layers/pool.h"
#include "layers/shape_ops.h"
#include "layers/upsample.h"
#include "models/npy.h"

namespace maskoff::models {

namespace {

// The layers are built without initialisation and zeroed: the real weights are loaded.
Generator& scratch() {
  static thread_local Generator g(0);
  return g;
}

// A container whose children are named "0", "1", ... or by the weight files' layer names.
std::shared_ptr<Module> container(Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<Module>("FaceDetectorPart"));
}

}  // namespace

// ---- layers -------------------------------------------------------------------------------

DepthwiseBlock::DepthwiseBlock(int64_t in, int64_t out, bool relu_, DType dtype)
    : Module("DepthwiseBlock"), relu(relu_) {
  pw = register_module("pw", std::make_shared<Conv2d>(in, out, 1, scratch(), 1, 0, true, 1, dtype));
  dw = register_module("dw",
                       std::make_shared<Conv2d>(out, out, 3, scratch(), 1, 1, true, out, dtype));
}

Tensor DepthwiseBlock::forward(const Tensor& x) {
  Tensor y = dw->forward(pw->forward(x));
  return relu ? maskoff::relu(y) : y;
}

constexpr int64_t FaceDetectorNet::kStrides[3];

FaceDetectorNet::FaceDetectorNet(DType dtype) : Module("FaceDetectorNet") {
  SkipInitGuard no_init;
  auto bb = container(*this, "backbone");
  auto m0 = container(*bb, "model0");
  conv0 = m0->register_module("conv",
                              std::make_shared<Conv2d>(3, 16, 3, scratch(), 2, 1, true, 1, dtype));
  dp0 = m0->register_module("dp", std::make_shared<DepthwiseBlock>(16, 16, true, dtype));
  // model1..model5: two DP blocks each, widening 16 -> 32 -> 64 in model1 and model2.
  const int64_t widths[5][3] = {
      {16, 16, 32}, {32, 32, 64}, {64, 64, 64}, {64, 64, 64}, {64, 64, 64}};
  for (int i = 0; i < 5; ++i) {
    auto m = container(*bb, "model" + std::to_string(i + 1));
    for (int j = 0; j < 2; ++j)
      stages[i][j] = m->register_module(
          "dp" + std::to_string(j + 1),
          std::make_shared<DepthwiseBlock>(widths[i][j], widths[i][j + 1], true, dtype));
  }
  auto lat = container(*container(*this, "neck"), "lateral_convs");
  for (int l = 0; l < 3; ++l)
    lateral[l] = lat->register_module(std::to_string(l),
                                      std::make_shared<DepthwiseBlock>(64, 64, true, dtype));
  auto head = container(*this, "bbox_head");
  const char* kinds[4] = {"multi_level_cls", "multi_level_obj", "multi_level_bbox",
                          "multi_level_kps"};
  const int64_t outs[4] = {1, 1, 4, 10};
  for (int k = 0; k < 4; ++k) {
    auto kind = container(*head, kinds[k]);
    for (int l = 0; l < 3; ++l)
      heads[l][k] = kind->register_module(
          std::to_string(l), std::make_shared<DepthwiseBlock>(64, outs[k], false, dtype));
  }
  for (const Tensor& p : parameters()) fill_(p, 0.0);
}

Tensor FaceDetectorNet::forward(const Tensor& x) {
  MASKOFF_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3 && x.size(2) > 0 && x.size(3) > 0 &&
                    x.size(2) % kAlign == 0 && x.size(3) % kAlign == 0,
                "FaceDetectorNet: input "
                    << (x.defined() ? shape_str(x.shape()) : "undefined")
                    << " must be [N, 3, H, W] with H and W positive "
                       "multiples of 32 (pad the image: face_detector_input)");
  auto stage = [&](int i, const Tensor& t) {
    return stages[i][1]->forward(stages[i][0]->forward(t));
  };
  Tensor h = max_pool2d(dp0->forward(relu(conv0->forward(x))), 2, 2);
  h = stage(1, stage(0, h));
  const Tensor f8 = stage(2, max_pool2d(h, 2, 2));
  const Tensor f16 = stage(3, max_pool2d(f8, 2, 2));
  const Tensor f32 = stage(4, max_pool2d(f16, 2, 2));
  // The neck upsamples its own outputs, not the backbone's maps.
  const Tensor p32 = lateral[2]->forward(f32);
  const Tensor p16 = lateral[1]->forward(add(upsample_nearest2d(p32, 2), f16));
  const Tensor p8 = lateral[0]->forward(add(upsample_nearest2d(p16, 2), f8));
  std::vector<Tensor> levels;
  const Tensor* maps[3] = {&p8, &p16, &p32};
  for (int l = 0; l < 3; ++l) {
    std::vector<Tensor> parts;
    for (int k = 0; k < 4; ++k) parts.push_back(heads[l][k]->forward(*maps[l]));
    const Tensor cat = concat_channels(parts);
    levels.push_back(reshape(cat, {cat.size(0), kOutputs, cat.size(2) * cat.size(3)}));
  }
  return concat(levels, 2);
}

// ---- loading ------------------------------------------------------------------------------

std::shared_ptr<FaceDetectorNet> load_face_detector(const std::string& dir, DType dtype) {
  auto net = std::make_shared<FaceDetectorNet>(dtype);
  load_npy_parameters(*net, dir, dtype, "load_face_detector");
  net->eval();
  return net;
}

// ---- input --------------------------------------------------------------------------------

Tensor face_detector_input(const uint8_t* rgb, int width, int height) {
  MASKOFF_CHECK(rgb != nullptr && width > 0 && height > 0,
                "face_detector_input: empty image (" << width << "x" << height << ")");
  const int64_t a = FaceDetectorNet::kAlign;
  const int64_t hp = (height + a - 1) / a * a, wp = (width + a - 1) / a * a;
  Tensor x = zeros({1, 3, hp, wp});
  float* p = x.data<float>();
  const int64_t plane = hp * wp;
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* src = rgb + y * width * 3;
    float* b = p + y * wp;
    for (int64_t i = 0; i < width; ++i) {
      // The weights' first layer reads B, G, R.
      b[i] = src[3 * i + 2];
      b[plane + i] = src[3 * i + 1];
      b[2 * plane + i] = src[3 * i];
    }
  }
  return x;
}

// ---- decoding and NMS ---------------------------------------------------------------------

std::vector<FaceDetection> decode_face_cells(const float* raw, int64_t hp, int64_t wp,
                                             const FaceDetectorOptions& opt) {
  const int64_t a = FaceDetectorNet::kAlign;
  MASKOFF_CHECK(
      hp > 0 && wp > 0 && hp % a == 0 && wp % a == 0,
      "decode_face_cells: padded size " << hp << "x" << wp << " must be positive multiples of 32");
  int64_t cells = 0;
  for (int64_t s : FaceDetectorNet::kStrides) cells += (hp / s) * (wp / s);
  // The library clamps logits here before its sigmoid (exp(88.38) is float's largest).
  constexpr float kLogitLimit = 88.3762626647949f;
  auto sigmoid = [&](float v) {
    v = std::min(std::max(v, -kLogitLimit), kLogitLimit);
    return 1.f / (1.f + std::exp(-v));
  };
  auto row = [&](int k) { return raw + k * cells; };
  std::vector<FaceDetection> out;
  int64_t i = 0;
  for (int64_t s : FaceDetectorNet::kStrides) {
    const int64_t fh = hp / s, fw = wp / s;
    const float sf = static_cast<float>(s);
    for (int64_t r = 0; r < fh; ++r)
      for (int64_t c = 0; c < fw; ++c, ++i) {
        // The square root of the product, not the product itself.
        const float score = std::sqrt(sigmoid(row(0)[i]) * sigmoid(row(1)[i]));
        if (!(score >= opt.score_threshold)) continue;
        const float px = static_cast<float>(c * s), py = static_cast<float>(r * s);
        const float cx = row(2)[i] * sf + px, cy = row(3)[i] * sf + py;
        const float w = std::exp(row(4)[i]) * sf, h = std::exp(row(5)[i]) * sf;
        FaceDetection d;
        d.x1 = cx - w / 2;
        d.y1 = cy - h / 2;
        d.x2 = cx + w / 2;
        d.y2 = cy + h / 2;
        d.score = score;
        for (int j = 0; j < 5; ++j) {
          d.landmarks[2 * j] = row(6 + 2 * j)[i] * sf + px;
          d.landmarks[2 * j + 1] = row(7 + 2 * j)[i] * sf + py;
        }
        out.push_back(d);
      }
  }
  std::stable_sort(out.begin(), out.end(), [](const FaceDetection& p, const FaceDetection& q) {
    return p.score > q.score;
  });
  if (static_cast<int64_t>(out.size()) > opt.top_k) out.resize(static_cast<size_t>(opt.top_k));
  return out;
}

float box_iou(const FaceDetection& a, const FaceDetection& b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const float inter = iw * ih;
  const float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<FaceDetection> suppress_overlaps(const std::vector<FaceDetection>& sorted,
                                             const FaceDetectorOptions& opt) {
  std::vector<FaceDetection> kept;
  for (const FaceDetection& d : sorted) {
    if (static_cast<int>(kept.size()) >= opt.keep_top_k) break;
    const bool clear = std::all_of(kept.begin(), kept.end(), [&](const FaceDetection& k) {
      return box_iou(d, k) <= opt.nms_iou;
    });
    if (clear) kept.push_back(d);
  }
  return kept;
}

// ---- the detector -------------------------------------------------------------------------

FaceDetector::FaceDetector(const std::string& dir, Device device)
    : FaceDetector(load_face_detector(dir), device) {}

FaceDetector::FaceDetector(std::shared_ptr<FaceDetectorNet> net, Device device)
    : net_(std::move(net)), device_(device) {
  MASKOFF_CHECK(net_ != nullptr, "FaceDetector: no network");
  net_->to_(device);
}

std::vector<FaceDetection> FaceDetector::run(const uint8_t* rgb, int width, int height,
                                             const FaceDetectorOptions& opt) {
  autograd::NoGradGuard no_grad;
  Tensor x = face_detector_input(rgb, width, height);
  const int64_t hp = x.size(2), wp = x.size(3);
  const Tensor raw = net_->forward(x.to(device_)).cpu();
  return suppress_overlaps(decode_face_cells(raw.data<float>(), hp, wp, opt), opt);
}

}  // namespace maskoff::models
