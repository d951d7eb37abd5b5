// The convolution shapes of pix2pix at batch 1, shared by the CPU (conv_bench) and cuDNN
// (cuda_conv_bench) benchmarks so the two tables compare line by line: the U-Net-256
// encoder (4x4 stride 2 pad 1), its decoder's transposed convolutions, the 70x70 PatchGAN,
// and two depthwise layers like the landmark network's.
#pragma once
#include <cstdint>

#include "layers/cpu/conv.h"

namespace maskoff::bench {

using maskoff::cpu::ConvGeom;

struct Layer {
  const char* name;
  bool transposed;
  int64_t cin, cout, size, stride, pad;     // size: the layer's input height = width
  int64_t k = 4, pad_end = -1, groups = 1;  // pad_end: bottom/right padding when it differs
};

// Encoder and PatchGAN layers are convolutions, decoder layers transposed convolutions.
inline const Layer kLayers[] = {
    {"enc1_3to64_256px", false, 3, 64, 256, 2, 1},
    {"enc2_64to128_128px", false, 64, 128, 128, 2, 1},
    {"enc3_128to256_64px", false, 128, 256, 64, 2, 1},
    {"enc4_256to512_32px", false, 256, 512, 32, 2, 1},
    {"enc5_512to512_16px", false, 512, 512, 16, 2, 1},
    {"enc6_512to512_8px", false, 512, 512, 8, 2, 1},
    {"enc7_512to512_4px", false, 512, 512, 4, 2, 1},
    {"enc8_512to512_2px", false, 512, 512, 2, 2, 1},
    {"dec1_512to512_1px", true, 512, 512, 1, 2, 1},
    {"dec2_1024to512_2px", true, 1024, 512, 2, 2, 1},
    {"dec3_1024to512_4px", true, 1024, 512, 4, 2, 1},
    {"dec4_1024to512_8px", true, 1024, 512, 8, 2, 1},
    {"dec5_1024to256_16px", true, 1024, 256, 16, 2, 1},
    {"dec6_512to128_32px", true, 512, 128, 32, 2, 1},
    {"dec7_256to64_64px", true, 256, 64, 64, 2, 1},
    {"dec8_128to3_128px", true, 128, 3, 128, 2, 1},
    {"patch1_6to64_256px", false, 6, 64, 256, 2, 1},
    {"patch2_64to128_128px", false, 64, 128, 128, 2, 1},
    {"patch3_128to256_64px", false, 128, 256, 64, 2, 1},
    {"patch4_256to512_32px", false, 256, 512, 32, 1, 1},
    {"patch5_512to1_31px", false, 512, 1, 31, 1, 1},
    // Depthwise 3x3 with TF-'same' padding, as in the face-landmark network (asymmetric when
    // strided).
    {"dw3x3s1_128ch_64px", false, 128, 128, 64, 1, 1, 3, 1, 128},
    {"dw3x3s2_128ch_64px", false, 128, 128, 64, 2, 0, 3, 1, 128},
};

// The underlying convolution of the layer (for a transposed layer, the one it is the adjoint of).
inline ConvGeom geom(const Layer& l) {
  if (l.transposed)
    return maskoff::cpu::conv_transpose2d_geom(1, l.cin, l.size, l.size, l.cout, l.k, l.k, l.stride,
                                               l.pad, 0, l.groups);
  const int64_t end = l.pad_end < 0 ? l.pad : l.pad_end;
  return maskoff::cpu::conv2d_geom(1, l.cin, l.size, l.size, l.cout, l.k, l.k, l.stride, l.stride,
                                   l.pad, end, l.pad, end, l.groups);
}

// The three passes of a convolution layer, with the names the benchmarks carry.
enum class Pass { kForward, kBackwardData, kBackwardWeight };
struct NamedPass {
  Pass pass;
  const char* name;
};
inline const NamedPass kPasses[] = {{Pass::kForward, "Forward"},
                                    {Pass::kBackwardData, "BackwardData"},
                                    {Pass::kBackwardWeight, "BackwardWeight"}};

}  // namespace maskoff::bench
