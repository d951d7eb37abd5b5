// Window copy: one thread per destination element.
#include "cuda/kernel_util.cuh"
#include "cuda/window.h"

namespace maskoff::cuda {

namespace {
__global__ void copy_window_kernel(const float* __restrict__ src, int64_t h, int64_t w,
                                   float* __restrict__ dst, int64_t total, int64_t out_h,
                                   int64_t out_w, int64_t off_h, int64_t off_w) {
  MASKOFF_GRID_LOOP(idx, total) {
    const int64_t j = idx % out_w, i = (idx / out_w) % out_h, p = idx / (out_w * out_h);
    const int64_t si = i + off_h, sj = j + off_w;
    dst[idx] = (si >= 0 && si < h && sj >= 0 && sj < w) ? src[(p * h + si) * w + sj] : 0.f;
  }
}
}  // namespace

void copy_window(const float* src, int64_t planes, int64_t h, int64_t w, float* dst, int64_t out_h,
                 int64_t out_w, int64_t off_h, int64_t off_w) {
  const int64_t total = planes * out_h * out_w;
  if (total <= 0) return;
  MASKOFF_LAUNCH(copy_window_kernel, grid_for(total), kThreads, 0, src, h, w, dst, total, out_h,
                 out_w, off_h, off_w);
}

}  // namespace maskoff::cuda
