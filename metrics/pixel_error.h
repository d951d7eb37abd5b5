// Pixel-wise errors: mean squared error and PSNR, over whole images or over the pixels a
// mask covers. Images follow metrics/image.h: [N, 3, H, W] or [3, H, W] in [0, 1]; every
// function returns one value per image (one value for a [3, H, W] image).
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace maskoff::metrics {

// PSNR of identical images (MSE 0) is infinite; it is reported as this cap, in dB, and so
// is any MSE at or below 1e-10. For scale: one grey level (1/255) on one channel of one
// pixel of a 128x128 RGB image is 95.0 dB, of a 256x256 image 101.1 dB (capped).
constexpr double kPsnrCapDb = 100.0;

// Mean over channels and pixels of (a - b)^2, in double. On [0, 1] intensities; multiply
// by 255^2 for the MSE of 8-bit values.
std::vector<double> mse(const Tensor& a, const Tensor& b);

// 10 log10(1 / MSE) dB with peak 1, capped at kPsnrCapDb. Equal to the usual
// 10 log10(255^2 / MSE_8bit) of the same images in 0..255.
std::vector<double> psnr(const Tensor& a, const Tensor& b);

// The same over the mask's pixels only: the mean of (a - b)^2 over the 3 channels of every
// pixel where the mask is 1 (mask [H, W] or [1, H, W], 0/1, not empty).
std::vector<double> mse_in_mask(const Tensor& a, const Tensor& b, const Tensor& mask);
std::vector<double> psnr_in_mask(const Tensor& a, const Tensor& b, const Tensor& mask);

// The PSNR of a given MSE (peak 1), with the cap.
double psnr_of_mse(double mse);

}  // namespace maskoff::metrics
