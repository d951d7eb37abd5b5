// The pix2pix networks: the U-Net generator built from nested skip blocks and the PatchGAN
// discriminator, both with batch norm, and pix2pix's 'normal' weight initialisation.
//
// The module tree mirrors pix2pix's PyTorch classes, so named_parameters() and
// named_buffers() list the same names in the same order as PyTorch's state_dict()
// ("model.model.1.model.1.weight", ...; PyTorch's num_batches_tracked buffers excepted):
// scripts/golden/pix2pix_ref.py holds the PyTorch twin.
#pragma once
#include <cstdint>
#include <memory>

#include "layers/modules.h"

namespace maskoff::models {

// How a decoder level doubles its resolution: pix2pix's transposed convolution (k4 s2 p1),
// or a nearest-neighbour 2x resize followed by a k3 s1 p1 convolution, which cannot make the
// checkerboard pattern an uneven kernel overlap gives (Odena, Dumoulin and Olah, 2016).
enum class UpsampleKind { transpose, resize };

struct UNetConfig {
  int64_t in_channels = 3, out_channels = 3;
  // A further output channel after the image's: the logit of "this pixel is covered by a
  // mask". The Tanh then applies to the image channels only.
  bool mask_head = false;
  UpsampleKind upsample = UpsampleKind::transpose;
  int64_t num_downs = 8;  // 8 for 256x256 inputs, 7 for 128, 6 for 64, 5 for 32
  int64_t ngf = 64;
  bool dropout = true;        // dropout 0.5 in the (num_downs - 5) innermost ngf*8 decoder blocks
  uint64_t dropout_seed = 0;  // each Dropout layer gets its own seed derived from this
  DType dtype = DType::F32;
};

// 32 -> 5, 64 -> 6, 128 -> 7, 256 -> 8, ...: the number of halvings that takes a square
// input of that side down to 1x1. Requires a power of two >= 32, else throws naming it.
int64_t unet_downs_for_resolution(int64_t resolution);

// The resize-convolution upsampling layer: nearest 2x, then `conv` (k3 s1 p1).
class ResizeConv2d : public Module {
 public:
  ResizeConv2d(int64_t in_channels, int64_t out_channels, bool bias, Generator& init, DType dtype);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv;
};

// One U-Net level, pix2pix's UnetSkipConnectionBlock with batch norm. Its child "model"
// (a Sequential) holds, by kind:
//   outermost:    conv, inner block, ReLU, conv-transpose (bias), Tanh
//   intermediate: LeakyReLU, conv, BN, inner block, ReLU, conv-transpose, BN [, Dropout]
//   innermost:    LeakyReLU, conv, ReLU, conv-transpose, BN
// Every conv is k4 s2 p1 without bias (pix2pix drops the bias whenever the norm is batch
// norm, even where none follows), except the outermost transposed conv. All levels but the
// outermost return concat(x, model(x)) on channels.
class UNetSkipBlock : public Module {
 public:
  enum class Kind { outermost, intermediate, innermost };
  // `inner` is null for the innermost level; `dropout_seed` is used only when `dropout`.
  UNetSkipBlock(Kind kind, int64_t outer_nc, int64_t inner_nc, int64_t input_nc,
                std::shared_ptr<UNetSkipBlock> inner, bool dropout, uint64_t dropout_seed,
                Generator& init, DType dtype, UpsampleKind upsample = UpsampleKind::transpose,
                bool mask_head = false);
  Tensor forward(const Tensor& x) override;

  Kind kind;
  std::shared_ptr<Sequential> model;
};

// pix2pix's UnetGenerator(in, out, num_downs, ngf, BatchNorm2d, use_dropout): input
// [N, in_channels, H, W] with H and W multiples of 2^num_downs, output [N, out_channels, H, W]
// in (-1, 1). Built with pix2pix's initialisation drawn from `init`. With config.mask_head
// the output is [N, out_channels + 1, H, W]: the image in (-1, 1), then the mask logit.
class UNetGenerator : public Module {
 public:
  UNetGenerator(const UNetConfig& config, Generator& init);
  Tensor forward(const Tensor& x) override;

  UNetConfig config;
  std::shared_ptr<UNetSkipBlock> model;  // the outermost level
};

struct PatchGANConfig {
  int64_t in_channels = 6, ndf = 64, n_layers = 3;
  DType dtype = DType::F32;
};

// pix2pix's NLayerDiscriminator(in, ndf, n_layers, BatchNorm2d), a Sequential "model":
// conv k4 s2 p1 (bias), LeakyReLU 0.2; n_layers - 1 times conv k4 s2 p1 (no bias), BN,
// LeakyReLU with ndf * min(2^n, 8) channels; conv k4 s1 p1 (no bias), BN, LeakyReLU; conv k4
// s1 p1 to one channel (bias). Logits [N, 1, H/2^n_layers - 2, W/2^n_layers - 2]: 30x30 for
// 256x256 with n_layers 3, each seeing a 70x70 patch. Built with pix2pix's initialisation.
class PatchGANDiscriminator : public Module {
 public:
  PatchGANDiscriminator(const PatchGANConfig& config, Generator& init);
  Tensor forward(const Tensor& x) override;

  PatchGANConfig config;
  std::shared_ptr<Sequential> model;
};

// pix2pix's init_weights(net, 'normal', 0.02): every Conv2d/ConvTranspose2d weight ~ N(0, 0.02)
// with zero bias, every BatchNorm2d weight ~ N(1, 0.02) with zero bias. Tensors are drawn in
// named_parameters() order, one draw of `g` per tensor.
void init_pix2pix_weights(Module& net, Generator& g);

}  // namespace maskoff::models
