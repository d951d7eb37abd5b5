// dlib-backed face detection and landmarks. This is the only translation unit that
// includes dlib (its headers are slow to compile).
#include "data/face.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include "tensor/error.h"

namespace maskoff::data {

std::string default_predictor_path() {
  return "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
}

namespace {

// Deserialising the model takes about a second; every analyzer with the same path shares
// one copy, kept for the life of the process (tools and tests make analyzers repeatedly).
// shape_predictor::operator() is const and keeps no state, so sharing is safe.
std::shared_ptr<const dlib::shape_predictor> load_predictor(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const dlib::shape_predictor>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  std::error_code ec;
  MASKOFF_CHECK(std::filesystem::is_regular_file(path, ec),
                "FaceAnalyzer: landmark model '"
                    << path << "' not found (Debian package libdlib-data installs it)");
  auto sp = std::make_shared<dlib::shape_predictor>();
  try {
    dlib::deserialize(path) >> *sp;
  } catch (const std::exception& e) {
    MASKOFF_FAIL("FaceAnalyzer: cannot load landmark model '" << path << "': " << e.what());
  }
  cache[path] = sp;
  return sp;
}

// get_frontal_face_detector() parses its built-in model each time (~0.3 s); copying a
// parsed prototype is much cheaper, and each analyzer still gets its own scratch state.
dlib::frontal_face_detector make_detector() {
  static std::mutex mu;
  static std::unique_ptr<dlib::frontal_face_detector> prototype;
  std::lock_guard<std::mutex> lock(mu);
  if (!prototype)
    prototype = std::make_unique<dlib::frontal_face_detector>(dlib::get_frontal_face_detector());
  return *prototype;
}

dlib::array2d<dlib::rgb_pixel> to_dlib(const Image& in) {
  MASKOFF_CHECK(!in.empty(), "FaceAnalyzer: empty image");
  const Image converted = in.channels == 3 ? Image() : to_rgb(in);
  const Image& img = in.channels == 3 ? in : converted;
  dlib::array2d<dlib::rgb_pixel> a(img.height, img.width);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = img.row(y);
    for (int x = 0; x < img.width; ++x, src += 3) a[y][x] = dlib::rgb_pixel(src[0], src[1], src[2]);
  }
  return a;
}

}  // namespace

struct FaceAnalyzer::Impl {
  dlib::frontal_face_detector detector = make_detector();
  std::shared_ptr<const dlib::shape_predictor> predictor;
};

FaceAnalyzer::FaceAnalyzer(const std::string& predictor_path) : impl_(std::make_unique<Impl>()) {
  impl_->predictor = load_predictor(predictor_path);
}
FaceAnalyzer::~FaceAnalyzer() = default;
FaceAnalyzer::FaceAnalyzer(FaceAnalyzer&&) noexcept = default;
FaceAnalyzer& FaceAnalyzer::operator=(FaceAnalyzer&&) noexcept = default;

std::vector<FaceBox> FaceAnalyzer::detect(const Image& img) {
  return detect(img, std::max(img.width, img.height) < 640 ? 1 : 0);
}

std::vector<FaceBox> FaceAnalyzer::detect(const Image& img, int upsample, double threshold) {
  MASKOFF_CHECK(upsample >= 0 && upsample <= 3,
                "FaceAnalyzer::detect: upsample must be 0..3, got " << upsample);
  dlib::array2d<dlib::rgb_pixel> a = to_dlib(img);
  double scale = 1;
  for (int i = 0; i < upsample; ++i) {
    dlib::pyramid_up(a);
    scale *= 2;
  }
  std::vector<dlib::rect_detection> dets;
  impl_->detector(a, dets, threshold);
  std::vector<FaceBox> out;
  for (const auto& d : dets) {
    FaceBox b;
    // dlib rectangles are inclusive; map back through the 2x upsamplings.
    b.left = static_cast<int>(std::lround(d.rect.left() / scale));
    b.top = static_cast<int>(std::lround(d.rect.top() / scale));
    b.right = static_cast<int>(std::lround((d.rect.right() + 1) / scale)) - 1;
    b.bottom = static_cast<int>(std::lround((d.rect.bottom() + 1) / scale)) - 1;
    b.score = d.detection_confidence;
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const FaceBox& p, const FaceBox& q) {
    return p.left != q.left ? p.left < q.left : p.top < q.top;
  });
  return out;
}

Landmarks FaceAnalyzer::landmarks(const Image& img, const FaceBox& box) {
  MASKOFF_CHECK(box.right > box.left && box.bottom > box.top,
                "FaceAnalyzer::landmarks: empty box [" << box.left << ", " << box.top << ", "
                                                       << box.right << ", " << box.bottom << "]");
  dlib::array2d<dlib::rgb_pixel> a = to_dlib(img);
  dlib::full_object_detection shape =
      (*impl_->predictor)(a, dlib::rectangle(box.left, box.top, box.right, box.bottom));
  MASKOFF_CHECK(shape.num_parts() == 68, "FaceAnalyzer::landmarks: model gave "
                                             << shape.num_parts() << " points, expected 68");
  Landmarks lm;
  for (size_t i = 0; i < 68; ++i)
    lm[i] = Point2{static_cast<double>(shape.part(i).x()), static_cast<double>(shape.part(i).y())};
  return lm;
}

const int kFlip68[68] = {16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4, 3, 2, 1, 0,  // jaw
                         26, 25, 24, 23, 22, 21, 20, 19, 18, 17,                         // brows
                         27, 28, 29, 30,                                  // nose bridge
                         35, 34, 33, 32, 31,                              // nostrils
                         45, 44, 43, 42, 47, 46,                          // left eye -> right eye
                         39, 38, 37, 36, 41, 40,                          // right eye -> left eye
                         54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,  // outer lips
                         64, 63, 62, 61, 60, 67, 66, 65};                 // inner lips

Point2 eye_centre_left(const Landmarks& lm) {
  Point2 p;
  for (int i = 36; i < 42; ++i) p.x += lm[i].x / 6, p.y += lm[i].y / 6;
  return p;
}

Point2 eye_centre_right(const Landmarks& lm) {
  Point2 p;
  for (int i = 42; i < 48; ++i) p.x += lm[i].x / 6, p.y += lm[i].y / 6;
  return p;
}

double inter_ocular_distance(const Landmarks& lm) {
  Point2 l = eye_centre_left(lm), r = eye_centre_right(lm);
  return std::hypot(r.x - l.x, r.y - l.y);
}

FaceBox landmark_box(const Landmarks& lm) {
  double x0 = lm[0].x, y0 = lm[0].y, x1 = lm[0].x, y1 = lm[0].y;
  for (const Point2& p : lm) {
    x0 = std::min(x0, p.x);
    x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
  }
  return {static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0)),
          static_cast<int>(std::ceil(x1)), static_cast<int>(std::ceil(y1)), 1.0};
}

}  // namespace maskoff::data
