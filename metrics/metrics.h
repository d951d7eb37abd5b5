// The evaluation metrics in one include: MSE, PSNR, SSIM, LPIPS (whole images, masked
// pixels or the mask's box) and the landmark NME. Conventions in metrics/image.h.
#pragma once
#include "metrics/image.h"
#include "metrics/landmark_error.h"
#include "metrics/lpips.h"
#include "metrics/pixel_error.h"
#include "metrics/ssim.h"
