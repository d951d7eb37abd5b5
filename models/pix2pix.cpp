// The pix2pix U-Net generator and PatchGAN discriminator: construction in PyTorch's module
// order, input checks, and the 'normal' initialisation.
#include "models/pix2pix.h"

#include <algorithm>

#include "layers/elementwise.h"
#include "layers/shape_ops.h"
#include "layers/upsample.h"

namespace maskoff::models {

namespace {

constexpr int64_t kKernel = 4;  // every pix2pix conv is 4x4

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

void check_positive(int64_t v, const char* net, const char* what) {
  MASKOFF_CHECK(v > 0, net << ": " << what << " must be positive, got " << v);
}

void check_input(const Tensor& x, int64_t channels, const char* net) {
  MASKOFF_CHECK(x.defined(), net << ": undefined input");
  MASKOFF_CHECK(x.dim() == 4 && x.size(1) == channels, net << ": input " << shape_str(x.shape())
                                                           << " must be [N, " << channels
                                                           << ", H, W]");
}

}  // namespace

int64_t unet_downs_for_resolution(int64_t resolution) {
  MASKOFF_CHECK(is_power_of_two(resolution) && resolution >= 32,
                "unet_downs_for_resolution: resolution "
                    << resolution
                    << " must be a power of two >= 32 (the U-Net halves it down to 1x1 "
                    << "and has at least 5 levels)");
  int64_t downs = 0;
  while ((int64_t{1} << downs) < resolution) ++downs;
  return downs;
}

// ---- U-Net ------------------------------------------------------------------------------

ResizeConv2d::ResizeConv2d(int64_t in_channels, int64_t out_channels, bool bias, Generator& init,
                           DType dtype)
    : Module("ResizeConv2d") {
  conv = register_module(
      "conv", std::make_shared<Conv2d>(in_channels, out_channels, 3, init, 1, 1, bias, 1, dtype));
}

Tensor ResizeConv2d::forward(const Tensor& x) { return conv->forward(upsample_nearest2d(x, 2)); }

UNetSkipBlock::UNetSkipBlock(Kind kind_, int64_t outer_nc, int64_t inner_nc, int64_t input_nc,
                             std::shared_ptr<UNetSkipBlock> inner, bool dropout,
                             uint64_t dropout_seed, Generator& init, DType dtype,
                             UpsampleKind upsample, bool mask_head)
    : Module("UNetSkipBlock"), kind(kind_) {
  MASKOFF_CHECK((kind == Kind::innermost) == (inner == nullptr),
                "UNetSkipBlock: the innermost level, and only it, has no inner block");
  model = register_module("model", std::make_shared<Sequential>());
  Sequential& m = *model;
  // Weights are overwritten by init_pix2pix_weights; `init` only feeds the layers' defaults.
  auto down_conv = [&] {
    return std::make_shared<Conv2d>(input_nc, inner_nc, kKernel, init, 2, 1, false, 1, dtype);
  };
  auto up_conv = [&](int64_t in, bool bias, int64_t out) -> std::shared_ptr<Module> {
    if (upsample == UpsampleKind::resize)
      return std::make_shared<ResizeConv2d>(in, out, bias, init, dtype);
    return std::make_shared<ConvTranspose2d>(in, out, kKernel, init, 2, 1, 0, bias, 1, dtype);
  };
  auto norm = [&](int64_t c) {
    return std::make_shared<BatchNorm2d>(c, 1e-5, 0.1, true, true, dtype);
  };
  switch (kind) {
    case Kind::outermost:
      m.add(down_conv()).add(inner).emplace<ReLU>();
      m.add(up_conv(inner_nc * 2, true, outer_nc + (mask_head ? 1 : 0)));
      if (!mask_head) m.emplace<Tanh>();
      break;
    case Kind::innermost:
      m.emplace<LeakyReLU>(0.2);
      m.add(down_conv()).emplace<ReLU>();
      m.add(up_conv(inner_nc, false, outer_nc)).add(norm(outer_nc));
      break;
    case Kind::intermediate:
      m.emplace<LeakyReLU>(0.2);
      m.add(down_conv()).add(norm(inner_nc)).add(inner).emplace<ReLU>();
      m.add(up_conv(inner_nc * 2, false, outer_nc)).add(norm(outer_nc));
      if (dropout) m.emplace<Dropout>(0.5, dropout_seed);
      break;
  }
}

Tensor UNetSkipBlock::forward(const Tensor& x) {
  Tensor y = model->forward(x);
  return kind == Kind::outermost ? y : concat_channels({x, y});
}

UNetGenerator::UNetGenerator(const UNetConfig& c, Generator& init)
    : Module("UNetGenerator"), config(c) {
  check_positive(c.in_channels, "UNetGenerator", "in_channels");
  check_positive(c.out_channels, "UNetGenerator", "out_channels");
  check_positive(c.ngf, "UNetGenerator", "ngf");
  MASKOFF_CHECK(c.num_downs >= 5 && c.num_downs <= 16,
                "UNetGenerator: num_downs "
                    << c.num_downs
                    << " must lie in [5, 16] (pix2pix's U-Net has at least 5 levels)");
  using Kind = UNetSkipBlock::Kind;
  const int64_t f = c.ngf;
  const DType dt = c.dtype;
  // The layers' own default initialisation draws from a scratch generator, so that `init`
  // is used by init_pix2pix_weights alone, in named_parameters() order.
  Generator scratch(init.seed ^ 0x5bd1e995ULL);
  // Built from the innermost level outwards, as pix2pix does. Dropout layer k, counted from
  // the innermost, gets seed rng_bits(dropout_seed, k).
  const UpsampleKind up = c.upsample;
  auto block = std::make_shared<UNetSkipBlock>(Kind::innermost, f * 8, f * 8, f * 8, nullptr, false,
                                               0, scratch, dt, up);
  for (int64_t k = 0; k < c.num_downs - 5; ++k)
    block =
        std::make_shared<UNetSkipBlock>(Kind::intermediate, f * 8, f * 8, f * 8, block, c.dropout,
                                        rng_bits(c.dropout_seed, k), scratch, dt, up);
  block = std::make_shared<UNetSkipBlock>(Kind::intermediate, f * 4, f * 8, f * 4, block, false, 0,
                                          scratch, dt, up);
  block = std::make_shared<UNetSkipBlock>(Kind::intermediate, f * 2, f * 4, f * 2, block, false, 0,
                                          scratch, dt, up);
  block = std::make_shared<UNetSkipBlock>(Kind::intermediate, f, f * 2, f, block, false, 0, scratch,
                                          dt, up);
  model = register_module(
      "model", std::make_shared<UNetSkipBlock>(Kind::outermost, c.out_channels, f, c.in_channels,
                                               block, false, 0, scratch, dt, up, c.mask_head));
  init_pix2pix_weights(*this, init);
}

Tensor UNetGenerator::forward(const Tensor& x) {
  check_input(x, config.in_channels, "UNetGenerator");
  const int64_t unit = int64_t{1} << config.num_downs;
  MASKOFF_CHECK(x.size(2) > 0 && x.size(3) > 0 && x.size(2) % unit == 0 && x.size(3) % unit == 0,
                "UNetGenerator (num_downs " << config.num_downs << "): input "
                                            << shape_str(x.shape()) << " has H x W = " << x.size(2)
                                            << " x " << x.size(3) << "; expected multiples of 2^"
                                            << config.num_downs << " = " << unit << " (e.g. "
                                            << unit << " x " << unit << ")");
  if (!config.mask_head) return model->forward(x);
  const Tensor y = model->forward(x);
  const int64_t c = config.out_channels;
  return concat_channels({tanh(slice(y, 1, 0, c)), slice(y, 1, c, c + 1)});
}

// ---- PatchGAN ---------------------------------------------------------------------------

PatchGANDiscriminator::PatchGANDiscriminator(const PatchGANConfig& c, Generator& init)
    : Module("PatchGANDiscriminator"), config(c) {
  check_positive(c.in_channels, "PatchGANDiscriminator", "in_channels");
  check_positive(c.ndf, "PatchGANDiscriminator", "ndf");
  MASKOFF_CHECK(c.n_layers >= 0 && c.n_layers <= 16,
                "PatchGANDiscriminator: n_layers " << c.n_layers << " must lie in [0, 16]");
  Generator scratch(init.seed ^ 0x5bd1e995ULL);
  const DType dt = c.dtype;
  model = register_module("model", std::make_shared<Sequential>());
  Sequential& m = *model;
  auto conv = [&](int64_t in, int64_t out, int64_t stride, bool bias) {
    m.emplace<Conv2d>(in, out, kKernel, scratch, stride, 1, bias, 1, dt);
  };
  auto norm_act = [&](int64_t ch) {
    m.emplace<BatchNorm2d>(ch, 1e-5, 0.1, true, true, dt);
    m.emplace<LeakyReLU>(0.2);
  };
  conv(c.in_channels, c.ndf, 2, true);
  m.emplace<LeakyReLU>(0.2);
  int64_t mult = 1;
  for (int64_t n = 1; n < c.n_layers; ++n) {
    const int64_t prev = mult;
    mult = std::min<int64_t>(int64_t{1} << n, 8);
    conv(c.ndf * prev, c.ndf * mult, 2, false);
    norm_act(c.ndf * mult);
  }
  const int64_t prev = mult;
  mult = std::min<int64_t>(int64_t{1} << c.n_layers, 8);
  conv(c.ndf * prev, c.ndf * mult, 1, false);
  norm_act(c.ndf * mult);
  conv(c.ndf * mult, 1, 1, true);
  init_pix2pix_weights(*this, init);
}

Tensor PatchGANDiscriminator::forward(const Tensor& x) {
  check_input(x, config.in_channels, "PatchGANDiscriminator");
  // k4 p1: stride 2 maps s to floor(s / 2), stride 1 to s - 1.
  auto out_size = [&](int64_t s) {
    for (int64_t n = 0; n < config.n_layers; ++n) s /= 2;
    return s - 2;
  };
  const int64_t min_side = (int64_t{3} << config.n_layers);
  MASKOFF_CHECK(out_size(x.size(2)) > 0 && out_size(x.size(3)) > 0,
                "PatchGANDiscriminator (n_layers "
                    << config.n_layers << "): input " << shape_str(x.shape())
                    << " is too small; H and W must be at least " << min_side);
  return model->forward(x);
}

// ---- initialisation -----------------------------------------------------------------------

void init_pix2pix_weights(Module& net, Generator& g) {
  constexpr double kGain = 0.02;
  // apply() visits a module before its children, and layers own their parameters directly,
  // so this walk meets the tensors in named_parameters() order.
  net.apply([&](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) {
      init_normal_(c->weight, g, 0.0, kGain);
      if (c->bias.defined()) init_constant_(c->bias, 0.0);
    } else if (auto* t = dynamic_cast<ConvTranspose2d*>(&m)) {
      init_normal_(t->weight, g, 0.0, kGain);
      if (t->bias.defined()) init_constant_(t->bias, 0.0);
    } else if (auto* b = dynamic_cast<BatchNorm2d*>(&m)) {
      if (b->weight.defined()) init_normal_(b->weight, g, 1.0, kGain);
      if (b->bias.defined()) init_constant_(b->bias, 0.0);
    }
  });
}

}  // namespace maskoff::models
