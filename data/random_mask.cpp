// Random mask templates (MaskType::Procedural): a new mask shape and look for every face, so
// that a model trained on them learns "a mask" rather than the few template files.
//
// The template lives in the frame of procedural_template: its six anchors sit where that
// template's do, so the homography puts any of these masks from the nose bridge to below the
// chin. Around the 600 x 500 unit frame there is room for ear straps (sideways) and long
// bottoms (downwards). In frame units a face pixel is about 4 to 6 units (b to e spans about
// 450 units, the eyes lie some 70 units above b on an adult), which sets the ranges below: a
// top edge from 15 units above b to 40 below it, and straps at least 7 units wide (more than
// a pixel on a 256 px face). On a short nose (a child's) the eyes sit much nearer b, so the
// caller may pass points to keep clear (apply() passes the eyes) and the top edge dips under
// them.
//
// Every choice comes from the seed through three independent streams (outline, look, straps),
// so a change to one part's choices leaves the others' as they were.
#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <vector>

#include "data/mask_synth.h"
#include "data/warp.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace maskoff::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFrameW = 600, kFrameH = 500;
constexpr double kPadX = 150, kPadTop = 80, kPadBottom = 110;  // units around the frame
constexpr int kPyramidMin = 24;

constexpr uint64_t kOutlineStream = 0x6f75746c696e6531ULL;
constexpr uint64_t kLookStream = 0x6c6f6f6b636f6c72ULL;
constexpr uint64_t kStrapStream = 0x7374726170656172ULL;
constexpr uint64_t kBrightStream = 0x6272696768746e73ULL;

using Rgb = std::array<float, 3>;

double lerp(double a, double b, double t) { return a + (b - a) * t; }
double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}
Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {static_cast<float>(lerp(a[0], b[0], t)), static_cast<float>(lerp(a[1], b[1], t)),
          static_cast<float>(lerp(a[2], b[2], t))};
}
Rgb scaled(const Rgb& c, double s) {
  return {static_cast<float>(std::min(255.0, c[0] * s)),
          static_cast<float>(std::min(255.0, c[1] * s)),
          static_cast<float>(std::min(255.0, c[2] * s))};
}

// h in [0, 1), s and v in [0, 1]; 0..255 out. Each channel falls from v by v * s over the
// hue sextants where it is not the largest: channel n (5 red, 3 green, 1 blue) follows
// k = (n + 6 h) mod 6 as v - v s clamp(min(k, 4 - k), 0, 1).
Rgb hsv(double h, double s, double v) {
  const double h6 = 6 * (h - std::floor(h));
  auto channel = [&](double n) {
    const double k = std::fmod(n + h6, 6.0);
    return static_cast<float>(255 * (v - v * s * std::clamp(std::min(k, 4 - k), 0.0, 1.0)));
  };
  return {channel(5), channel(3), channel(1)};
}

// A colour over the whole range masks come in: black and near-black, white and off-white,
// greys, saturated colours, muted and pastel ones. Always five draws.
Rgb random_colour(Generator& g) {
  const double kind = g.uniform(), h = g.uniform(), a = g.uniform(), b = g.uniform(),
               c = g.uniform();
  if (kind < 0.17) return hsv(h, 0.3 * a * a, (8 + 37 * b) / 255);  // black, near-black
  if (kind < 0.34) return hsv(h, 0.06 * a, 0.9 + 0.1 * b);          // white, off-white
  if (kind < 0.44) return hsv(h, 0.1 * a, 0.25 + 0.55 * b);         // grey
  if (kind < 0.75) return hsv(h, 0.55 + 0.45 * a, 0.35 + 0.65 * b * (0.6 + 0.4 * c));
  return hsv(h, 0.12 + 0.38 * a, 0.45 + 0.52 * b);  // muted, pastel
}

// A second colour that goes with `base`: another colour, white, black, or base lighter or
// darker. Always seven draws.
Rgb second_colour(Generator& g, const Rgb& base) {
  const double kind = g.uniform(), t = g.uniform();
  const Rgb other = random_colour(g);
  if (kind < 0.4) return other;
  if (kind < 0.62) return hsv(0, 0, 0.93 + 0.06 * t);
  if (kind < 0.78) return hsv(0, 0, (12 + 30 * t) / 255);
  const double lum = 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2];
  return lum > 128 ? scaled(base, 0.45 + 0.3 * t) : mix(base, Rgb{255, 255, 255}, 0.35 + 0.35 * t);
}

// Coverage of a periodic band [0, duty) at phase f (periods), edges blurred by w.
double band(double f, double duty, double w) {
  double d = f - duty / 2;
  d -= std::round(d);
  return 1 - smoothstep(-w, w, std::abs(d) - duty / 2);
}

double hash01(uint64_t seed, int64_t x, int64_t y) {
  return static_cast<double>(
             rng_bits(seed, (static_cast<uint64_t>(x) << 32) ^ static_cast<uint32_t>(y)) >> 11) *
         (1.0 / 9007199254740992.0);
}

// Smooth value noise in [0, 1) with lattice spacing 1.
double value_noise(uint64_t seed, double x, double y) {
  const double fx = std::floor(x), fy = std::floor(y);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const double tx = smoothstep(0, 1, x - fx), ty = smoothstep(0, 1, y - fy);
  return lerp(lerp(hash01(seed, ix, iy), hash01(seed, ix + 1, iy), tx),
              lerp(hash01(seed, ix, iy + 1), hash01(seed, ix + 1, iy + 1), tx), ty);
}

// ---- outline ---------------------------------------------------------------------------

// The mask body: a top edge peaking at xb (anchor b's x), a bottom edge lowest at xb, and
// two sides. u runs from -1 (left side) through 0 (xb) to 1 (right side). Points to keep
// clear (the eyes) lower the top edge where they would be covered: the edge stays at least
// kClearance below each, rising away from it at slope kClearSlope.
constexpr double kClearance = 12, kClearSlope = 0.7;

struct Outline {
  double xb = 300, x_left = 25, x_right = 575;
  double taper_left = 0, taper_right = 0;  // inward shift of each side at the bottom
  double top_c = 18, rise_left = 75, rise_right = 75, peak = 0.5;
  double bottom_c = 482, drop_left = 190, drop_right = 190, bottom_pow = 2, tip = 0;
  bool seam = false;
  std::vector<Point2> clear;                                 // frame units
  double corner_top[2] = {0, 0}, corner_bottom[2] = {0, 0};  // left, right

  double u_of(double x) const {
    return x < xb ? (x - xb) / (xb - x_left) : (x - xb) / (x_right - xb);
  }
  double top_shape(double u) const {
    const double a = std::min(1.0, std::abs(u));
    return top_c + (u < 0 ? rise_left : rise_right) * (peak * a + (1 - peak) * a * a);
  }
  double bottom_shape(double u) const {
    double a = std::min(1.0, std::abs(u));
    if (tip > 0) a = (std::sqrt(a * a + tip * tip) - tip) / (std::sqrt(1 + tip * tip) - tip);
    return bottom_c - (u < 0 ? drop_left : drop_right) * std::pow(a, bottom_pow);
  }
  double top(double x) const {
    double y = top_shape(u_of(x));
    for (const Point2& p : clear)
      y = std::max(y, p.y + kClearance - kClearSlope * std::abs(x - p.x));
    return y;
  }
  double bottom(double x) const { return bottom_shape(u_of(x)); }
  // Call once the shape and the points to keep clear are set.
  void finish() {
    corner_top[0] = top(x_left), corner_top[1] = top(x_right);
    corner_bottom[0] = bottom(x_left), corner_bottom[1] = bottom(x_right);
  }
  // The sides move inwards by their taper from the top corner to the bottom corner.
  double side(double y, bool left) const {
    const double yt = corner_top[left ? 0 : 1], yb = corner_bottom[left ? 0 : 1];
    const double t = std::clamp((y - yt) / std::max(1.0, yb - yt), 0.0, 1.0);
    return left ? x_left + taper_left * t : x_right - taper_right * t;
  }
  // Signed distance inside the body (units, positive inside; exact enough near the edges).
  double inside(double x, double y, double* d_top = nullptr, double* d_bottom = nullptr) const {
    const double e = 0.5, yt = top(x), yb = bottom(x);
    const double st = (top(x + e) - top(x - e)) / (2 * e),
                 sb = (bottom(x + e) - bottom(x - e)) / (2 * e);
    const double dt = (y - yt) / std::sqrt(1 + st * st), db = (yb - y) / std::sqrt(1 + sb * sb);
    if (d_top) *d_top = dt;
    if (d_bottom) *d_bottom = db;
    return std::min({x - side(y, true), side(y, false) - x, dt, db});
  }
};

// Frontal numbers follow procedural_template (sides at the jaw anchors a/d and c/f, top
// 18 + 40 |u| + 35 u^2, bottom 482 - 190 u^2); the turned outline is that template's turned
// one (peak at x 135, nearly flat top, the body ending short of c on the wide side) varied
// by the same draws, scaled to its shorter frame (b to e: 298 units against 452).
Outline draw_outline(uint64_t seed, bool turned) {
  Generator g(rng_bits(seed, kOutlineStream));
  const double u_side = g.uniform(), u_asym = g.uniform(), u_taper = g.uniform();
  const double u_top_style = g.uniform(), u_top = g.uniform(), u_rise = g.uniform(),
               u_peak = g.uniform();
  const double u_bottom_style = g.uniform(), u_bottom = g.uniform(), u_side_bottom = g.uniform(),
               u_pow = g.uniform(), u_tip = g.uniform(), u_seam = g.uniform();

  const double side = -40 + 110 * u_side;  // > 0: past the jaw anchors
  const double asym = (u_asym - 0.5) * 12;
  const double taper = 45 * u_taper * u_taper;
  double top_off, rise, peak;  // top centre relative to b, rise to the sides, |u| share
  if (u_top_style < 0.35) {    // peaked
    top_off = -15 + 45 * u_top, rise = 50 + 50 * u_rise, peak = 0.6 + 0.4 * u_peak;
  } else if (u_top_style < 0.75) {  // rounded
    top_off = -15 + 45 * u_top, rise = 35 + 55 * u_rise, peak = 0.4 * u_peak;
  } else {  // flat
    top_off = 10 + 30 * u_top, rise = 8 + 22 * u_rise, peak = u_peak;
  }
  const bool pointed = u_bottom_style < 0.4;
  const double below_e = 8 + 87 * u_bottom * u_bottom;  // bottom centre under the chin
  const double side_bottom = 270 + 120 * u_side_bottom;
  Outline o;
  o.bottom_pow = pointed ? 1.0 + 0.3 * u_pow : 1.6 + 1.6 * u_pow;
  o.tip = pointed ? 0.03 + 0.1 * u_tip : 0;
  o.seam = u_seam < (pointed ? 0.6 : 0.12);
  if (!turned) {
    o.xb = 300;
    o.x_left = 25 - side - asym, o.x_right = 575 + side + asym;
    o.taper_left = o.taper_right = taper;
    o.top_c = 18 + top_off;
    o.rise_left = o.rise_right = rise;
    o.peak = peak;
    o.bottom_c = 470 + below_e;
    o.drop_left = o.drop_right = o.bottom_c - side_bottom;
  } else {
    o.xb = 135;
    o.x_left = 25 - 0.3 * side, o.x_right = 496 + 0.8 * side + asym;
    o.taper_left = 0.4 * taper, o.taper_right = 0.8 * taper;
    o.top_c = 12 + 0.66 * top_off;
    o.rise_left = 0.2 * rise, o.rise_right = 0.3 * rise;
    o.peak = peak;
    o.bottom_c = 335 + 0.66 * below_e;
    const double sb = 248 + 0.66 * (side_bottom - 292);
    o.drop_left = o.bottom_c - sb, o.drop_right = o.bottom_c - sb + 6;
  }
  return o;
}

// ---- look -------------------------------------------------------------------------------

enum class Pattern { Solid, Gradient, Stripes, Dots, Checks, Prints, Fabric };

struct Look {
  Pattern pattern = Pattern::Solid;
  Rgb c1{}, c2{}, c3{};
  double cos_a = 1, sin_a = 0;  // pattern direction
  double period = 40, duty = 0.5, radius = 0.3;
  bool gingham = false, staggered = false;
  int shape = 0;  // prints: 0 circles, 1 flowers, 2 stars, 3 squares, 4 mixed
  double grad_lo = 0, grad_hi = 1;
  uint64_t print_seed = 0;
  // fabric tiling: units per texture width, offset
  double tile = 300, off_x = 0, off_y = 0;
  // shading
  double side_shade = 0.15, vertical_shade = 0.05, highlight = 0.05;
  int pleats = 0;
  double pleat_depth = 0.15, pleat_width = 0.08, pleat_pos[4] = {0, 0, 0, 0};
  double grain = 0;
  uint64_t grain_seed = 0;
  bool binding = false;
  double binding_width = 10;
  Rgb binding_colour{};
};

Look draw_look(uint64_t seed, bool fabric, const Outline& o) {
  Generator g(rng_bits(seed, kLookStream));
  Look l;
  l.c1 = random_colour(g);
  l.c2 = second_colour(g, l.c1);
  l.c3 = second_colour(g, l.c1);
  const double u_pattern = g.uniform(), u_angle = g.uniform(), u_dir = g.uniform(),
               u_period = g.uniform(), u_duty = g.uniform(), u_radius = g.uniform(),
               u_variant = g.uniform(), u_shape = g.uniform(), u_lo = g.uniform(),
               u_hi = g.uniform();
  l.print_seed = rng_bits(seed, kLookStream + 1);
  l.grain_seed = rng_bits(seed, kLookStream + 2);
  if (fabric) {
    l.pattern = Pattern::Fabric;
  } else if (u_pattern < 0.34) {
    l.pattern = Pattern::Solid;
  } else if (u_pattern < 0.46) {
    l.pattern = Pattern::Gradient;
  } else if (u_pattern < 0.6) {
    l.pattern = Pattern::Stripes;
  } else if (u_pattern < 0.73) {
    l.pattern = Pattern::Dots;
  } else if (u_pattern < 0.86) {
    l.pattern = Pattern::Checks;
  } else {
    l.pattern = Pattern::Prints;
  }
  // Stripes run horizontally, vertically or at any angle; the others keep their own angle.
  double angle = kPi * u_angle;
  if (u_dir < 0.3)
    angle = 0;
  else if (u_dir < 0.55)
    angle = kPi / 2;
  else if (u_dir < 0.75)
    angle = kPi / 4 * (u_angle < 0.5 ? 1 : 3);
  if (l.pattern == Pattern::Dots || l.pattern == Pattern::Prints || l.pattern == Pattern::Checks)
    angle = u_dir < 0.6 ? 0 : (u_angle - 0.5) * 0.8;
  l.cos_a = std::cos(angle), l.sin_a = std::sin(angle);
  l.period = l.pattern == Pattern::Stripes  ? 18 + 100 * u_period * u_period
             : l.pattern == Pattern::Prints ? 40 + 50 * u_period
                                            : 24 + 60 * u_period;
  l.duty = 0.2 + 0.45 * u_duty;
  l.radius = 0.14 + 0.2 * u_radius;
  l.gingham = u_variant < 0.5;
  l.staggered = u_variant < 0.5;
  l.shape = static_cast<int>(5 * u_shape);
  l.grad_lo = -0.1 + 0.4 * u_lo, l.grad_hi = 0.7 + 0.4 * u_hi;
  l.tile = 140 + 280 * u_period;
  l.off_x = 1000 * u_lo, l.off_y = 1000 * u_hi;

  const double u_side_shade = g.uniform(), u_vert = g.uniform(), u_high = g.uniform(),
               u_pleats = g.uniform(), u_n = g.uniform(), u_depth = g.uniform(), u_pw = g.uniform(),
               u_grain = g.uniform(), u_binding = g.uniform(), u_bw = g.uniform(),
               u_bc = g.uniform();
  double jitter[4];
  for (double& j : jitter) j = g.uniform() - 0.5;
  l.side_shade = 0.06 + 0.2 * u_side_shade;
  l.vertical_shade = -0.04 + 0.14 * u_vert;
  l.highlight = 0.1 * u_high;
  const bool pointed = o.tip > 0;
  if (u_pleats < (pointed ? 0.12 : 0.42)) {
    l.pleats = 2 + static_cast<int>(3 * u_n);
    for (int k = 0; k < l.pleats; ++k)
      l.pleat_pos[k] = 0.22 + 0.56 * (k + 0.5) / l.pleats + 0.06 * jitter[k];
    l.pleat_depth = 0.1 + 0.14 * u_depth;
    l.pleat_width = 0.05 + 0.05 * u_pw;
  }
  l.grain = u_grain < 0.5 ? 0 : 0.07 * (u_grain - 0.5);
  l.binding = u_binding < 0.3;
  l.binding_width = 6 + 12 * u_bw;
  l.binding_colour = u_bc < 0.6 ? scaled(l.c1, 1.08) : l.c2;
  return l;
}

// Distance from p to the shape of kind `shape` and size r centred at the origin (< 0 inside).
double shape_distance(int shape, double x, double y, double r) {
  const double d = std::hypot(x, y), th = std::atan2(y, x);
  switch (shape) {
    case 1:  // five-petalled flower
      return d - r * (0.5 + 0.5 * std::abs(std::cos(2.5 * th)));
    case 2: {  // five-pointed star
      const double t = std::abs(std::fmod(th * 5 / (2 * kPi) + 100.25, 1.0) - 0.5) * 2;
      return d - r * (0.45 + 0.55 * t * t);
    }
    case 3:  // square, turned 45 degrees
      return (std::abs(x) + std::abs(y)) / std::sqrt(2.0) - 0.8 * r;
    default:
      return d - 0.8 * r;
  }
}

// Bilinear sample of an RGBA image at level-L coordinates, wrapping around (tiling).
void sample_wrapped(const Image& t, double x, double y, float out[4]) {
  x -= std::floor(x / t.width) * t.width;
  y -= std::floor(y / t.height) * t.height;
  const int x0 = std::min(t.width - 1, static_cast<int>(x)),
            y0 = std::min(t.height - 1, static_cast<int>(y));
  const int x1 = (x0 + 1) % t.width, y1 = (y0 + 1) % t.height;
  const float fx = static_cast<float>(x - x0), fy = static_cast<float>(y - y0);
  for (int k = 0; k < 4; ++k) {
    auto at = [&](int xx, int yy) {
      return static_cast<float>(t.pixels[(static_cast<size_t>(yy) * t.width + xx) * 4 + k]);
    };
    out[k] = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) +
             fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
  }
}

// The pattern's colour at (x, y) (frame units); aa: units per template pixel.
Rgb pattern_colour(const Look& l, double x, double y, double aa, const std::vector<Image>* fabric,
                   double fabric_strength, double resolution) {
  const double ax = l.cos_a * x + l.sin_a * y, ay = -l.sin_a * x + l.cos_a * y;
  switch (l.pattern) {
    case Pattern::Solid:
      return l.c1;
    case Pattern::Gradient: {
      const double t = (l.cos_a * (x - 300) + l.sin_a * (y - 250)) / 600 + 0.5;
      return mix(l.c1, l.c2, smoothstep(l.grad_lo, l.grad_hi, t));
    }
    case Pattern::Stripes: {
      return mix(l.c1, l.c2, band(ay / l.period, l.duty, aa / l.period));
    }
    case Pattern::Dots: {
      double gx = ax / l.period, gy = ay / l.period;
      if (l.staggered && static_cast<int64_t>(std::floor(gy)) % 2) gx += 0.5;
      const double dx = gx - std::floor(gx) - 0.5, dy = gy - std::floor(gy) - 0.5;
      const double d = (std::hypot(dx, dy) - l.radius) * l.period;
      return mix(l.c1, l.c2, 1 - smoothstep(-aa, aa, d));
    }
    case Pattern::Checks: {
      const double w = aa / l.period;
      const double sx = band(ax / l.period, 0.5, w), sy = band(ay / l.period, 0.5, w);
      if (l.gingham) {  // crossing translucent bands: base, mid, dark where both cross
        const Rgb mid = mix(l.c1, l.c2, 0.5);
        return mix(mix(l.c1, mid, std::max(sx, sy)), l.c2, sx * sy);
      }
      return mix(l.c1, l.c2, sx + sy - 2 * sx * sy);  // checkerboard
    }
    case Pattern::Prints: {
      const double gx = ax / l.period, gy = ay / l.period;
      const int64_t cx = static_cast<int64_t>(std::floor(gx)),
                    cy = static_cast<int64_t>(std::floor(gy));
      const double h1 = hash01(l.print_seed, cx, cy), h2 = hash01(l.print_seed + 1, cx, cy),
                   h3 = hash01(l.print_seed + 2, cx, cy);
      const double r = (0.22 + 0.12 * h3) * l.period;
      const double room = std::max(0.0, 0.5 * l.period - 1.15 * r);
      const double px = (gx - cx - 0.5) * l.period - (2 * h1 - 1) * room,
                   py = (gy - cy - 0.5) * l.period - (2 * h2 - 1) * room;
      const int shape = l.shape == 4 ? static_cast<int>(4 * h3) : l.shape;
      const double d = shape_distance(shape, px, py, r);
      Rgb c = mix(l.c1, h1 < 0.5 ? l.c2 : l.c3, 1 - smoothstep(-aa, aa, d));
      if (shape == 1)  // a flower's heart
        c = mix(c, l.c3, 1 - smoothstep(-aa, aa, std::hypot(px, py) - 0.2 * r));
      return c;
    }
    case Pattern::Fabric: {
      const Image& t0 = (*fabric)[0];
      const double texels_per_unit = t0.width / l.tile;
      // The level whose texels are about as large as the template's pixels.
      const double shrink = texels_per_unit / resolution;
      int level = shrink > 1 ? static_cast<int>(std::floor(std::log2(shrink))) : 0;
      level = std::min(level, static_cast<int>(fabric->size()) - 1);
      const double s = std::ldexp(1.0, level);
      const double tx = ((x + l.off_x) * texels_per_unit + 0.5) / s - 0.5,
                   ty = ((y + l.off_y) * texels_per_unit + 0.5) / s - 0.5;
      float texel[4];
      sample_wrapped((*fabric)[level], tx, ty, texel);
      const double a = fabric_strength * texel[3] / 255.0;
      return mix(l.c1, Rgb{texel[0], texel[1], texel[2]}, a);
    }
  }
  return l.c1;
}

// ---- straps -----------------------------------------------------------------------------

struct Strap {
  Point2 pts[9];  // a quadratic curve as a polyline
  double width = 10;
  Rgb colour{};
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // bounding box (units)
};

Strap make_strap(Point2 from, Point2 to, double sag, double width, const Rgb& colour) {
  Strap s;
  const double dx = to.x - from.x, dy = to.y - from.y, len = std::hypot(dx, dy);
  const Point2 ctrl{(from.x + to.x) / 2 - dy / std::max(1e-9, len) * sag * len,
                    (from.y + to.y) / 2 + dx / std::max(1e-9, len) * sag * len};
  for (int k = 0; k < 9; ++k) {
    const double t = k / 8.0;
    s.pts[k] = {(1 - t) * (1 - t) * from.x + 2 * t * (1 - t) * ctrl.x + t * t * to.x,
                (1 - t) * (1 - t) * from.y + 2 * t * (1 - t) * ctrl.y + t * t * to.y};
  }
  s.width = width;
  s.colour = colour;
  s.x0 = s.x1 = from.x, s.y0 = s.y1 = from.y;
  for (const Point2& p : s.pts) {
    s.x0 = std::min(s.x0, p.x), s.x1 = std::max(s.x1, p.x);
    s.y0 = std::min(s.y0, p.y), s.y1 = std::max(s.y1, p.y);
  }
  s.x0 -= width, s.x1 += width, s.y0 -= width, s.y1 += width;
  return s;
}

double strap_distance(const Strap& s, double x, double y) {
  double best = 1e300;
  for (int k = 0; k < 8; ++k) {
    const Point2 a = s.pts[k], b = s.pts[k + 1];
    const double vx = b.x - a.x, vy = b.y - a.y, wx = x - a.x, wy = y - a.y;
    const double t = std::clamp((vx * wx + vy * wy) / std::max(1e-12, vx * vx + vy * vy), 0.0, 1.0);
    best = std::min(best, std::hypot(wx - t * vx, wy - t * vy));
  }
  return best - s.width / 2;
}

// Straps some of the time: ear loops (from the top corner to the top of the ear and from
// the bottom corner to the lobe), a single band, or two head straps running back past the
// ear. Frontal masks get them on both sides; a turned one only on its wide side, whose ear
// faces the camera. The ear lies a little beyond the jaw anchor (a or c), its top at about
// eye height (some 70 units above b) and its lobe at about the height of a.
std::vector<Strap> draw_straps(uint64_t seed, bool turned, const Outline& o, const Look& look) {
  Generator g(rng_bits(seed, kStrapStream));
  const double u_any = g.uniform(), u_style = g.uniform(), u_width = g.uniform(),
               u_colour = g.uniform(), u_grey = g.uniform();
  std::vector<Strap> out;
  if (u_any >= 0.6) return out;
  const double width = 7 + 7 * u_width;
  Rgb colour = u_colour < 0.4    ? hsv(0, 0, 0.9 + 0.08 * u_grey)
               : u_colour < 0.65 ? hsv(0, 0, (15 + 25 * u_grey) / 255)
                                 : scaled(look.c1, 0.82);
  // Heights in the frontal frame; the turned frame is 0.66 as tall, a at y 35 instead of 100.
  auto frame_y = [&](double y) { return turned ? 35 + 0.66 * (y - 100) : y; };
  for (bool left : {true, false}) {
    const double u_ext = g.uniform(), u_top = g.uniform(), u_lobe = g.uniform(),
                 u_sag1 = g.uniform(), u_sag2 = g.uniform(), u_mid = g.uniform();
    if (turned && left) continue;
    const double dir = left ? -1 : 1;
    const double yt = o.corner_top[left ? 0 : 1], yb = o.corner_bottom[left ? 0 : 1];
    // Points just inside the body's corners, so the strap joins the body without a gap.
    const double inset = 0.6 * width + 3;
    if (yb - yt < 4 * inset) continue;  // no side left to hang a strap on
    const Point2 top_corner{o.side(yt + inset, left) - dir * inset, yt + inset};
    const Point2 bottom_corner{o.side(yb - inset, left) - dir * inset, yb - inset};
    const double jaw_x = left ? 25 : 575, side_x = left ? o.x_left : o.x_right;
    const double ext = turned ? 25 + 55 * u_ext : 18 + 42 * u_ext;
    const double ear_x =
        left ? std::min(jaw_x - ext, side_x - 15) : std::max(jaw_x + ext, side_x + 15);
    const Point2 ear_top{ear_x, frame_y(-45 + 50 * u_top)},
        ear_lobe{ear_x - dir * 6, frame_y(55 + 60 * u_lobe)};
    const double sag1 = (u_sag1 - 0.5) * 0.25 * dir, sag2 = (u_sag2 - 0.5) * 0.25 * dir;
    const size_t first = out.size();
    if (u_style < 0.6) {  // ear loop
      out.push_back(make_strap(top_corner, ear_top, sag1, width, colour));
      out.push_back(make_strap(bottom_corner, ear_lobe, sag2, width, colour));
    } else if (u_style < 0.85) {  // one band from the upper side
      const double y = lerp(top_corner.y, 0.5 * (top_corner.y + bottom_corner.y), u_mid);
      const Point2 ear{ear_x, lerp(ear_top.y, ear_lobe.y, 0.4)};
      out.push_back(make_strap({o.side(y, left) - dir * inset, y}, ear, sag1, width, colour));
    } else {  // head straps, nearly level, vanishing behind the head
      out.push_back(make_strap(top_corner, {ear_x + dir * 10, top_corner.y - 25 - 30 * u_mid}, sag1,
                               width, colour));
      out.push_back(make_strap(bottom_corner, {ear_x, bottom_corner.y - 40 - 40 * u_mid}, sag2,
                               width, colour));
    }
    // A strap that would cross a point to keep clear (an eye on a turned face) is left off.
    bool crosses = false;
    for (size_t k = first; k < out.size(); ++k)
      for (const Point2& p : o.clear)
        crosses = crosses || strap_distance(out[k], p.x, p.y) < kClearance;
    if (crosses) out.resize(first);
  }
  return out;
}

}  // namespace

std::array<Point2, 6> random_mask_anchors(MaskView view, double resolution) {
  // procedural_template's anchors, in this template's pixels.
  std::array<Point2, 6> a;
  if (view == MaskView::Front) {
    a = {Point2{25, 100}, Point2{300, 18},  Point2{575, 100},
         Point2{25, 320}, Point2{300, 470}, Point2{575, 320}};
  } else {
    a = {Point2{25, 35},  Point2{135, 12},  Point2{575, 35},
         Point2{70, 215}, Point2{165, 310}, Point2{575, 215}};
    if (view == MaskView::Right) {
      auto m = [](Point2 p) { return Point2{kFrameW - p.x, p.y}; };
      const auto l = a;
      a = {m(l[2]), m(l[1]), m(l[0]), m(l[5]), m(l[4]), m(l[3])};
    }
  }
  for (Point2& p : a) p = {(p.x + kPadX) * resolution - 0.5, (p.y + kPadTop) * resolution - 0.5};
  return a;
}

double random_mask_brightness_strength(uint64_t seed) {
  Generator g(rng_bits(seed, kBrightStream));
  const double u = g.uniform(), v = g.uniform();
  return u < 0.45 ? 0.0 : 0.1 + 0.4 * v;
}

MaskTemplate random_mask_template(uint64_t seed, MaskView view, const std::vector<Image>* fabric,
                                  double fabric_strength, double resolution,
                                  const std::vector<Point2>& keep_clear) {
  MASKOFF_CHECK(std::isfinite(resolution) && resolution >= 0.02 && resolution <= 4,
                "random_mask_template: resolution " << resolution << " not in [0.02, 4]");
  MASKOFF_CHECK(
      fabric_strength >= 0 && fabric_strength <= 1,
      "random_mask_template: fabric_strength " << fabric_strength << " must lie in [0, 1]");
  if (fabric) {
    MASKOFF_CHECK(!fabric->empty(), "random_mask_template: empty fabric pyramid");
    for (const Image& l : *fabric)
      MASKOFF_CHECK(l.channels == 4 && !l.empty(),
                    "random_mask_template: the fabric must be RGBA, got "
                        << l.width << "x" << l.height << "x" << l.channels);
  }
  const bool turned = view != MaskView::Front, mirror = view == MaskView::Right;
  const double r = resolution, aa = 0.75 / r;  // aa: half an edge's blur, in units
  Outline o = draw_outline(seed, turned);
  for (const Point2& p : keep_clear) {  // template pixels -> frame units
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    const double ux = (p.x + 0.5) / r - kPadX;
    o.clear.push_back({mirror ? kFrameW - ux : ux, (p.y + 0.5) / r - kPadTop});
  }
  o.finish();
  const Look look = draw_look(seed, fabric != nullptr, o);
  const std::vector<Strap> straps = draw_straps(seed, turned, o, look);

  const int W = static_cast<int>(std::ceil((kFrameW + 2 * kPadX) * r)),
            H = static_cast<int>(std::ceil((kFrameH + kPadTop + kPadBottom) * r));
  Image img(W, H, 4, 0);
  // Only the body's and the straps' boxes can hold anything.
  double bx0 = std::min(o.x_left, o.x_right), bx1 = std::max(o.x_left, o.x_right),
         by0 = std::min(o.top_c, std::min(o.corner_top[0], o.corner_top[1])), by1 = o.bottom_c;
  for (const Strap& s : straps) {
    bx0 = std::min(bx0, s.x0), bx1 = std::max(bx1, s.x1);
    by0 = std::min(by0, s.y0), by1 = std::max(by1, s.y1);
  }
  if (mirror) std::tie(bx0, bx1) = std::make_pair(kFrameW - bx1, kFrameW - bx0);
  auto px_of = [&](double ux) { return static_cast<int>(std::floor((ux + kPadX) * r)); };
  auto py_of = [&](double uy) { return static_cast<int>(std::floor((uy + kPadTop) * r)); };
  const int px0 = std::max(0, px_of(bx0) - 2), px1 = std::min(W, px_of(bx1) + 3),
            py0 = std::max(0, py_of(by0) - 2), py1 = std::min(H, py_of(by1) + 3);

  for (int py = py0; py < py1; ++py)
    for (int px = px0; px < px1; ++px) {
      const double ux = (px + 0.5) / r - kPadX, y = (py + 0.5) / r - kPadTop;
      const double x = mirror ? kFrameW - ux : ux;
      // Straps first; the body is drawn over them.
      float sa = 0;
      Rgb sc{};
      for (const Strap& s : straps) {
        if (x < s.x0 || x > s.x1 || y < s.y0 || y > s.y1) continue;
        const double a = std::clamp(0.5 - strap_distance(s, x, y) * r, 0.0, 1.0);
        if (a > sa) sa = static_cast<float>(a), sc = s.colour;
      }
      double d_top = 0, d_bottom = 0;
      const double inside = o.inside(x, y, &d_top, &d_bottom);
      const float ba = static_cast<float>(std::clamp(inside * r + 0.5, 0.0, 1.0));
      if (ba <= 0 && sa <= 0) continue;
      Rgb bc{};
      if (ba > 0) {
        const double u = o.u_of(x), yt = o.top(x), yb = o.bottom(x);
        const double v = std::clamp((y - yt) / std::max(1.0, yb - yt), 0.0, 1.0);
        Rgb c = pattern_colour(look, x, y, aa, fabric, fabric_strength, r);
        if (look.binding) {
          const double edge = std::min(d_top, d_bottom);
          c = mix(c, look.binding_colour,
                  1 - smoothstep(look.binding_width - aa, look.binding_width + aa, edge));
        }
        double shade =
            1 - look.side_shade * (1 - std::sqrt(std::max(
                                           0.0, std::cos(0.5 * kPi * std::min(1.0, std::abs(u))))));
        shade *= 1 - look.vertical_shade * v;
        shade += look.highlight * std::exp(-(u * u / 0.09 + (v - 0.3) * (v - 0.3) / 0.06));
        for (int k = 0; k < look.pleats; ++k) {  // a shadow under each fold, a highlight above
          const double d = v - look.pleat_pos[k];
          if (d > 0 && d < look.pleat_width) shade -= look.pleat_depth * (1 - d / look.pleat_width);
          if (d > -0.3 * look.pleat_width && d <= 0) shade += 0.35 * look.pleat_depth;
        }
        if (o.seam) {  // a stitched ridge down the middle: a dark line with a lit edge
          const double dx = x - o.xb;
          shade -= 0.22 * (1 - smoothstep(1.5, 1.5 + 2 * aa, std::abs(dx)));
          shade += 0.06 * (1 - smoothstep(0, 8 + aa, std::abs(dx - 6)));
        }
        if (look.grain > 0)
          shade += look.grain * (2 * value_noise(look.grain_seed, x / 5, y / 5) - 1);
        // Shading scales the colour, plus a little so folds also show on black.
        for (int k = 0; k < 3; ++k)
          bc[k] = static_cast<float>(std::clamp(c[k] * shade + 30 * (shade - 1), 0.0, 255.0));
      }
      // "Over" in straight alpha: the body over the straps.
      const float a = ba + sa * (1 - ba);
      uint8_t* p = img.pixels.data() + (static_cast<size_t>(py) * W + px) * 4;
      for (int k = 0; k < 3; ++k)
        p[k] = static_cast<uint8_t>(
            std::clamp((bc[k] * ba + sc[k] * sa * (1 - ba)) / std::max(a, 1e-6f), 0.f, 255.f) +
            0.5f);
      p[3] = static_cast<uint8_t>(a * 255 + 0.5f);
    }

  MaskTemplate t;
  t.name = std::string("procedural") + view_suffix(view);
  t.anchors = random_mask_anchors(view, r);
  t.levels = rgba_pyramid(std::move(img), kPyramidMin);
  return t;
}

}  // namespace maskoff::data
