// Lower-face region, feathered weights and the weighted paste (data/blend.h).
#include "data/blend.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskoff::data {

std::vector<Point2> lower_face_polygon(const Landmarks& lm) {
  std::vector<Point2> poly;
  for (int i = 1; i <= 15; ++i) poly.push_back(lm[i]);
  poly.push_back(lm[28]);
  return poly;
}

double lower_face_width(const Landmarks& lm) {
  return std::hypot(lm[15].x - lm[1].x, lm[15].y - lm[1].y);
}

float RegionWeights::at(int x, int y) const {
  if (x < box.x0 || x >= box.x1 || y < box.y0 || y >= box.y1) return 0.f;
  return w[static_cast<size_t>(y - box.y0) * width() + (x - box.x0)];
}

namespace {

double segment_distance(Point2 p, Point2 a, Point2 b) {
  const double ex = b.x - a.x, ey = b.y - a.y;
  const double len2 = ex * ex + ey * ey;
  double t = len2 > 0 ? ((p.x - a.x) * ex + (p.y - a.y) * ey) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(p.x - (a.x + t * ex), p.y - (a.y + t * ey));
}

// Even-odd rule: jaw lines are simple polygons, but the rule also gives a sensible answer
// for the self-touching outlines a badly placed landmark can make.
bool inside(Point2 p, const std::vector<Point2>& poly) {
  bool in = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const Point2 a = poly[i], b = poly[j];
    if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) in = !in;
  }
  return in;
}

}  // namespace

RegionWeights feathered_region(const std::vector<Point2>& poly, double dilate, double feather,
                               int width, int height) {
  MASKOFF_CHECK(poly.size() >= 3,
                "feathered_region: a polygon needs at least 3 points, got " << poly.size());
  MASKOFF_CHECK(dilate >= 0 && feather > 0 && std::isfinite(dilate) && std::isfinite(feather),
                "feathered_region: dilate must be >= 0 and feather > 0, got " << dilate << " and "
                                                                              << feather);
  double minx = 1e300, miny = 1e300, maxx = -1e300, maxy = -1e300;
  for (const Point2& p : poly) {
    MASKOFF_CHECK(std::isfinite(p.x) && std::isfinite(p.y),
                  "feathered_region: non-finite polygon point");
    minx = std::min(minx, p.x), maxx = std::max(maxx, p.x);
    miny = std::min(miny, p.y), maxy = std::max(maxy, p.y);
  }
  const double reach = dilate + feather;
  auto clampi = [](double v, int lo, int hi) {
    return static_cast<int>(std::clamp(v, double(lo), double(hi)));
  };
  RegionWeights r;
  r.box = {clampi(std::floor(minx - reach), 0, width), clampi(std::floor(miny - reach), 0, height),
           clampi(std::ceil(maxx + reach) + 1, 0, width),
           clampi(std::ceil(maxy + reach) + 1, 0, height)};
  r.w.assign(static_cast<size_t>(std::max(0, r.width())) * std::max(0, r.height()), 0.f);
  for (int y = r.box.y0; y < r.box.y1; ++y)
    for (int x = r.box.x0; x < r.box.x1; ++x) {
      const Point2 p{double(x), double(y)};
      double d = 0;
      if (!inside(p, poly)) {
        d = 1e300;
        for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++)
          d = std::min(d, segment_distance(p, poly[j], poly[i]));
      }
      double w = 0;
      if (d <= dilate) {
        w = 1;
      } else if (d < reach) {
        const double t = (d - dilate) / feather;
        w = 1 - t * t * (3 - 2 * t);
      }
      r.w[static_cast<size_t>(y - r.box.y0) * r.width() + (x - r.box.x0)] = static_cast<float>(w);
    }
  return r;
}

void blend_into(Image& dst, const Image& src, const RegionWeights& region) {
  MASKOFF_CHECK(
      dst.channels == 3 && src.channels == 4 && dst.width == src.width && dst.height == src.height,
      "blend_into: expected an RGB destination and an RGBA source of the same size, got "
          << dst.width << "x" << dst.height << "x" << dst.channels << " and " << src.width << "x"
          << src.height << "x" << src.channels);
  for (int y = std::max(0, region.box.y0); y < std::min(dst.height, region.box.y1); ++y)
    for (int x = std::max(0, region.box.x0); x < std::min(dst.width, region.box.x1); ++x) {
      const float w = region.at(x, y) * (src.at(x, y, 3) / 255.f);
      if (!(w > 0)) continue;
      for (int c = 0; c < 3; ++c) {
        const float v = dst.at(x, y, c) + w * (float(src.at(x, y, c)) - float(dst.at(x, y, c)));
        dst.at(x, y, c) = static_cast<uint8_t>(std::clamp(v, 0.f, 255.f) + 0.5f);
      }
    }
}

}  // namespace maskoff::data
