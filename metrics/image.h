// The image conventions every metric in metrics/ shares, and the mask geometry of the masked
// variants.
//
// Images are RGB float tensors [N, 3, H, W] (a batch; each metric returns one value per
// image) or [3, H, W] (one image), float32 or float64, on any device, with intensities in
// [0, 1]. The generator works in [-1, 1]: map its outputs with from_network_range first.
// Every metric checks the range, so an image left in [-1, 1] is an error, not a silently
// wrong number.
//
// Masks are 0/1 tensors [H, W] or [1, H, W] (1 = a pixel the face mask covers), shared by
// every image of a batch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace maskoff::metrics {

// [-1, 1] -> [0, 1]: (x + 1) / 2. Differentiable; shape, dtype and device unchanged.
Tensor from_network_range(const Tensor& x);

// A rectangle of pixels: rows [y0, y1), columns [x0, x1).
struct Box {
  int64_t y0 = 0, x0 = 0, y1 = 0, x1 = 0;
  int64_t height() const { return y1 - y0; }
  int64_t width() const { return x1 - x0; }
  bool operator==(const Box& o) const {
    return y0 == o.y0 && x0 == o.x0 && y1 == o.y1 && x1 == o.x1;
  }
};
std::string box_str(const Box& b);  // "rows [y0, y1) x columns [x0, x1)"

// The smallest box holding every pixel of the mask that is set. An empty mask, or a value
// other than 0 or 1, is an error.
Box mask_box(const Tensor& mask);

// The box's pixels of every image: [N, 3, h, w] or [3, h, w] like the input.
// Differentiable (a copy, not a view). The box must lie inside the image.
Tensor crop_box(const Tensor& image, const Box& box);

namespace detail {

// Images a and b as checked by every metric: equal shapes (a mismatch names both), rank 3
// or 4 with 3 channels, values in [0, 1]. Holds their values in double.
struct ImagePair {
  int64_t n = 0, c = 0, h = 0, w = 0;
  std::vector<double> a, b;
  int64_t plane() const { return h * w; }
  int64_t image_size() const { return c * h * w; }
};
ImagePair image_pair(const Tensor& a, const Tensor& b, const char* op);

// Checks shape and dtype of an image tensor and returns it as [N, 3, H, W] (a reshape of
// a [3, H, W] image). Does not look at the values.
Tensor as_batch(const Tensor& image, const char* op, const char* arg);
// The values in [0, 1] check alone, naming the op, the argument and the range found.
void check_unit_range(const std::vector<double>& v, const Tensor& image, const char* op,
                      const char* arg);

// The mask as H*W values 0 or 1 (row-major), checked against the image extent h x w.
std::vector<double> mask_values(const Tensor& mask, int64_t h, int64_t w, const char* op);

}  // namespace detail
}  // namespace maskoff::metrics
