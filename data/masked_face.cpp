#include "data/masked_face.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace maskoff::data {

namespace {

// The five points' mean places inside dlib's HOG box, as fractions of its side (x, y):
// eye on the image's left, the other eye, nose tip, mouth corners left and right. Standard
// deviations over the 371 faces were 0.05-0.08 of the side, mostly the HOG box's own jitter.
constexpr double kFivePointTemplate[5][2] = {
    {0.2920, 0.2941}, {0.7316, 0.2992}, {0.5058, 0.5421}, {0.3197, 0.7396}, {0.6950, 0.7435}};

double box_area(const models::FaceDetection& d) {
  return std::max(0.f, d.width()) * std::max(0.f, d.height());
}

// The share of a's area that lies inside b.
double inside_share(const models::FaceDetection& a, const models::FaceDetection& b) {
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const double area = box_area(a);
  return iw > 0 && ih > 0 && area > 0 ? iw * ih / area : 0;
}

}  // namespace

FaceBox five_point_box(const models::FaceDetection& d) {
  double px = 0, py = 0, tx = 0, ty = 0;
  for (int j = 0; j < 5; ++j) {
    px += d.landmarks[2 * j] / 5.0, py += d.landmarks[2 * j + 1] / 5.0;
    tx += kFivePointTemplate[j][0] / 5.0, ty += kFivePointTemplate[j][1] / 5.0;
  }
  double sp = 0, st = 0;
  for (int j = 0; j < 5; ++j) {
    sp += std::pow(d.landmarks[2 * j] - px, 2) + std::pow(d.landmarks[2 * j + 1] - py, 2);
    st += std::pow(kFivePointTemplate[j][0] - tx, 2) + std::pow(kFivePointTemplate[j][1] - ty, 2);
  }
  double side = std::sqrt(sp / st);
  // Points collapsed onto each other: fall back on the CNN's own box, squared.
  if (!(side >= 4)) side = std::max(4.0, 0.5 * (d.width() + d.height()));
  const double left = px - tx * side, top = py - ty * side;
  FaceBox b;
  b.left = static_cast<int>(std::lround(left));
  b.top = static_cast<int>(std::lround(top));
  b.right = static_cast<int>(std::lround(left + side)) - 1;
  b.bottom = static_cast<int>(std::lround(top + side)) - 1;
  b.score = d.score;
  return b;
}

std::vector<models::FaceDetection> detect_faces_cnn(models::FaceDetector& detector,
                                                    const Image& img, double min_score) {
  MASKOFF_CHECK(min_score >= 0.2 && min_score <= 1,
                "detect_faces_cnn: min_score must be in [0.2, 1] (the network's floor is 0.2), got "
                    << min_score);
  const Image rgb = img.channels == 3 ? img : to_rgb(img);
  models::FaceDetectorOptions o;
  o.score_threshold = static_cast<float>(min_score);
  return detector.run(rgb.pixels.data(), rgb.width, rgb.height, o);
}

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
  // One row of the flat colour, copied into every row; then the photo's rows over it.
  std::vector<uint8_t> flat(static_cast<size_t>(out.width) * c);
  for (size_t i = 0; i < flat.size(); ++i)
    flat[i] = static_cast<uint8_t>(std::lround(sum[i % c] / static_cast<double>(count)));
  for (int y = 0; y < out.height; ++y) std::copy(flat.begin(), flat.end(), out.row(y));
  for (int y = 0; y < h; ++y)
    std::copy(photo.row(y), photo.row(y) + static_cast<size_t>(w) * c,
              out.row(y + border) + static_cast<size_t>(border) * c);
  return out;
}

FoundFace face_at(FaceAnalyzer& analyzer, const Image& photo, const FaceBox& box,
                  const FaceShapeModel& shape) {
  FoundFace f;
  f.box = box;
  // A box reaching past the photo's edge (close-ups): the predictor sees a flat border there,
  // as the padded detection does, rather than whatever it does outside an image.
  const int over = std::max(
      {0, -box.left, -box.top, box.right - (photo.width - 1), box.bottom - (photo.height - 1)});
  if (over == 0) {
    f.dlib = analyzer.landmarks(photo, box);
  } else {
    const int border = over + 8;
    f.dlib = analyzer.landmarks(pad_flat(photo, border),
                                FaceBox{box.left + border, box.top + border, box.right + border,
                                        box.bottom + border, box.score});
    for (Point2& p : f.dlib) p.x -= border, p.y -= border;
  }
  f.landmarks =
      shape.empty() ? f.dlib : shape.complete(f.dlib, mask_visible_points(), &f.shape_error);
  return f;
}

std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, models::FaceDetector& detector,
                                         const Image& photo, const FaceShapeModel& shape,
                                         const CnnFaceOptions& opt) {
  MASKOFF_CHECK(
      opt.min_score >= 0.2 && opt.min_score <= 1,
      "find_masked_faces: the CNN's min_score must be in [0.2, 1], got " << opt.min_score);
  MASKOFF_CHECK(opt.zoom_out >= 0 && opt.zoom_out <= 2,
                "find_masked_faces: zoom_out must be in [0, 2], got " << opt.zoom_out);
  MASKOFF_CHECK(opt.nested > 0 && opt.nested <= 1,
                "find_masked_faces: nested must be in (0, 1], got " << opt.nested);
  MASKOFF_CHECK(opt.min_relative >= 0 && opt.min_relative <= 1,
                "find_masked_faces: min_relative must be in [0, 1], got " << opt.min_relative);
  std::vector<models::FaceDetection> all = detect_faces_cnn(detector, photo, 0.2);
  if (opt.zoom_out > 0) {
    // The photo shrunk by k and framed by a flat border of zoom_out of its longer side (at
    // the shrunk scale), the whole the photo's own size: the photo padded, then scaled, but
    // only the photo's pixels are resampled.
    const int longer = std::max(photo.width, photo.height);
    const double k = 1.0 / (1.0 + 2.0 * opt.zoom_out);
    const int sw = std::max(1, static_cast<int>(std::lround(photo.width * k)));
    const int sh = std::max(1, static_cast<int>(std::lround(photo.height * k)));
    const int border = static_cast<int>(std::lround(opt.zoom_out * longer * k));
    const Image zoomed = pad_flat(resize_bilinear(photo, sw, sh), border);
    // Pixel centres: shrunk pixel u sits at (u + 0.5) * (photo / shrunk) - 0.5 of the photo.
    const double sx = static_cast<double>(photo.width) / sw,
                 sy = static_cast<double>(photo.height) / sh;
    for (models::FaceDetection d : detect_faces_cnn(detector, zoomed, 0.2)) {
      auto mx = [&](float& v) { v = static_cast<float>((v - border + 0.5) * sx - 0.5); };
      auto my = [&](float& v) { v = static_cast<float>((v - border + 0.5) * sy - 0.5); };
      mx(d.x1), mx(d.x2), my(d.y1), my(d.y2);
      for (int j = 0; j < 5; ++j) mx(d.landmarks[2 * j]), my(d.landmarks[2 * j + 1]);
      all.push_back(d);
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.score > b.score; });
    all = models::suppress_overlaps(all);
  }
  std::vector<FoundFace> found;
  const double best = all.empty() ? 0.0 : all.front().score;  // sorted best first
  for (const models::FaceDetection& d : all) {
    FoundFace f;
    f.box = five_point_box(d);
    f.from_cnn = true;
    f.cnn = d;
    if (d.score < opt.min_score)
      f.rejected_because = "scores below the minimum";
    else if (d.score < opt.min_relative * best)
      f.rejected_because = "scores far below the photo's best face";
    f.accepted = f.rejected_because.empty();
    found.push_back(f);
  }
  // Faces do not nest: a box mostly inside a larger accepted one is a part of that face.
  std::vector<char> part(found.size(), 0);
  for (size_t i = 0; i < found.size(); ++i)
    for (size_t j = 0; j < found.size(); ++j)
      if (i != j && found[j].accepted && box_area(found[j].cnn) > box_area(found[i].cnn) &&
          inside_share(found[i].cnn, found[j].cnn) >= opt.nested)
        part[i] = 1;
  for (size_t i = 0; i < found.size(); ++i)
    if (part[i]) found[i].accepted = false, found[i].rejected_because = "lies inside a larger face";
  // dlib's 68 points only where they are used: the accepted faces.
  for (FoundFace& f : found) {
    if (!f.accepted) continue;
    FoundFace fitted = face_at(analyzer, photo, f.box, shape);
    f.dlib = fitted.dlib;
    f.landmarks = fitted.landmarks;
    f.shape_error = fitted.shape_error;
  }
  return found;
}

std::vector<FoundFace> find_masked_faces(FaceAnalyzer& analyzer, const Image& photo,
                                         const FaceShapeModel& shape,
                                         const MaskedFaceOptions& opt) {
  MASKOFF_CHECK(opt.pad >= 0 && opt.pad <= 2,
                "find_masked_faces: pad must be in [0, 2], got " << opt.pad);
  MASKOFF_CHECK(opt.min_score <= 0,
                "find_masked_faces: min_score must be <= 0, got " << opt.min_score);
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
  const bool any_low =
      std::any_of(found.begin(), found.end(), [](const FoundFace& f) { return f.box.score < 0; });
  const bool any_high =
      std::any_of(found.begin(), found.end(), [](const FoundFace& f) { return f.box.score >= 0; });
  if (any_low && !any_high) {
    Image mirrored = padded;
    const int w = padded.width, c = padded.channels;
    for (int y = 0; y < padded.height; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < c; ++ch) mirrored.at(x, y, ch) = padded.at(w - 1 - x, y, ch);
    const std::vector<FaceBox> back = analyzer.detect(mirrored, upsample, opt.min_score);
    for (FoundFace& f : found) {
      const double l = f.box.left + border, r = f.box.right + border, t = f.box.top + border,
                   b = f.box.bottom + border;
      for (const FaceBox& m : back) {
        const double ml = w - 1 - m.right, mr = w - 1 - m.left;  // mapped back
        const double iw = std::min(r, mr) - std::max(l, ml) + 1,
                     ih = std::min(b, double(m.bottom)) - std::max(t, double(m.top)) + 1;
        if (iw <= 0 || ih <= 0) continue;
        const double inter = iw * ih, uni = (r - l + 1) * (b - t + 1) +
                                            (mr - ml + 1) * (m.bottom - m.top + 1) - inter;
        if (inter / uni >= 0.5) f.mirror_score = std::max(f.mirror_score, m.score);
      }
      if (f.box.score < 0 && opt.mirror_check && !(f.mirror_score >= opt.min_score))
        f.accepted = false;
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
