// CUDA kernel for the strided block copies behind concat and slice, the twin of
// cpu::copy_blocks: dst[b * dst_stride + j] = src[b * src_stride + j], j in [0, len).
#pragma once
#include <cstdint>

namespace maskoff::cuda {

void copy_blocks(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                 int64_t blocks, int64_t len);

}  // namespace maskoff::cuda
