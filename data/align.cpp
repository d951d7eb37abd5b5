// FFHQ alignment (the recipe of the FFHQ dataset's own script, resampled directly from
// the source photo in one pass instead of shrink / crop / pad / transform / resize).
#include "data/align.h"

#include <algorithm>
#include <cmath>

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
  // and its opposite corner at (size - 0.5, size - 0.5). Source p = o + (u + 0.5) * dx + (v + 0.5) * dy.
  const Point2 dx{2 * q.x.x / size, 2 * q.x.y / size}, dy{2 * q.y.x / size, 2 * q.y.y / size};
  AlignedFace out;
  const double a = size / (2 * half * half);  // inverse of the (orthogonal, equal-length) axes
  out.to_aligned = {a * q.x.x, a * q.x.y, -a * (q.x.x * o.x + q.x.y * o.y) - 0.5,
                    a * q.y.x, a * q.y.y, -a * (q.y.x * o.x + q.y.y * o.y) - 0.5,
                    0, 0, 1};
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
      for (int ch = 0; ch < c; ++ch) dst[u * c + ch] = static_cast<uint8_t>(std::clamp(std::lround(acc[ch] * inv), 0L, 255L));
    }
  }
  return out;
}

}  // namespace maskoff::data
