// FFHQ alignment (the recipe of the FFHQ dataset's own script, resampled directly from
// the source photo in one pass instead of shrink / crop / pad / transform / resize).
#include "data/align.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "data/homography.h"
#include "tensor/error.h"

namespace maskoff::data {
namespace {

Point2 mean_of(const Landmarks& lm, int from, int to) {
  Point2 p;
  for (int i = from; i < to; ++i) p.x += lm[i].x, p.y += lm[i].y;
  p.x /= (to - from), p.y /= (to - from);
  return p;
}

// Mirror an out-of-range index back inside [0, n) without repeating the edge pixel
// (numpy's "reflect"), periodically, so any distance outside the photo is defined.
inline int reflect(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

// Three passes of a (2r + 1)-wide box filter along rows, then along columns, with the edge
// pixel repeated: close to a Gaussian of variance 3 * ((2r + 1)^2 - 1) / 12, in O(1) per pixel
// whatever r is.
std::vector<float> box_blur3(const Image& img, int r) {
  const int w = img.width, h = img.height, c = img.channels;
  std::vector<float> a(img.pixels.begin(), img.pixels.end()), b(a.size());
  const float inv = 1.0f / (2 * r + 1);
  // One pass along a line of n samples spaced `step` floats apart, from src into dst.
  auto pass = [&](const float* src, float* dst, int n, size_t step) {
    auto at = [&](int i) { return src[static_cast<size_t>(std::clamp(i, 0, n - 1)) * step]; };
    float sum = 0;
    for (int i = -r; i <= r; ++i) sum += at(i);
    for (int i = 0; i < n; ++i) {
      dst[static_cast<size_t>(i) * step] = sum * inv;
      sum += at(i + r + 1) - at(i - r);
    }
  };
  for (int it = 0; it < 3; ++it) {
    for (int y = 0; y < h; ++y)
      for (int ch = 0; ch < c; ++ch) {
        const size_t base = static_cast<size_t>(y) * w * c + ch;
        pass(a.data() + base, b.data() + base, w, static_cast<size_t>(c));
      }
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        const size_t base = static_cast<size_t>(x) * c + ch;
        pass(b.data() + base, a.data() + base, h, static_cast<size_t>(w) * c);
      }
  }
  return a;
}

// FFHQ's treatment of the part of the square outside the photo. Its script pads the photo
// by reflection and then, with `mask` = how far a padded pixel lies outside the photo
// relative to that side's padding extent, blends towards a Gaussian blur (sigma 2% of the
// quad) and then towards the image's median colour by clip(mask, 0, 1), so the padding
// fades into a smooth background instead of showing mirrored eyes and mouths. Here the
// same is done on the aligned image, with each output pixel's mask taken from where its
// centre samples the photo. Three deliberate differences: pixels inside the photo are left
// exactly as sampled (FFHQ also softens a band just inside the edge), so the blur weight
// rises from 0 at the edge to 1 at two blur radii outside it instead of starting at 1; the
// median is taken over the in-photo pixels only, so mirrored content cannot sway it; and the
// median weight is clip(2 * mask, 0, 1), reaching the plain median colour half-way out.
// Tight crops (UTKFace) pad several times more of the square than FFHQ's large photos, and
// with FFHQ's slower clip(mask) the mirrored eyes above the head still showed at a quarter
// to a third of their contrast.
void fade_padding(Image& out, const Point2& o, const Point2& dx, const Point2& dy, double qsize,
                  int src_w, int src_h) {
  const int size = out.width, c = out.channels;
  const size_t n = static_cast<size_t>(size) * size;
  // Per pixel: source pixels outside the photo (<= 0 inside), as in FFHQ's mask relative to
  // the extent of padding its script would add on that side.
  std::vector<float> dist(n), mask(n);
  double min_x = 1e300, max_x = -1e300, min_y = 1e300, max_y = -1e300;
  for (double fu : {0.0, static_cast<double>(size)})
    for (double fv : {0.0, static_cast<double>(size)}) {
      const double px = o.x + fu * dx.x + fv * dy.x, py = o.y + fu * dx.y + fv * dy.y;
      min_x = std::min(min_x, px), max_x = std::max(max_x, px), min_y = std::min(min_y, py),
      max_y = std::max(max_y, py);
    }
  const double border = std::max(std::rint(qsize * 0.1), 3.0), least = std::rint(qsize * 0.3);
  const double pad_l = std::max({-std::floor(min_x) + border, least, 1.0});
  const double pad_t = std::max({-std::floor(min_y) + border, least, 1.0});
  const double pad_r = std::max({std::ceil(max_x) - src_w + border, least, 1.0});
  const double pad_b = std::max({std::ceil(max_y) - src_h + border, least, 1.0});
  bool any_outside = false;
  for (int v = 0; v < size; ++v)
    for (int u = 0; u < size; ++u) {
      const double px = o.x + (u + 0.5) * dx.x + (v + 0.5) * dy.x,
                   py = o.y + (u + 0.5) * dx.y + (v + 0.5) * dy.y;
      const double l = -px, r = px - (src_w - 1), t = -py, b = py - (src_h - 1);
      const size_t i = static_cast<size_t>(v) * size + u;
      dist[i] = static_cast<float>(std::max({l, r, t, b}));
      mask[i] = static_cast<float>(std::max({l / pad_l, r / pad_r, t / pad_t, b / pad_b}));
      any_outside = any_outside || dist[i] > 0;
    }
  if (!any_outside) return;

  // Median per channel of the in-photo pixels (all pixels if, oddly, none is inside).
  std::vector<float> median(c);
  for (int ch = 0; ch < c; ++ch) {
    std::array<int64_t, 256> hist{};
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i)
      if (dist[i] <= 0) ++hist[out.pixels[i * c + ch]], ++total;
    if (total == 0)
      for (size_t i = 0; i < n; ++i) ++hist[out.pixels[i * c + ch]], ++total;
    int64_t seen = 0;
    int lo = 0;
    while (seen + hist[lo] <= (total - 1) / 2) seen += hist[lo++];
    int hi = lo;  // numpy's median averages the two middle values of an even count
    if (total % 2 == 0 && seen + hist[lo] <= total / 2) {
      hi = lo + 1;
      while (hist[hi] == 0) ++hi;
    }
    median[ch] = 0.5f * (lo + hi);
  }

  // sigma = 2% of the quad in source pixels = 2% of the output size in output pixels.
  const double sigma = 0.02 * size;
  const int radius =
      std::max(1, static_cast<int>(std::lround((std::sqrt(4 * sigma * sigma + 1) - 1) / 2)));
  const std::vector<float> blurred = box_blur3(out, radius);
  const double ramp = 2 * 0.02 * qsize;  // source pixels outside the edge to reach full blur
  for (size_t i = 0; i < n; ++i) {
    if (dist[i] <= 0) continue;
    const float wb = static_cast<float>(std::min(1.0, dist[i] / ramp));
    const float wm = std::min(1.0f, 2 * mask[i]);
    for (int ch = 0; ch < c; ++ch) {
      float x = out.pixels[i * c + ch];
      x += (blurred[i * c + ch] - x) * wb;
      x += (median[ch] - x) * wm;
      out.pixels[i * c + ch] = static_cast<uint8_t>(std::clamp(std::lround(x), 0L, 255L));
    }
  }
}

}  // namespace

FaceQuad ffhq_quad(const Landmarks& lm) {
  const Point2 eye_l = mean_of(lm, 36, 42), eye_r = mean_of(lm, 42, 48);
  const Point2 eye_avg{(eye_l.x + eye_r.x) / 2, (eye_l.y + eye_r.y) / 2};
  const Point2 eye_to_eye{eye_r.x - eye_l.x, eye_r.y - eye_l.y};
  const Point2 mouth_avg{(lm[48].x + lm[54].x) / 2, (lm[48].y + lm[54].y) / 2};
  const Point2 eye_to_mouth{mouth_avg.x - eye_avg.x, mouth_avg.y - eye_avg.y};
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]: the eye line averaged with the
  // eye-mouth axis turned a quarter, so a tilted head gives a consistently rotated square.
  Point2 x{eye_to_eye.x + eye_to_mouth.y, eye_to_eye.y - eye_to_mouth.x};
  const double len = std::hypot(x.x, x.y);
  MASKOFF_CHECK(len > 1e-9, "ffhq_quad: degenerate landmarks (eyes and mouth coincide)");
  const double half = std::max(std::hypot(eye_to_eye.x, eye_to_eye.y) * 2.0,
                               std::hypot(eye_to_mouth.x, eye_to_mouth.y) * 1.8);
  x.x *= half / len, x.y *= half / len;
  FaceQuad q;
  q.x = x;
  q.y = Point2{-x.y, x.x};  // flipud(x) * [-1, 1]
  q.centre = Point2{eye_avg.x + eye_to_mouth.x * 0.1, eye_avg.y + eye_to_mouth.y * 0.1};
  return q;
}

AlignedFace align_face(const Image& img, const Landmarks& lm, int size) {
  MASKOFF_CHECK(!img.empty(), "align_face: empty image");
  MASKOFF_CHECK(size >= 8 && size <= 8192, "align_face: size must be in [8, 8192], got " << size);
  const FaceQuad q = ffhq_quad(lm);
  const Point2 o{q.centre.x - q.x.x - q.y.x, q.centre.y - q.x.y - q.y.y};  // top-left corner
  const double half = std::hypot(q.x.x, q.x.y);

  // Output pixel (u, v) covers [u - 0.5, u + 0.5]; the square's corner o sits at (-0.5, -0.5)
  // and its opposite corner at (size - 0.5, size - 0.5). Source p = o + (u + 0.5) * dx + (v + 0.5)
  // * dy.
  const Point2 dx{2 * q.x.x / size, 2 * q.x.y / size}, dy{2 * q.y.x / size, 2 * q.y.y / size};
  AlignedFace out;
  const double a = size / (2 * half * half);  // inverse of the (orthogonal, equal-length) axes
  out.to_aligned = {a * q.x.x, a * q.x.y, -a * (q.x.x * o.x + q.x.y * o.y) - 0.5,
                    a * q.y.x, a * q.y.y, -a * (q.y.x * o.x + q.y.y * o.y) - 0.5,
                    0,         0,         1};
  for (int i = 0; i < 68; ++i) out.landmarks[i] = apply_homography(out.to_aligned, lm[i]);

  const double scale = 2 * half / size;  // source pixels per output pixel
  const int k = std::clamp(static_cast<int>(std::ceil(scale - 1e-6)), 1, 16);
  const int w = img.width, h = img.height, c = img.channels;
  out.image = Image(size, size, c);
  std::vector<double> acc(c);
  const double inv = 1.0 / (k * k);
  for (int v = 0; v < size; ++v) {
    uint8_t* dst = out.image.row(v);
    for (int u = 0; u < size; ++u) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int sv = 0; sv < k; ++sv) {
        const double fv = v + (sv + 0.5) / k;
        for (int su = 0; su < k; ++su) {
          const double fu = u + (su + 0.5) / k;
          const double px = o.x + fu * dx.x + fv * dy.x, py = o.y + fu * dx.y + fv * dy.y;
          const double fx0 = std::floor(px), fy0 = std::floor(py);
          const double tx = px - fx0, ty = py - fy0;
          const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
          const uint8_t* r0 = img.row(reflect(y0, h));
          const uint8_t* r1 = img.row(reflect(y0 + 1, h));
          const int c0 = reflect(x0, w) * c, c1 = reflect(x0 + 1, w) * c;
          for (int ch = 0; ch < c; ++ch) {
            const double top = r0[c0 + ch] + tx * (r0[c1 + ch] - r0[c0 + ch]);
            const double bot = r1[c0 + ch] + tx * (r1[c1 + ch] - r1[c0 + ch]);
            acc[ch] += top + ty * (bot - top);
          }
        }
      }
      for (int ch = 0; ch < c; ++ch)
        dst[u * c + ch] = static_cast<uint8_t>(std::clamp(std::lround(acc[ch] * inv), 0L, 255L));
    }
  }
  fade_padding(out.image, o, dx, dy, 2 * half, w, h);
  return out;
}

}  // namespace maskoff::data
