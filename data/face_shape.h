// A linear model of where the 68 landmarks sit on an aligned face, used to place the points
// a face mask hides (jaw, nose tip, mouth) from the points it leaves visible (brows, nose
// bridge, eyes). dlib's predictor, run on a masked face, tends to pull the jaw and mouth
// towards the mask's outline; the visible points stay usable.
//
// The model is the mean shape plus a few principal modes (PCA of the training faces'
// landmarks after a similarity fit of their visible points onto the mean). Completing a
// face finds the similarity and the mode coefficients that best explain its visible points,
// with a Gaussian prior on each coefficient (ridge weights noise^2 / variance), so few
// visible points cannot drive the shape to extremes.
#pragma once
#include <array>
#include <vector>

#include "data/face.h"

namespace maskoff::data {

// The landmark indices a worn mask leaves visible: brows 17-26, nose bridge 27-30, eyes 36-47.
const std::vector<int>& mask_visible_points();

struct FaceShapeModel {
  Landmarks mean{};               // in aligned-face units (pixel centre / size)
  std::vector<Landmarks> modes;   // orthonormal over the 136 coordinates
  std::vector<double> variances;  // of each mode's coefficient over the training shapes
  double noise = 0.01;            // std of a visible point's error, aligned-face units

  bool empty() const { return modes.empty() && mean[0].x == 0 && mean[0].y == 0; }

  // Fits the model to shapes given in aligned-face units; `mirror` adds each shape's
  // left-right mirror image (points permuted by `flip`), so the model is symmetric.
  // Throws when fewer than 4 shapes are given.
  static FaceShapeModel fit(const std::vector<Landmarks>& shapes, int num_modes,
                            const int* flip68 = nullptr);

  // All 68 points of a face in photo pixels, of which only `visible` are trusted: they are
  // kept as given, every other point comes from the model. `rms_error`, when given, receives
  // the root-mean-square distance between the visible points and the model's fit of them,
  // over the inter-ocular distance: how face-like the visible points are.
  Landmarks complete(const Landmarks& detected, const std::vector<int>& visible,
                     double* rms_error = nullptr) const;

  // Flat form for checkpoints: [num_modes, noise, mean (136), modes (136 each), variances].
  std::vector<double> pack() const;
  static FaceShapeModel unpack(const std::vector<double>& v);  // throws on a malformed vector
};

}  // namespace maskoff::data
