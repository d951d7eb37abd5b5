// Image IO with stb_image / stb_image_write (the one translation unit that holds their
// implementations), plus resizing and tensor conversion.
#include "data/image.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

// Third-party code: its warnings are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#pragma GCC diagnostic pop
#include <zlib.h>

namespace {
// stb_image_write's own deflate is slow and weak (12 ms and 137 KB for a 256x256 face);
// zlib at level 1 behind stb's per-row filter choice takes half the time and writes 25%
// smaller files. The buffer must come from malloc: stb frees it with free().
unsigned char* zlib_compress(unsigned char* data, int len, int* out_len) {
  uLongf n = compressBound(static_cast<uLong>(len));
  auto* out = static_cast<unsigned char*>(std::malloc(n));
  if (!out) return nullptr;
  if (compress2(out, &n, data, static_cast<uLong>(len), 1) != Z_OK) {
    std::free(out);
    return nullptr;
  }
  *out_len = static_cast<int>(n);
  return out;
}
}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STBIW_ZLIB_COMPRESS(data, len, out_len, quality) zlib_compress(data, len, out_len)
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "data/atomic_file.h"
#include "tensor/error.h"

namespace fs = std::filesystem;

namespace maskoff::data {

Image::Image(int w, int h, int c, uint8_t fill) : width(w), height(h), channels(c) {
  MASKOFF_CHECK(w >= 0 && h >= 0 && c >= 1 && c <= 4,
                "Image: bad size " << w << "x" << h << "x" << c << " (channels must be 1..4)");
  pixels.assign(static_cast<size_t>(w) * h * c, fill);
}

namespace {

std::vector<uint8_t> read_file_bytes(const std::string& path, const char* op) {
  std::error_code ec;
  MASKOFF_CHECK(fs::exists(path, ec), op << ": cannot read '" << path << "': file does not exist");
  MASKOFF_CHECK(!fs::is_directory(path, ec), op << ": cannot read '" << path << "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  MASKOFF_CHECK(in, op << ": cannot open '" << path << "': " << std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  MASKOFF_CHECK(!in.bad(), op << ": error while reading '" << path << "'");
  MASKOFF_CHECK(!bytes.empty(), op << ": cannot decode '" << path << "': the file is empty (0 bytes)");
  return bytes;
}

bool starts_with(const std::vector<uint8_t>& b, std::initializer_list<uint8_t> sig) {
  if (b.size() < sig.size()) return false;
  return std::equal(sig.begin(), sig.end(), b.begin());
}

// stb decodes a cut-off JPEG without complaint (it pads the entropy stream with zeros), so
// walk the marker segments ourselves and require the end-of-image marker. Segment lengths
// are followed rather than searching for FF D9, because an EXIF thumbnail near the start
// carries its own FF D9.
bool jpeg_is_complete(const std::vector<uint8_t>& d) {
  const size_t n = d.size();
  size_t i = 2;  // after SOI
  while (i + 1 < n) {
    if (d[i] != 0xFF) return true;  // malformed rather than truncated: stb reports it
    uint8_t m = d[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    i += 2;
    if (m == 0xD9) return true;
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // markers without a length
    if (i + 2 > n) return false;
    size_t len = (static_cast<size_t>(d[i]) << 8) | d[i + 1];
    if (len < 2) return true;
    i += len;
    if (m == 0xDA) {
      // Entropy-coded data runs to the next marker; FF 00 is a stuffed byte, FF D0..D7 restarts.
      while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0x00 && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7) &&
                            d[i + 1] != 0xFF)) {
        ++i;
      }
    }
  }
  return false;
}

// A PNG ends with an IEND chunk; walk the chunk lengths to find it.
bool png_is_complete(const std::vector<uint8_t>& d) {
  size_t i = 8;
  while (i + 8 <= d.size()) {
    size_t len = (static_cast<size_t>(d[i]) << 24) | (static_cast<size_t>(d[i + 1]) << 16) |
                 (static_cast<size_t>(d[i + 2]) << 8) | d[i + 3];
    if (std::memcmp(&d[i + 4], "IEND", 4) == 0) return true;
    i += 12 + len;
  }
  return false;
}

// Decodes to the file's own channel count (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) in 8 bits.
struct Decoded {
  int w = 0, h = 0, c = 0;
  std::vector<uint8_t> px;
};

Decoded decode(const std::string& path, const char* op) {
  std::vector<uint8_t> bytes = read_file_bytes(path, op);
  if (starts_with(bytes, {0xFF, 0xD8, 0xFF})) {
    MASKOFF_CHECK(jpeg_is_complete(bytes), op << ": cannot decode '" << path
                                              << "': truncated JPEG (no end-of-image marker)");
  } else if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
    MASKOFF_CHECK(png_is_complete(bytes), op << ": cannot decode '" << path << "': truncated PNG (no IEND chunk)");
  }
  const auto* buf = bytes.data();
  const int len = static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX));
  Decoded out;
  if (stbi_is_16_bit_from_memory(buf, len)) {
    stbi_us* p = stbi_load_16_from_memory(buf, len, &out.w, &out.h, &out.c, 0);
    MASKOFF_CHECK(p != nullptr, op << ": cannot decode '" << path << "': " << stbi_failure_reason());
    const size_t n = static_cast<size_t>(out.w) * out.h * out.c;
    out.px.resize(n);
    // Round to nearest rather than keep the high byte: 65535 -> 255 and 32896 -> 128.
    for (size_t i = 0; i < n; ++i) out.px[i] = static_cast<uint8_t>((p[i] * 255u + 32767u) / 65535u);
    stbi_image_free(p);
  } else {
    stbi_uc* p = stbi_load_from_memory(buf, len, &out.w, &out.h, &out.c, 0);
    MASKOFF_CHECK(p != nullptr, op << ": cannot decode '" << path << "': " << stbi_failure_reason());
    out.px.assign(p, p + static_cast<size_t>(out.w) * out.h * out.c);
    stbi_image_free(p);
  }
  MASKOFF_CHECK(out.w > 0 && out.h > 0, op << ": cannot decode '" << path << "': zero-sized image");
  return out;
}

inline uint8_t over_white(int v, int a) { return static_cast<uint8_t>((v * a + 255 * (255 - a) + 127) / 255); }

// Any of 1..4 channels (2 = grey + alpha) to RGB or RGBA.
Image convert(int w, int h, int c, const uint8_t* src, bool keep_alpha) {
  Image out(w, h, keep_alpha ? 4 : 3);
  const size_t n = static_cast<size_t>(w) * h;
  uint8_t* d = out.pixels.data();
  for (size_t i = 0; i < n; ++i, src += c) {
    int r, g, b, a = 255;
    if (c <= 2) {
      r = g = b = src[0];
      if (c == 2) a = src[1];
    } else {
      r = src[0], g = src[1], b = src[2];
      if (c == 4) a = src[3];
    }
    if (keep_alpha) {
      d[0] = r, d[1] = g, d[2] = b, d[3] = a;
      d += 4;
    } else {
      d[0] = over_white(r, a), d[1] = over_white(g, a), d[2] = over_white(b, a);
      d += 3;
    }
  }
  return out;
}

}  // namespace

Image read_image(const std::string& path) {
  Decoded d = decode(path, "read_image");
  if (d.c == 3) {
    Image out(d.w, d.h, 3);
    out.pixels = std::move(d.px);
    return out;
  }
  return convert(d.w, d.h, d.c, d.px.data(), false);
}

Image read_image_rgba(const std::string& path) {
  Decoded d = decode(path, "read_image_rgba");
  return convert(d.w, d.h, d.c, d.px.data(), true);
}

Image to_rgb(const Image& img) {
  if (img.channels == 3) return img;
  return convert(img.width, img.height, img.channels, img.pixels.data(), false);
}

Image to_rgba(const Image& img) {
  if (img.channels == 4) return img;
  return convert(img.width, img.height, img.channels, img.pixels.data(), true);
}

void write_png(const std::string& path, const Image& img) {
  MASKOFF_CHECK(!img.empty(), "write_png: refusing to write an empty image to '" << path << "'");
  MASKOFF_CHECK(img.pixels.size() == static_cast<size_t>(img.width) * img.height * img.channels,
                "write_png: '" << path << "': pixel buffer holds " << img.pixels.size() << " bytes, expected "
                               << img.width << "x" << img.height << "x" << img.channels);
  // Encoding to memory first lets write_file_atomic check every byte that reaches the disk:
  // stbi_write_png ignores fwrite/fclose failures and would report a truncated file as written.
  int len = 0;
  unsigned char* png = stbi_write_png_to_mem(img.pixels.data(), img.width * img.channels, img.width, img.height,
                                             img.channels, &len);
  MASKOFF_CHECK(png != nullptr && len > 0, "write_png: cannot encode '" << path << "' (out of memory)");
  try {
    write_file_atomic(path, png, static_cast<size_t>(len));
  } catch (...) {
    STBIW_FREE(png);
    throw;
  }
  STBIW_FREE(png);
}

namespace {

// For each output index, the contributing input indices and normalised weights.
struct Taps {
  int width = 0;  // taps per output sample
  std::vector<int> first;
  std::vector<float> w;  // out * width, zero-padded
};

Taps make_taps(int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double support = std::max(1.0, scale);  // tent radius in input pixels
  Taps t;
  t.width = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out);
  t.w.assign(static_cast<size_t>(out) * t.width, 0.f);
  std::vector<double> acc(t.width);
  for (int o = 0; o < out; ++o) {
    const double centre = (o + 0.5) * scale - 0.5;
    const int lo = static_cast<int>(std::floor(centre - support)) + 1;
    std::fill(acc.begin(), acc.end(), 0.0);
    double sum = 0;
    // Taps outside the image fold onto the edge pixel (clamp), so the first stored index
    // may differ from `lo`; gather into a window starting at the clamped first index.
    const int first = std::clamp(lo, 0, std::max(0, in - t.width));
    for (int k = 0; k < t.width; ++k) {
      const int i = lo + k;
      const double wt = std::max(0.0, 1.0 - std::abs(i - centre) / support);
      if (wt <= 0) continue;
      const int ic = std::clamp(i, 0, in - 1);
      acc[ic - first] += wt;
      sum += wt;
    }
    t.first[o] = first;
    for (int k = 0; k < t.width; ++k) t.w[static_cast<size_t>(o) * t.width + k] = static_cast<float>(acc[k] / sum);
  }
  return t;
}

}  // namespace

Image resize_bilinear(const Image& img, int w, int h) {
  MASKOFF_CHECK(!img.empty(), "resize_bilinear: empty input image");
  MASKOFF_CHECK(w > 0 && h > 0, "resize_bilinear: bad target size " << w << "x" << h);
  if (w == img.width && h == img.height) return img;
  const int c = img.channels;
  const Taps tx = make_taps(img.width, w), ty = make_taps(img.height, h);
  // A window may reach past the image when it is narrower than the tap count: clamp reads.
  const int iw = img.width, ih = img.height;
  std::vector<float> mid(static_cast<size_t>(ih) * w * c);
  for (int y = 0; y < ih; ++y) {
    const uint8_t* src = img.row(y);
    float* dst = mid.data() + static_cast<size_t>(y) * w * c;
    for (int x = 0; x < w; ++x) {
      const float* wt = &tx.w[static_cast<size_t>(x) * tx.width];
      for (int ch = 0; ch < c; ++ch) {
        float s = 0;
        for (int k = 0; k < tx.width; ++k) {
          if (wt[k] == 0.f) continue;
          s += wt[k] * src[std::min(tx.first[x] + k, iw - 1) * c + ch];
        }
        dst[x * c + ch] = s;
      }
    }
  }
  Image out(w, h, c);
  std::vector<float> acc(static_cast<size_t>(w) * c);
  for (int y = 0; y < h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.f);
    const float* wt = &ty.w[static_cast<size_t>(y) * ty.width];
    for (int k = 0; k < ty.width; ++k) {
      if (wt[k] == 0.f) continue;
      const float* src = mid.data() + static_cast<size_t>(std::min(ty.first[y] + k, ih - 1)) * w * c;
      for (size_t i = 0; i < acc.size(); ++i) acc[i] += wt[k] * src[i];
    }
    uint8_t* dst = out.row(y);
    for (size_t i = 0; i < acc.size(); ++i) dst[i] = static_cast<uint8_t>(std::clamp(std::lround(acc[i]), 0L, 255L));
  }
  return out;
}

Tensor image_to_tensor(const Image& img) {
  MASKOFF_CHECK(!img.empty(), "image_to_tensor: empty image");
  const int c = img.channels, h = img.height, w = img.width;
  Tensor t = empty({1, c, h, w}, DType::F32);
  float* p = t.data<float>();
  const size_t plane = static_cast<size_t>(h) * w;
  for (size_t i = 0; i < plane; ++i)
    for (int ch = 0; ch < c; ++ch) p[ch * plane + i] = img.pixels[i * c + ch] / 127.5f - 1.f;
  return t;
}

Image tensor_to_image(const Tensor& t) {
  MASKOFF_CHECK(t.defined(), "tensor_to_image: undefined tensor");
  const Shape& s = t.shape();
  const bool batched = s.size() == 4;
  MASKOFF_CHECK((batched && s[0] == 1) || s.size() == 3,
                "tensor_to_image: expected [1, C, H, W] or [C, H, W], got " << shape_str(s));
  const int64_t c = s[batched ? 1 : 0], h = s[batched ? 2 : 1], w = s[batched ? 3 : 2];
  MASKOFF_CHECK(c == 1 || c == 3 || c == 4, "tensor_to_image: channel count must be 1, 3 or 4, got shape " << shape_str(s));
  std::vector<double> v = t.detach().cpu().to_vector<double>();
  Image out(static_cast<int>(w), static_cast<int>(h), static_cast<int>(c));
  const size_t plane = static_cast<size_t>(h) * w;
  for (size_t i = 0; i < plane; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      double x = std::clamp((v[ch * plane + i] + 1.0) * 127.5, 0.0, 255.0);
      out.pixels[i * c + ch] = static_cast<uint8_t>(std::lround(x));
    }
  return out;
}

}  // namespace maskoff::data
