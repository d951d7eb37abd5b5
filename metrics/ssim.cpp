// SSIM on the CPU in double: separable Gaussian filtering of a, b, a^2, b^2 and ab over the
// valid region only, then the SSIM map and its mean.
#include "metrics/ssim.h"

#include <array>
#include <cmath>

#include "tensor/parallel.h"

namespace maskoff::metrics {

namespace {

constexpr int64_t kRadius = (kSsimWindow - 1) / 2;  // 5 = int(3.5 * 1.5 + 0.5), as scipy

// scipy.ndimage's Gaussian kernel: exp(-x^2 / (2 sigma^2)) for x = -5..5, normalised.
std::array<double, kSsimWindow> gaussian_window() {
  constexpr double kSigma = 1.5;
  std::array<double, kSsimWindow> g{};
  double s = 0;
  for (int64_t i = 0; i < kSsimWindow; ++i) {
    const double x = double(i - kRadius);
    g[static_cast<size_t>(i)] = std::exp(-0.5 * x * x / (kSigma * kSigma));
    s += g[static_cast<size_t>(i)];
  }
  for (double& v : g) v /= s;
  return g;
}

}  // namespace

double ssim_channel(const double* a, const double* b, int64_t h, int64_t w) {
  MASKOFF_CHECK(h >= kSsimWindow && w >= kSsimWindow,
                "ssim: a " << h << " x " << w << " image is smaller than the " << kSsimWindow
                           << " x " << kSsimWindow << " window");
  static const std::array<double, kSsimWindow> g = gaussian_window();
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;  // (K * data range 1)^2
  // scikit-image filters the whole image with reflected borders and then drops a 5-pixel
  // strip on every side. A kept pixel's window never reaches past the edge, so filtering
  // the valid region alone gives the same numbers without any border rule.
  const int64_t oh = h - 2 * kRadius, ow = w - 2 * kRadius;
  // Horizontal pass: rows of all h, columns of the valid width; five moments per pixel.
  std::vector<std::array<double, 5>> rows(static_cast<size_t>(h * ow));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      std::array<double, 5> m{};
      for (int64_t k = 0; k < kSsimWindow; ++k) {
        const double u = a[y * w + x + k], v = b[y * w + x + k], gk = g[static_cast<size_t>(k)];
        m[0] += gk * u;
        m[1] += gk * v;
        m[2] += gk * u * u;
        m[3] += gk * v * v;
        m[4] += gk * u * v;
      }
      rows[static_cast<size_t>(y * ow + x)] = m;
    }
  double total = 0;
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      std::array<double, 5> m{};
      for (int64_t k = 0; k < kSsimWindow; ++k) {
        const std::array<double, 5>& r = rows[static_cast<size_t>((y + k) * ow + x)];
        for (size_t j = 0; j < 5; ++j) m[j] += g[static_cast<size_t>(k)] * r[j];
      }
      const double ux = m[0], uy = m[1];
      const double vx = m[2] - ux * ux, vy = m[3] - uy * uy, vxy = m[4] - ux * uy;
      total +=
          (2 * ux * uy + kC1) * (2 * vxy + kC2) / ((ux * ux + uy * uy + kC1) * (vx + vy + kC2));
    }
  return total / double(oh * ow);
}

std::vector<double> ssim(const Tensor& a, const Tensor& b) {
  detail::ImagePair p = detail::image_pair(a, b, "ssim");
  MASKOFF_CHECK(p.h >= kSsimWindow && p.w >= kSsimWindow,
                "ssim: images " << shape_str(a.shape()) << " are smaller than the " << kSsimWindow
                                << " x " << kSsimWindow << " window");
  std::vector<double> out(static_cast<size_t>(p.n));
  std::vector<double> per(static_cast<size_t>(p.n * p.c));
  parallel_for(
      p.n * p.c,
      [&](int64_t i) {
        const size_t at = static_cast<size_t>(i * p.plane());
        per[static_cast<size_t>(i)] = ssim_channel(p.a.data() + at, p.b.data() + at, p.h, p.w);
      },
      0);
  for (int64_t i = 0; i < p.n; ++i) {
    double s = 0;
    for (int64_t c = 0; c < p.c; ++c) s += per[static_cast<size_t>(i * p.c + c)];
    out[static_cast<size_t>(i)] = s / double(p.c);
  }
  return out;
}

std::vector<double> ssim_in_box(const Tensor& a, const Tensor& b, const Box& box) {
  MASKOFF_CHECK(box.height() >= kSsimWindow && box.width() >= kSsimWindow,
                "ssim_in_box: box " << box_str(box) << " is smaller than the " << kSsimWindow
                                    << " x " << kSsimWindow << " SSIM window");
  MASKOFF_CHECK(a.defined() && b.defined() && a.shape() == b.shape(),
                "ssim_in_box: the images differ in shape: a "
                    << (a.defined() ? shape_str(a.shape()) : "undefined") << " vs b "
                    << (b.defined() ? shape_str(b.shape()) : "undefined"));
  return ssim(crop_box(a, box), crop_box(b, box));
}

}  // namespace maskoff::metrics
