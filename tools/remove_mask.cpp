// remove_mask: takes a face mask off every face in a photo with a trained pix2pix generator.
// Each face is found (data/masked_face.h: by default the CNN face detector of
// models/face_detector.h, whose five points place the box for dlib's 68-point fit; or dlib's
// HOG detector with padding, low scores and the mirror check; hidden landmarks placed by the
// checkpoint's face-shape model), aligned as make_masked_dataset aligns its training faces,
// run through the generator, warped back, and pasted where the generator's mask head says a
// mask is (kept within the lower face grown by --mask-limit; a face with no predicted mask is
// left alone), or, for a generator without a mask head, over the lower-face region (jaw line
// to nose bridge, dilated and feathered: data/blend.h); every other pixel is kept exactly.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "data/align.h"
#include "data/blend.h"
#include "data/face.h"
#include "data/homography.h"
#include "data/image.h"
#include "data/masked_face.h"
#include "data/paths.h"
#include "data/warp.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "train/device.h"
#include "train/inference.h"

using namespace maskoff;
namespace dt = maskoff::data;

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The generated aligned face (RGBA: alpha is the weight of each pixel, 255 everywhere
// without a mask head) warped into photo coordinates, alpha multiplied by coverage.
// Bilinear sampling aliases when it shrinks by more than 2x, so the face is first halved
// (premultiplied 2x2 means) until the map shrinks it by at most that much.
dt::Image warp_back(const dt::Image& face_rgba, const dt::Mat3& to_aligned, int photo_w,
                    int photo_h) {
  const dt::Image& face = face_rgba;
  dt::Mat3 to_photo = dt::invert(to_aligned);
  const double c = face.width / 2.0;
  const dt::Point2 p0 = dt::apply_homography(to_photo, {c, c});
  const dt::Point2 px = dt::apply_homography(to_photo, {c + 1, c});
  const dt::Point2 py = dt::apply_homography(to_photo, {c, c + 1});
  double scale =
      std::sqrt(std::fabs((px.x - p0.x) * (py.y - p0.y) - (px.y - p0.y) * (py.x - p0.x)));
  dt::Image src = face_rgba;
  // Level k+1 pixel p sits at 2p + 0.5 of level k.
  const dt::Mat3 up = {2, 0, 0.5, 0, 2, 0.5, 0, 0, 1};
  while (scale < 0.5 && src.width > 1) {
    src = dt::halve_rgba(src);
    to_photo = dt::mat3_mul(to_photo, up);
    scale *= 2;
  }
  return dt::warp_perspective(src, to_photo, photo_w, photo_h);
}

// --overlay: the photo with what remove_mask saw drawn on it. Boxes of accepted faces in
// green, rejected candidates in red; landmarks dlib placed and that are used in green, the
// points placed by the shape model in yellow, dlib's own placement of those in red; the
// blend region tinted blue by its weight.
void draw_rect(dt::Image& img, const dt::FaceBox& b, const uint8_t rgb[3], int thick) {
  for (int t = 0; t < thick; ++t) {
    for (int x = b.left - t; x <= b.right + t; ++x)
      for (int y : {b.top - t, b.bottom + t})
        if (x >= 0 && y >= 0 && x < img.width && y < img.height)
          for (int c = 0; c < 3; ++c) img.at(x, y, c) = rgb[c];
    for (int y = b.top - t; y <= b.bottom + t; ++y)
      for (int x : {b.left - t, b.right + t})
        if (x >= 0 && y >= 0 && x < img.width && y < img.height)
          for (int c = 0; c < 3; ++c) img.at(x, y, c) = rgb[c];
  }
}
void draw_dot(dt::Image& img, dt::Point2 p, int r, const uint8_t rgb[3]) {
  const int cx = static_cast<int>(std::lround(p.x)), cy = static_cast<int>(std::lround(p.y));
  for (int y = cy - r; y <= cy + r; ++y)
    for (int x = cx - r; x <= cx + r; ++x)
      if (x >= 0 && y >= 0 && x < img.width && y < img.height &&
          (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
        for (int c = 0; c < 3; ++c) img.at(x, y, c) = rgb[c];
}
// A score such as "0.87" in a 3x5 pixel font, each font pixel drawn as a `px` square,
// white on a dark plate, with its top-left corner at (x, y).
void draw_label(dt::Image& img, int x, int y, const std::string& text, int px) {
  static const char* const kGlyphs[11] = {"111101101101111", "010110010010111", "111001111100111",
                                          "111001111001111", "101101111001001", "111100111001111",
                                          "111100111101111", "111001001001001", "111101111101111",
                                          "111101111001111", "000000000000010"};
  const int w = static_cast<int>(text.size()) * 4 * px + px, h = 7 * px;
  for (int yy = y; yy < y + h; ++yy)
    for (int xx = x; xx < x + w; ++xx)
      if (xx >= 0 && yy >= 0 && xx < img.width && yy < img.height)
        for (int c = 0; c < 3; ++c) img.at(xx, yy, c) = static_cast<uint8_t>(img.at(xx, yy, c) / 4);
  for (size_t i = 0; i < text.size(); ++i) {
    const int g = text[i] == '.' ? 10 : text[i] - '0';
    if (g < 0 || g > 10) continue;
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 3; ++c)
        if (kGlyphs[g][r * 3 + c] == '1')
          for (int dy = 0; dy < px; ++dy)
            for (int dx = 0; dx < px; ++dx) {
              const int xx = x + px + (static_cast<int>(i) * 4 + c) * px + dx,
                        yy = y + px + r * px + dy;
              if (xx >= 0 && yy >= 0 && xx < img.width && yy < img.height)
                for (int ch = 0; ch < 3; ++ch) img.at(xx, yy, ch) = 255;
            }
  }
}

// The CNN detector's continuous box as an inclusive pixel rectangle, with its score.
dt::FaceBox pixel_box(const models::FaceDetection& d) {
  return {static_cast<int>(std::lround(d.x1)), static_cast<int>(std::lround(d.y1)),
          static_cast<int>(std::lround(d.x2)) - 1, static_cast<int>(std::lround(d.y2)) - 1,
          d.score};
}

// The CNN detector's box, its score above it and its five points.
void draw_cnn(dt::Image& img, const dt::FoundFace& f, const uint8_t rgb[3]) {
  const models::FaceDetection& d = f.cnn;
  const dt::FaceBox b = pixel_box(d);
  const int thick = std::max(2, std::max(img.width, img.height) / 400);
  draw_rect(img, b, rgb, thick);
  const int px = std::max(2, std::max(img.width, img.height) / 300);
  char score[16];
  std::snprintf(score, sizeof score, "%.2f", d.score);
  draw_label(img, std::max(0, b.left - thick), std::max(0, b.top - thick - 7 * px), score, px);
  const uint8_t cyan[3] = {0, 230, 255};
  for (int j = 0; j < 5; ++j)
    draw_dot(img, {d.landmarks[2 * j], d.landmarks[2 * j + 1]}, thick + 1, cyan);
}

// The aligned face with the delivered mask as its alpha (0-255), or opaque without one.
dt::Image face_with_alpha(const train::GeneratorRun& run) {
  dt::Image rgba = dt::to_rgba(dt::tensor_to_image(run.mask.defined() ? run.raw : run.delivered));
  if (!run.mask.defined()) return rgba;
  const std::vector<float> m = run.mask.to_vector<float>();
  for (size_t i = 0; i < m.size(); ++i)
    rgba.pixels[i * 4 + 3] = static_cast<uint8_t>(std::lround(std::clamp(m[i], 0.f, 1.f) * 255));
  return rgba;
}

// Tints what was replaced: the region's weight times the pasted face's alpha.
void tint(dt::Image& img, const dt::RegionWeights& region, const dt::Image& back) {
  for (int y = region.box.y0; y < region.box.y1; ++y)
    for (int x = region.box.x0; x < region.box.x1; ++x) {
      const float w = 0.45f * region.at(x, y) * back.at(x, y, 3) / 255.f;
      if (w <= 0) continue;
      const float blue[3] = {40, 90, 255};
      for (int c = 0; c < 3; ++c)
        img.at(x, y, c) =
            static_cast<uint8_t>(std::lround(img.at(x, y, c) + w * (blue[c] - img.at(x, y, c))));
    }
}

// The boxes of the --face options, each split at its commas by CLI11: LEFT, TOP, RIGHT,
// BOTTOM in photo pixels.
std::vector<dt::FaceBox> given_boxes(const std::vector<std::vector<int>>& given) {
  std::vector<dt::FaceBox> boxes;
  for (const std::vector<int>& v : given) {
    MASKOFF_CHECK(v.size() == 4, "--face: expected LEFT,TOP,RIGHT,BOTTOM in pixels, got "
                                     << v.size() << " numbers");
    const dt::FaceBox b{v[0], v[1], v[2], v[3], INFINITY};
    MASKOFF_CHECK(b.right > b.left && b.bottom > b.top,
                  "--face: empty box " << v[0] << "," << v[1] << "," << v[2] << "," << v[3]);
    boxes.push_back(b);
  }
  return boxes;
}

}  // namespace

int main(int argc, char** argv) {
  prefer_sleeping_omp_threads(argv);
  CLI::App app{
      "Remove face masks from a photo with a generator trained by train_pix2pix.\n"
      "Every face found is aligned, passed through the generator, warped back and blended where "
      "the "
      "generator\n"
      "predicts a mask (within the lower face; a face it finds no mask on is left as it is), or, "
      "for "
      "a\n"
      "generator trained with --no-predict-mask, over the lower face (jaw line up to the nose "
      "bridge,\n"
      "dilated and feathered); all other pixels stay as they were.\n"
      "A mask hides the jaw and mouth, where dlib's landmarks go astray: by default only the "
      "points a mask\n"
      "leaves visible (brows, nose bridge, eyes) are taken from dlib, and the hidden ones are "
      "placed by the\n"
      "face-shape model stored in the checkpoint.\n"
      "Faces are found by a small CNN detector (weights in SHARED/weights/face_detector_yunet) "
      "whose five\n"
      "points place the box for dlib's 68-point fit; --detector hog uses dlib's own detector "
      "instead."};
  std::string ckpt, input, output, overlay, device_name = "auto", landmarks_mode = "visible";
  std::string detector_name = "cnn", detector_weights;
  double min_score = 0;
  dt::CnnFaceOptions cnn_find;
  std::vector<std::vector<int>> face_boxes;
  double dilate = 0.04, feather = 0.08, mask_limit = 0.15, min_mask = 0.01;
  int threads = 0;
  dt::MaskedFaceOptions find;
  app.add_option("--checkpoint", ckpt, "train_pix2pix checkpoint (OUT/latest.ckpt)")->required();
  app.add_option("--input", input, "photo (JPEG or PNG, any size)")->required();
  app.add_option("--output", output, "output PNG (written atomically)")->required();
  app.add_option("--device", device_name, "auto, cpu or cuda")->capture_default_str();
  app.add_option("--dilate", dilate, "grow the lower-face region by this fraction of the jaw width")
      ->capture_default_str();
  app.add_option("--feather", feather, "width of the soft edge, as a fraction of the jaw width")
      ->capture_default_str();
  app.add_option("--mask-limit", mask_limit,
                 "generators with a mask head: the predicted mask is pasted only within the "
                 "lower-face region grown by this fraction of the jaw width (then --feather)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--min-mask", min_mask,
                 "generators with a mask head: a face whose predicted mask covers less than this "
                 "fraction of the aligned face has no mask on it and is left unchanged")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  auto* detector_opt = app.add_option("--detector", detector_name,
                                      "cnn: the CNN face detector (finds most faces a mask half "
                                      "hides); hog: dlib's HOG detector, "
                                      "padded, with low scores and the mirror check")
                           ->check(CLI::IsMember({"cnn", "hog"}))
                           ->capture_default_str();
  app.add_option(
      "--detector-weights", detector_weights,
      "folder of the CNN detector's .npy weights (default: SHARED/weights/face_detector_yunet)");
  char cnn_default[64], hog_default[64];
  std::snprintf(cnn_default, sizeof cnn_default, "%.2f", cnn_find.min_score);
  std::snprintf(hog_default, sizeof hog_default, "%.1f", find.min_score);
  auto* min_score_opt = app.add_option(
      "--min-score", min_score,
      std::string("lowest detector confidence accepted. cnn: in [0.2, 1], default ") + cnn_default +
          " (most masked faces score above 0.8 with the zoomed-out pass). hog: <= 0, default " +
          hog_default +
          " (dlib's usual threshold is 0; half-hidden faces often score below it); a face scoring "
          "below "
          "0 is kept only when its visible landmarks fit the face-shape model within "
          "--max-shape-error");
  app.add_option("--min-relative-score", cnn_find.min_relative,
                 "cnn: a face must also score at least this fraction of the photo's best detection "
                 "(0: off)")
      ->capture_default_str();
  app.add_option("--zoom-out", cnn_find.zoom_out,
                 "cnn: a second pass on the photo with a flat border of this fraction of its "
                 "longer side, scaled "
                 "back to its size, for faces larger than the frame (0: one pass)")
      ->capture_default_str();
  app.add_option("--max-shape-error", find.max_shape_error,
                 "hog, faces scoring below 0: largest RMS misfit of the visible landmarks to the "
                 "face-shape model, "
                 "in eye distances")
      ->capture_default_str();
  app.add_option("--pad", find.pad,
                 "hog: flat border added around the photo before detection, as a fraction of its "
                 "longer side "
                 "(close-ups need context around the face to be detected)")
      ->capture_default_str();
  bool no_mirror = false;
  app.add_flag("--no-mirror-check", no_mirror,
               "hog: keep a face scoring below 0 even when the detector does not find it again in "
               "the mirrored "
               "photo (finds more masked faces, and more false ones)");
  app.add_option("--landmarks", landmarks_mode,
                 "visible: hidden points from the face-shape model; dlib: all 68 points as dlib "
                 "places them")
      ->check(CLI::IsMember({"visible", "dlib"}))
      ->capture_default_str();
  app.add_option(
         "--face", face_boxes,
         "LEFT,TOP,RIGHT,BOTTOM: a face box given by hand (repeatable); no detection is run")
      ->delimiter(',')
      ->take_all();
  app.add_option("--overlay", overlay,
                 "also write a PNG of the photo showing the face boxes (green kept, red rejected; "
                 "with the CNN "
                 "detector its scores and five points in cyan), the landmarks (green from dlib, "
                 "yellow from the shape "
                 "model) and the blend region (blue)");
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    MASKOFF_CHECK(dilate >= 0 && feather > 0, "--dilate must be >= 0 and --feather > 0");
    find.mirror_check = !no_mirror;
    if (threads > 0) set_num_threads(threads);
    // The CNN's weights live in the shared folder. Without them, and with no --detector
    // given, the HOG detector still works: say so and use it.
    if (detector_weights.empty() && !dt::shared_dir().empty())
      detector_weights = dt::shared_dir() + "/weights/face_detector_yunet";
    const bool use_cnn = face_boxes.empty() && detector_name == "cnn";
    if (use_cnn && !std::filesystem::is_directory(detector_weights)) {
      const std::string where = detector_weights.empty()
                                    ? "no shared folder (../shared or MASKOFF_SHARED)"
                                    : detector_weights + " does not exist";
      MASKOFF_CHECK(detector_opt->count() == 0 && app.count("--detector-weights") == 0,
                    "the CNN face detector's weights were not found: " << where);
      std::fprintf(stderr,
                   "remove_mask: the CNN face detector's weights were not found (%s); using dlib's "
                   "HOG detector "
                   "(--detector hog), which misses more masked faces\n",
                   where.c_str());
      detector_name = "hog";
    }
    // Its default depends on the detector: the option only overrides the chosen one's.
    if (min_score_opt->count() > 0)
      (detector_name == "cnn" ? cnn_find.min_score : find.min_score) = min_score;
    if (detector_name == "cnn")
      MASKOFF_CHECK(cnn_find.min_score >= 0.2 && cnn_find.min_score <= 1,
                    "--min-score must be in [0.2, 1] with --detector cnn (its scores are in [0, 1] "
                    "and it reports "
                    "none below 0.2), got "
                        << cnn_find.min_score);
    else
      MASKOFF_CHECK(
          find.min_score <= 0,
          "--min-score must be <= 0 with --detector hog (faces scoring 0 or more are always kept)");
    MASKOFF_CHECK(cnn_find.zoom_out >= 0 && cnn_find.zoom_out <= 2, "--zoom-out must be in [0, 2]");
    MASKOFF_CHECK(cnn_find.min_relative >= 0 && cnn_find.min_relative <= 1,
                  "--min-relative-score must be in [0, 1]");
    const Device device = train::select_device(device_name, std::cerr);
    const auto t_load = Clock::now();
    train::LoadedGenerator gen = train::load_generator(ckpt, device);
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    std::fprintf(
        stderr,
        "remove_mask: generator %lldx%lld (ngf %lld, %s) from %s on %s, %d threads "
        "(OMP_WAIT_POLICY=%s), "
        "loaded in %.0f ms\n",
        static_cast<long long>(gen.resolution), static_cast<long long>(gen.resolution),
        static_cast<long long>(gen.options.ngf),
        gen.mask_head ? "pastes its predicted mask" : "no mask head: pastes the lower-face polygon",
        ckpt.c_str(), device.str().c_str(), num_threads(), wait_policy ? wait_policy : "unset",
        ms_since(t_load));
    dt::FaceShapeModel shape;
    if (landmarks_mode == "visible") {
      shape = gen.face_shape;
      if (shape.empty())
        std::fprintf(
            stderr,
            "remove_mask: %s carries no face-shape model, so all 68 landmarks are taken from dlib "
            "(train_pix2pix stores one when its training set has 4 faces or more)\n",
            ckpt.c_str());
    }

    std::unique_ptr<models::FaceDetector> detector;
    if (use_cnn && detector_name == "cnn") {
      const auto t0 = Clock::now();
      detector = std::make_unique<models::FaceDetector>(detector_weights, device);
      std::fprintf(stderr, "remove_mask: CNN face detector from %s, loaded in %.0f ms\n",
                   detector_weights.c_str(), ms_since(t0));
    }

    dt::FaceAnalyzer analyzer;  // loads dlib's landmark model once
    const auto t_start =
        Clock::now();  // the photo's time: reading it, finding faces, removing masks
    const dt::Image photo = dt::read_image(input);
    const auto t_detect = Clock::now();
    std::vector<dt::FoundFace> candidates;
    if (detector) {
      candidates = dt::find_masked_faces(analyzer, *detector, photo, shape, cnn_find);
    } else if (face_boxes.empty()) {
      candidates = dt::find_masked_faces(analyzer, photo, shape, find);
    } else {
      for (const dt::FaceBox& box : given_boxes(face_boxes)) {
        dt::FoundFace f = dt::face_at(analyzer, photo, box, shape);
        f.accepted = true;
        candidates.push_back(f);
      }
    }
    std::vector<const dt::FoundFace*> faces;
    for (const dt::FoundFace& f : candidates)
      if (f.accepted) faces.push_back(&f);
    const double t_find = ms_since(t_detect);
    dt::Image shown;
    if (!overlay.empty()) shown = dt::to_rgb(photo);
    const uint8_t green[3] = {40, 220, 60}, red[3] = {230, 30, 30}, yellow[3] = {255, 220, 0};
    for (const dt::FoundFace& f : candidates) {
      if (f.accepted) continue;
      if (f.from_cnn)
        std::fprintf(stderr, "candidate at (%.0f, %.0f)-(%.0f, %.0f), score %.2f: rejected, %s\n",
                     f.cnn.x1, f.cnn.y1, f.cnn.x2, f.cnn.y2, f.cnn.score,
                     f.rejected_because.c_str());
      if (!overlay.empty()) f.from_cnn ? draw_cnn(shown, f, red) : draw_rect(shown, f.box, red, 2);
    }
    if (faces.empty()) {
      std::fprintf(stderr,
                   "remove_mask: no face found in %s (%dx%d; %zu candidate%s rejected; %s "
                   "detector, %.0f ms); "
                   "nothing written\n",
                   input.c_str(), photo.width, photo.height, candidates.size(),
                   candidates.size() == 1 ? "" : "s", detector ? "CNN" : "HOG", t_find);
      if (!overlay.empty()) {
        dt::write_png(overlay, shown);
        std::fprintf(stderr, "remove_mask: the rejected candidates are drawn in %s\n",
                     overlay.c_str());
      }
      return 2;
    }
    std::fprintf(
        stderr, "%s: %dx%d, %zu face%s found in %.0f ms (%s detector and dlib's landmarks)\n",
        input.c_str(), photo.width, photo.height, faces.size(), faces.size() == 1 ? "" : "s",
        t_find, face_boxes.empty() ? (detector ? "CNN" : "HOG") : "boxes given by hand;");
    double t_faces = 0;

    dt::Image out = photo;
    for (size_t i = 0; i < faces.size(); ++i) {
      const dt::FoundFace& face = *faces[i];
      const dt::Landmarks& lm = face.landmarks;
      const auto t0 = Clock::now();
      const dt::AlignedFace aligned = dt::align_face(photo, lm, gen.resolution);
      const double t_align = ms_since(t0);
      const auto t1 = Clock::now();
      const train::GeneratorRun run =
          train::run_generator_full(gen, dt::image_to_tensor(aligned.image));
      const double t_gen = ms_since(t1);
      const auto t2 = Clock::now();
      // With a mask head, the predicted mask says what to replace (within the lower face
      // grown by --mask-limit); a face it finds no mask on is left as it is.
      const double covered = gen.mask_head ? train::mask_fractions(run.logit)[0] : 1.0;
      const bool unmasked = gen.mask_head && covered < min_mask;
      const double width = dt::lower_face_width(lm);
      const dt::RegionWeights region = dt::feathered_region(
          dt::lower_face_polygon(lm), (gen.mask_head ? mask_limit : dilate) * width,
          feather * width, photo.width, photo.height);
      dt::Image back;
      if (!unmasked) {
        back = warp_back(face_with_alpha(run), aligned.to_aligned, photo.width, photo.height);
        dt::blend_into(out, back, region);
      }
      const double t_blend = ms_since(t2);
      char mirrored[48] = "";
      if (face.box.score < 0 && std::isfinite(face.box.score))
        std::snprintf(mirrored, sizeof mirrored, " (%.2f mirrored)", face.mirror_score);
      const dt::FaceBox shown_box = face.from_cnn ? pixel_box(face.cnn) : face.box;
      t_faces += ms_since(t0);
      std::printf(
          "face %zu at (%d, %d)-(%d, %d), score %.2f%s, shape error %.3f: %.1f ms (align %.1f, "
          "generator %.1f, warp + blend %.1f)\n",
          i + 1, shown_box.left, shown_box.top, shown_box.right, shown_box.bottom, shown_box.score,
          mirrored, face.shape_error, ms_since(t0), t_align, t_gen, t_blend);
      if (gen.mask_head)
        std::printf("face %zu: the predicted mask covers %.1f%% of the aligned face%s\n", i + 1,
                    100 * covered, unmasked ? ": no mask on it, left unchanged" : "");
      if (!overlay.empty()) {
        if (!unmasked) tint(shown, region, back);
        face.from_cnn ? draw_cnn(shown, face, green) : draw_rect(shown, face.box, green, 2);
        const int r = std::max(1, static_cast<int>(std::lround(width / 120)));
        const std::vector<int>& vis = dt::mask_visible_points();
        for (int k = 0; k < 68; ++k) {
          const bool visible = shape.empty() || std::find(vis.begin(), vis.end(), k) != vis.end();
          if (!visible) draw_dot(shown, face.dlib[k], r, red);
          draw_dot(shown, lm[k], r + 1, visible ? green : yellow);
        }
      }
    }
    dt::write_png(output, out);
    std::printf("wrote %s\n", output.c_str());
    std::printf(
        "photo: %.0f ms (finding %zu face%s %.0f, removing the masks %.0f; %d threads, %s)\n",
        ms_since(t_start), faces.size(), faces.size() == 1 ? "" : "s", t_find, t_faces,
        num_threads(), device.str().c_str());
    if (!overlay.empty()) {
      dt::write_png(overlay, shown);
      std::printf("wrote %s\n", overlay.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "remove_mask: %s\n", message_of(e).c_str());
    return 1;
  }
}
