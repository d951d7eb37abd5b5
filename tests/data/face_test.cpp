// Face detection, landmarks (against values recorded once from dlib 19.24 on the images as
// libjpeg-turbo decodes them) and FFHQ alignment.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "data/align.h"
#include "data/face.h"
#include "data/homography.h"
#include "tests/data/temp_dir.h"

namespace maskoff::data {
namespace {

using testing::kDlibExamples;

const std::string kJohn = kDlibExamples + "/johns/John_Simm/000288_00470387.jpg";
const std::string kGroup = kDlibExamples + "/faces/2008_002470.jpg";

FaceAnalyzer& analyzer() {
  static FaceAnalyzer fa;
  return fa;
}

struct Recorded {
  int faces = 0;
  FaceBox box;
  Landmarks lm;
};

Recorded read_fixture(const std::string& name) {
  const std::string path = std::string(MASKOFF_SOURCE_DIR) + "/tests/data/fixtures/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing fixture " + path);
  Recorded r;
  std::string line, word;
  std::getline(in, line);  // comment
  in >> word >> r.faces >> word >> r.box.left >> r.box.top >> r.box.right >> r.box.bottom;
  for (auto& p : r.lm) in >> p.x >> p.y;
  if (!in) throw std::runtime_error("malformed fixture " + path);
  return r;
}

const FaceBox& largest(const std::vector<FaceBox>& boxes) {
  size_t best = 0;
  for (size_t i = 1; i < boxes.size(); ++i)
    if (boxes[i].right - boxes[i].left > boxes[best].right - boxes[best].left) best = i;
  return boxes[best];
}

void expect_near_fixture(const Image& img, const std::vector<FaceBox>& boxes, const Recorded& rec) {
  ASSERT_EQ(static_cast<int>(boxes.size()), rec.faces);
  const FaceBox& b = largest(boxes);
  EXPECT_NEAR(b.left, rec.box.left, 1);
  EXPECT_NEAR(b.top, rec.box.top, 1);
  EXPECT_NEAR(b.right, rec.box.right, 1);
  EXPECT_NEAR(b.bottom, rec.box.bottom, 1);
  Landmarks lm = analyzer().landmarks(img, b);
  for (int i = 0; i < 68; ++i) {
    EXPECT_NEAR(lm[i].x, rec.lm[i].x, 1.0) << "point " << i;
    EXPECT_NEAR(lm[i].y, rec.lm[i].y, 1.0) << "point " << i;
  }
}

TEST(FaceLandmarks, SingleFaceMatchesRecordedValues) {
  Image img = read_image(kJohn);
  expect_near_fixture(img, analyzer().detect(img), read_fixture("landmarks_john_simm_000288.txt"));
}

TEST(FaceLandmarks, GroupPhotoMatchesRecordedValues) {
  Image img = read_image(kGroup);
  std::vector<FaceBox> boxes = analyzer().detect(img);
  expect_near_fixture(img, boxes, read_fixture("landmarks_2008_002470.txt"));
  for (size_t i = 1; i < boxes.size(); ++i)
    EXPECT_LE(boxes[i - 1].left, boxes[i].left);  // left to right
  for (const FaceBox& b : boxes) EXPECT_GT(b.score, 0.0);
}

TEST(FaceLandmarks, LandmarksAreAnatomicallyOrdered) {
  Image img = read_image(kJohn);
  Landmarks lm = analyzer().landmarks(img, analyzer().detect(img).at(0));
  // Image-left eye left of image-right eye; eyes above the nose tip, nose above the mouth,
  // mouth above the chin.
  EXPECT_LT(eye_centre_left(lm).x, eye_centre_right(lm).x);
  EXPECT_LT(eye_centre_left(lm).y, lm[30].y);
  EXPECT_LT(lm[30].y, lm[51].y);
  EXPECT_LT(lm[57].y, lm[8].y);
  EXPECT_GT(inter_ocular_distance(lm), 40);
}

TEST(FaceLandmarks, GreyInputWorks) {
  Image rgb = read_image(kJohn);
  Image grey(rgb.width, rgb.height, 1);
  for (size_t i = 0; i < grey.pixels.size(); ++i)
    grey.pixels[i] = static_cast<uint8_t>(
        (rgb.pixels[3 * i] + rgb.pixels[3 * i + 1] + rgb.pixels[3 * i + 2]) / 3);
  EXPECT_EQ(analyzer().detect(grey).size(), 1u);
}

TEST(FaceLandmarks, FlatGreyImageHasNoFace) {
  EXPECT_TRUE(analyzer().detect(Image(320, 240, 3, 128)).empty());
  EXPECT_TRUE(analyzer().detect(Image(320, 240, 3, 128), 0).empty());
}

TEST(FaceLandmarks, LowerThresholdsFindAtLeastAsMany) {
  const Image img = read_image(kJohn);
  const int up = std::max(img.width, img.height) < 640 ? 1 : 0;
  const auto normal = analyzer().detect(img, up, 0.0);
  ASSERT_EQ(normal.size(), 1u);
  EXPECT_GE(analyzer().detect(img, up, -0.9).size(), normal.size());
}

TEST(FaceLandmarks, TinyImagesHaveNoFaceAndDoNotCrash) {
  EXPECT_TRUE(analyzer().detect(Image(1, 1, 3, 90)).empty());
  EXPECT_TRUE(analyzer().detect(Image(8, 8, 3, 200)).empty());
  EXPECT_TRUE(analyzer().detect(Image(31, 17, 3, 10), 2).empty());
}

TEST(FaceLandmarks, BadCallsAreErrors) {
  EXPECT_THROW(analyzer().detect(Image()), Error);
  EXPECT_THROW(analyzer().detect(Image(40, 40, 3), 7), Error);
  EXPECT_THROW(analyzer().landmarks(Image(40, 40, 3), FaceBox{10, 10, 10, 30, 0}), Error);
}

TEST(FaceLandmarks, MissingModelIsAnErrorNamingTheFile) {
  const std::string p = "/nonexistent/maskoff/shape_predictor.dat";
  try {
    FaceAnalyzer fa(p);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

// ---- alignment -------------------------------------------------------------------------

// Landmarks of an idealised upright face (eye distance d, eye-to-mouth distance m), rotated
// by `angle` about the origin, scaled and shifted; only eyes and mouth corners matter here.
Landmarks synthetic_face(double d, double m, double angle, Point2 shift) {
  Landmarks lm;
  auto place = [&](double x, double y) {
    return Point2{shift.x + x * std::cos(angle) - y * std::sin(angle),
                  shift.y + x * std::sin(angle) + y * std::cos(angle)};
  };
  for (int i = 0; i < 68; ++i) lm[i] = place(0, m / 2);  // unused points: somewhere on the face
  // Each eye's six points are symmetric about its centre.
  const double ox[6] = {-6, -3, 3, 6, 3, -3}, oy[6] = {0, -2, -2, 0, 2, 2};
  for (int k = 0; k < 6; ++k) {
    lm[36 + k] = place(-d / 2 + ox[k] * d / 60, oy[k] * d / 60);
    lm[42 + k] = place(d / 2 + ox[k] * d / 60, oy[k] * d / 60);
  }
  lm[48] = place(-d / 3, m);
  lm[54] = place(d / 3, m);
  return lm;
}

TEST(FaceAlignment, EyesAndMouthLandWhereFfhqPutsThem) {
  Image img(400, 400, 3, 100);
  const int S = 128;
  for (double angle : {0.0, 0.4, -0.9}) {
    Landmarks lm = synthetic_face(60, 60, angle, Point2{210, 170});
    AlignedFace a = align_face(img, lm, S);
    ASSERT_EQ(a.image.width, S);
    ASSERT_EQ(a.image.height, S);
    // Aligned pixel index = fraction * size - 0.5 (pixel i covers [i - 0.5, i + 0.5]).
    Point2 el = eye_centre_left(a.landmarks), er = eye_centre_right(a.landmarks);
    EXPECT_NEAR(el.x, kFfhqLeftEyeX * S - 0.5, 1e-6) << angle;
    EXPECT_NEAR(er.x, kFfhqRightEyeX * S - 0.5, 1e-6) << angle;
    EXPECT_NEAR(el.y, kFfhqEyeY * S - 0.5, 1e-6) << angle;
    EXPECT_NEAR(er.y, kFfhqEyeY * S - 0.5, 1e-6) << angle;
    EXPECT_NEAR((a.landmarks[48].y + a.landmarks[54].y) / 2, 0.725 * S - 0.5,
                1e-6);  // 0.5 + 0.9 / 4
    EXPECT_NEAR((a.landmarks[48].x + a.landmarks[54].x) / 2, 0.5 * S - 0.5, 1e-6);
  }
}

TEST(FaceAlignment, LongFacesAreFramedByTheEyeToMouthDistance) {
  // m > 2d / 1.8: the square's half-size is 1.8 m, so the eyes sit closer together.
  Landmarks lm = synthetic_face(40, 60, 0.0, Point2{200, 150});
  AlignedFace a = align_face(Image(400, 400, 3), lm, 200);
  const double half = 1.8 * 60;
  EXPECT_NEAR(eye_centre_right(a.landmarks).x - eye_centre_left(a.landmarks).x,
              40 * 200 / (2 * half), 1e-6);
}

TEST(FaceAlignment, LandmarksFollowTheReturnedTransform) {
  Landmarks lm = synthetic_face(50, 55, 0.3, Point2{150, 160});
  AlignedFace a = align_face(Image(300, 300, 3), lm, 96);
  for (int i = 0; i < 68; ++i) {
    Point2 p = apply_homography(a.to_aligned, lm[i]);
    EXPECT_NEAR(p.x, a.landmarks[i].x, 1e-9);
    EXPECT_NEAR(p.y, a.landmarks[i].y, 1e-9);
  }
  EXPECT_DOUBLE_EQ(a.to_aligned[6], 0.0);
  EXPECT_DOUBLE_EQ(a.to_aligned[7], 0.0);
  EXPECT_DOUBLE_EQ(a.to_aligned[8], 1.0);
}

// R = x and G = y: bilinear sampling reproduces a linear ramp exactly (up to rounding), so
// each output pixel must hold the coordinates of the source point it maps from.
Image ramp(int w, int h) {
  Image img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      img.at(x, y, 0) = static_cast<uint8_t>(x), img.at(x, y, 1) = static_cast<uint8_t>(y),
                   img.at(x, y, 2) = 77;
  return img;
}

TEST(FaceAlignment, SamplesTheSourcePointItMapsFrom) {
  Image img = ramp(250, 230);
  const int S = 80;  // square of side ~ 4 * 20 = 80: about one source pixel per output pixel
  Landmarks lm = synthetic_face(20, 20, 0.35, Point2{120, 100});
  AlignedFace a = align_face(img, lm, S);
  Mat3 back = invert(a.to_aligned);
  for (int v = 0; v < S; v += 3)
    for (int u = 0; u < S; u += 3) {
      Point2 p = apply_homography(back, Point2{static_cast<double>(u), static_cast<double>(v)});
      ASSERT_GE(p.x, 0);
      ASSERT_GE(p.y, 0);
      EXPECT_NEAR(a.image.at(u, v, 0), p.x, 0.51) << u << "," << v;
      EXPECT_NEAR(a.image.at(u, v, 1), p.y, 0.51) << u << "," << v;
      EXPECT_EQ(a.image.at(u, v, 2), 77);
    }
}

TEST(FaceAlignment, PhotoPixelsStayExactWhereTheSquareLeavesThePhoto) {
  Image img = ramp(200, 200);
  const int S = 64;
  Landmarks lm = synthetic_face(16, 16, 0.0, Point2{10, 100});  // square spans x in [-22, 42]
  AlignedFace a = align_face(img, lm, S);
  Mat3 back = invert(a.to_aligned);
  int outside = 0;
  for (int u = 0; u < S; ++u) {
    Point2 p = apply_homography(back, Point2{static_cast<double>(u), 32.0});
    if (p.x < -0.5) ++outside;
    // Inside the photo the ramp is sampled as is; outside, the padding is faded (next test).
    if (p.x >= 0) {
      EXPECT_NEAR(a.image.at(u, 32, 0), p.x, 0.51) << "u=" << u << " source x=" << p.x;
    }
  }
  EXPECT_GT(outside, 10);
}

// A tight crop (UTKFace-like): a small photo, mostly one colour with dark "features" near its
// edges, aligned into a square several times its size. Far outside the photo the output must
// be close to the photo's median colour and smooth (no mirrored features); pixels whose whole
// footprint lies inside the photo must be exactly what a large photo with the same content
// there gives.
TEST(FaceAlignment, PaddingFadesToTheMedianColourLikeFfhq) {
  const int W = 60, H = 70, S = 128;
  const uint8_t bg[3] = {200, 150, 100};
  auto paint = [&](Image& img, int ox, int oy) {
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        // Dark bars along the left and top edges, and a dot pattern: what mirroring would copy.
        const bool dark = x < 8 || y < 6 || ((x / 5 + y / 5) % 4 == 0 && x > 20 && y > 20);
        for (int c = 0; c < 3; ++c)
          img.at(ox + x, oy + y, c) = dark ? static_cast<uint8_t>(20 + 30 * c) : bg[c];
      }
  };
  Image small(W, H, 3);
  paint(small, 0, 0);
  const Point2 centre{30, 28};
  Landmarks lm = synthetic_face(40, 40, 0.1, centre);  // quad side 160 source px: ~2.5x the photo
  AlignedFace a = align_face(small, lm, S);

  const int OX = 200, OY = 150;  // the same content inside a large photo of another colour
  Image big(500, 400, 3, 30);
  paint(big, OX, OY);
  AlignedFace ab =
      align_face(big, synthetic_face(40, 40, 0.1, Point2{centre.x + OX, centre.y + OY}), S);

  const Mat3 back = invert(a.to_aligned);
  const double scale = 160.0 / S;  // source pixels per output pixel
  auto outside = [&](int u, int v) {
    Point2 p = apply_homography(back, Point2{static_cast<double>(u), static_cast<double>(v)});
    return std::max({-p.x, p.x - (W - 1), -p.y, p.y - (H - 1)});
  };
  int inside = 0, far = 0;
  for (int v = 0; v < S; ++v)
    for (int u = 0; u < S; ++u) {
      const double d = outside(u, v);
      if (d < -scale) {  // the whole supersampled footprint is in the photo
        ++inside;
        for (int c = 0; c < 3; ++c)
          ASSERT_NEAR(a.image.at(u, v, c), ab.image.at(u, v, c), 1) << u << "," << v;
      }
      if (d > 40) {  // far outside: at least about half the padding extent
        ++far;
        for (int c = 0; c < 3; ++c)
          EXPECT_NEAR(a.image.at(u, v, c), bg[c], 20) << u << "," << v << " d=" << d;
        for (int c = 0; c < 3; ++c) {
          if (u + 1 < S && outside(u + 1, v) > 40) {
            EXPECT_LE(std::abs(a.image.at(u, v, c) - a.image.at(u + 1, v, c)), 4) << u << "," << v;
          }
          if (v + 1 < S && outside(u, v + 1) > 40) {
            EXPECT_LE(std::abs(a.image.at(u, v, c) - a.image.at(u, v + 1, c)), 4) << u << "," << v;
          }
        }
      }
    }
  EXPECT_GT(inside, 500);
  EXPECT_GT(far, 1000);
  // Plain mirroring copies the dark bars and dots (red 20 on 200) into the padding; a
  // quarter of the way out they are blurred and faded to well under half their contrast.
  int dark = 0;
  for (int v = 0; v < S; ++v)
    for (int u = 0; u < S; ++u)
      if (outside(u, v) > 20 && a.image.at(u, v, 0) < 120) ++dark;
  EXPECT_EQ(dark, 0);
}

TEST(FaceAlignment, ShrinkingAveragesFineDetail) {
  Image img(900, 900, 3);
  for (int y = 0; y < 900; ++y)
    for (int x = 0; x < 900; ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = ((x + y) & 1) ? 255 : 0;
  Landmarks lm = synthetic_face(180, 180, 0.2, Point2{450, 420});  // 720 px square -> 48 px
  AlignedFace a = align_face(img, lm, 48);
  for (uint8_t v : a.image.pixels) {
    ASSERT_GE(v, 110);
    ASSERT_LE(v, 145);
  }
}

TEST(FaceAlignment, RealFaceIsUprightAndCentred) {
  Image img = read_image(kJohn);
  Landmarks lm = analyzer().landmarks(img, analyzer().detect(img).at(0));
  const int S = 256;
  AlignedFace a = align_face(img, lm, S);
  // Detect again on the aligned image: the eyes must be level and near the FFHQ positions.
  std::vector<FaceBox> boxes = analyzer().detect(a.image);
  ASSERT_EQ(boxes.size(), 1u);
  Landmarks al = analyzer().landmarks(a.image, boxes[0]);
  Point2 el = eye_centre_left(al), er = eye_centre_right(al);
  EXPECT_NEAR(el.y, er.y, 3.0);
  EXPECT_NEAR((el.y + er.y) / 2, kFfhqEyeY * S, 6.0);
  EXPECT_NEAR((el.x + er.x) / 2, 0.5 * S, 6.0);
  EXPECT_NEAR(er.x - el.x, S / 4.0, 8.0);
  // And the transformed source landmarks agree with the re-detected ones.
  for (int i : {36, 39, 42, 45, 30, 48, 54}) {
    EXPECT_NEAR(a.landmarks[i].x, al[i].x, 6.0) << i;
    EXPECT_NEAR(a.landmarks[i].y, al[i].y, 6.0) << i;
  }
}

TEST(FaceAlignment, BadInputsAreErrors) {
  Landmarks lm = synthetic_face(20, 20, 0, Point2{50, 50});
  EXPECT_THROW(align_face(Image(), lm, 64), Error);
  EXPECT_THROW(align_face(Image(100, 100, 3), lm, 2), Error);
  Landmarks flat;  // every point at the origin
  EXPECT_THROW(align_face(Image(100, 100, 3), flat, 64), Error);
}

}  // namespace
}  // namespace maskoff::data
