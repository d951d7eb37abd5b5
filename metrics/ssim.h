// Structural similarity (SSIM, Wang et al. 2004) with the settings of the original paper,
// computed the way scikit-image's structural_similarity does with gaussian_weights=True,
// sigma=1.5, use_sample_covariance=False, data_range=1: an 11x11 Gaussian window
// (sigma 1.5, truncated at 3.5 sigma), K1 = 0.01, K2 = 0.03, population (co)variances.
// The SSIM map is averaged over the pixels at least 5 from every edge (scikit-image crops
// (win_size - 1) / 2 from each side), per channel, and the channel means are averaged.
#pragma once
#include <vector>

#include "metrics/image.h"

namespace maskoff::metrics {

constexpr int64_t kSsimWindow = 11;  // images (and boxes) must be at least this large

// Images as in metrics/image.h ([N, 3, H, W] or [3, H, W], in [0, 1], H and W >= 11);
// one value per image, 1 for identical images.
std::vector<double> ssim(const Tensor& a, const Tensor& b);

// SSIM of the crop of both images to `box` (e.g. mask_box(mask)); the box must be at
// least 11 x 11.
std::vector<double> ssim_in_box(const Tensor& a, const Tensor& b, const Box& box);

// The mean SSIM of one channel, h x w values in row-major order (exposed for tests).
double ssim_channel(const double* a, const double* b, int64_t h, int64_t w);

}  // namespace maskoff::metrics
