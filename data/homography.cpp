// Homography estimation (normalised DLT via Eigen's SVD), application, inversion.
#include "data/homography.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskoff::data {
namespace {

// Hartley normalisation: move the centroid to the origin and scale so the mean distance
// from it is sqrt(2). Without it the DLT system mixes entries of order 1 and order
// width^2, and the SVD loses most of its precision on pixel coordinates.
Mat3 normaliser(const std::vector<Point2>& pts, const char* which) {
  double cx = 0, cy = 0;
  for (const Point2& p : pts) {
    MASKOFF_CHECK(std::isfinite(p.x) && std::isfinite(p.y),
                  "homography_from_points: " << which << " point (" << p.x << ", " << p.y
                                             << ") is not finite");
    cx += p.x;
    cy += p.y;
  }
  cx /= pts.size();
  cy /= pts.size();
  double mean_dist = 0;
  for (const Point2& p : pts) mean_dist += std::hypot(p.x - cx, p.y - cy);
  mean_dist /= pts.size();
  MASKOFF_CHECK(mean_dist > 0, "homography_from_points: all " << pts.size() << " " << which
                                                              << " points coincide (degenerate)");
  // All points on one line leave the 2x2 scatter matrix rank 1: no homography is determined.
  double sxx = 0, sxy = 0, syy = 0;
  for (const Point2& p : pts) {
    double dx = (p.x - cx) / mean_dist, dy = (p.y - cy) / mean_dist;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  double tr = sxx + syy, det = sxx * syy - sxy * sxy;
  MASKOFF_CHECK(det > 1e-12 * tr * tr, "homography_from_points: the "
                                           << pts.size() << " " << which
                                           << " points are collinear (degenerate)");
  double s = std::sqrt(2.0) / mean_dist;
  return {s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1};
}

}  // namespace

Mat3 mat3_identity() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

Mat3 mat3_scale(double sx, double sy) { return {sx, 0, 0, 0, sy, 0, 0, 0, 1}; }

Mat3 mat3_mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += a[i * 3 + k] * b[k * 3 + j];
      r[i * 3 + j] = s;
    }
  return r;
}

Point2 apply_homography(const Mat3& h, Point2 p) {
  double w = h[6] * p.x + h[7] * p.y + h[8];
  return {(h[0] * p.x + h[1] * p.y + h[2]) / w, (h[3] * p.x + h[4] * p.y + h[5]) / w};
}

Mat3 invert(const Mat3& h) {
  // Adjugate over determinant; the determinant is compared with the matrix's scale so the
  // test does not depend on how h happens to be normalised.
  Mat3 adj = {h[4] * h[8] - h[5] * h[7], h[2] * h[7] - h[1] * h[8], h[1] * h[5] - h[2] * h[4],
              h[5] * h[6] - h[3] * h[8], h[0] * h[8] - h[2] * h[6], h[2] * h[3] - h[0] * h[5],
              h[3] * h[7] - h[4] * h[6], h[1] * h[6] - h[0] * h[7], h[0] * h[4] - h[1] * h[3]};
  double det = h[0] * adj[0] + h[1] * adj[3] + h[2] * adj[6];
  double scale = 0;
  for (double v : h) scale = std::max(scale, std::abs(v));
  MASKOFF_CHECK(std::isfinite(det) && scale > 0 && std::abs(det) > 1e-14 * scale * scale * scale,
                "invert: the homography is singular (det " << det << ")");
  double amax = 0;
  for (double v : adj) amax = std::max(amax, std::abs(v));
  double norm = std::abs(adj[8]) > 1e-12 * amax ? adj[8] : amax;
  for (double& v : adj) v /= norm;
  return adj;
}

Mat3 homography_from_points(const std::vector<Point2>& src, const std::vector<Point2>& dst) {
  MASKOFF_CHECK(src.size() == dst.size(),
                "homography_from_points: " << src.size() << " source points but " << dst.size()
                                           << " destination points");
  MASKOFF_CHECK(src.size() >= 4,
                "homography_from_points: needs at least 4 point pairs, got " << src.size());
  const Mat3 ts = normaliser(src, "source"), td = normaliser(dst, "destination");
  const int n = static_cast<int>(src.size());
  // Each pair gives two rows of A h = 0 (the cross product of dst with H src vanishes).
  Eigen::MatrixXd a(2 * n, 9);
  for (int i = 0; i < n; ++i) {
    Point2 s = apply_homography(ts, src[i]), d = apply_homography(td, dst[i]);
    a.row(2 * i) << -s.x, -s.y, -1, 0, 0, 0, d.x * s.x, d.x * s.y, d.x;
    a.row(2 * i + 1) << 0, 0, 0, -s.x, -s.y, -1, d.y * s.x, d.y * s.y, d.y;
  }
  // Full V: with 4 pairs A is 8x9 and the null vector is the 9th right singular vector,
  // which a thin decomposition would not return.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeFullV);
  const Eigen::VectorXd& sv = svd.singularValues();
  // A unique solution needs rank 8: the second-smallest singular value must be clearly
  // non-zero (it vanishes when, e.g., 3 of 4 points lie on a line). For 4 pairs A has
  // only 8 singular values and the 9th (zero) is implicit.
  const double s_second_smallest = sv(7);
  MASKOFF_CHECK(s_second_smallest > 1e-9 * sv(0),
                "homography_from_points: the "
                    << n << " point pairs do not determine a unique homography"
                    << " (degenerate configuration, e.g. 3 of 4 points collinear)");
  Eigen::VectorXd hv = svd.matrixV().col(8);
  Mat3 hn;
  for (int i = 0; i < 9; ++i) hn[i] = hv(i);
  // Points collinear on one side only (e.g. 3 of 4 on a line in src, not in dst) still give
  // a unique solution, but a singular one that flattens the plane onto a line. In
  // normalised coordinates |h| = 1, so the determinant is directly comparable.
  const Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>> hm(hn.data());
  MASKOFF_CHECK(std::abs(hm.determinant()) > 1e-9,
                "homography_from_points: the "
                    << n << " point pairs are degenerate (the fitted homography is "
                    << "singular, e.g. 3 of 4 points collinear on one side only)");
  Mat3 h = mat3_mul(invert(td), mat3_mul(hn, ts));
  double amax = 0;
  for (double v : h) amax = std::max(amax, std::abs(v));
  MASKOFF_CHECK(std::abs(h[8]) > 1e-12 * amax,
                "homography_from_points: the result maps the origin to infinity and cannot be "
                "scaled to h[8] = 1");
  const double h8 = h[8];
  for (double& v : h) v /= h8;
  return h;
}

}  // namespace maskoff::data
