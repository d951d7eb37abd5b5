// Image IO: decoding with libjpeg-turbo and libpng, which see every untrusted byte (photos,
// datasets, templates) and are fuzzed for it far beyond what a small decoder is; encoding
// PNGs with stb_image_write (the one translation unit that holds its implementation) over
// zlib; plus resizing and tensor conversion.
#include "data/image.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

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
  MASKOFF_CHECK(!fs::is_directory(path, ec),
                op << ": cannot read '" << path << "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  MASKOFF_CHECK(in, op << ": cannot open '" << path << "': " << std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  MASKOFF_CHECK(!in.bad(), op << ": error while reading '" << path << "'");
  return bytes;
}

bool starts_with(const std::vector<uint8_t>& b, std::initializer_list<uint8_t> sig) {
  if (b.size() < sig.size()) return false;
  return std::equal(sig.begin(), sig.end(), b.begin());
}

// A cut-off JPEG decodes without complaint (the decoder pads the entropy stream with
// zeros), so walk the marker segments ourselves and require the end-of-image marker.
// Segment lengths are followed rather than searching for FF D9, because an EXIF thumbnail
// near the start carries its own FF D9.
bool jpeg_is_complete(const std::vector<uint8_t>& d, size_t after_soi) {
  const size_t n = d.size();
  size_t i = after_soi;
  while (i + 1 < n) {
    if (d[i] != 0xFF) return true;  // malformed rather than truncated: the decoder says so
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
      while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0x00 &&
                            !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7) && d[i + 1] != 0xFF)) {
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

int64_t g_max_pixels = kDefaultMaxImagePixels;

// The header's size, checked before the pixels are allocated: a few bytes can claim any size.
void check_size(int64_t w, int64_t h, const std::string& path, const char* op) {
  MASKOFF_CHECK(w > 0 && h > 0, op << ": cannot decode '" << path << "': zero-sized image");
  MASKOFF_CHECK(w * h <= g_max_pixels, op << ": cannot decode '" << path << "': its header says "
                                          << w << "x" << h << " pixels, over the limit of "
                                          << g_max_pixels << " (set_max_image_pixels)");
}

// 16-bit samples to 8, rounded to nearest rather than keeping the high byte: 65535 -> 255,
// 32896 -> 128.
uint8_t round16(unsigned v) { return static_cast<uint8_t>((v * 255u + 32767u) / 65535u); }

// ---- JPEG through libjpeg-turbo ------------------------------------------------------------
// libjpeg reports a fatal error through a callback that must not return, so it jumps back to
// the decoding function, which then throws. Between the setjmp and a jump only C code runs,
// and every C++ object the jump could skip is made before the setjmp.
struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};
void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}
// Warnings (extraneous bytes, a premature end the walk above already rules out) are not
// printed: the decoder recovers from them as every viewer does.
void jpeg_quiet(j_common_ptr, int) {}

struct JpegDecoder {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors{};
  JpegDecoder() {
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = jpeg_fail;
    errors.mgr.emit_message = jpeg_quiet;
    jpeg_create_decompress(&cinfo);
  }
  ~JpegDecoder() { jpeg_destroy_decompress(&cinfo); }
};

Decoded decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& path, const char* op) {
  Decoded out;
  JpegDecoder d;
  std::vector<JSAMPROW> rows;
  if (setjmp(d.errors.jump)) {
    MASKOFF_FAIL(op << ": cannot decode '" << path << "': corrupt JPEG (" << d.errors.message
                    << ")");
  }
  jpeg_mem_src(&d.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&d.cinfo, TRUE);
  check_size(d.cinfo.image_width, d.cinfo.image_height, path, op);
  const bool cmyk = d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK;
  d.cinfo.out_color_space = cmyk ? JCS_CMYK : d.cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&d.cinfo);
  out.w = static_cast<int>(d.cinfo.output_width);
  out.h = static_cast<int>(d.cinfo.output_height);
  const int c = d.cinfo.output_components;
  out.px.resize(static_cast<size_t>(out.w) * out.h * c);
  rows.resize(static_cast<size_t>(out.h));
  for (int y = 0; y < out.h; ++y) rows[y] = out.px.data() + static_cast<size_t>(y) * out.w * c;
  while (d.cinfo.output_scanline < d.cinfo.output_height)
    jpeg_read_scanlines(&d.cinfo, rows.data() + d.cinfo.output_scanline,
                        d.cinfo.output_height - d.cinfo.output_scanline);
  jpeg_finish_decompress(&d.cinfo);
  out.c = c;
  if (cmyk) {  // Adobe's inverted CMYK: each colour is C * K / 255, as print software does
    std::vector<uint8_t> rgb(static_cast<size_t>(out.w) * out.h * 3);
    for (size_t i = 0, n = rgb.size() / 3; i < n; ++i) {
      const unsigned k = out.px[4 * i + 3];
      for (int j = 0; j < 3; ++j)
        rgb[3 * i + j] = static_cast<uint8_t>((out.px[4 * i + j] * k + 127) / 255);
    }
    out.px = std::move(rgb);
    out.c = 3;
  }
  return out;
}

// ---- PNG through libpng -------------------------------------------------------------------
struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0, at = 0;
  char message[256] = "";
  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};
void png_fail(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}
void png_quiet(png_structp, png_const_charp) {}
void png_read_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->at) png_error(png, "unexpected end of data");
  std::memcpy(out, r->data + r->at, n);
  r->at += n;
}

Decoded decode_png(const std::vector<uint8_t>& bytes, const std::string& path, const char* op) {
  Decoded out;
  PngReader r;
  std::vector<png_bytep> rows;
  std::vector<uint8_t> raw;
  r.data = bytes.data();
  r.size = bytes.size();
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_fail, png_quiet);
  MASKOFF_CHECK(r.png != nullptr, op << ": cannot decode '" << path << "': out of memory");
  r.info = png_create_info_struct(r.png);
  MASKOFF_CHECK(r.info != nullptr, op << ": cannot decode '" << path << "': out of memory");
  if (setjmp(png_jmpbuf(r.png))) {
    MASKOFF_FAIL(op << ": cannot decode '" << path << "': corrupt PNG (" << r.message << ")");
  }
  png_set_read_fn(r.png, &r, png_read_memory);
  png_read_info(r.png, r.info);
  check_size(png_get_image_width(r.png, r.info), png_get_image_height(r.png, r.info), path, op);
  const int type = png_get_color_type(r.png, r.info);
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(r.png, r.info) < 8)
    png_set_expand_gray_1_2_4_to_8(r.png);
  if (png_get_valid(r.png, r.info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  out.w = static_cast<int>(png_get_image_width(r.png, r.info));
  out.h = static_cast<int>(png_get_image_height(r.png, r.info));
  out.c = png_get_channels(r.png, r.info);
  const bool wide = png_get_bit_depth(r.png, r.info) == 16;
  const size_t row_bytes = png_get_rowbytes(r.png, r.info);
  raw.resize(row_bytes * static_cast<size_t>(out.h));
  rows.resize(static_cast<size_t>(out.h));
  for (int y = 0; y < out.h; ++y) rows[y] = raw.data() + static_cast<size_t>(y) * row_bytes;
  png_read_image(r.png, rows.data());
  png_read_end(r.png, nullptr);
  if (!wide) {
    out.px = std::move(raw);
    return out;
  }
  out.px.resize(raw.size() / 2);
  for (size_t i = 0; i < out.px.size(); ++i)
    out.px[i] = round16((raw[2 * i] << 8) | raw[2 * i + 1]);
  return out;
}

Decoded decode(const std::vector<uint8_t>& bytes, const std::string& path, const char* op) {
  MASKOFF_CHECK(!bytes.empty(),
                op << ": cannot decode '" << path << "': the file is empty (0 bytes)");
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
    MASKOFF_CHECK(png_is_complete(bytes),
                  op << ": cannot decode '" << path << "': truncated PNG (no IEND chunk)");
    return decode_png(bytes, path, op);
  }
  if (starts_with(bytes, {0xFF, 0xD8, 0xFF})) {
    MASKOFF_CHECK(jpeg_is_complete(bytes, 2), op << ": cannot decode '" << path
                                                 << "': truncated JPEG (no end-of-image marker)");
    return decode_jpeg(bytes, path, op);
  }
  MASKOFF_FAIL(op << ": cannot decode '" << path << "': not a PNG or JPEG file");
}

inline uint8_t over_white(int v, int a) {
  return static_cast<uint8_t>((v * a + 255 * (255 - a) + 127) / 255);
}

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

Image rgb_of(Decoded d) {
  if (d.c != 3) return convert(d.w, d.h, d.c, d.px.data(), false);
  Image out(d.w, d.h, 3);
  out.pixels = std::move(d.px);
  return out;
}

}  // namespace

void set_max_image_pixels(int64_t pixels) {
  MASKOFF_CHECK(pixels > 0, "set_max_image_pixels: " << pixels << " is not positive");
  g_max_pixels = pixels;
}

Image read_image(const std::string& path) {
  return rgb_of(decode(read_file_bytes(path, "read_image"), path, "read_image"));
}

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  return rgb_of(decode(std::vector<uint8_t>(data, data + size), name, "decode_image"));
}

Image read_image_rgba(const std::string& path) {
  Decoded d = decode(read_file_bytes(path, "read_image_rgba"), path, "read_image_rgba");
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
                "write_png: '" << path << "': pixel buffer holds " << img.pixels.size()
                               << " bytes, expected " << img.width << "x" << img.height << "x"
                               << img.channels);
  // Encoding to memory first lets write_file_atomic check every byte that reaches the disk:
  // stbi_write_png ignores fwrite/fclose failures and would report a truncated file as written.
  int len = 0;
  unsigned char* png = stbi_write_png_to_mem(img.pixels.data(), img.width * img.channels, img.width,
                                             img.height, img.channels, &len);
  MASKOFF_CHECK(png != nullptr && len > 0,
                "write_png: cannot encode '" << path << "' (out of memory)");
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
    for (int k = 0; k < t.width; ++k)
      t.w[static_cast<size_t>(o) * t.width + k] = static_cast<float>(acc[k] / sum);
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
      const float* src =
          mid.data() + static_cast<size_t>(std::min(ty.first[y] + k, ih - 1)) * w * c;
      for (size_t i = 0; i < acc.size(); ++i) acc[i] += wt[k] * src[i];
    }
    uint8_t* dst = out.row(y);
    for (size_t i = 0; i < acc.size(); ++i)
      dst[i] = static_cast<uint8_t>(std::clamp(std::lround(acc[i]), 0L, 255L));
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
  MASKOFF_CHECK(c == 1 || c == 3 || c == 4,
                "tensor_to_image: channel count must be 1, 3 or 4, got shape " << shape_str(s));
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
