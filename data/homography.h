// Planar homographies: estimation from point pairs (normalised DLT, least squares over any
// number >= 4 of pairs), applying one to a point, inverting and composing them.
#pragma once
#include <array>
#include <vector>

#include "data/face.h"

namespace maskoff::data {

using Mat3 = std::array<double, 9>;  // row-major 3x3

// The homography H with dst ~ H * src, from >= 4 pairs, by the direct linear transform on
// Hartley-normalised coordinates; with more than 4 pairs it minimises the algebraic error
// in the least-squares sense. Scaled so that h[8] == 1. Throws maskoff::Error for fewer
// than 4 pairs, mismatched counts, non-finite coordinates, or configurations that do not
// determine a unique homography (all points collinear, or 3 of 4 on one line).
Mat3 homography_from_points(const std::vector<Point2>& src, const std::vector<Point2>& dst);

// H * (x, y, 1) dehomogenised. A point mapped onto the line at infinity gives non-finite
// coordinates.
Point2 apply_homography(const Mat3& h, Point2 p);

// Inverse, scaled so that h[8] == 1 where that element is not (close to) zero. Throws for a
// singular matrix.
Mat3 invert(const Mat3& h);

// a * b: apply b first, then a.
Mat3 mat3_mul(const Mat3& a, const Mat3& b);
Mat3 mat3_identity();
// Scales by (sx, sy) about the origin.
Mat3 mat3_scale(double sx, double sy);

}  // namespace maskoff::data
