// Face anchors for mask placement, following MaskTheFace's construction:
//
// MaskTheFace describes every template by six hand-marked points and finds the six matching
// points on the face from the 68 landmarks, then maps one set onto the other with a
// least-squares homography. The face points all hang off two directions: the eye line
// (through the two eye centres) and the face's vertical axis (perpendicular to it).
//  - a, c: shift the eye line down by the nose length (the nose bridge 27 -> 30 measured
//    along the vertical axis), which puts it at about nose-tip height, and intersect it with
//    the jaw contour 0..16; the outermost crossings are a (left) and c (right).
//  - b: the middle of the nose bridge, halfway between 27 and 30.
//  - d, f: the same with a line parallel to the eye line through the lowest point of the
//    lower lip.
//  - e: the chin. MaskTheFace intersects two lines with the jaw and averages the crossings:
//    the vertical axis through the middle of the shifted eye line, and the line from the top
//    of the bridge (27) through the centre of the lower lip.
//  - When a line misses the contour (its end points 0 and 16 lie above the line, as on
//    tilted or cropped faces), the jaw points are fitted with an ellipse and the line is
//    intersected with that instead; if that fails too, the contour's ends are used.
// The head turn is read from the nose: turning the head swings the protruding nose tip
// sideways more than the bridge top or the mouth, so the angle between 27 -> 30 and
// 27 -> lower-lip centre grows with the turn and changes sign with its direction (a roll
// of the whole head moves both lines together and cancels out).
//
// Differences from the original, on purpose: the shifts follow the face's vertical axis
// instead of the image's y axis (the same for level eyes, better for rolled heads), every
// line has its ellipse fallback (the original has it only for a and c), and the crossings are
// computed exactly rather than with a one-pixel tolerance box.
#include "data/mask_anchors.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <tuple>

#include "tensor/error.h"

namespace maskoff::data {
namespace {

Point2 operator+(Point2 a, Point2 b) { return {a.x + b.x, a.y + b.y}; }
Point2 operator-(Point2 a, Point2 b) { return {a.x - b.x, a.y - b.y}; }
Point2 operator*(double s, Point2 a) { return {s * a.x, s * a.y}; }
double dot(Point2 a, Point2 b) { return a.x * b.x + a.y * b.y; }
double cross(Point2 a, Point2 b) { return a.x * b.y - a.y * b.x; }
double norm(Point2 a) { return std::hypot(a.x, a.y); }

Point2 mean_of(const Landmarks& lm, std::initializer_list<int> idx) {
  Point2 s;
  for (int i : idx) s = s + lm[i];
  return (1.0 / idx.size()) * s;
}

// MaskTheFace's "bottom lip": the outer lower lip with both corners and the inner lower lip.
constexpr int kLowerLip[] = {48, 54, 55, 56, 57, 58, 59, 60, 64, 65, 66, 67};

class JawSearch {
 public:
  explicit JawSearch(const Landmarks& lm) : jaw_(lm.begin(), lm.begin() + 17) {}

  // The two outermost crossings of the line with the jaw, left first (dir points right).
  std::pair<Point2, Point2> sides(Point2 p, Point2 dir, bool& used_ellipse) {
    auto hits = line_polyline_intersections(p, dir, jaw_);
    if (hits.size() < 2) {
      used_ellipse = true;
      hits = line_conic_intersections(p, dir, ellipse());
    }
    if (hits.size() < 2) return {jaw_.front(), jaw_.back()};
    return {hits.front(), hits.back()};
  }

  // The crossing lowest along the face's downward axis `down`; false when there is none.
  bool lowest(Point2 p, Point2 dir, Point2 down, bool allow_ellipse, Point2& out) {
    auto hits = line_polyline_intersections(p, dir, jaw_);
    if (hits.empty() && allow_ellipse) hits = line_conic_intersections(p, dir, ellipse());
    if (hits.empty()) return false;
    out = *std::max_element(hits.begin(), hits.end(),
                            [&](Point2 a, Point2 b) { return dot(a, down) < dot(b, down); });
    return true;
  }

 private:
  const Conic& ellipse() {
    if (!fitted_) {
      conic_ = fit_ellipse(jaw_);
      fitted_ = true;
    }
    return conic_;
  }
  std::vector<Point2> jaw_;
  Conic conic_;
  bool fitted_ = false;
};

}  // namespace

std::vector<Point2> line_polyline_intersections(Point2 p, Point2 dir,
                                                const std::vector<Point2>& poly) {
  std::vector<std::pair<double, Point2>> hits;
  for (size_t i = 0; i + 1 < poly.size(); ++i) {
    const Point2 e = poly[i + 1] - poly[i];
    const double den = cross(dir, e);
    if (std::abs(den) <= 1e-12 * norm(dir) * norm(e)) continue;  // parallel (or empty segment)
    const Point2 w = poly[i] - p;
    const double s = cross(w, dir) / den;  // position along the segment
    // Half-open segments so a line through a shared vertex counts once; the last is closed.
    const bool last = i + 2 == poly.size();
    if (s < 0 || s > 1 || (s == 1 && !last)) continue;
    const double t = cross(w, e) / den;
    hits.push_back({t, p + t * dir});
  }
  std::sort(hits.begin(), hits.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Point2> out;
  for (auto& h : hits) out.push_back(h.second);
  return out;
}

Conic fit_ellipse(const std::vector<Point2>& pts) {
  Conic q;
  const int n = static_cast<int>(pts.size());
  if (n < 5) return q;
  for (const Point2& p : pts) {
    q.cx += p.x;
    q.cy += p.y;
  }
  q.cx /= n;
  q.cy /= n;
  double spread = 0;
  for (const Point2& p : pts) spread = std::max(spread, std::hypot(p.x - q.cx, p.y - q.cy));
  if (!(spread > 0) || !std::isfinite(spread)) return q;
  q.scale = spread;
  // Split the design matrix into its quadratic and linear parts, eliminate the linear
  // coefficients, and solve the remaining 3x3 generalised eigenproblem with the ellipse
  // constraint folded in (Halir & Flusser's stable form of Fitzgibbon's direct fit).
  Eigen::MatrixXd d1(n, 3), d2(n, 3);
  for (int i = 0; i < n; ++i) {
    const double u = (pts[i].x - q.cx) / q.scale, v = (pts[i].y - q.cy) / q.scale;
    d1.row(i) << u * u, u * v, v * v;
    d2.row(i) << u, v, 1;
  }
  const Eigen::Matrix3d s1 = d1.transpose() * d1, s2 = d1.transpose() * d2,
                        s3 = d2.transpose() * d2;
  Eigen::FullPivLU<Eigen::Matrix3d> lu(s3);
  if (!lu.isInvertible()) return q;
  const Eigen::Matrix3d t = -lu.solve(s2.transpose());
  const Eigen::Matrix3d m = s1 + s2 * t;
  Eigen::Matrix3d mc;  // inverse of the constraint matrix [[0,0,2],[0,-1,0],[2,0,0]] times m
  mc.row(0) = m.row(2) / 2;
  mc.row(1) = -m.row(1);
  mc.row(2) = m.row(0) / 2;
  Eigen::EigenSolver<Eigen::Matrix3d> es(mc);
  if (es.info() != Eigen::Success) return q;
  for (int k = 0; k < 3; ++k) {
    const Eigen::Vector3d v = es.eigenvectors().col(k).real();
    if (std::abs(es.eigenvectors().col(k).imag().norm()) > 1e-9) continue;
    if (4 * v(0) * v(2) - v(1) * v(1) <= 0) continue;
    const Eigen::Vector3d lin = t * v;
    q.a = v(0);
    q.b = v(1);
    q.c = v(2);
    q.d = lin(0);
    q.e = lin(1);
    q.f = lin(2);
    q.ok = true;
    break;
  }
  return q;
}

std::vector<Point2> line_conic_intersections(Point2 p, Point2 dir, const Conic& q) {
  if (!q.ok) return {};
  const double px = (p.x - q.cx) / q.scale, py = (p.y - q.cy) / q.scale;
  const double dx = dir.x / q.scale, dy = dir.y / q.scale;
  const double qa = q.a * dx * dx + q.b * dx * dy + q.c * dy * dy;
  const double qb =
      2 * q.a * px * dx + q.b * (px * dy + py * dx) + 2 * q.c * py * dy + q.d * dx + q.e * dy;
  const double qc = q.a * px * px + q.b * px * py + q.c * py * py + q.d * px + q.e * py + q.f;
  const double disc = qb * qb - 4 * qa * qc;
  if (qa == 0 || !(disc >= 0)) return {};
  // The cancellation-free pair of roots.
  const double r = -0.5 * (qb + std::copysign(std::sqrt(disc), qb));
  double t0 = r / qa, t1 = r != 0 ? qc / r : t0;
  if (t0 > t1) std::swap(t0, t1);
  return {p + t0 * dir, p + t1 * dir};
}

FaceAnchors face_anchors(const Landmarks& lm) {
  for (const Point2& p : lm)
    MASKOFF_CHECK(std::isfinite(p.x) && std::isfinite(p.y),
                  "face_anchors: landmark (" << p.x << ", " << p.y << ") is not finite");
  const Point2 eye_l = mean_of(lm, {36, 37, 38, 39, 40, 41}),
               eye_r = mean_of(lm, {42, 43, 44, 45, 46, 47});
  Point2 right = eye_r - eye_l;
  const double eye_dist = norm(right);
  right = eye_dist > 1e-9 ? (1.0 / eye_dist) * right : Point2{1, 0};
  const Point2 down{-right.y, right.x};
  const Point2 eye_mid = 0.5 * (eye_l + eye_r);

  double nose_len = dot(lm[30] - lm[27], down);
  if (!(nose_len > 0)) nose_len = norm(lm[30] - lm[27]);

  Point2 lip_centre, lip_low = lm[kLowerLip[0]];
  for (int i : kLowerLip) {
    lip_centre = lip_centre + lm[i];
    if (dot(lm[i], down) > dot(lip_low, down)) lip_low = lm[i];
  }
  lip_centre = (1.0 / std::size(kLowerLip)) * lip_centre;

  FaceAnchors fa;
  JawSearch jaw(lm);
  fa.b = 0.5 * (lm[27] + lm[30]);
  std::tie(fa.a, fa.c) = jaw.sides(eye_mid + nose_len * down, right, fa.used_ellipse);
  std::tie(fa.d, fa.f) = jaw.sides(lip_low, right, fa.used_ellipse);

  Point2 chin_axis, chin_lip;
  Point2 to_lip = lip_centre - lm[27];
  if (norm(to_lip) < 1e-9) to_lip = down;
  const bool has_axis = jaw.lowest(eye_mid + 0.5 * nose_len * down, down, down, false, chin_axis);
  const bool has_lip = jaw.lowest(lm[27], to_lip, down, false, chin_lip);
  if (has_axis && has_lip) {
    fa.e = 0.5 * (chin_axis + chin_lip);
  } else if (has_axis || has_lip) {
    fa.e = has_axis ? chin_axis : chin_lip;
  } else if (jaw.lowest(lm[27], to_lip, down, true, chin_lip)) {
    fa.used_ellipse = true;
    fa.e = chin_lip;
  } else {
    fa.e = lm[8];
  }

  const Point2 bridge = lm[30] - lm[27];
  if (norm(bridge) > 1e-9 && norm(lip_centre - lm[27]) > 1e-9) {
    // Signed angle from the bridge-to-lip line to the bridge: positive when the nose tip
    // lies to the image's left of the line (y grows downwards, so cross > 0 means left).
    fa.turn_deg =
        std::atan2(cross(to_lip, bridge), dot(to_lip, bridge)) * 180.0 / 3.14159265358979323846;
  }
  return fa;
}

std::array<Point2, 6> anchors_in_template_order(const FaceAnchors& fa) {
  return {fa.a, fa.b, fa.c, fa.f, fa.e, fa.d};
}

MaskView choose_view(double turn_deg, double threshold_deg) {
  if (turn_deg > threshold_deg) return MaskView::Left;
  if (turn_deg < -threshold_deg) return MaskView::Right;
  return MaskView::Front;
}

const char* view_suffix(MaskView v) {
  return v == MaskView::Left ? "_left" : v == MaskView::Right ? "_right" : "";
}

Landmarks mirror_landmarks(const Landmarks& lm, int image_width) {
  Landmarks out;
  for (int i = 0; i < 68; ++i) out[kFlip68[i]] = {image_width - 1 - lm[i].x, lm[i].y};
  return out;
}

}  // namespace maskoff::data
