// CPU reference kernel for the copies behind concat and slice: strided block copies.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tensor/parallel.h"

namespace maskoff::cpu {

// For b in [0, blocks): dst[b * dst_stride + j] = src[b * src_stride + j], j in [0, len).
// Along a dimension d of a contiguous tensor, the elements with a fixed prefix index form
// one run of extent(d) * inner values, so concat and slice are each one such call per input.
// Long runs are cut into pieces so that a single large block (NCHW with N = 1) still
// spreads over threads.
template <class T>
void copy_blocks(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t blocks,
                 int64_t len) {
  if (blocks <= 0 || len <= 0) return;
  constexpr int64_t kPiece = 1 << 14;
  const int64_t piece = std::min(len, kPiece);
  parallel_for_pieces(
      blocks, len, piece,
      [&](int64_t b, int64_t start, int64_t n) {
        std::memcpy(dst + b * dst_stride + start, src + b * src_stride + start,
                    static_cast<size_t>(n) * sizeof(T));
      },
      kParallelGrain / piece);
}

}  // namespace maskoff::cpu
