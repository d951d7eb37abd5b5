// Inverse-mapped perspective warp with alpha-weighted bilinear sampling.
#include "data/warp.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskoff::data {
namespace {

inline uint8_t to_u8(float v) {
  return static_cast<uint8_t>(std::min(255.f, std::max(0.f, v)) + 0.5f);
}

}  // namespace

// The image of the source rectangle (widened by one texel for the bilinear footprint) is a
// convex quad when all its corners lie in front of the projection centre (w > 0); its
// bounding box holds every pixel that can receive a sample. Otherwise the image is
// unbounded and the whole output is scanned.
PixelBox warp_bounds(const Mat3& h, int sw, int sh, int out_w, int out_h) {
  const double xs[2] = {-1.0, sw + 0.0}, ys[2] = {-1.0, sh + 0.0};
  double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;
  for (double x : xs)
    for (double y : ys) {
      double w = h[6] * x + h[7] * y + h[8];
      if (!(w > 1e-12)) return {0, 0, out_w, out_h};
      Point2 p = apply_homography(h, {x, y});
      minx = std::min(minx, p.x);
      maxx = std::max(maxx, p.x);
      miny = std::min(miny, p.y);
      maxy = std::max(maxy, p.y);
    }
  auto clampi = [](double v, int lo, int hi) {
    if (!(v > lo)) return lo;
    if (!(v < hi)) return hi;
    return static_cast<int>(v);
  };
  return {clampi(std::floor(minx) - 1, 0, out_w), clampi(std::floor(miny) - 1, 0, out_h),
          clampi(std::ceil(maxx) + 2, 0, out_w), clampi(std::ceil(maxy) + 2, 0, out_h)};
}

Image warp_perspective(const Image& src, const Mat3& src_to_dst, int out_w, int out_h) {
  MASKOFF_CHECK(out_w > 0 && out_h > 0,
                "warp_perspective: bad output size " << out_w << "x" << out_h);
  MASKOFF_CHECK(!src.empty(), "warp_perspective: empty source image");
  const int c = src.channels;
  MASKOFF_CHECK(c == 1 || c == 3 || c == 4,
                "warp_perspective: source has " << c << " channels (expected 1, 3 or 4)");
  MASKOFF_CHECK(src.pixels.size() == static_cast<size_t>(src.width) * src.height * c,
                "warp_perspective: source buffer holds " << src.pixels.size() << " bytes, expected "
                                                         << src.width << "x" << src.height << "x"
                                                         << c);
  for (double v : src_to_dst)
    MASKOFF_CHECK(std::isfinite(v), "warp_perspective: the homography is not finite");
  const Mat3 inv = invert(src_to_dst);
  Image out(out_w, out_h, 4, 0);
  const PixelBox box = warp_bounds(src_to_dst, src.width, src.height, out_w, out_h);
  const int sw = src.width, sh = src.height;

  for (int y = box.y0; y < box.y1; ++y) {
    uint8_t* orow = out.row(y);
    // Homogeneous source coordinates advance linearly along a destination row.
    double hx = inv[0] * box.x0 + inv[1] * y + inv[2];
    double hy = inv[3] * box.x0 + inv[4] * y + inv[5];
    double hw = inv[6] * box.x0 + inv[7] * y + inv[8];
    for (int x = box.x0; x < box.x1; ++x, hx += inv[0], hy += inv[3], hw += inv[6]) {
      if (!(hw > 1e-12)) continue;  // behind the projection centre: no source point
      const double sx = hx / hw, sy = hy / hw;
      if (!(sx > -1.0 && sy > -1.0 && sx < sw && sy < sh)) continue;
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const float fx = static_cast<float>(sx - x0), fy = static_cast<float>(sy - y0);
      const float wts[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
      const int txs[4] = {x0, x0 + 1, x0, x0 + 1}, tys[4] = {y0, y0, y0 + 1, y0 + 1};
      float acc_a = 0, acc[3] = {0, 0, 0};
      for (int k = 0; k < 4; ++k) {
        if (wts[k] == 0.f || txs[k] < 0 || tys[k] < 0 || txs[k] >= sw || tys[k] >= sh) continue;
        const uint8_t* p = src.pixels.data() + (static_cast<size_t>(tys[k]) * sw + txs[k]) * c;
        const float a = wts[k] * (c == 4 ? p[3] * (1.f / 255.f) : 1.f);
        acc_a += a;
        if (c == 1) {
          acc[0] += a * p[0];
        } else {
          acc[0] += a * p[0];
          acc[1] += a * p[1];
          acc[2] += a * p[2];
        }
      }
      if (acc_a <= 0.f) continue;
      uint8_t* o = orow + static_cast<size_t>(x) * 4;
      const float inv_a = 1.f / acc_a;
      if (c == 1) {
        o[0] = o[1] = o[2] = to_u8(acc[0] * inv_a);
      } else {
        o[0] = to_u8(acc[0] * inv_a);
        o[1] = to_u8(acc[1] * inv_a);
        o[2] = to_u8(acc[2] * inv_a);
      }
      o[3] = to_u8(acc_a * 255.f);
    }
  }
  return out;
}

Image halve_rgba(const Image& src) {
  MASKOFF_CHECK(src.channels == 4 && !src.empty(),
                "halve_rgba: expects a non-empty RGBA image, got " << src.width << "x" << src.height
                                                                   << "x" << src.channels);
  const int w = (src.width + 1) / 2, h = (src.height + 1) / 2;
  Image out(w, h, 4, 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float a = 0, rgb[3] = {0, 0, 0};
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const int sx = 2 * x + dx, sy = 2 * y + dy;
          if (sx >= src.width || sy >= src.height) continue;
          const uint8_t* p = src.pixels.data() + (static_cast<size_t>(sy) * src.width + sx) * 4;
          const float pa = p[3];
          a += pa;
          for (int k = 0; k < 3; ++k) rgb[k] += pa * p[k];
        }
      uint8_t* o = out.pixels.data() + (static_cast<size_t>(y) * w + x) * 4;
      o[3] = to_u8(a * 0.25f);
      if (a > 0) {
        for (int k = 0; k < 3; ++k) o[k] = to_u8(rgb[k] / a);
      }
    }
  }
  return out;
}

std::vector<Image> rgba_pyramid(Image level0, int min_size) {
  std::vector<Image> levels;
  levels.push_back(std::move(level0));
  while (std::max(levels.back().width, levels.back().height) >= 2 * min_size)
    levels.push_back(halve_rgba(levels.back()));
  return levels;
}

}  // namespace maskoff::data
