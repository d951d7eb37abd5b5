// Finding faces that wear a mask, and their 68 landmarks, in an arbitrary photo.
//
// Three things go wrong with dlib's plain detector and predictor on such photos, and each
// has its answer here:
//  - Close-ups, where the face fills the frame, are missed: the HOG detector needs some
//    context around a face. The photo is padded with a flat border before detection.
//  - The visible half of a face often scores below the detector's usual threshold 0:
//    detections down to `min_score` are considered. A low threshold also fires on eyes,
//    ears and patterned cloth, so a detection below 0 must pass two checks: the detector
//    finds it again in the mirrored photo (faces are nearly symmetric, those textures are
//    not), and its visible landmarks look like a face (the shape model's fit error). Of
//    those that pass, only the most confident is kept, and none when a face scored 0 or
//    more.
//  - The predictor, run on a mask, pulls the jaw and mouth towards the mask's outline: the
//    points a mask hides are placed from the visible ones by the shape model
//    (data/face_shape.h).
//
// A second way in, now the default of remove_mask: a small CNN detector (models/
// face_detector.h), trained on photos full of occluded faces, finds the faces with a box,
// a score and five points. The five points place the box dlib's predictor expects (as its
// own HOG detector would have drawn it), and the 68 points follow as above.
#pragma once
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "data/face.h"
#include "data/face_shape.h"
#include "data/image.h"
#include "models/face_detector.h"

namespace maskoff::data {

struct MaskedFaceOptions {
  double min_score = -0.9;  // lowest detection confidence considered
  double max_shape_error =
      0.12;           // for detections scoring below 0: visible-point fit error / eye distance
  double pad = 0.25;  // border added on each side, as a fraction of the photo's longer side
  bool mirror_check = true;  // detections scoring below 0 must also be found in the mirrored photo
};

struct FoundFace {
  // In photo pixels (may reach outside the photo): the box dlib's predictor was run in, the
  // HOG detector's own or, for the CNN detector, the one its five points give
  // (five_point_box); score is the detector's.
  FaceBox box;
  // The CNN detector's detection (box, score, five points, photo pixels); from_cnn is false
  // for faces the HOG detector found and faces given by hand.
  bool from_cnn = false;
  models::FaceDetection cnn;
  Landmarks dlib;          // all 68 as dlib's predictor placed them
  Landmarks landmarks;     // visible points from dlib, hidden ones from the shape model
  double shape_error = 0;  // the shape model's fit error of the visible points / eye distance
  // Best detection in the mirrored photo overlapping this one by half or more; looked for
  // only when no candidate scored 0 or more (-inf otherwise, and when none overlaps).
  double mirror_score = -INFINITY;
  bool accepted = false;
  // CNN detector: why a candidate was not accepted ("" when it was, or for the HOG path).
  std::string rejected_because;
};

// Every candidate considered, sorted left to right, with `accepted` set on those kept:
// detections scoring at least 0; or, when there is none, the most confident candidate
// scoring in [min_score, 0) that is found again in the mirrored photo (unless mirror_check
// is off) and whose shape error is at most max_shape_error. Without a shape model (empty), the
// hidden points stay as dlib placed them, candidates below 0 are judged by a model-free check only
// (eye distance at least a fifth of the box), and `shape_error` is 0.
std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, const Image& photo,
                                         const FaceShapeModel& shape,
                                         const MaskedFaceOptions& opt = {});

struct CnnFaceOptions {
  // Lowest CNN score accepted (the network reports nothing below 0.2). Detections from 0.2
  // up to it are returned, not accepted. Chosen on 200 photos of masked faces graded by eye
  // (docs/evaluation.md): with the zoomed-out pass, most masked faces score above 0.5, and
  // the false boxes (clothing, ears, duplicates on a face) mostly score 0.2-0.45.
  double min_score = 0.5;
  // A face must also score at least this fraction of the photo's best detection: false
  // boxes (a hand, hair, a dog, clutter) in a photo whose real face scores 0.9 mostly score
  // 0.5-0.6. 0 turns it off.
  double min_relative = 0.7;
  // A second, zoomed-out pass for faces larger than the frame: the photo with a flat border
  // of this fraction of its longer side on every side, scaled back to the photo's size.
  // Its detections join the first pass's before non-maximum suppression. 0: one pass.
  double zoom_out = 0.5;
  // A detection lying mostly (this fraction of its area) inside a larger accepted one is a
  // part of that face (an eye, the mask) and is dropped.
  double nested = 0.6;
};

// Faces found by the CNN detector, best first, with `accepted` set on those scoring at
// least min_score and min_relative times the best score that are not part of a larger
// accepted face. Each accepted face gets dlib's 68 points fitted in its five_point_box
// (`box`), hidden points placed by `shape` (as find_masked_faces above); rejected ones keep
// only their box and detection, and say why in `rejected_because`.
std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, models::FaceDetector& detector,
                                         const Image& photo, const FaceShapeModel& shape,
                                         const CnnFaceOptions& opt = {});

// The CNN detector's detections on an image of any channel count (1, 3 or 4) and size,
// after NMS, best first, with scores of at least `min_score` (>= 0.2, the network's floor).
std::vector<models::FaceDetection> detect_faces_cnn(models::FaceDetector& detector,
                                                    const Image& img, double min_score);

// The square box dlib's HOG detector draws around a face, from the CNN's five points (eyes,
// nose tip, mouth corners): the points' mean places in that box, measured on 371 faces both
// detectors found (dlib's example photos, FFHQ and UTKFace), fitted by translation and a
// scale (the root-mean-square spread of the points). dlib's 68-point predictor was trained
// on such boxes.
FaceBox five_point_box(const models::FaceDetection& d);

// The face in `box` (photo pixels): dlib's 68 points, and the points a mask hides placed by
// `shape` (all 68 from dlib when it is empty). `accepted` is left false.
FoundFace face_at(FaceAnalyzer& analyzer, const Image& photo, const FaceBox& box,
                  const FaceShapeModel& shape);

// `photo` with a flat border of `border` pixels on every side, coloured with the mean of
// the photo's outermost pixels.
Image pad_flat(const Image& photo, int border);

}  // namespace maskoff::data
