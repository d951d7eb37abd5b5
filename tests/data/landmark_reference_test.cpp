// The landmark network on real faces: the README's full-frame pipeline on FFHQ 00000..00004
// (JPEGs decoded here, hence a data test) against the landmarks in reference_outputs.tsv,
// which an independent implementation computed. Skips without the shared folder.
//
// JPEG decoders disagree by a few levels on some pixels, which moves the landmarks by up to
// ~0.15 px, so the exact comparison decodes with libjpeg (through dlib), the decoder the
// reference used; the pipeline's own reader (stb_image) is checked with a looser bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <dlib/image_io.h>

#include "data/image.h"
#include "data/paths.h"
#include "models/landmark_net.h"

namespace maskoff::models {
namespace {

// file name -> 136 values (x0, y0, ...) in pixels of the 256x256 image.
std::map<std::string, std::vector<double>> read_reference(const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("file", 0) == 0) continue;
    std::istringstream ss(line);
    std::string name;
    ss >> name;
    std::vector<double> v;
    for (double x; ss >> x;) v.push_back(x);
    out[name] = v;
  }
  return out;
}

// libjpeg's decode, as an RGB image.
data::Image read_jpeg_libjpeg(const std::string& path) {
  dlib::array2d<dlib::rgb_pixel> a;
  dlib::load_jpeg(a, path);
  data::Image img(static_cast<int>(a.nc()), static_cast<int>(a.nr()), 3);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      img.at(x, y, 0) = a[y][x].red;
      img.at(x, y, 1) = a[y][x].green;
      img.at(x, y, 2) = a[y][x].blue;
    }
  return img;
}

struct Errors {
  double max = 0, sum = 0;
  int count = 0;
  void add(double e) { max = std::max(max, e), sum += e, ++count; }
  double mean() const { return sum / count; }
};

TEST(LandmarkReference, FullFrameMatchesTheReferenceOutputs) {
  const std::string shared = data::shared_dir();
  const std::string weights = shared + "/weights/face_landmark_68";
  const std::string faces = shared + "/data/faces/ffhq256";
  if (shared.empty() || !std::filesystem::exists(weights + "/reference_outputs.tsv") ||
      !std::filesystem::exists(faces))
    GTEST_SKIP() << "no shared folder with weights/face_landmark_68 and data/faces/ffhq256 "
                    "(set MASKOFF_SHARED)";
  auto net = load_landmark_net(weights);
  const auto ref = read_reference(weights + "/reference_outputs.tsv");
  ASSERT_EQ(ref.size(), 5u);
  Errors libjpeg, stb;
  for (const auto& [name, want] : ref) {
    ASSERT_EQ(want.size(), 136u) << name;
    for (bool use_stb : {false, true}) {
      const std::string path = faces + "/" + name;
      const data::Image img = use_stb ? data::read_image(path) : read_jpeg_libjpeg(path);
      ASSERT_EQ(img.width, 256);
      ASSERT_EQ(img.height, 256);
      // image_to_tensor gives v / 127.5 - 1; landmarks_on_image maps it back to 0..255.
      const std::vector<double> got =
          landmarks_on_image(*net, data::image_to_tensor(img), LandmarkCrop{}).to_vector<double>();
      ASSERT_EQ(got.size(), 136u);
      for (size_t i = 0; i < 136; ++i)
        (use_stb ? stb : libjpeg).add(std::fabs(got[i] * 256.0 - want[i]));
    }
  }
  std::printf(
      "landmark reference, %d coordinates: libjpeg max |error| %.3g px (mean %.3g); "
      "stb_image max %.3g px (mean %.3g)\n",
      libjpeg.count, libjpeg.max, libjpeg.mean(), stb.max, stb.mean());
  // The reference file rounds to 1e-4 px; two float32 implementations of the same arithmetic.
  EXPECT_LT(libjpeg.max, 1e-3);
  EXPECT_LT(stb.max, 0.5);
  EXPECT_LT(stb.mean(), 0.05);
}

}  // namespace
}  // namespace maskoff::models
