#include "data/masked_face.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskoff::data {

Image pad_flat(const Image& photo, int border) {
  MASKOFF_CHECK(!photo.empty(), "pad_flat: empty image");
  MASKOFF_CHECK(border >= 0, "pad_flat: negative border " << border);
  const int w = photo.width, h = photo.height, c = photo.channels;
  std::vector<double> sum(c, 0.0);
  int64_t count = 0;
  auto add = [&](int x, int y) {
    for (int ch = 0; ch < c; ++ch) sum[ch] += photo.at(x, y, ch);
    ++count;
  };
  for (int x = 0; x < w; ++x) add(x, 0), add(x, h - 1);
  for (int y = 1; y + 1 < h; ++y) add(0, y), add(w - 1, y);
  Image out(w + 2 * border, h + 2 * border, c);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int ch = 0; ch < c; ++ch)
        out.at(x, y, ch) = static_cast<uint8_t>(std::lround(sum[ch] / static_cast<double>(count)));
  for (int y = 0; y < h; ++y) std::copy(photo.row(y), photo.row(y) + static_cast<size_t>(w) * c, out.row(y + border) + static_cast<size_t>(border) * c);
  return out;
}

std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, const Image& photo, const FaceShapeModel& shape,
                                         const MaskedFaceOptions& opt) {
  MASKOFF_CHECK(opt.pad >= 0 && opt.pad <= 2, "find_masked_faces: pad must be in [0, 2], got " << opt.pad);
  MASKOFF_CHECK(opt.min_score <= 0, "find_masked_faces: min_score must be <= 0, got " << opt.min_score);
  const int border = static_cast<int>(std::lround(opt.pad * std::max(photo.width, photo.height)));
  const Image padded = border > 0 ? pad_flat(photo, border) : photo;
  // The photo's own size decides, as in FaceAnalyzer::detect: the border adds no small faces.
  const int upsample = std::max(photo.width, photo.height) < 640 ? 1 : 0;
  std::vector<FoundFace> found;
  for (const FaceBox& b : analyzer.detect(padded, upsample, opt.min_score)) {
    FoundFace f;
    f.dlib = analyzer.landmarks(padded, b);
    for (Point2& p : f.dlib) p.x -= border, p.y -= border;
    f.box = FaceBox{b.left - border, b.top - border, b.right - border, b.bottom - border, b.score};
    if (!shape.empty()) {
      f.landmarks = shape.complete(f.dlib, mask_visible_points(), &f.shape_error);
      f.accepted = b.score >= 0 || f.shape_error <= opt.max_shape_error;
    } else {
      f.landmarks = f.dlib;
      const double box_w = b.right - b.left + 1;
      f.accepted = b.score >= 0 || inter_ocular_distance(f.dlib) >= box_w / 5;
    }
    found.push_back(f);
  }
  // Below 0, only the single most confident candidate may be kept: a low threshold fires on
  // eyes, ears and patterned cloth as well, and those score below the real face.
  const FoundFace* best = nullptr;
  for (const FoundFace& f : found)
    if (!best || f.box.score > best->box.score) best = &f;
  for (FoundFace& f : found)
    if (f.box.score < 0 && &f != best) f.accepted = false;
  return found;
}

}  // namespace maskoff::data
