// Face detection (dlib's HOG frontal detector) and 68-point landmarks (dlib's shape
// predictor, iBUG 300-W order). dlib stays behind this header: only face.cpp includes it.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "data/image.h"

namespace maskoff::data {

struct Point2 {
  double x = 0, y = 0;
};
using Landmarks = std::array<Point2, 68>;  // dlib / iBUG 68-point order, pixel-centre coordinates

// Inclusive pixel rectangle as dlib reports it; score is the detector's confidence.
struct FaceBox {
  int left = 0, top = 0, right = 0, bottom = 0;
  double score = 0;
};

std::string default_predictor_path();  // /usr/share/dlib/shape_predictor_68_face_landmarks.dat

// One per thread: dlib's detector keeps scratch state. The 95 MB shape-predictor model is
// loaded once per path and shared (read-only) by every analyzer in the process.
class FaceAnalyzer {
 public:
  explicit FaceAnalyzer(const std::string& predictor_path = default_predictor_path());
  ~FaceAnalyzer();
  FaceAnalyzer(FaceAnalyzer&&) noexcept;
  FaceAnalyzer& operator=(FaceAnalyzer&&) noexcept;

  // Faces sorted left to right (then top to bottom). Images whose longer side is under
  // 640 px are upsampled once, as dlib's own examples do, so faces down to ~40 px are found.
  std::vector<FaceBox> detect(const Image& img);
  // Same with an explicit number of 2x upsamplings (0 = none) and detection threshold
  // (dlib's default 0; lower finds more faces, and more false ones).
  std::vector<FaceBox> detect(const Image& img, int upsample, double threshold = 0.0);
  // Faces wearing masks need more: data/masked_face.h.
  Landmarks landmarks(const Image& img, const FaceBox& box);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The partner of each of the 68 points under a horizontal flip (jaw 0 <-> 16, left eye <->
// right eye, ...): a flipped face's point i is the original's point kFlip68[i]. An involution.
extern const int kFlip68[68];

// Mean of the six points around each eye (36-41 left in the image, 42-47 right).
Point2 eye_centre_left(const Landmarks& lm);
Point2 eye_centre_right(const Landmarks& lm);
double inter_ocular_distance(const Landmarks& lm);

// The smallest box of whole pixels around the points (score 1). Known landmarks' box stands
// in for a detection where the face is known to be: dlib's predictor on a generated face
// starts from the real face's box, as the detector misses small or damaged faces.
FaceBox landmark_box(const Landmarks& lm);

}  // namespace maskoff::data
