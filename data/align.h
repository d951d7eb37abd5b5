// FFHQ-style face alignment: an oriented square around the eyes and mouth, cut out with
// mirrored padding where it leaves the photo and resampled to size x size; as in FFHQ's
// script, the padding is then blurred and faded towards the photo's median colour the
// further it lies outside the photo, so it shows no mirrored features.
#pragma once
#include <array>

#include "data/face.h"
#include "data/image.h"

namespace maskoff::data {

struct AlignedFace {
  Image image;
  Landmarks landmarks;               // in aligned pixels
  std::array<double, 9> to_aligned;  // 3x3 row-major: source pixel -> aligned pixel
};

// The FFHQ crop square: centre c and half-axes x (towards the image's right) and y
// (towards the chin); its corners are c - x - y (top left) ... c + x + y (bottom right).
struct FaceQuad {
  Point2 centre, x, y;
};
FaceQuad ffhq_quad(const Landmarks& lm);

// Where the FFHQ recipe puts things, as fractions of the output size, for an upright face
// whose eye-to-mouth distance is at most 2/1.8 of the eye distance (the usual case): eye
// centres at (3/8, 19/40) and (5/8, 19/40), so the eye distance is exactly size / 4.
constexpr double kFfhqEyeY = 0.475, kFfhqLeftEyeX = 0.375, kFfhqRightEyeX = 0.625;

// Bilinear samples, k x k of them per output pixel when the square is k times larger than
// the output, so downscaling averages instead of aliasing.
AlignedFace align_face(const Image& img, const Landmarks& lm, int size = 256);

}  // namespace maskoff::data
