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

FoundFace face_at(FaceAnalyzer& analyzer, const Image& photo, const FaceBox& box, const FaceShapeModel& shape) {
  FoundFace f;
  f.box = box;
  f.dlib = analyzer.landmarks(photo, box);
  f.landmarks = shape.empty() ? f.dlib : shape.complete(f.dlib, mask_visible_points(), &f.shape_error);
  return f;
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
    FoundFace f = face_at(analyzer, padded, b, shape);
    // Back to photo pixels (the shape model's fit is unchanged by a shift).
    for (Point2& p : f.dlib) p.x -= border, p.y -= border;
    for (Point2& p : f.landmarks) p.x -= border, p.y -= border;
    f.box = FaceBox{b.left - border, b.top - border, b.right - border, b.bottom - border, b.score};
    if (!shape.empty())
      f.accepted = b.score >= 0 || f.shape_error <= opt.max_shape_error;
    else
      f.accepted = b.score >= 0 || inter_ocular_distance(f.dlib) >= (b.right - b.left + 1) / 5.0;
    found.push_back(f);
  }
  // Faces are nearly symmetric; the textures a low threshold fires on are not. When no
  // face scored 0 or more, each candidate is looked for in the mirrored photo.
  const bool any_low = std::any_of(found.begin(), found.end(), [](const FoundFace& f) { return f.box.score < 0; });
  const bool any_high = std::any_of(found.begin(), found.end(), [](const FoundFace& f) { return f.box.score >= 0; });
  if (any_low && !any_high) {
    Image mirrored = padded;
    const int w = padded.width, c = padded.channels;
    for (int y = 0; y < padded.height; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < c; ++ch) mirrored.at(x, y, ch) = padded.at(w - 1 - x, y, ch);
    const std::vector<FaceBox> back = analyzer.detect(mirrored, upsample, opt.min_score);
    for (FoundFace& f : found) {
      const double l = f.box.left + border, r = f.box.right + border, t = f.box.top + border, b = f.box.bottom + border;
      for (const FaceBox& m : back) {
        const double ml = w - 1 - m.right, mr = w - 1 - m.left;  // mapped back
        const double iw = std::min(r, mr) - std::max(l, ml) + 1, ih = std::min(b, double(m.bottom)) - std::max(t, double(m.top)) + 1;
        if (iw <= 0 || ih <= 0) continue;
        const double inter = iw * ih, uni = (r - l + 1) * (b - t + 1) + (mr - ml + 1) * (m.bottom - m.top + 1) - inter;
        if (inter / uni >= 0.5) f.mirror_score = std::max(f.mirror_score, m.score);
      }
      if (f.box.score < 0 && opt.mirror_check && !(f.mirror_score >= opt.min_score)) f.accepted = false;
    }
  }
  // Below 0, only the single most confident candidate that passed its checks may be kept,
  // and none when a face scored 0 or more: a low threshold fires on eyes, ears and
  // patterned cloth as well, and those score below the real face.
  const FoundFace* best = nullptr;
  for (const FoundFace& f : found)
    if (f.accepted && (!best || f.box.score > best->box.score)) best = &f;
  for (FoundFace& f : found)
    if (f.box.score < 0 && &f != best) f.accepted = false;
  return found;
}

}  // namespace maskoff::data
