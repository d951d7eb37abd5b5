// The normalised mean landmark error.
#include "metrics/landmark_error.h"

#include <cmath>

#include "tensor/error.h"

namespace maskoff::metrics {

double nme(const Landmarks68& got, const Landmarks68& ref, bool mouth_only) {
  for (int i = 0; i < 68; ++i)
    MASKOFF_CHECK(std::isfinite(got[i].first) && std::isfinite(got[i].second) &&
                      std::isfinite(ref[i].first) && std::isfinite(ref[i].second),
                  "nme: point " << i << " is not finite (got (" << got[i].first << ", "
                                << got[i].second << "), reference (" << ref[i].first << ", "
                                << ref[i].second << "))");
  const double iod = std::hypot(ref[kLeftEyeOuter].first - ref[kRightEyeOuter].first,
                                ref[kLeftEyeOuter].second - ref[kRightEyeOuter].second);
  MASKOFF_CHECK(iod > 0, "nme: the reference's outer eye corners (points "
                             << kLeftEyeOuter << " and " << kRightEyeOuter << ") coincide at ("
                             << ref[kLeftEyeOuter].first << ", " << ref[kLeftEyeOuter].second
                             << ")");
  const int first = mouth_only ? kMouthFirst : 0;
  double s = 0;
  for (int i = first; i < 68; ++i)
    s += std::hypot(got[i].first - ref[i].first, got[i].second - ref[i].second);
  return s / double(68 - first) / iod;
}

}  // namespace maskoff::metrics
