// The image reader (data::decode_image: libjpeg-turbo and libpng, and our own checks).
// An accepted image has a positive size within the pixel bound and exactly w * h * 3 bytes.
#include "data/image.h"
#include "fuzz/fuzz_target.h"

namespace {
// Low enough that the biggest accepted image (16-bit RGBA while decoding) stays far below
// libFuzzer's 2 GB memory limit; what matters is that the header's claim is checked.
constexpr int64_t kPixels = 4'000'000;
}  // namespace

void maskoff_fuzz_init() { maskoff::data::set_max_image_pixels(kPixels); }

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  const maskoff::data::Image img = maskoff::data::decode_image(data, size, "fuzz input");
  FUZZ_REQUIRE(img.width > 0 && img.height > 0 && img.channels == 3);
  FUZZ_REQUIRE(int64_t{img.width} * img.height <= kPixels);
  FUZZ_REQUIRE(img.pixels.size() == static_cast<size_t>(img.width) * img.height * 3);
}
