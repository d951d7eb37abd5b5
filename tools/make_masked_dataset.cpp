// make_masked_dataset: builds (masked, real, mask, landmarks) training pairs from face
// photos, FFHQ-aligned, with synthetic masks. See --help; data/dataset_builder.h does the work.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "data/dataset_builder.h"
#include "data/paths.h"
#include "tensor/error.h"
#include "train/progress.h"

using namespace maskoff;
using namespace maskoff::data;

namespace {

// --mask-types, which CLI11 split at the commas: each type once, in the order given; "all"
// stands for the seven template types (all,procedural: those and the random masks).
std::vector<MaskType> parse_types(const std::vector<std::string>& names) {
  if (names.empty()) return all_mask_types();
  std::vector<MaskType> out;
  auto add = [&](MaskType t) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  };
  for (const std::string& name : names) {
    if (name == "all") {
      for (MaskType t : all_mask_types()) add(t);
    } else {
      add(parse_mask_type(name));
    }
  }
  return out;
}

// A bar redrawn in place on a terminal; a plain line every ~10% when stderr is a file or pipe.
class ProgressReporter {
 public:
  ProgressReporter() : tty_(::isatty(STDERR_FILENO)) {}
  void operator()(const DatasetProgress& p) {
    const double frac = p.files_total ? static_cast<double>(p.files_done) / p.files_total : 1.0;
    const double rate = p.seconds > 0 ? p.faces_written / p.seconds : 0;
    const double eta =
        p.files_done > 0 ? p.seconds * (p.files_total - p.files_done) / p.files_done : 0;
    char line[200];
    std::snprintf(line, sizeof line, "%lld/%lld files, %lld faces, %.1f faces/s, ETA %s",
                  static_cast<long long>(p.files_done), static_cast<long long>(p.files_total),
                  static_cast<long long>(p.faces_written), rate,
                  p.files_done ? maskoff::train::format_duration(eta).c_str() : "?");
    if (tty_) {
      const int width = 30, fill = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r[%s%s] %s   ", std::string(fill, '#').c_str(),
                   std::string(width - fill, '.').c_str(), line);
      if (p.files_done == p.files_total) std::fprintf(stderr, "\n");
    } else {
      const int decile = static_cast<int>(frac * 10);
      if (decile > last_decile_) {
        last_decile_ = decile;
        std::fprintf(stderr, "%3d%% %s\n", decile * 10, line);
      }
    }
    std::fflush(stderr);
  }

 private:
  bool tty_;
  int last_decile_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Builds a masked-face dataset: detects and FFHQ-aligns faces, puts synthetic masks on them "
      "and writes\n"
      "masked/ID.png, real/ID.png, mask/ID.png (0/255), landmarks/ID.txt, manifest.csv, "
      "contact_sheet.png\n"
      "and summary.json. Same --seed, same bytes, whatever --threads.\n"
      "Cloth masks get a random tint (or with --textures a fabric texture) half of the time, "
      "plain\n"
      "surgical masks a quarter of the time. The procedural type draws a new random mask for "
      "every face\n"
      "(shape, colours, patterns, pleats, ear straps; with --textures a fabric a fifth of the "
      "time)."};
  DatasetOptions opt;
  std::vector<std::string> types = {"all"};
  app.add_option("--input", opt.inputs,
                 "image file or folder (recursive .jpg/.jpeg/.png); repeatable; default: dlib's "
                 "example photos");
  app.add_option("--output", opt.output, "dataset folder")->required();
  app.add_flag(
      "--overwrite", opt.overwrite,
      "replace a dataset already in --output (its manifest, summary, contact sheet and images)");
  app.add_option("--size", opt.size, "output side in pixels")->capture_default_str();
  app.add_flag("--aligned", opt.aligned,
               "inputs are already aligned square faces (e.g. FFHQ): resize, no crop");
  app.add_option(
         "--mask-types", types,
         "comma list of surgical,surgical_blue,surgical_green,N95,KN95,cloth,gas,procedural; "
         "all = the seven template types (all,procedural adds the random masks)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_flag("--textures", opt.textures,
               "blend fabric textures onto some cloth, surgical and procedural masks");
  app.add_option("--test-fraction", opt.test_fraction, "share of ids in the test split")
      ->capture_default_str();
  app.add_option("--seed", opt.seed, "seed for every random choice")->capture_default_str();
  opt.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", opt.threads, "worker threads")->capture_default_str();
  app.add_option("--limit", opt.limit, "use only the first N input files (sorted)");
  app.add_option("--masks-dir", opt.masks_dir,
                 "mask templates folder (default: <shared>/data/masks)");
  app.add_option("--contact-rows", opt.contact_rows, "rows in contact_sheet.png (0: none)")
      ->capture_default_str();
  app.add_option("--min-eye-distance", opt.min_eye_distance,
                 "skip faces whose eyes are closer (source pixels)")
      ->capture_default_str();
  app.add_option("--predictor", opt.predictor_path, "dlib 68-point landmark model")
      ->capture_default_str();
  app.add_option(
         "--detector", opt.detector,
         "face detector for photos that are not --aligned: hog (dlib's) or cnn (the CNN face "
         "detector, which "
         "also finds half-hidden and turned faces; weights in SHARED/weights/face_detector_yunet)")
      ->check(CLI::IsMember({"hog", "cnn"}))
      ->capture_default_str();
  app.add_option(
      "--detector-weights", opt.detector_weights,
      "folder of the CNN detector's .npy weights (default: SHARED/weights/face_detector_yunet)");
  app.add_option("--cnn-min-score", opt.cnn_min_score,
                 "with --detector cnn: lowest score kept, in [0.2, 1]")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    opt.mask_types = parse_types(types);
    if (opt.masks_dir.empty()) opt.masks_dir = default_masks_dir();
    std::string names;
    for (MaskType t : opt.mask_types) names += (names.empty() ? "" : ",") + mask_type_name(t);
    std::fprintf(
        stderr,
        "make_masked_dataset: %d threads (CPU only), size %d, %s, mask types %s, seed %llu\n",
        opt.threads, opt.size, opt.aligned ? "aligned inputs" : "detect + align", names.c_str(),
        static_cast<unsigned long long>(opt.seed));
    std::fprintf(stderr, "inputs: %s\n",
                 opt.inputs.empty() ? (dlib_examples_dir() + " (faces/, johns/)").c_str()
                                    : std::to_string(opt.inputs.size()).append(" path(s)").c_str());
    ProgressReporter progress;
    DatasetSummary s = build_masked_dataset(opt, std::ref(progress));
    std::cout << format_summary(s);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_masked_dataset: error: %s\n", message_of(e).c_str());
    return 1;
  }
}
