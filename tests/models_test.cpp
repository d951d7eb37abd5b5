// The pix2pix networks: parameter counts, names and shapes against PyTorch, output shapes,
// dropout layers, the 'normal' initialisation, a float64 gradient check of a tiny U-Net,
// and input errors.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "models/pix2pix.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

namespace maskoff::models {
namespace {
using maskoff::testing::error_of;
using maskoff::testing::grad_check;
using maskoff::testing::leaf;

// ---- reference numbers ------------------------------------------------------------------
// All printed by scripts/golden/model_param_counts.py (PyTorch twins in
// scripts/golden/pix2pix_ref.py). Buffers: PyTorch lists three per batch norm, the engine
// two (no num_batches_tracked).

struct UNetCount {
  int64_t num_downs, ngf, params, tensors, buffers, dropouts;
};
const UNetCount kUNetCounts[] = {
    {8, 64, 54413955, 43, 26, 3}, {7, 64, 41828995, 37, 22, 2}, {6, 64, 29244035, 31, 18, 1},
    {5, 64, 16659075, 25, 14, 0}, {8, 8, 852307, 43, 26, 3},    {7, 8, 655443, 37, 22, 2},
    {6, 8, 458579, 31, 18, 1},    {5, 8, 261715, 25, 14, 0},
};
constexpr int64_t kPatchGAN64Params = 2768705, kPatchGAN8Params = 45033;

using NamedShapes = std::vector<std::pair<std::string, Shape>>;
// PyTorch's named_parameters() of UNetGenerator(3, 3, num_downs 6, ngf 8).
const NamedShapes kUNet6Ngf8 = {
    {"model.model.0.weight", {8, 3, 4, 4}},
    {"model.model.1.model.1.weight", {16, 8, 4, 4}},
    {"model.model.1.model.2.weight", {16}},
    {"model.model.1.model.2.bias", {16}},
    {"model.model.1.model.3.model.1.weight", {32, 16, 4, 4}},
    {"model.model.1.model.3.model.2.weight", {32}},
    {"model.model.1.model.3.model.2.bias", {32}},
    {"model.model.1.model.3.model.3.model.1.weight", {64, 32, 4, 4}},
    {"model.model.1.model.3.model.3.model.2.weight", {64}},
    {"model.model.1.model.3.model.3.model.2.bias", {64}},
    {"model.model.1.model.3.model.3.model.3.model.1.weight", {64, 64, 4, 4}},
    {"model.model.1.model.3.model.3.model.3.model.2.weight", {64}},
    {"model.model.1.model.3.model.3.model.3.model.2.bias", {64}},
    {"model.model.1.model.3.model.3.model.3.model.3.model.1.weight", {64, 64, 4, 4}},
    {"model.model.1.model.3.model.3.model.3.model.3.model.3.weight", {64, 64, 4, 4}},
    {"model.model.1.model.3.model.3.model.3.model.3.model.4.weight", {64}},
    {"model.model.1.model.3.model.3.model.3.model.3.model.4.bias", {64}},
    {"model.model.1.model.3.model.3.model.3.model.5.weight", {128, 64, 4, 4}},
    {"model.model.1.model.3.model.3.model.3.model.6.weight", {64}},
    {"model.model.1.model.3.model.3.model.3.model.6.bias", {64}},
    {"model.model.1.model.3.model.3.model.5.weight", {128, 32, 4, 4}},
    {"model.model.1.model.3.model.3.model.6.weight", {32}},
    {"model.model.1.model.3.model.3.model.6.bias", {32}},
    {"model.model.1.model.3.model.5.weight", {64, 16, 4, 4}},
    {"model.model.1.model.3.model.6.weight", {16}},
    {"model.model.1.model.3.model.6.bias", {16}},
    {"model.model.1.model.5.weight", {32, 8, 4, 4}},
    {"model.model.1.model.6.weight", {8}},
    {"model.model.1.model.6.bias", {8}},
    {"model.model.3.weight", {16, 3, 4, 4}},
    {"model.model.3.bias", {3}},
};
// PyTorch's named_parameters() of PatchGANDiscriminator(6, ndf 8, n_layers 3).
const NamedShapes kPatchGANNdf8 = {
    {"model.0.weight", {8, 6, 4, 4}}, {"model.0.bias", {8}},  {"model.2.weight", {16, 8, 4, 4}},
    {"model.3.weight", {16}},         {"model.3.bias", {16}}, {"model.5.weight", {32, 16, 4, 4}},
    {"model.6.weight", {32}},         {"model.6.bias", {32}}, {"model.8.weight", {64, 32, 4, 4}},
    {"model.9.weight", {64}},         {"model.9.bias", {64}}, {"model.11.weight", {1, 64, 4, 4}},
    {"model.11.bias", {1}},
};

NamedShapes named_shapes(const Module& m) {
  NamedShapes out;
  for (const auto& [name, t] : m.named_parameters()) out.emplace_back(name, t.shape());
  return out;
}

UNetConfig unet_config(int64_t downs, int64_t ngf, DType dtype = DType::F32) {
  UNetConfig c;
  c.num_downs = downs;
  c.ngf = ngf;
  c.dtype = dtype;
  return c;
}

// The smallest U-Net (num_downs 5, 32x32) with ngf 2, one input channel and `out` output
// channels, in float64: the size the PyTorch and gradient checks use.
UNetConfig tiny_f64_config(int64_t out) {
  UNetConfig c = unet_config(5, 2, DType::F64);
  c.in_channels = 1;
  c.out_channels = out;
  return c;
}

std::vector<Dropout*> dropouts_of(Module& m) {
  std::vector<Dropout*> out;
  m.apply([&](Module& s) {
    if (auto* d = dynamic_cast<Dropout*>(&s)) out.push_back(d);
  });
  return out;
}

// ---- structure ----------------------------------------------------------------------------

TEST(Pix2pixModels, UNetCountsMatchPyTorch) {
  for (const UNetCount& e : kUNetCounts) {
    Generator g(1);
    UNetGenerator net(unet_config(e.num_downs, e.ngf), g);
    SCOPED_TRACE("num_downs " + std::to_string(e.num_downs) + " ngf " + std::to_string(e.ngf));
    EXPECT_EQ(net.num_parameters(), e.params);
    EXPECT_EQ(static_cast<int64_t>(net.parameters().size()), e.tensors);
    EXPECT_EQ(static_cast<int64_t>(net.buffers().size()), e.buffers);
    EXPECT_EQ(static_cast<int64_t>(dropouts_of(net).size()), e.dropouts);
  }
}

TEST(Pix2pixModels, PatchGANCountsMatchPyTorch) {
  Generator g(2);
  PatchGANConfig c;
  EXPECT_EQ(PatchGANDiscriminator(c, g).num_parameters(), kPatchGAN64Params);
  c.ndf = 8;
  PatchGANDiscriminator d(c, g);
  EXPECT_EQ(d.num_parameters(), kPatchGAN8Params);
  EXPECT_EQ(d.buffers().size(), 6u);
  EXPECT_TRUE(dropouts_of(d).empty());
}

TEST(Pix2pixModels, ParameterNamesAndOrderMatchPyTorch) {
  Generator g(3);
  UNetGenerator u(unet_config(6, 8), g);
  EXPECT_EQ(named_shapes(u), kUNet6Ngf8);
  PatchGANConfig c;
  c.ndf = 8;
  PatchGANDiscriminator d(c, g);
  EXPECT_EQ(named_shapes(d), kPatchGANNdf8);
  // Buffers sit beside the batch norm's parameters, running mean before running variance.
  auto b = d.named_buffers();
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0].first, "model.3.running_mean");
  EXPECT_EQ(b[1].first, "model.3.running_var");
  EXPECT_EQ(b[5].first, "model.9.running_var");
  EXPECT_EQ(u.named_buffers()[0].first, "model.model.1.model.2.running_mean");
}

TEST(Pix2pixModels, DropoutLayersSitAfterTheInnermostDecoderNorms) {
  Generator g(4);
  UNetConfig c = unet_config(8, 8);
  c.dropout_seed = 99;
  UNetGenerator net(c, g);
  auto d = dropouts_of(net);
  ASSERT_EQ(d.size(), 3u);
  for (Dropout* p : d) EXPECT_EQ(p->p, 0.5);
  // Each layer its own stream: equal seeds would drop the same units in every block.
  EXPECT_NE(d[0]->gen.seed, d[1]->gen.seed);
  EXPECT_NE(d[1]->gen.seed, d[2]->gen.seed);
  EXPECT_NE(d[0]->gen.seed, d[2]->gen.seed);
  // Dropout is the last layer of the three ngf*8 intermediate levels: levels 5, 6 and 7
  // counted from the outermost (1; level 8 is the innermost).
  auto level = [&](int depth) {
    UNetSkipBlock* b = net.model.get();
    for (int i = 1; i < depth && b; ++i) {
      const size_t inner_at = b->kind == UNetSkipBlock::Kind::outermost ? 1 : 3;
      b = dynamic_cast<UNetSkipBlock*>((*b->model)[inner_at].get());
    }
    return b;
  };
  for (int depth = 1; depth <= 8; ++depth) {
    UNetSkipBlock* b = level(depth);
    ASSERT_NE(b, nullptr) << depth;
    bool has = dynamic_cast<Dropout*>((*b->model)[b->model->size() - 1].get()) != nullptr;
    EXPECT_EQ(has, depth >= 5 && depth <= 7) << "level " << depth;
  }
  // Switched off: none.
  c.dropout = false;
  EXPECT_TRUE(dropouts_of(*std::make_shared<UNetGenerator>(c, g)).empty());
}

TEST(Pix2pixModels, ForwardShapes) {
  Generator g(5);
  UNetGenerator u64(unet_config(6, 8), g);
  Tensor x = randn({2, 3, 64, 64}, g);
  Tensor y = u64.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 64, 64}));
  for (double v : y.to_vector<double>()) ASSERT_TRUE(v > -1 && v < 1) << v;  // tanh
  PatchGANConfig c;
  c.ndf = 8;
  PatchGANDiscriminator d(c, g);
  EXPECT_EQ(d.forward(randn({2, 6, 64, 64}, g)).shape(), (Shape{2, 1, 6, 6}));
  EXPECT_EQ(d.forward(randn({1, 6, 256, 256}, g)).shape(), (Shape{1, 1, 30, 30}));
  UNetGenerator u256(unet_config(8, 8), g);
  EXPECT_EQ(u256.forward(randn({1, 3, 256, 256}, g)).shape(), (Shape{1, 3, 256, 256}));
  // Other channel counts, and an input larger than 2^num_downs.
  UNetConfig c1 = unet_config(5, 4);
  c1.in_channels = 1;
  c1.out_channels = 2;
  EXPECT_EQ(UNetGenerator(c1, g).forward(randn({2, 1, 64, 32}, g)).shape(), (Shape{2, 2, 64, 32}));
}

TEST(Pix2pixModels, DownsForResolution) {
  EXPECT_EQ(unet_downs_for_resolution(32), 5);
  EXPECT_EQ(unet_downs_for_resolution(64), 6);
  EXPECT_EQ(unet_downs_for_resolution(128), 7);
  EXPECT_EQ(unet_downs_for_resolution(256), 8);
  EXPECT_EQ(unet_downs_for_resolution(512), 9);
  for (int64_t bad : {0, -256, 16, 100, 255, 384}) {
    std::string msg = error_of([&] { unet_downs_for_resolution(bad); });
    EXPECT_NE(msg.find(std::to_string(bad)), std::string::npos) << msg;
    EXPECT_NE(msg.find("power of two"), std::string::npos) << msg;
  }
}

// ---- forward values against PyTorch --------------------------------------------------------
// Parameters and input set by a formula in both engines (see formula_fill in
// scripts/golden/model_param_counts.py), float64, training mode; the script printed the sums
// and elements below.

void formula_fill(Module& net) {
  int64_t k = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    std::vector<double> v(static_cast<size_t>(p.numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      const double s = std::sin(0.7 * double(i) + 1.3 * double(k) + 0.1);
      const bool is_bias = name.substr(name.size() - 4) == "bias";
      v[i] = is_bias ? 0.1 * s : (p.dim() == 4 ? 0.3 * s : 1.0 + 0.2 * s);
    }
    copy_(p, from_vector(v, p.shape(), DType::F64));
    ++k;
  }
}

Tensor formula_input(const Shape& s) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + 0.5);
  return from_vector(v, s, DType::F64);
}

struct Probe {
  double sum, sum_sq;
  std::vector<std::pair<size_t, double>> elements;
};

void expect_probe(const Tensor& y, const Probe& want) {
  std::vector<double> v = y.to_vector<double>();
  double s = 0, s2 = 0;
  for (double e : v) s += e, s2 += e * e;
  EXPECT_NEAR(s, want.sum, 1e-9);
  EXPECT_NEAR(s2, want.sum_sq, 1e-9);
  for (const auto& [i, e] : want.elements) EXPECT_NEAR(v.at(i), e, 1e-12) << "element " << i;
}

TEST(Pix2pixForward, TinyUNetMatchesPyTorch) {
  UNetConfig c = tiny_f64_config(2);
  Generator g(12);
  UNetGenerator net(c, g);
  formula_fill(net);
  Tensor y = net.forward(formula_input({2, 1, 32, 32}));
  ASSERT_EQ(y.shape(), (Shape{2, 2, 32, 32}));
  expect_probe(y, {35.1049132485763,
                   452.243986269605,
                   {{0, -0.0115661896899223},
                    {1, -0.0128258910202011},
                    {1365, 0.370017616229716},
                    {2048, -0.0311432387330433},
                    {4095, 0.0633328201883215}}});
}

TEST(Pix2pixForward, TinyPatchGANMatchesPyTorch) {
  PatchGANConfig c{2, 2, 2, DType::F64};
  Generator g(13);
  PatchGANDiscriminator net(c, g);
  formula_fill(net);
  Tensor y = net.forward(formula_input({2, 2, 16, 16}));
  ASSERT_EQ(y.shape(), (Shape{2, 1, 2, 2}));
  expect_probe(y, {-4.76179385585902,
                   13.2216563305665,
                   {{0, 0.748412630540114},
                    {1, -1.54137943766994},
                    {2, -1.93054652637264},
                    {4, 0.79897022937974},
                    {7, 0.216574666166369}}});
}

// ---- initialisation -----------------------------------------------------------------------

TEST(Pix2pixInit, StatisticsOfTheFullSizeNetworks) {
  Generator g(6);
  UNetGenerator u(unet_config(8, 64), g);
  PatchGANDiscriminator d(PatchGANConfig{}, g);
  for (const Module* net : {static_cast<const Module*>(&u), static_cast<const Module*>(&d)}) {
    double ws = 0, ws2 = 0, bs = 0, bs2 = 0;
    int64_t wn = 0, bn = 0;
    for (const auto& [name, t] : net->named_parameters()) {
      std::vector<double> v = t.to_vector<double>();
      const bool is_bias = name.size() >= 4 && name.substr(name.size() - 4) == "bias";
      if (is_bias) {
        for (double e : v) ASSERT_EQ(e, 0.0) << name;
      } else if (t.dim() == 4) {
        for (double e : v) ws += e, ws2 += e * e, ++wn;
      } else {
        for (double e : v) bs += e, bs2 += e * e, ++bn;
      }
    }
    const double wm = ws / wn, wsd = std::sqrt(ws2 / wn - wm * wm);
    const double bm = bs / bn, bsd = std::sqrt(bs2 / bn - bm * bm);
    // Standard errors: 0.02/sqrt(n) for the mean, about 0.02/sqrt(2n) for the deviation.
    EXPECT_NEAR(wm, 0.0, 5 * 0.02 / std::sqrt(double(wn))) << net->type_name();
    EXPECT_NEAR(wsd, 0.02, 5 * 0.02 / std::sqrt(2.0 * wn)) << net->type_name();
    EXPECT_NEAR(bm, 1.0, 5 * 0.02 / std::sqrt(double(bn))) << net->type_name();
    EXPECT_NEAR(bsd, 0.02, 5 * 0.02 / std::sqrt(2.0 * bn)) << net->type_name();
  }
}

TEST(Pix2pixInit, DrawsInNamedParameterOrder) {
  // Replaying the draws of one fresh generator tensor by tensor reproduces every weight.
  UNetConfig c = unet_config(6, 4, DType::F64);
  Generator g(7);
  UNetGenerator net(c, g);
  Generator replay(7);
  for (const auto& [name, t] : net.named_parameters()) {
    std::vector<double> got = t.to_vector<double>(), want;
    if (name.substr(name.size() - 4) == "bias")
      want.assign(got.size(), 0.0);
    else
      want = randn(t.shape(), replay, DType::F64, Device::cpu(), t.dim() == 4 ? 0.0 : 1.0, 0.02)
                 .to_vector<double>();
    EXPECT_EQ(got, want) << name;
  }
  EXPECT_EQ(replay.offset, g.offset);
  // init_pix2pix_weights on its own does the same.
  Generator again(7);
  init_pix2pix_weights(net, again);
  EXPECT_EQ(again.offset, g.offset);
  // A different seed gives different weights.
  Generator other(8);
  UNetGenerator net2(c, other);
  EXPECT_NE(net2.parameters()[0].to_vector<double>(), net.parameters()[0].to_vector<double>());
}

// ---- gradients ----------------------------------------------------------------------------

// Batch-norm scales and shifts away from 1 and 0 so their gradients are generic, and conv
// weights bigger than 0.02 keep the deep activations away from zero, where ReLU kinks are.
void generic_weights(UNetGenerator& net, Generator& g) {
  net.apply([&](Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
      init_uniform_(bn->weight, g, 0.5, 1.5);
      init_uniform_(bn->bias, g, -0.5, 0.5);
    }
  });
  for (const auto& [name, t] : net.named_parameters())
    if (t.dim() == 4) init_normal_(t, g, 0.0, 0.5);
}

// Checks the gradients of net(x) with respect to x and the named parameters, and that each
// of them carries signal.
void check_unet_gradients(UNetGenerator& net, const Tensor& x,
                          const std::vector<const char*>& names) {
  std::vector<Tensor> wrt = {x};
  for (const char* name : names) wrt.push_back(net.parameter(name));
  EXPECT_TRUE(grad_check([&] { return net.forward(x); }, wrt, {1e-6, 1e-6, 1e-4}));
  for (const Tensor& t : wrt) {
    double mx = 0;
    for (double v : t.grad().to_vector<double>()) mx = std::max(mx, std::fabs(v));
    EXPECT_GT(mx, 1e-3) << t.name();
  }
}

TEST(Pix2pixGrad, TinyUNetInTrainingMode) {
  // num_downs 5 (the smallest U-Net, 32x32) with ngf 2 and one input channel: checks the
  // input gradient (through every skip) and the parameters of the outermost, an
  // intermediate and the innermost level, with batch statistics.
  UNetConfig c = tiny_f64_config(2);
  Generator g(9);
  UNetGenerator net(c, g);
  generic_weights(net, g);
  Tensor x = leaf({2, 1, 32, 32}, g);
  check_unet_gradients(net, x,
                       {"model.model.0.weight", "model.model.3.weight", "model.model.3.bias",
                        "model.model.1.model.2.weight", "model.model.1.model.6.bias",
                        "model.model.1.model.3.model.3.model.3.model.4.weight",
                        "model.model.1.model.3.model.3.model.3.model.3.weight"});
}

// ---- the mask head and the resize-convolution decoder ----------------------------------------

TEST(Pix2pixMaskHead, ImageInTanhRangeThenAnUnboundedLogit) {
  Generator g(21);
  UNetConfig c = unet_config(6, 8);
  c.mask_head = true;
  UNetGenerator net(c, g);
  // Large outermost weights push the raw values far past 1, which Tanh must bound for the
  // image channels only.
  init_normal_(net.parameter("model.model.3.weight"), g, 0.0, 2.0);
  const Tensor y = net.forward(randn({2, 3, 64, 64}, g));
  ASSERT_EQ(y.shape(), (Shape{2, 4, 64, 64}));
  const std::vector<double> v = y.to_vector<double>();
  double logit_max = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c2 = 0; c2 < 4; ++c2)
      for (int64_t i = 0; i < 64 * 64; ++i) {
        const double x = v[(n * 4 + c2) * 64 * 64 + i];
        if (c2 < 3)
          ASSERT_TRUE(x >= -1 && x <= 1) << x;  // float32 tanh reaches 1 itself
        else
          logit_max = std::max(logit_max, std::fabs(x));
      }
  EXPECT_GT(logit_max, 1.5);  // the logit is not squashed
  // The same parameter names as the plain generator (Tanh has none), the outermost
  // transposed conv with one more output channel.
  UNetGenerator plain(unet_config(6, 8), g);
  const auto a = net.named_parameters(), b = plain.named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    if (a[i].first == "model.model.3.weight")
      EXPECT_EQ(a[i].second.shape(), (Shape{16, 4, 4, 4}));
    else if (a[i].first == "model.model.3.bias")
      EXPECT_EQ(a[i].second.shape(), (Shape{4}));
    else
      EXPECT_EQ(a[i].second.shape(), b[i].second.shape()) << a[i].first;
  }
}

TEST(Pix2pixResizeDecoder, ShapesNamesAndNoTransposedConv) {
  Generator g(22);
  UNetConfig c = unet_config(6, 8);
  c.upsample = UpsampleKind::resize;
  UNetGenerator net(c, g);
  EXPECT_EQ(net.forward(randn({1, 3, 64, 64}, g)).shape(), (Shape{1, 3, 64, 64}));
  int resize = 0, transposed = 0;
  net.apply([&](Module& m) {
    resize += dynamic_cast<ResizeConv2d*>(&m) != nullptr;
    transposed += dynamic_cast<ConvTranspose2d*>(&m) != nullptr;
  });
  EXPECT_EQ(resize, 6);  // one per level
  EXPECT_EQ(transposed, 0);
  // In the transposed conv's place, a 3x3 conv with pix2pix's N(0, 0.02) initialisation.
  const Tensor w = net.parameter("model.model.3.conv.weight");
  EXPECT_EQ(w.shape(), (Shape{3, 16, 3, 3}));
  double ss = 0;
  for (double v : w.to_vector<double>()) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / w.numel()), 0.02, 0.005);
  EXPECT_EQ(net.parameter("model.model.3.conv.bias").to_vector<double>(),
            std::vector<double>(3, 0.0));
}

TEST(Pix2pixResizeDecoder, IsNearestUpsamplingThenAConvolution) {
  Generator g(23);
  ResizeConv2d layer(2, 3, true, g, DType::F64);
  Conv2d conv(2, 3, 3, g, 1, 1, true, 1, DType::F64);
  copy_(conv.weight, layer.conv->weight);
  copy_(conv.bias, layer.conv->bias);
  const Tensor x = randn({1, 2, 5, 4}, g, DType::F64);
  // The 2x nearest upsampling written out by hand.
  const std::vector<double> xv = x.to_vector<double>();
  std::vector<double> up(2 * 10 * 8);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 10; ++y)
      for (int xx = 0; xx < 8; ++xx) up[(c * 10 + y) * 8 + xx] = xv[(c * 5 + y / 2) * 4 + xx / 2];
  const Tensor want = conv.forward(from_vector(up, {1, 2, 10, 8}, DType::F64));
  const Tensor got = layer.forward(x);
  ASSERT_EQ(got.shape(), (Shape{1, 3, 10, 8}));
  const auto a = got.to_vector<double>(), b = want.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
}

TEST(Pix2pixGrad, TinyUNetWithMaskHeadAndResizeDecoder) {
  // The smallest U-Net with both options: the gradient reaches the input, the resize
  // convolutions and the outermost layer through the split Tanh / logit output.
  UNetConfig c = tiny_f64_config(1);
  c.mask_head = true;
  c.upsample = UpsampleKind::resize;
  Generator g(24);
  UNetGenerator net(c, g);
  generic_weights(net, g);
  Tensor x = leaf({2, 1, 32, 32}, g);
  check_unet_gradients(net, x,
                       {"model.model.0.weight", "model.model.3.conv.weight",
                        "model.model.3.conv.bias", "model.model.1.model.5.conv.weight"});
}

// ---- errors -------------------------------------------------------------------------------

TEST(Pix2pixErrors, UNetInputSizeAndChannels) {
  Generator g(10);
  UNetGenerator net(unet_config(5, 2), g);
  std::string msg = error_of([&] { net.forward(zeros({1, 3, 48, 48})); });
  EXPECT_NE(msg.find("[1, 3, 48, 48]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("32"), std::string::npos) << msg;
  msg = error_of([&] { net.forward(zeros({1, 3, 32, 16})); });
  EXPECT_NE(msg.find("32 x 32"), std::string::npos) << msg;
  msg = error_of([&] { net.forward(zeros({1, 4, 32, 32})); });
  EXPECT_NE(msg.find("[N, 3, H, W]"), std::string::npos) << msg;
  EXPECT_THROW(net.forward(zeros({3, 32, 32})), Error);
  EXPECT_THROW(UNetGenerator(unet_config(4, 8), g), Error);
  EXPECT_THROW(UNetGenerator(unet_config(6, 0), g), Error);
}

TEST(Pix2pixErrors, PatchGANInputTooSmall) {
  Generator g(11);
  PatchGANConfig c;
  c.ndf = 4;
  PatchGANDiscriminator d(c, g);
  EXPECT_EQ(d.forward(zeros({2, 6, 24, 24})).shape(), (Shape{2, 1, 1, 1}));  // the smallest
  std::string msg = error_of([&] { d.forward(zeros({1, 6, 23, 64})); });
  EXPECT_NE(msg.find("at least 24"), std::string::npos) << msg;
  msg = error_of([&] { d.forward(zeros({1, 3, 64, 64})); });
  EXPECT_NE(msg.find("[N, 6, H, W]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace maskoff::models
