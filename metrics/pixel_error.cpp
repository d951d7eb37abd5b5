// MSE and PSNR per image, over every pixel or over a mask's pixels, accumulated in double.
#include "metrics/pixel_error.h"

#include <cmath>

#include "metrics/image.h"

namespace maskoff::metrics {

namespace {

// Per image: the mean of (a - b)^2 over the channels of the pixels where keep[p] != 0
// (every pixel when keep is empty).
std::vector<double> masked_mse(const detail::ImagePair& p, const std::vector<double>& keep) {
  std::vector<double> out(static_cast<size_t>(p.n));
  const int64_t hw = p.plane();
  int64_t kept = hw;
  if (!keep.empty()) {
    kept = 0;
    for (double k : keep) kept += k != 0;
  }
  for (int64_t i = 0; i < p.n; ++i) {
    double s = 0;
    for (int64_t c = 0; c < p.c; ++c) {
      const size_t base = static_cast<size_t>((i * p.c + c) * hw);
      for (int64_t q = 0; q < hw; ++q) {
        if (!keep.empty() && keep[static_cast<size_t>(q)] == 0) continue;
        const double d = p.a[base + q] - p.b[base + q];
        s += d * d;
      }
    }
    out[static_cast<size_t>(i)] = s / double(kept * p.c);
  }
  return out;
}

std::vector<double> to_psnr(std::vector<double> v) {
  for (double& x : v) x = psnr_of_mse(x);
  return v;
}

std::vector<double> mask_for(const detail::ImagePair& p, const Tensor& mask, const char* op) {
  std::vector<double> m = detail::mask_values(mask, p.h, p.w, op);
  bool any = false;
  for (double v : m) any = any || v != 0;
  MASKOFF_CHECK(any, op << ": the mask " << shape_str(mask.shape()) << " has no pixel set");
  return m;
}

}  // namespace

double psnr_of_mse(double mse) {
  MASKOFF_CHECK(mse >= 0, "psnr_of_mse: negative MSE " << mse);
  // 10 log10(1 / 1e-10) = 100 dB: the cap starts exactly there.
  if (mse <= 1e-10) return kPsnrCapDb;
  return 10.0 * std::log10(1.0 / mse);
}

std::vector<double> mse(const Tensor& a, const Tensor& b) {
  return masked_mse(detail::image_pair(a, b, "mse"), {});
}

std::vector<double> psnr(const Tensor& a, const Tensor& b) {
  return to_psnr(masked_mse(detail::image_pair(a, b, "psnr"), {}));
}

std::vector<double> mse_in_mask(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const char* op = "mse_in_mask";
  detail::ImagePair p = detail::image_pair(a, b, op);
  return masked_mse(p, mask_for(p, mask, op));
}

std::vector<double> psnr_in_mask(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const char* op = "psnr_in_mask";
  detail::ImagePair p = detail::image_pair(a, b, op);
  return to_psnr(masked_mse(p, mask_for(p, mask, op)));
}

}  // namespace maskoff::metrics
