// LPIPS (AlexNet, v0.1): the backbone and heads as Conv2d modules, weight loading, and the
// distance built from conv2d, relu, max_pool2d, normalize_channels and the reductions.
#include "metrics/lpips.h"

#include <algorithm>
#include <vector>

#include "layers/conv.h"
#include "layers/elementwise.h"
#include "layers/pool.h"
#include "layers/reduce.h"
#include "layers/shape_ops.h"
#include "metrics/channel_norm.h"
#include "models/npy.h"
#include "tensor/random.h"

namespace maskoff::metrics {

namespace {

// The layers are built with a throwaway initialisation: the real weights are loaded.
Generator& scratch() {
  static thread_local Generator g(0);
  return g;
}

std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                             bool bias, DType dtype) {
  return std::make_shared<Conv2d>(in, out, k, scratch(), stride, pad, bias, 1, dtype);
}

// [0, 1] -> [-1, 1] -> (x - shift_c) / scale_c, folded into one affine map per channel:
// y * (2 / scale_c) + (-1 - shift_c) / scale_c.
Tensor scaling_layer(const Tensor& y) {
  const int64_t n = y.size(0), hw = y.size(2) * y.size(3);
  std::vector<double> gain(static_cast<size_t>(n * 3 * hw)), offset(gain.size());
  for (int64_t i = 0; i < n * 3; ++i) {
    const int c = static_cast<int>(i % 3);
    std::fill_n(gain.begin() + i * hw, hw, 2.0 / kLpipsScale[c]);
    std::fill_n(offset.begin() + i * hw, hw, (-1.0 - kLpipsShift[c]) / kLpipsScale[c]);
  }
  return add(mul(y, from_vector(gain, y.shape(), y.dtype(), y.device())),
             from_vector(offset, y.shape(), y.dtype(), y.device()));
}

}  // namespace

Lpips::Lpips(DType dtype) : Module("Lpips") {
  conv1 = register_module("conv1", conv(3, 64, 11, 4, 2, true, dtype));
  conv2 = register_module("conv2", conv(64, 192, 5, 1, 2, true, dtype));
  conv3 = register_module("conv3", conv(192, 384, 3, 1, 1, true, dtype));
  conv4 = register_module("conv4", conv(384, 256, 3, 1, 1, true, dtype));
  conv5 = register_module("conv5", conv(256, 256, 3, 1, 1, true, dtype));
  lin0 = register_module("lin0", conv(64, 1, 1, 1, 0, false, dtype));
  lin1 = register_module("lin1", conv(192, 1, 1, 1, 0, false, dtype));
  lin2 = register_module("lin2", conv(384, 1, 1, 1, 0, false, dtype));
  lin3 = register_module("lin3", conv(256, 1, 1, 1, 0, false, dtype));
  lin4 = register_module("lin4", conv(256, 1, 1, 1, 0, false, dtype));
  for (const Tensor& p : parameters()) fill_(p, 0.0);
  eval();
}

std::shared_ptr<Lpips> Lpips::load(const std::string& dir, DType dtype) {
  auto net = std::make_shared<Lpips>(dtype);
  models::load_npy_parameters(*net, dir, dtype, "Lpips::load");
  return net;
}

Tensor Lpips::tap_distances(const Tensor& a, const Tensor& b) {
  const char* op = "Lpips::distance";
  MASKOFF_CHECK(a.defined() && b.defined() && a.shape() == b.shape(),
                op << ": the images differ in shape: a "
                   << (a.defined() ? shape_str(a.shape()) : "undefined") << " vs b "
                   << (b.defined() ? shape_str(b.shape()) : "undefined"));
  // reshape, not a view: gradients must reach a [3, H, W] leaf too.
  Tensor xa = reshape(a, detail::as_batch(a, op, "a").shape());
  Tensor xb = reshape(b, detail::as_batch(b, op, "b").shape());
  const DType dtype = conv1->weight.dtype();
  MASKOFF_CHECK(a.dtype() == dtype, op << ": images " << a.str()
                                       << " must have the network's dtype " << dtype_name(dtype));
  MASKOFF_CHECK(xa.size(2) >= kMinSide && xa.size(3) >= kMinSide,
                op << ": images " << shape_str(a.shape()) << " are smaller than the " << kMinSide
                   << " x " << kMinSide << " AlexNet needs");
  detail::check_unit_range(a.to_vector<double>(), a, op, "a");
  detail::check_unit_range(b.to_vector<double>(), b, op, "b");

  // Both images in one batch: every conv runs once.
  const int64_t n = xa.size(0);
  Tensor x = scaling_layer(concat({xa, xb}, 0));
  std::vector<Tensor> taps;
  taps.push_back(relu(conv1->forward(x)));
  taps.push_back(relu(conv2->forward(max_pool2d(taps.back(), 3, 2))));
  taps.push_back(relu(conv3->forward(max_pool2d(taps.back(), 3, 2))));
  taps.push_back(relu(conv4->forward(taps.back())));
  taps.push_back(relu(conv5->forward(taps.back())));

  const std::shared_ptr<Conv2d> heads[kTaps] = {lin0, lin1, lin2, lin3, lin4};
  std::vector<Tensor> terms;
  for (int64_t k = 0; k < kTaps; ++k) {
    Tensor f = normalize_channels(taps[static_cast<size_t>(k)]);
    Tensor d = sub(slice(f, 0, 0, n), slice(f, 0, n, 2 * n));
    Tensor h = heads[k]->forward(mul(d, d));  // [N, 1, h, w]
    terms.push_back(mean_dim(reshape(h, {n, h.size(2) * h.size(3)}), 1, true));
  }
  return concat(terms, 1);
}

Tensor Lpips::distance(const Tensor& a, const Tensor& b) { return sum_dim(tap_distances(a, b), 1); }

Tensor Lpips::distance_in_box(const Tensor& a, const Tensor& b, const Box& box) {
  MASKOFF_CHECK(box.height() >= kMinSide && box.width() >= kMinSide,
                "Lpips::distance_in_box: box " << box_str(box) << " is smaller than the "
                                               << kMinSide << " x " << kMinSide
                                               << " AlexNet needs");
  return distance(crop_box(a, box), crop_box(b, box));
}

}  // namespace maskoff::metrics
