// Landmark error between two sets of the 68 iBUG/dlib face points: the normalised mean
// error (NME), the mean point-to-point distance divided by the distance between the
// reference's outer eye corners (points 36 and 45, counting from 0).
#pragma once
#include <array>
#include <utility>

namespace maskoff::metrics {

using Landmarks68 = std::array<std::pair<double, double>, 68>;  // (x, y) per point

constexpr int kLeftEyeOuter = 36, kRightEyeOuter = 45;
constexpr int kMouthFirst = 48;  // points 48..67 outline the mouth

// mean_i |got_i - ref_i| / |ref_36 - ref_45| over all 68 points, or over the mouth points
// 48..67 only when mouth_only. Any unit works (pixels, fractions of the side) as long as
// both sets share it. Coincident reference eye corners, or a non-finite coordinate, are
// an error.
double nme(const Landmarks68& got, const Landmarks68& ref, bool mouth_only = false);

}  // namespace maskoff::metrics
