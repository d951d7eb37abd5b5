// The shared image checks (shape, channels, dtype, [0, 1] range), the [-1, 1] -> [0, 1] map,
// and the mask's bounding box and crop.
#include "metrics/image.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "layers/elementwise.h"
#include "layers/shape_ops.h"

namespace maskoff::metrics {

Tensor from_network_range(const Tensor& x) {
  MASKOFF_CHECK(x.defined(), "from_network_range: undefined tensor");
  return add_scalar(mul_scalar(x, 0.5), 0.5);
}

std::string box_str(const Box& b) {
  std::ostringstream s;
  s << "rows [" << b.y0 << ", " << b.y1 << ") x columns [" << b.x0 << ", " << b.x1 << ")";
  return s.str();
}

Box mask_box(const Tensor& mask) {
  const char* op = "mask_box";
  std::vector<double> m = detail::mask_values(mask, -1, -1, op);
  const int64_t h = mask.size(-2), w = mask.size(-1);
  Box b{h, w, -1, -1};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      if (m[static_cast<size_t>(y * w + x)] != 0) {
        b.y0 = std::min(b.y0, y);
        b.x0 = std::min(b.x0, x);
        b.y1 = std::max(b.y1, y + 1);
        b.x1 = std::max(b.x1, x + 1);
      }
  MASKOFF_CHECK(b.y1 > 0, op << ": the mask " << shape_str(mask.shape()) << " has no pixel set");
  return b;
}

Tensor crop_box(const Tensor& image, const Box& box) {
  const char* op = "crop_box";
  Tensor x = detail::as_batch(image, op, "image");
  const int64_t h = x.size(2), w = x.size(3);
  MASKOFF_CHECK(box.y0 >= 0 && box.x0 >= 0 && box.y1 <= h && box.x1 <= w && box.y0 < box.y1 &&
                    box.x0 < box.x1,
                op << ": box " << box_str(box) << " is empty or not inside the image "
                   << shape_str(image.shape()));
  return slice(slice(image, -2, box.y0, box.y1), -1, box.x0, box.x1);
}

namespace detail {

Tensor as_batch(const Tensor& image, const char* op, const char* arg) {
  MASKOFF_CHECK(image.defined(), op << ": image " << arg << " is undefined");
  const Shape& s = image.shape();
  MASKOFF_CHECK(
      (s.size() == 4 && s[1] == 3) || (s.size() == 3 && s[0] == 3),
      op << ": image " << arg << " " << shape_str(s) << " must be [N, 3, H, W] or [3, H, W] (RGB)");
  MASKOFF_CHECK(image.dtype() == DType::F32 || image.dtype() == DType::F64,
                op << ": image " << arg << " must be float32 or float64, got " << image.str());
  return s.size() == 4 ? image : image.view_as_shape({1, s[0], s[1], s[2]});
}

void check_unit_range(const std::vector<double>& v, const Tensor& image, const char* op,
                      const char* arg) {
  double lo = 0, hi = 1;
  bool finite = true;
  for (double x : v) {
    finite = finite && std::isfinite(x);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  MASKOFF_CHECK(finite, op << ": image " << arg << " " << shape_str(image.shape())
                           << " holds NaN or infinite values");
  MASKOFF_CHECK(lo >= 0 && hi <= 1,
                op << ": image " << arg << " " << shape_str(image.shape())
                   << " has values outside [0, 1] (min " << lo << ", max " << hi
                   << "); metrics take [0, 1] images: map network outputs in [-1, 1] with "
                      "from_network_range");
}

ImagePair image_pair(const Tensor& a, const Tensor& b, const char* op) {
  MASKOFF_CHECK(a.defined() && b.defined(), op << ": undefined image");
  MASKOFF_CHECK(a.shape() == b.shape(), op << ": the images differ in shape: a "
                                           << shape_str(a.shape()) << " vs b "
                                           << shape_str(b.shape()));
  Tensor ba = as_batch(a, op, "a");
  as_batch(b, op, "b");
  ImagePair p;
  p.n = ba.size(0);
  p.c = ba.size(1);
  p.h = ba.size(2);
  p.w = ba.size(3);
  MASKOFF_CHECK(p.n > 0 && p.h > 0 && p.w > 0, op << ": empty images " << shape_str(a.shape()));
  p.a = a.to_vector<double>();
  p.b = b.to_vector<double>();
  check_unit_range(p.a, a, op, "a");
  check_unit_range(p.b, b, op, "b");
  return p;
}

std::vector<double> mask_values(const Tensor& mask, int64_t h, int64_t w, const char* op) {
  MASKOFF_CHECK(mask.defined(), op << ": undefined mask");
  const Shape& s = mask.shape();
  MASKOFF_CHECK(s.size() == 2 || (s.size() == 3 && s[0] == 1),
                op << ": mask " << shape_str(s) << " must be [H, W] or [1, H, W]");
  MASKOFF_CHECK(h < 0 || (s[s.size() - 2] == h && s[s.size() - 1] == w),
                op << ": mask " << shape_str(s) << " does not match the images' " << h << " x " << w
                   << " pixels");
  std::vector<double> m = mask.to_vector<double>();
  for (size_t i = 0; i < m.size(); ++i)
    MASKOFF_CHECK(m[i] == 0 || m[i] == 1, op << ": mask " << shape_str(s) << " holds " << m[i]
                                             << " at element " << i
                                             << "; masks must be 0 or 1 (threshold it first)");
  return m;
}

}  // namespace detail
}  // namespace maskoff::metrics
