// A CUDA kernel that copies a window of every plane of an NCHW array, with zeros where
// the window leaves the source: dst[p, i, j] = src[p, i + off_h, j + off_w]. Negative
// offsets pad (top/left), a smaller destination crops. The convolutions use it to turn
// asymmetric padding, which cuDNN lacks, into an explicitly padded input, and to cut the
// input gradient back out of the padded one.
#pragma once
#include <cstdint>

namespace maskoff::cuda {

void copy_window(const float* src, int64_t planes, int64_t h, int64_t w, float* dst, int64_t out_h,
                 int64_t out_w, int64_t off_h, int64_t off_w);

}  // namespace maskoff::cuda
