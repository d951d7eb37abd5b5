// remove_mask: takes a face mask off every face in a photo with a trained pix2pix generator.
// Each face is found and aligned as make_masked_dataset aligns its training faces, run
// through the generator, warped back, and pasted over the lower-face region only (jaw line
// to nose bridge, dilated and feathered: data/blend.h); every other pixel is kept exactly.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "data/align.h"
#include "data/blend.h"
#include "data/face.h"
#include "data/homography.h"
#include "data/image.h"
#include "data/warp.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "train/inference.h"
#include "train/train_loop.h"

using namespace maskoff;
namespace dt = maskoff::data;

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The generated aligned face warped into photo coordinates (RGBA, alpha = coverage).
// Bilinear sampling aliases when it shrinks by more than 2x, so the face is first halved
// (premultiplied 2x2 means) until the map shrinks it by at most that much.
dt::Image warp_back(const dt::Image& face, const dt::Mat3& to_aligned, int photo_w, int photo_h) {
  dt::Mat3 to_photo = dt::invert(to_aligned);
  const double c = face.width / 2.0;
  const dt::Point2 p0 = dt::apply_homography(to_photo, {c, c});
  const dt::Point2 px = dt::apply_homography(to_photo, {c + 1, c});
  const dt::Point2 py = dt::apply_homography(to_photo, {c, c + 1});
  double scale = std::sqrt(std::fabs((px.x - p0.x) * (py.y - p0.y) - (px.y - p0.y) * (py.x - p0.x)));
  dt::Image src = dt::to_rgba(face);
  // Level k+1 pixel p sits at 2p + 0.5 of level k.
  const dt::Mat3 up = {2, 0, 0.5, 0, 2, 0.5, 0, 0, 1};
  while (scale < 0.5 && src.width > 1) {
    src = dt::halve_rgba(src);
    to_photo = dt::mat3_mul(to_photo, up);
    scale *= 2;
  }
  return dt::warp_perspective(src, to_photo, photo_w, photo_h);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Remove face masks from a photo with a generator trained by train_pix2pix.\n"
      "Every detected face is aligned, passed through the generator, warped back and blended over the\n"
      "lower face (jaw line up to the nose bridge, dilated and feathered); all other pixels stay as they were."};
  std::string ckpt, input, output, device_name = "auto";
  double dilate = 0.04, feather = 0.08;
  int threads = 0;
  double min_score = 0.0;
  app.add_option("--checkpoint", ckpt, "train_pix2pix checkpoint (OUT/latest.ckpt)")->required();
  app.add_option("--input", input, "photo (JPEG or PNG, any size)")->required();
  app.add_option("--output", output, "output PNG (written atomically)")->required();
  app.add_option("--device", device_name, "auto, cpu or cuda")->capture_default_str();
  app.add_option("--dilate", dilate, "grow the lower-face region by this fraction of the jaw width")
      ->capture_default_str();
  app.add_option("--feather", feather, "width of the soft edge, as a fraction of the jaw width")->capture_default_str();
  app.add_option("--min-score", min_score,
                 "when no face passes dlib's usual threshold 0 (masks hide half the face), take the most "
                 "confident detection scoring above this (e.g. -0.6: more masked faces found, but the "
                 "landmarks on them are often misplaced)")
      ->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    MASKOFF_CHECK(dilate >= 0 && feather > 0, "--dilate must be >= 0 and --feather > 0");
    if (threads > 0) set_num_threads(threads);
    const Device device = train::select_device(device_name, std::cerr);
    const auto t_load = Clock::now();
    train::LoadedGenerator gen = train::load_generator(ckpt, device);
    std::fprintf(stderr, "remove_mask: generator %lldx%lld (ngf %lld) from %s on %s, %d threads, loaded in %.0f ms\n",
                 static_cast<long long>(gen.resolution), static_cast<long long>(gen.resolution),
                 static_cast<long long>(gen.options.ngf), ckpt.c_str(), device.str().c_str(), num_threads(),
                 ms_since(t_load));

    const dt::Image photo = dt::read_image(input);
    dt::FaceAnalyzer analyzer;
    const auto t_detect = Clock::now();
    const std::vector<dt::FaceBox> faces = analyzer.detect_masked(photo, min_score);
    if (faces.empty()) {
      std::fprintf(stderr, "remove_mask: no face found in %s (%dx%d); nothing written\n", input.c_str(), photo.width,
                   photo.height);
      return 2;
    }
    std::fprintf(stderr, "%s: %dx%d, %zu face%s found in %.0f ms\n", input.c_str(), photo.width, photo.height,
                 faces.size(), faces.size() == 1 ? "" : "s", ms_since(t_detect));

    dt::Image out = photo;
    for (size_t i = 0; i < faces.size(); ++i) {
      const dt::FaceBox& box = faces[i];
      const auto t0 = Clock::now();
      const dt::Landmarks lm = analyzer.landmarks(photo, box);
      const dt::AlignedFace aligned = dt::align_face(photo, lm, gen.resolution);
      const double t_align = ms_since(t0);
      const auto t1 = Clock::now();
      const Tensor fake = train::run_generator(gen, dt::image_to_tensor(aligned.image));
      const double t_gen = ms_since(t1);
      const auto t2 = Clock::now();
      const dt::Image back = warp_back(dt::tensor_to_image(fake), aligned.to_aligned, photo.width, photo.height);
      const double width = dt::lower_face_width(lm);
      const dt::RegionWeights region =
          dt::feathered_region(dt::lower_face_polygon(lm), dilate * width, feather * width, photo.width, photo.height);
      dt::blend_into(out, back, region);
      const double t_blend = ms_since(t2);
      std::printf("face %zu at (%d, %d)-(%d, %d): %.1f ms (landmarks + align %.1f, generator %.1f, warp + blend %.1f)\n",
                  i + 1, box.left, box.top, box.right, box.bottom, ms_since(t0), t_align, t_gen, t_blend);
    }
    dt::write_png(output, out);
    std::printf("wrote %s\n", output.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "remove_mask: %s\n", e.what());
    return 1;
  }
}
