// 8-bit images for the data pipeline: reading (stb_image), atomic PNG writing
// (stb_image_write), area-aware resizing, and conversion to and from [1, C, H, W] tensors.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace maskoff::data {

// Row-major, interleaved channels (1, 3 or 4).
struct Image {
  int width = 0, height = 0, channels = 3;
  std::vector<uint8_t> pixels;  // width * height * channels

  Image() = default;
  Image(int w, int h, int c, uint8_t fill = 0);
  uint8_t& at(int x, int y, int c) {
    return pixels[(static_cast<size_t>(y) * width + x) * channels + c];
  }
  uint8_t at(int x, int y, int c) const {
    return pixels[(static_cast<size_t>(y) * width + x) * channels + c];
  }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  const uint8_t* row(int y) const {
    return pixels.data() + static_cast<size_t>(y) * width * channels;
  }
  bool empty() const { return width == 0 || height == 0; }
};

// PNG or JPEG, always as 3-channel RGB: grey is expanded, alpha is composited on white,
// 16-bit samples are rounded to 8 bits. Throws maskoff::Error naming the file and the
// reason (missing, a directory, empty, truncated, corrupt, too large, not a PNG or JPEG).
Image read_image(const std::string& path);
// The same from bytes in memory (a PNG or JPEG file's contents); `name` is what
// the error messages call them.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);
// 4-channel RGBA (alpha 255 where the file has none): for mask templates and textures.
Image read_image_rgba(const std::string& path);

// Images whose header claims more pixels than this are refused before any decoding, so a
// few bytes cannot ask for gigabytes. 100 megapixels by default.
constexpr int64_t kDefaultMaxImagePixels = 100'000'000;
void set_max_image_pixels(int64_t pixels);
// Encodes in memory, then writes through write_file_atomic (data/atomic_file.h): a failed
// or short write throws naming the file and leaves PATH untouched and no PATH.tmp behind.
void write_png(const std::string& path, const Image& img);

// Separable triangle filter whose support widens with the shrink factor, so large
// reductions average every source pixel instead of skipping some (aliasing).
Image resize_bilinear(const Image& img, int w, int h);

// float32 [1, C, H, W] with values x / 127.5 - 1 in [-1, 1].
Tensor image_to_tensor(const Image& img);
// Inverse of image_to_tensor for [1, C, H, W] or [C, H, W] (C = 1, 3 or 4): clamped, rounded.
Image tensor_to_image(const Tensor& t);

// Channel conversions used by the readers and the tools.
Image to_rgb(const Image& img);  // 1 -> 3 (grey copied), 3 -> 3, 4 -> 3 (alpha composited on white)
Image to_rgba(const Image& img);  // 1 or 3 -> 4 (opaque), 4 -> 4

}  // namespace maskoff::data
