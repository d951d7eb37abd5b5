// make_masked_dataset's --detector cnn: the CNN face detector finds the faces of in-the-wild
// photos, its five points place dlib's box, and the rest of the pipeline is unchanged. On
// dlib's example photos it writes the same faces as the HOG detector (and, in dogs.jpg, the
// two dogs: why HOG stays the default). Needs the detector's weights from the shared folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/dataset_builder.h"
#include "data/paths.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;

namespace maskoff::data {
namespace {

using testing::kDlibExamples;
using testing::TempDir;

DatasetOptions options(const std::string& in, const std::string& out, const std::string& detector) {
  DatasetOptions o;
  o.inputs = {in};
  o.output = out;
  o.size = 64;
  o.seed = 3;
  o.threads = 2;
  o.contact_rows = 0;
  o.detector = detector;
  return o;
}

TEST(DatasetDetector, CnnWritesTheFacesHogWritesAndNoLess) {
  if (shared_dir().empty()) GTEST_SKIP() << "shared data folder not found (set MASKOFF_SHARED)";
  TempDir dir;
  const std::string in = dir / "in";
  fs::create_directories(in);
  // Two single-face portraits and a group photo with two faces large enough to keep.
  fs::copy_file(kDlibExamples + "/johns/John_Simm/000288_00470387.jpg", in + "/a.jpg");
  fs::copy_file(kDlibExamples + "/johns/John_Savage/000264_01099001.jpg", in + "/b.jpg");
  fs::copy_file(kDlibExamples + "/faces/2008_001322.jpg", in + "/c.jpg");
  const DatasetSummary hog = build_masked_dataset(options(in, dir / "hog", "hog"));
  const DatasetSummary cnn = build_masked_dataset(options(in, dir / "cnn", "cnn"));
  EXPECT_EQ(hog.faces_written, 4);
  EXPECT_EQ(cnn.faces_written, hog.faces_written);
  EXPECT_TRUE(cnn.no_face.empty());
  EXPECT_TRUE(cnn.failed.empty());
}

TEST(DatasetDetector, BadDetectorOptionsNameTheProblem) {
  TempDir dir;
  DatasetOptions o = options(kDlibExamples + "/johns/John_Simm", dir / "out", "yolo");
  try {
    build_masked_dataset(o);
    FAIL() << "an unknown detector was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("yolo"), std::string::npos) << e.what();
  }
  o.detector = "cnn";
  o.detector_weights = dir / "no_weights";
  try {
    build_masked_dataset(o);
    FAIL() << "a missing weight folder was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "no_weights"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "out/manifest.csv"));
}

}  // namespace
}  // namespace maskoff::data
