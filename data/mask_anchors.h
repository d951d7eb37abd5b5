// The six face anchor points a..f that a mask template is mapped onto, and the head-turn
// angle that picks the template's frontal, _left or _right variant, from 68 landmarks
// (the construction of MaskTheFace, described in mask_anchors.cpp).
#pragma once
#include <array>
#include <vector>

#include "data/face.h"

namespace maskoff::data {

// Positions on the face (image coordinates, "left" = the image's left):
//   a, c: the jaw contour at nose-tip height (a on the left, c on the right);
//   b:    the middle of the nose bridge;
//   d, f: the jaw contour at the height of the lowest lower-lip point (d left, f right);
//   e:    the chin, below the mouth.
struct FaceAnchors {
  Point2 a, b, c, d, e, f;
  // Signed angle in degrees between the nose bridge (27 -> 30) and the line from the top of
  // the bridge to the lower lip's centre; positive when the nose tip swings towards the
  // image's left, which happens when the head turns to the image's left.
  double turn_deg = 0;
  bool used_ellipse = false;  // a jaw line missed the landmark contour: the jaw ellipse was used
};

FaceAnchors face_anchors(const Landmarks& lm);

// In MaskTheFace's template order a, b, c, f, e, d (the order the homography pairs them).
std::array<Point2, 6> anchors_in_template_order(const FaceAnchors& fa);

enum class MaskView { Front, Left, Right };
// Beyond +threshold the head is turned to the image's left and the _left template (drawn
// with the nose bridge near its left edge) fits; below -threshold, _right.
constexpr double kTurnThresholdDeg = 13.0;
MaskView choose_view(double turn_deg, double threshold_deg = kTurnThresholdDeg);
const char* view_suffix(MaskView v);  // "", "_left", "_right"

// The landmarks of the horizontally mirrored image (x -> width - 1 - x), relabelled so that
// the result is again in iBUG order (point 0 on the image's left, and so on).
Landmarks mirror_landmarks(const Landmarks& lm, int image_width);

// Points where the infinite line p + t * dir crosses the polyline (consecutive points),
// in the order of t.
std::vector<Point2> line_polyline_intersections(Point2 p, Point2 dir,
                                                const std::vector<Point2>& poly);

// Conic A u^2 + B uv + C v^2 + D u + E v + F = 0 in the normalised coordinates
// u = (x - cx) / scale, v = (y - cy) / scale, fitted to points as an ellipse by direct least
// squares (constraint 4AC - B^2 = 1, solved in the numerically stable split form). ok is
// false when there are fewer than 5 points or the fit is not an ellipse.
struct Conic {
  double a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
  double cx = 0, cy = 0, scale = 1;
  bool ok = false;
};
Conic fit_ellipse(const std::vector<Point2>& pts);
// Where p + t * dir crosses the conic, in the order of t (0 or 2 points).
std::vector<Point2> line_conic_intersections(Point2 p, Point2 dir, const Conic& q);

}  // namespace maskoff::data
