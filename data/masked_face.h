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
#pragma once
#include <cmath>
#include <vector>

#include "data/face.h"
#include "data/face_shape.h"
#include "data/image.h"

namespace maskoff::data {

struct MaskedFaceOptions {
  double min_score = -0.9;        // lowest detection confidence considered
  double max_shape_error = 0.12;  // for detections scoring below 0: visible-point fit error / eye distance
  double pad = 0.25;              // border added on each side, as a fraction of the photo's longer side
  bool mirror_check = true;       // detections scoring below 0 must also be found in the mirrored photo
};

struct FoundFace {
  FaceBox box;                // in photo pixels (may reach outside the photo)
  Landmarks dlib;             // all 68 as dlib's predictor placed them
  Landmarks landmarks;        // visible points from dlib, hidden ones from the shape model
  double shape_error = 0;     // the shape model's fit error of the visible points / eye distance
  // Best detection in the mirrored photo overlapping this one by half or more; looked for
  // only when no candidate scored 0 or more (-inf otherwise, and when none overlaps).
  double mirror_score = -INFINITY;
  bool accepted = false;
};

// Every candidate considered, sorted left to right, with `accepted` set on those kept:
// detections scoring at least 0; or, when there is none, the most confident candidate
// scoring in [min_score, 0) that is found again in the mirrored photo (unless mirror_check
// is off) and whose shape error is at most max_shape_error. Without a shape model (empty), the hidden points stay as dlib
// placed them, candidates below 0 are judged by a model-free check only (eye distance at
// least a fifth of the box), and `shape_error` is 0.
std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, const Image& photo, const FaceShapeModel& shape,
                                         const MaskedFaceOptions& opt = {});

// The face in `box` (photo pixels): dlib's 68 points, and the points a mask hides placed by
// `shape` (all 68 from dlib when it is empty). `accepted` is left false.
FoundFace face_at(FaceAnalyzer& analyzer, const Image& photo, const FaceBox& box, const FaceShapeModel& shape);

// `photo` with a flat border of `border` pixels on every side, coloured with the mean of
// the photo's outermost pixels.
Image pad_flat(const Image& photo, int border);

}  // namespace maskoff::data
