// The face-shape model (data/face_shape.h) and the masked-face finder built on it
// (data/masked_face.h).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "data/align.h"
#include "data/face.h"
#include "data/face_shape.h"
#include "data/masked_face.h"
#include "data/paths.h"
#include "tests/data/temp_dir.h"

namespace maskoff::data {
namespace {

using testing::kDlibExamples;

// Synthetic faces: a base shape plus two known modes with random coefficients, so the
// model's job (recover hidden points from visible ones) has an exact answer.
struct Synthetic {
  Landmarks base, m1, m2;
  Landmarks make(double c1, double c2) const {
    Landmarks s;
    for (int i = 0; i < 68; ++i)
      s[i] = Point2{base[i].x + c1 * m1[i].x + c2 * m2[i].x, base[i].y + c1 * m1[i].y + c2 * m2[i].y};
    return s;
  }
};

Synthetic synthetic() {
  Synthetic s;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int i = 0; i < 68; ++i) {
    // A rough face: points spread over the unit square, each moved by both modes.
    const double a = 2 * M_PI * i / 68;
    s.base[i] = Point2{0.5 + 0.3 * std::cos(a), 0.55 + 0.35 * std::sin(a)};
    s.m1[i] = Point2{0.05 * std::cos(a), 0.0};  // width of the face
    s.m2[i] = Point2{0.0, 0.04 * (s.base[i].y - 0.5) + 0.01 * u(rng)};  // length, with some texture
  }
  return s;
}

Landmarks similarity(const Landmarks& s, double scale, double angle, double tx, double ty) {
  Landmarks out;
  const double c = std::cos(angle) * scale, sn = std::sin(angle) * scale;
  for (int i = 0; i < 68; ++i) out[i] = Point2{c * s[i].x - sn * s[i].y + tx, sn * s[i].x + c * s[i].y + ty};
  return out;
}

double mean_hidden_error(const Landmarks& a, const Landmarks& b) {
  const auto& vis = mask_visible_points();
  double sum = 0;
  int n = 0;
  for (int i = 0; i < 68; ++i)
    if (std::find(vis.begin(), vis.end(), i) == vis.end()) sum += std::hypot(a[i].x - b[i].x, a[i].y - b[i].y), ++n;
  return sum / n;
}

// dlib's landmarks of every face in the example photos (but `skip`), aligned as the
// training data is, in aligned-face units.
std::vector<Landmarks> aligned_example_shapes(const std::string& skip) {
  FaceAnalyzer fa;
  std::vector<Landmarks> aligned;
  for (const std::string& path : dlib_example_photos()) {
    if (path == skip) continue;
    const Image img = read_image(path);
    for (const FaceBox& b : fa.detect(img)) {
      const AlignedFace a = align_face(img, fa.landmarks(img, b), 64);
      Landmarks f;
      for (int i = 0; i < 68; ++i) f[i] = Point2{(a.landmarks[i].x + 0.5) / 64, (a.landmarks[i].y + 0.5) / 64};
      aligned.push_back(f);
    }
  }
  return aligned;
}

// Two draws per face, the second mode's first: a function's arguments are evaluated in an
// order each compiler chooses (GCC and clang differ), so make(nd(rng), nd(rng)) would give
// each compiler different faces. This order keeps the faces these tests were written with.
Landmarks random_face(const Synthetic& syn, std::normal_distribution<double>& nd, std::mt19937& rng,
                      double scale = 1) {
  const double c2 = nd(rng);
  const double c1 = nd(rng);
  return syn.make(scale * c1, scale * c2);
}

TEST(FaceShape, RecoversHiddenPointsOfAKnownLinearModelUnderAnySimilarity) {
  const Synthetic syn = synthetic();
  std::mt19937 rng(7);
  std::normal_distribution<double> nd(0, 1);
  std::vector<Landmarks> train;
  for (int k = 0; k < 200; ++k) train.push_back(random_face(syn, nd, rng));
  const FaceShapeModel model = FaceShapeModel::fit(train, 2);
  ASSERT_EQ(model.modes.size(), 2u);
  FaceShapeModel tight = model;
  tight.noise = 1e-5;  // the synthetic faces are noise-free: trust the visible points fully

  for (int k = 0; k < 5; ++k) {
    const Landmarks truth = random_face(syn, nd, rng, 1.5);
    // In photo pixels: scaled up, turned and moved.
    const Landmarks photo = similarity(truth, 300 + 40 * k, 0.2 * k - 0.4, 50 + 10 * k, 80);
    double err = -1;
    const Landmarks got = tight.complete(photo, mask_visible_points(), &err);
    // Not exact: the similarity fit of the visible points absorbs part of the width mode
    // (a wider face also has wider-set eyes), which the linear model then only approximates.
    EXPECT_LT(mean_hidden_error(got, photo), 2e-3 * 300) << "face " << k;
    EXPECT_LT(err, 3e-3);
    // The mean shape alone misses the hidden points by far more: the modes do the work.
    FaceShapeModel mean_only = tight;
    mean_only.modes.clear(), mean_only.variances.clear();
    EXPECT_GT(mean_hidden_error(mean_only.complete(photo, mask_visible_points()), photo),
              5 * mean_hidden_error(got, photo));
    for (int i : mask_visible_points()) EXPECT_EQ(got[i].x, photo[i].x);  // visible points kept as given
  }
}

TEST(FaceShape, MirroredFitIsSymmetricAndPackRoundTrips) {
  const Synthetic syn = synthetic();
  std::vector<Landmarks> train;
  std::mt19937 rng(1);
  std::normal_distribution<double> nd(0, 1);
  for (int k = 0; k < 20; ++k) train.push_back(random_face(syn, nd, rng));
  // The flip of the iBUG order: jaw i <-> 16 - i, brows, eyes, nose and mouth likewise.
  int flip[68];
  for (int i = 0; i < 68; ++i) flip[i] = i;
  for (int i = 0; i <= 16; ++i) flip[i] = 16 - i;
  const FaceShapeModel m = FaceShapeModel::fit(train, 3, flip);
  for (int i = 0; i <= 16; ++i) EXPECT_NEAR(m.mean[i].x, 1.0 - m.mean[flip[i]].x, 1e-9) << i;

  const FaceShapeModel back = FaceShapeModel::unpack(m.pack());
  ASSERT_EQ(back.modes.size(), m.modes.size());
  EXPECT_EQ(back.noise, m.noise);
  for (int i = 0; i < 68; ++i) EXPECT_EQ(back.modes[2][i].y, m.modes[2][i].y);
  EXPECT_EQ(back.variances, m.variances);

  std::vector<double> bad = m.pack();
  bad.pop_back();
  EXPECT_THROW(FaceShapeModel::unpack(bad), std::exception);
  bad = m.pack();
  bad.back() = -1;  // a negative variance
  EXPECT_THROW(FaceShapeModel::unpack(bad), std::exception);
  EXPECT_THROW(FaceShapeModel::fit({train[0], train[1]}, 2), std::exception);
}

// Real faces: dlib's landmarks of the example photos, aligned as the training data is.
// Half fit the model, the other half have their hidden points placed from the visible ones.
TEST(FaceShape, PlacesDlibsHiddenPointsBetterThanTheMeanFace) {
  const std::vector<Landmarks> aligned = aligned_example_shapes("");
  ASSERT_GE(aligned.size(), 30u) << "dlib's example photos are missing or unreadable";
  const size_t half = aligned.size() / 2;
  const std::vector<Landmarks> fit_set(aligned.begin(), aligned.begin() + half);
  const FaceShapeModel model = FaceShapeModel::fit(fit_set, 6);
  FaceShapeModel mean_only = model;
  mean_only.modes.clear(), mean_only.variances.clear();
  double with_modes = 0, with_mean = 0;
  for (size_t k = half; k < aligned.size(); ++k) {
    const Landmarks photo = similarity(aligned[k], 400, 0.1, 30, 20);
    with_modes += mean_hidden_error(model.complete(photo, mask_visible_points()), photo) / 100;  // eye distance 100
    with_mean += mean_hidden_error(mean_only.complete(photo, mask_visible_points()), photo) / 100;
  }
  with_modes /= aligned.size() - half, with_mean /= aligned.size() - half;
  // Measured: 0.091 against 0.111 eye distances.
  EXPECT_LT(with_modes, 0.95 * with_mean);
  EXPECT_LT(with_modes, 0.15);
}

TEST(MaskedFace, PadFlatKeepsThePhotoAndFillsTheBorderWithItsEdgeMean) {
  Image img(4, 3, 3, 0);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) img.at(x, y, 0) = static_cast<uint8_t>(10 * x + y), img.at(x, y, 2) = 200;
  const Image p = pad_flat(img, 2);
  ASSERT_EQ(p.width, 8);
  ASSERT_EQ(p.height, 7);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(p.at(x + 2, y + 2, 0), img.at(x, y, 0));
  // Every pixel of a 4x3 image but none lies on its edge except (1,1) and (2,1).
  double sum = 0;
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      if (!(y == 1 && (x == 1 || x == 2))) sum += img.at(x, y, 0);
  EXPECT_EQ(p.at(0, 0, 0), static_cast<uint8_t>(std::lround(sum / 10)));
  EXPECT_EQ(p.at(7, 6, 2), 200);
}

// A face painted over below the nose, as a mask hides it, in a close-up where the face
// fills the frame: the finder must still find it, and place the jaw near where dlib puts
// it on the unmasked photo.
TEST(MaskedFace, FindsAClosedUpMaskedFaceAndPlacesItsJaw) {
  const std::string path = kDlibExamples + "/johns/John_Simm/000288_00470387.jpg";
  Image photo = read_image(path);
  FaceAnalyzer fa;
  const std::vector<FaceBox> plain = fa.detect(photo);
  ASSERT_EQ(plain.size(), 1u) << path;
  const Landmarks truth = fa.landmarks(photo, plain[0]);
  const double iod = inter_ocular_distance(truth);

  // Close-up: crop to the jaw's extent widened by a tenth of the eye distance.
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (const Point2& p : truth) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  const int cx0 = std::max(0, static_cast<int>(x0 - 0.1 * iod)), cy0 = std::max(0, static_cast<int>(y0 - 0.8 * iod));
  const int cx1 = std::min(photo.width, static_cast<int>(x1 + 0.1 * iod)), cy1 = std::min(photo.height, static_cast<int>(y1 + 0.1 * iod));
  Image crop(cx1 - cx0, cy1 - cy0, 3);
  for (int y = 0; y < crop.height; ++y)
    for (int x = 0; x < crop.width; ++x)
      for (int c = 0; c < 3; ++c) crop.at(x, y, c) = photo.at(x + cx0, y + cy0, c);
  Landmarks truth_c = truth;
  for (Point2& p : truth_c) p.x -= cx0, p.y -= cy0;
  // The "mask": light blue from the nose bridge's point 29 down, between jaw points 1 and 15.
  for (int y = static_cast<int>(truth_c[29].y); y < crop.height; ++y)
    for (int x = static_cast<int>(truth_c[1].x); x <= static_cast<int>(truth_c[15].x) && x < crop.width; ++x)
      crop.at(x, y, 0) = 170, crop.at(x, y, 1) = 200, crop.at(x, y, 2) = 230;

  // A shape model from the other example faces.
  const FaceShapeModel model = FaceShapeModel::fit(aligned_example_shapes(path), 6);

  const std::vector<FoundFace> found = find_masked_faces(fa, crop, model);
  std::vector<const FoundFace*> kept;
  for (const FoundFace& f : found)
    if (f.accepted) kept.push_back(&f);
  ASSERT_EQ(kept.size(), 1u) << found.size() << " candidates";
  const FoundFace& f = *kept[0];
  double eye_err = 0, jaw_err = 0;
  for (int i = 36; i < 48; ++i) eye_err += std::hypot(f.landmarks[i].x - truth_c[i].x, f.landmarks[i].y - truth_c[i].y) / 12;
  for (int i = 1; i <= 15; ++i) jaw_err += std::hypot(f.landmarks[i].x - truth_c[i].x, f.landmarks[i].y - truth_c[i].y) / 15;
  EXPECT_LT(eye_err / iod, 0.1);  // measured 0.02
  EXPECT_LT(jaw_err / iod, 0.3);  // measured 0.19
  EXPECT_LT(f.shape_error, MaskedFaceOptions{}.max_shape_error);

}

// Two photos of people wearing masks (../shared/data/masked_real): in mr_0002 the face
// scores below 0 and is found again in the mirrored photo; in mr_0004 the only candidate,
// also below 0, sits on the cloth and is not. Recorded 2026-11-24.
TEST(MaskedFace, MirrorCheckKeepsTheFaceAndDropsTheFalseCandidate) {
  const std::string shared = shared_dir();
  if (shared.empty()) GTEST_SKIP() << "shared data folder not found (set MASKOFF_SHARED)";
  const std::string dir = shared + "/data/masked_real/";
  const FaceShapeModel model = FaceShapeModel::fit(aligned_example_shapes(""), 6);
  FaceAnalyzer fa;
  auto kept = [&](const std::string& name, bool mirror_check) {
    MaskedFaceOptions o;
    o.mirror_check = mirror_check;
    std::vector<FoundFace> out;
    for (const FoundFace& f : find_masked_faces(fa, read_image(dir + name), model, o))
      if (f.accepted) out.push_back(f);
    return out;
  };
  const auto face = kept("mr_0002.jpg", true);
  ASSERT_EQ(face.size(), 1u);
  EXPECT_LT(face[0].box.score, 0);
  EXPECT_GE(face[0].mirror_score, MaskedFaceOptions{}.min_score);
  EXPECT_GT(face[0].box.right - face[0].box.left, 300);  // the whole face, not a part of it

  EXPECT_TRUE(kept("mr_0004.jpg", true).empty());
  const auto loose = kept("mr_0004.jpg", false);
  ASSERT_EQ(loose.size(), 1u);
  EXPECT_EQ(loose[0].mirror_score, -INFINITY);
}

TEST(MaskedFace, FlatImageHasNoCandidates) {
  FaceAnalyzer fa;
  EXPECT_TRUE(find_masked_faces(fa, Image(300, 200, 3, 128), FaceShapeModel{}).empty());
  MaskedFaceOptions bad;
  bad.min_score = 0.5;
  EXPECT_THROW(find_masked_faces(fa, Image(30, 20, 3, 128), FaceShapeModel{}, bad), std::exception);
}

}  // namespace
}  // namespace maskoff::data
