// Image IO: PNG round trips, channel and bit-depth conversion, clear errors for bad files,
// resizing, and tensor conversion.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "data/atomic_file.h"
#include "data/image.h"
#include "tests/data/temp_dir.h"

namespace maskoff::data::testing {
namespace {

const std::string kJpeg = kDlibExamples + "/faces/2008_002470.jpg";

Image pattern(int w, int h, int c) {
  Image img(w, h, c);
  for (size_t i = 0; i < img.pixels.size(); ++i)
    img.pixels[i] = static_cast<uint8_t>((i * 37 + i / 7) & 255);
  return img;
}

// Expects fn to throw maskoff::Error whose message names `path` and contains `reason`.
template <class F>
void expect_error(F&& fn, const std::string& path, const std::string& reason) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << path;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << "expected '" << reason << "' in: " << msg;
  }
}

// ---- a minimal PNG encoder for inputs stb_image_write cannot produce (16-bit samples) ----
uint32_t crc32(const uint8_t* p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  put32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> td(type, type + 4);
  td.insert(td.end(), data.begin(), data.end());
  png.insert(png.end(), td.begin(), td.end());
  put32(png, crc32(td.data(), td.size()));
}

// colour_type 0 = grey, 2 = RGB; samples row-major, interleaved; zlib "stored" blocks.
std::vector<uint8_t> png16(int w, int h, int colour_type, const std::vector<uint16_t>& samples) {
  const int c = colour_type == 2 ? 3 : 1;
  std::vector<uint8_t> raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);  // filter: none
    for (int i = 0; i < w * c; ++i) {
      uint16_t s = samples[static_cast<size_t>(y) * w * c + i];
      raw.push_back(static_cast<uint8_t>(s >> 8));
      raw.push_back(static_cast<uint8_t>(s & 255));
    }
  }
  std::vector<uint8_t> z = {0x78, 0x01};
  for (size_t off = 0; off < raw.size(); off += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - off);
    z.push_back(off + n == raw.size() ? 1 : 0);
    z.push_back(n & 255), z.push_back(n >> 8), z.push_back(~n & 255), z.push_back((~n >> 8) & 255);
    z.insert(z.end(), raw.begin() + off, raw.begin() + off + n);
  }
  uint32_t a = 1, b = 0;
  for (uint8_t x : raw) a = (a + x) % 65521, b = (b + a) % 65521;
  put32(z, (b << 16) | a);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  std::vector<uint8_t> ihdr;
  put32(ihdr, w), put32(ihdr, h);
  ihdr.insert(ihdr.end(), {16, static_cast<uint8_t>(colour_type), 0, 0, 0});
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

// ---- round trips and conversions ----------------------------------------------------

TEST(ImageIO, PngRoundTripKeepsEveryChannelCount) {
  TempDir dir;
  for (int c : {1, 3, 4}) {
    Image img = pattern(13, 7, c);
    const std::string path = dir / ("rt" + std::to_string(c) + ".png");
    write_png(path, img);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    Image back = read_image_rgba(path);
    ASSERT_EQ(back.width, 13);
    ASSERT_EQ(back.height, 7);
    ASSERT_EQ(back.channels, 4);
    Image expect = to_rgba(img);
    EXPECT_EQ(back.pixels, expect.pixels) << "channels " << c;
  }
  Image rgb = pattern(5, 9, 3);
  write_png(dir / "rgb.png", rgb);
  Image back = read_image(dir / "rgb.png");
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, rgb.pixels);
}

TEST(ImageIO, GreyIsExpandedToRgb) {
  TempDir dir;
  Image g(3, 2, 1);
  g.pixels = {0, 10, 20, 128, 254, 255};
  write_png(dir / "g.png", g);
  Image rgb = read_image(dir / "g.png");
  ASSERT_EQ(rgb.channels, 3);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(rgb.pixels[i * 3 + c], g.pixels[i]);
}

TEST(ImageIO, AlphaIsCompositedOnWhite) {
  TempDir dir;
  Image rgba(4, 1, 4);
  // opaque red, transparent red, half-transparent black, half-transparent blue
  rgba.pixels = {255, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 128, 0, 0, 200, 128};
  write_png(dir / "a.png", rgba);
  Image rgb = read_image(dir / "a.png");
  ASSERT_EQ(rgb.channels, 3);
  // v * a / 255 + 255 * (1 - a / 255), rounded: black at a = 128 gives 127, 200 gives 227.
  std::vector<uint8_t> expect = {255, 0, 0, 255, 255, 255, 127, 127, 127, 127, 127, 227};
  EXPECT_EQ(rgb.pixels, expect);
  EXPECT_EQ(read_image_rgba(dir / "a.png").pixels, rgba.pixels);
}

TEST(ImageIO, GreyWithAlphaIsCompositedOnWhite) {
  TempDir dir;
  Image ga(2, 1, 2);
  ga.pixels = {0, 0, 100, 255};  // transparent black, opaque grey 100
  write_png(dir / "ga.png", ga);
  Image rgb = read_image(dir / "ga.png");
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{255, 255, 255, 100, 100, 100}));
  Image rgba = read_image_rgba(dir / "ga.png");
  EXPECT_EQ(rgba.pixels, (std::vector<uint8_t>{0, 0, 0, 0, 100, 100, 100, 255}));
}

TEST(ImageIO, SixteenBitSamplesAreRounded) {
  TempDir dir;
  // 257 * k is exactly k in 8 bits; 32896 -> 128; 25830 = 100.51 * 257 -> 101 by rounding,
  // where keeping the high byte would give 100.
  std::vector<uint16_t> grey = {0, 65535, 257 * 77, 32896, 25830, 128};
  write_bytes(dir / "g16.png", png16(3, 2, 0, grey));
  Image g = read_image(dir / "g16.png");
  ASSERT_EQ(g.width, 3);
  ASSERT_EQ(g.height, 2);
  std::vector<uint8_t> want = {0, 255, 77, 128, 101, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(g.pixels[i * 3 + 1], want[i]) << "sample " << i;

  std::vector<uint16_t> rgb = {65535, 0, 257 * 200, 257 * 3, 32896, 65535};
  write_bytes(dir / "rgb16.png", png16(2, 1, 2, rgb));
  Image c = read_image(dir / "rgb16.png");
  EXPECT_EQ(c.pixels, (std::vector<uint8_t>{255, 0, 200, 3, 128, 255}));
}

TEST(ImageIO, ReadsJpeg) {
  Image img = read_image(kJpeg);
  EXPECT_EQ(img.width, 500);
  EXPECT_EQ(img.height, 332);
  EXPECT_EQ(img.channels, 3);
  double mean = 0;
  for (uint8_t v : img.pixels) mean += v;
  mean /= img.pixels.size();
  EXPECT_GT(mean, 30);  // a real photo, not a blank buffer
  EXPECT_LT(mean, 230);
}

TEST(ImageIO, TinyImage) {
  TempDir dir;
  Image one(1, 1, 3);
  one.pixels = {1, 2, 3};
  write_png(dir / "one.png", one);
  EXPECT_EQ(read_image(dir / "one.png").pixels, one.pixels);
}

// ---- errors name the file and the reason -------------------------------------------

TEST(ImageIO, MissingFileIsAnError) {
  TempDir dir;
  const std::string p = dir / "nope.png";
  expect_error([&] { read_image(p); }, p, "does not exist");
}

TEST(ImageIO, EmptyFileIsAnError) {
  TempDir dir;
  const std::string p = dir / "empty.jpg";
  write_bytes(p, {});
  expect_error([&] { read_image(p); }, p, "empty");
}

TEST(ImageIO, DirectoryIsAnError) {
  TempDir dir;
  expect_error([&] { read_image(dir.str()); }, dir.str(), "directory");
}

// The first half of the image file `full`, saved as `half`: reading it is an error naming
// `half` and the problem.
void expect_first_half_is_an_error(const std::string& full, const std::string& half,
                                   const char* problem) {
  std::vector<uint8_t> bytes = read_bytes(full);
  ASSERT_GT(bytes.size(), 100u);  // headers and some image data
  bytes.resize(bytes.size() / 2);
  write_bytes(half, bytes);
  expect_error([&] { read_image(half); }, half, problem);
}

TEST(ImageIO, TruncatedJpegIsAnError) {
  TempDir dir;
  expect_first_half_is_an_error(kJpeg, dir / "half.jpg", "truncated JPEG");
}

TEST(ImageIO, TruncatedPngIsAnError) {
  TempDir dir;
  write_png(dir / "full.png", pattern(64, 64, 3));
  expect_first_half_is_an_error(dir / "full.png", dir / "half.png", "truncated PNG");
}

TEST(ImageIO, TextFileIsAnError) {
  TempDir dir;
  const std::string p = dir / "notes.jpg";
  const std::string text = "this is not an image\n";
  write_bytes(p, std::vector<uint8_t>(text.begin(), text.end()));
  expect_error([&] { read_image(p); }, p, "cannot decode");
}

TEST(ImageIO, CorruptPngDataIsAnError) {
  TempDir dir;
  write_png(dir / "ok.png", pattern(32, 32, 3));
  std::vector<uint8_t> bytes = read_bytes(dir / "ok.png");
  // Scramble the compressed pixel data but keep the chunk layout (and IEND) intact.
  for (size_t i = 45; i < bytes.size() - 20; ++i) bytes[i] ^= 0x5A;
  const std::string p = dir / "scrambled.png";
  write_bytes(p, bytes);
  expect_error([&] { read_image(p); }, p, "cannot decode");
}

TEST(ImageIO, WriteIntoMissingFolderIsAnError) {
  TempDir dir;
  const std::string p = dir / "no/such/folder/x.png";
  expect_error([&] { write_png(p, pattern(2, 2, 3)); }, p, "cannot write");
}

// A full disk: PATH.tmp is a link to /dev/full, so opening succeeds and the bytes fail to
// land (ENOSPC). The error must name the file and the reason, nothing may appear at PATH and
// the temporary must be gone (works as root, unlike a read-only folder).
TEST(ImageIO, WriteOntoAFullDiskIsAnErrorAndLeavesNothing) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string p = dir / "full.png";
  std::filesystem::create_symlink("/dev/full", p + ".tmp");
  expect_error([&] { write_png(p, pattern(64, 64, 3)); }, p, std::strerror(ENOSPC));
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::is_symlink(p + ".tmp"));

  // The text writer (manifest, landmarks, summary) goes through the same checks.
  const std::string t = dir / "manifest.csv";
  std::filesystem::create_symlink("/dev/full", t + ".tmp");
  expect_error([&] { write_file_atomic(t, std::string(10000, 'x')); }, t, std::strerror(ENOSPC));
  EXPECT_FALSE(std::filesystem::exists(t));
  EXPECT_FALSE(std::filesystem::is_symlink(t + ".tmp"));
}

TEST(ImageIO, FailedWriteKeepsThePreviousFile) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string p = dir / "keep.png";
  write_png(p, pattern(8, 8, 3));
  const auto before = read_bytes(p);
  std::filesystem::create_symlink("/dev/full", p + ".tmp");
  EXPECT_THROW(write_png(p, pattern(64, 64, 3)), Error);
  EXPECT_EQ(read_bytes(p), before);
}

// ---- resizing ------------------------------------------------------------------------

TEST(ImageResize, ConstantStaysConstant) {
  Image img(37, 23, 3, 93);
  for (auto [w, h] : {std::pair{11, 5}, {80, 61}, {1, 1}, {37, 100}}) {
    Image r = resize_bilinear(img, w, h);
    ASSERT_EQ(r.width, w);
    ASSERT_EQ(r.height, h);
    for (uint8_t v : r.pixels) ASSERT_EQ(v, 93);
  }
}

TEST(ImageResize, TwoByTwoToOneAverages) {
  Image img(2, 2, 1);
  img.pixels = {0, 100, 200, 60};
  EXPECT_EQ(resize_bilinear(img, 1, 1).pixels[0], 90);
}

TEST(ImageResize, LargeShrinkAveragesInsteadOfAliasing) {
  // A one-pixel checkerboard shrunk 8x: point sampling would give pure black or white.
  Image img(256, 256, 1);
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x) img.at(x, y, 0) = ((x + y) & 1) ? 255 : 0;
  Image r = resize_bilinear(img, 32, 32);
  for (uint8_t v : r.pixels) {
    EXPECT_GE(v, 120);
    EXPECT_LE(v, 135);
  }
}

TEST(ImageResize, UpscaleInterpolatesLinearly) {
  Image img(2, 1, 1);
  img.pixels = {0, 200};
  Image r = resize_bilinear(img, 4, 1);
  // Output centres at input positions -0.25, 0.25, 0.75, 1.25 (clamped at the ends).
  EXPECT_EQ(r.pixels, (std::vector<uint8_t>{0, 50, 150, 200}));
}

TEST(ImageResize, BadSizeIsAnError) {
  EXPECT_THROW(resize_bilinear(Image(4, 4, 3), 0, 4), Error);
  EXPECT_THROW(resize_bilinear(Image(), 4, 4), Error);
}

// ---- tensors -------------------------------------------------------------------------

TEST(ImageTensor, LayoutAndRange) {
  Image img(3, 2, 3);
  img.at(0, 0, 0) = 0;
  img.at(2, 1, 2) = 255;
  img.at(1, 0, 1) = 51;
  Tensor t = image_to_tensor(img);
  EXPECT_EQ(t.shape(), (Shape{1, 3, 2, 3}));
  EXPECT_EQ(t.dtype(), DType::F32);
  std::vector<float> v = t.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], -1.f);                 // c0, y0, x0
  EXPECT_FLOAT_EQ(v[2 * 6 + 1 * 3 + 2], 1.f);  // c2, y1, x2
  EXPECT_FLOAT_EQ(v[1 * 6 + 0 * 3 + 1], 51 / 127.5f - 1);
}

TEST(ImageTensor, RoundTripAndUnbatchedInput) {
  Image img = pattern(7, 5, 3);
  EXPECT_EQ(tensor_to_image(image_to_tensor(img)).pixels, img.pixels);
  Tensor chw = image_to_tensor(img).view_as_shape({3, 5, 7});
  EXPECT_EQ(tensor_to_image(chw).pixels, img.pixels);
  Image g = pattern(4, 4, 1);
  EXPECT_EQ(tensor_to_image(image_to_tensor(g).to(DType::F64)).pixels, g.pixels);
}

TEST(ImageTensor, ClampsOutOfRange) {
  Tensor t = from_vector(std::vector<double>{-3, 2, 0}, {1, 1, 1, 3});
  EXPECT_EQ(tensor_to_image(t).pixels, (std::vector<uint8_t>{0, 255, 128}));
}

TEST(ImageTensor, BadShapeIsAnError) {
  EXPECT_THROW(tensor_to_image(zeros({2, 3, 4, 4})), Error);
  EXPECT_THROW(tensor_to_image(zeros({2, 4, 4})), Error);
  EXPECT_THROW(tensor_to_image(zeros({4, 4})), Error);
}

}  // namespace
}  // namespace maskoff::data::testing
