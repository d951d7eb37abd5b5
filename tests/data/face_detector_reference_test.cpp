// The golden test of the face detector: its detections on three of dlib's example photos
// (JPEGs decoded here, hence a data test) against reference_outputs.tsv in the weights
// folder, which an independent implementation computed and checked against the library the
// weights come from. Detections are matched by overlap, not by rank (two of the first
// photo's faces differ in score by 6e-5). Skips without the shared folder or dlib's photos.
//
// The README gives the MD5 of each decoded photo's BGR bytes. Where our decoder gives the
// same bytes the arithmetic is the same up to the order of float sums, and boxes must agree
// within 0.01 px, scores within 1e-5. Where it does not, the README's measured effect of
// +-1 pixel changes (scores 4e-3, boxes 0.3 px) is the bound, and the test says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "data/image.h"
#include "data/paths.h"
#include "models/face_detector.h"
#include "tensor/backend.h"

namespace maskoff::models {
namespace {

// ---- MD5 (RFC 1321), for the README's checksums of the decoded bytes ------------------------

std::string md5_hex(const std::vector<uint8_t>& data) {
  static const uint32_t k[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  static const int r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  std::vector<uint8_t> m = data;
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  m.push_back(0x80);
  while (m.size() % 64 != 56) m.push_back(0);
  for (int i = 0; i < 8; ++i) m.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  auto rotl = [](uint32_t x, int c) { return (x << c) | (x >> (32 - c)); };
  for (size_t off = 0; off < m.size(); off += 64) {
    uint32_t w[16];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(m[off + 4 * i]) | uint32_t(m[off + 4 * i + 1]) << 8 |
             uint32_t(m[off + 4 * i + 2]) << 16 | uint32_t(m[off + 4 * i + 3]) << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; ++i) {
      uint32_t f;
      int g;
      if (i < 16) {
        f = (b & c) | (~b & d), g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = b ^ c ^ d, g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d), g = (7 * i) % 16;
      }
      const uint32_t t = d;
      d = c;
      c = b;
      b = b + rotl(a + f + k[i] + w[g], r[i]);
      a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
  }
  char out[33];
  for (int i = 0; i < 16; ++i)
    std::snprintf(out + 2 * i, 3, "%02x", (h[i / 4] >> (8 * (i % 4))) & 0xff);
  return out;
}

TEST(FaceDetectorReference, Md5OfKnownStrings) {
  EXPECT_EQ(md5_hex({}), "d41d8cd98f00b204e9800998ecf8427e");
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(md5_hex(std::vector<uint8_t>(fox.begin(), fox.end())),
            "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(md5_hex(std::vector<uint8_t>(1000, 'a')), "cabe45dcc9ae5b66ba86600cca6b8ba8");
}

// ---- the reference ---------------------------------------------------------------------------

struct RefRow {
  float score, box[4], landmarks[10];
  int lib_score100, lib_box[4];
};

// image -> its rows, in output order.
std::map<std::string, std::vector<RefRow>> read_reference(const std::string& path) {
  std::map<std::string, std::vector<RefRow>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("image", 0) == 0) continue;
    std::istringstream ss(line);
    std::string image;
    int width, height, rank;
    RefRow r;
    ss >> image >> width >> height >> rank >> r.score;
    for (float& v : r.box) ss >> v;
    for (float& v : r.landmarks) ss >> v;
    ss >> r.lib_score100;
    for (int& v : r.lib_box) ss >> v;
    EXPECT_TRUE(ss) << "malformed row in " << path << ": " << line;
    out[image].push_back(r);
  }
  return out;
}

// The README's table: what Pillow's libjpeg-turbo decode gives, as BGR bytes.
struct Decoded {
  const char* image;
  int width, height;
  const char* md5;
  int64_t pixel_sum;
  size_t cells_above_threshold;
};
const Decoded kDecoded[] = {
    {"faces/2008_002470.jpg", 500, 332, "4abdf2646378f1f156ec04e14b2446b9", 30962482, 60},
    {"faces/2008_001322.jpg", 500, 375, "4aecd2491487b552f0c7ec133397235d", 57943826, 30},
    {"faces/2009_004587.jpg", 400, 500, "f109a259e7dcb721a9bf4ef87f4d3ce1", 64888962, 19},
};

struct Worst {
  double box = 0, landmark = 0, score = 0;
};

void check_device(FaceDetector& det, const std::map<std::string, std::vector<RefRow>>& ref,
                  Worst& worst_exact, Worst& worst_other, int& exact_images) {
  for (const Decoded& dec : kDecoded) {
    SCOPED_TRACE(std::string(dec.image) + " on " + det.device().str());
    const auto it = ref.find(dec.image);
    ASSERT_NE(it, ref.end());
    const data::Image img = data::read_image(data::dlib_examples_dir() + "/" + dec.image);
    ASSERT_EQ(img.width, dec.width);
    ASSERT_EQ(img.height, dec.height);
    std::vector<uint8_t> bgr(img.pixels.size());
    int64_t sum = 0;
    for (size_t i = 0; i < bgr.size(); i += 3) {
      for (int c = 0; c < 3; ++c) bgr[i + c] = img.pixels[i + 2 - c];
      sum += img.pixels[i] + img.pixels[i + 1] + img.pixels[i + 2];
    }
    const bool exact = md5_hex(bgr) == dec.md5;
    std::printf("%s: BGR bytes MD5 %s the README's (%s), pixel sum %lld (README %lld)\n", dec.image,
                exact ? "matches" : "DIFFERS FROM", dec.md5, static_cast<long long>(sum),
                static_cast<long long>(dec.pixel_sum));
    if (exact) ++exact_images;
    Worst& worst = exact ? worst_exact : worst_other;
    const double box_tol = exact ? 0.01 : 0.3, score_tol = exact ? 1e-5 : 4e-3;

    // Every cell's score, before NMS: the README counts those at 0.2 or more.
    {
      autograd::NoGradGuard no_grad;
      Tensor x = face_detector_input(img.pixels.data(), img.width, img.height);
      const Tensor raw = det.net().forward(x.to(det.device())).cpu();
      const auto cells = decode_face_cells(raw.data<float>(), x.size(2), x.size(3));
      if (exact) {
        EXPECT_EQ(cells.size(), dec.cells_above_threshold);
      }
    }
    const std::vector<FaceDetection> got = det.run(img.pixels.data(), img.width, img.height);
    ASSERT_EQ(got.size(), it->second.size());
    std::vector<bool> used(got.size(), false);
    for (const RefRow& r : it->second) {
      FaceDetection want;
      want.x1 = r.box[0], want.y1 = r.box[1], want.x2 = r.box[2], want.y2 = r.box[3];
      size_t best = 0;
      float best_iou = -1;
      for (size_t i = 0; i < got.size(); ++i)
        if (box_iou(got[i], want) > best_iou) best_iou = box_iou(got[i], want), best = i;
      ASSERT_GT(best_iou, 0.9f) << "no detection matches the reference box at " << r.box[0] << ", "
                                << r.box[1];
      EXPECT_FALSE(used[best]) << "two reference boxes match detection " << best;
      used[best] = true;
      const FaceDetection& d = got[best];
      const float gb[4] = {d.x1, d.y1, d.x2, d.y2};
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(gb[k], r.box[k], box_tol) << "box coordinate " << k;
        worst.box = std::max(worst.box, double(std::fabs(gb[k] - r.box[k])));
      }
      for (int k = 0; k < 10; ++k) {
        EXPECT_NEAR(d.landmarks[k], r.landmarks[k], box_tol) << "landmark coordinate " << k;
        worst.landmark =
            std::max(worst.landmark, double(std::fabs(d.landmarks[k] - r.landmarks[k])));
      }
      EXPECT_NEAR(d.score, r.score, score_tol);
      worst.score = std::max(worst.score, double(std::fabs(d.score - r.score)));
      if (exact) {
        // The library's C API truncates toward zero; none of these lies near a whole number.
        EXPECT_EQ(static_cast<int>(d.score * 100), r.lib_score100);
        const int lib[4] = {static_cast<int>(d.x1), static_cast<int>(d.y1),
                            static_cast<int>(d.x2 - d.x1), static_cast<int>(d.y2 - d.y1)};
        for (int k = 0; k < 4; ++k) EXPECT_EQ(lib[k], r.lib_box[k]) << "lib_* column " << k;
      }
    }
  }
}

TEST(FaceDetectorReference, DetectionsMatchTheReferenceOutputs) {
  const std::string shared = data::shared_dir();
  const std::string weights = shared + "/weights/face_detector_yunet";
  if (shared.empty() || !std::filesystem::exists(weights + "/reference_outputs.tsv"))
    GTEST_SKIP() << "no shared folder with weights/face_detector_yunet (set MASKOFF_SHARED)";
  if (!std::filesystem::exists(data::dlib_examples_dir() + "/faces/2008_002470.jpg"))
    GTEST_SKIP() << "dlib's example photos are not in " << data::dlib_examples_dir()
                 << " (Debian package libdlib-dev)";
  const auto ref = read_reference(weights + "/reference_outputs.tsv");
  ASSERT_EQ(ref.size(), 3u);
  std::vector<Device> devices = {Device::cpu()};
  if (backend::cuda_available()) devices.push_back(Device::cuda());
  for (Device device : devices) {
    FaceDetector det(weights, device);
    Worst exact, other;
    int exact_images = 0;
    check_device(det, ref, exact, other, exact_images);
    std::printf(
        "face detector on %s: %d of 3 photos decode to the README's bytes; there the "
        "largest differences are %.2g px (boxes), %.2g px (landmarks), %.2g (scores)",
        device.str().c_str(), exact_images, exact.box, exact.landmark, exact.score);
    if (exact_images < 3)
      std::printf("; on the others %.2g px, %.2g px, %.2g", other.box, other.landmark, other.score);
    std::printf("\n");
  }
}

}  // namespace
}  // namespace maskoff::models
