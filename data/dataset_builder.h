// The masked-face dataset pipeline behind tools/make_masked_dataset: photos -> faces
// (detected and FFHQ-aligned, or already aligned) -> synthetic masks -> files, a manifest and a
// contact sheet. Every random choice comes from (seed, face id), so reruns with the same
// seed write identical bytes with any number of threads.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/face.h"
#include "data/mask_synth.h"
#include "tensor/random.h"

namespace maskoff::data {

struct DatasetOptions {
  std::vector<std::string> inputs;  // files or folders (recursive); empty: dlib's example photos
  std::string output;               // dataset folder (created)
  int size = 256;
  bool aligned = false;              // inputs are already FFHQ-aligned squares: resize, no crop
  std::vector<MaskType> mask_types;  // empty: all_mask_types() (the seven template types)
  bool textures = false;             // fabric textures on some cloth, surgical and procedural masks
  double test_fraction = 0.1;
  uint64_t seed = 0;
  int threads = 1;
  int64_t limit = -1;            // at most this many input files (after sorting); < 0: all
  std::string masks_dir;         // empty: default_masks_dir()
  int contact_rows = 12;         // 0: no contact sheet
  double min_eye_distance = 30;  // source pixels between eye centres; smaller faces are skipped
  std::string predictor_path = default_predictor_path();
  // Which detector finds the faces of in-the-wild photos (not --aligned ones): "hog", dlib's,
  // or "cnn", the CNN of models/face_detector.h with its weights in `detector_weights`
  // (default: SHARED/weights/face_detector_yunet), keeping faces scoring at least
  // `cnn_min_score`; its five points place the box for dlib's 68 points.
  std::string detector = "hog";
  std::string detector_weights;
  double cnn_min_score = 0.5;
  // An output folder that already holds a dataset is refused unless this is set; then its
  // manifest, summary, contact sheet and the four subfolders' contents are removed first, so
  // old files never sit beside (or get listed by) a new manifest.
  bool overwrite = false;
};

// Throws maskoff::Error naming `folder` when it holds a dataset (manifest.csv, or files in
// masked/, real/, mask/ or landmarks/) and `overwrite` is false; with `overwrite`, clears it.
void prepare_output_folder(const std::string& folder, bool overwrite);

// A file (or one face in it) that produced no output, and why; `where` is the source
// location of the maskoff::Error that refused it, if one did (summary.json keeps it, the
// printed summary shows the reason alone).
struct Skipped {
  std::string path, reason;
  std::string where = "";
};

struct DatasetSummary {
  int64_t files = 0;
  int64_t faces_written = 0;
  std::vector<Skipped> no_face, too_small, unreadable,
      failed;  // failed: photos or single faces that threw, mask synthesis errors
  // In all_mask_types() order, then procedural; the types asked for or written.
  std::vector<std::pair<std::string, int64_t>> per_mask_type;
  int64_t train = 0, test = 0;
  double seconds = 0;
  std::string masks_source;             // MaskSynthesizer::source_description()
  std::string manifest, contact_sheet;  // paths written ("" when none)
};

struct DatasetProgress {
  int64_t files_done = 0, files_total = 0, faces_written = 0;
  double seconds = 0;
};

// Runs the pipeline. Bad input files are counted, never fatal; unwritable output is fatal
// (maskoff::Error). on_progress is called from the calling thread about 5 times a second
// and once at the end.
DatasetSummary build_masked_dataset(
    const DatasetOptions& opt, const std::function<void(const DatasetProgress&)>& on_progress = {});

// The human-readable report the tool prints (lists at most max_listed names per category).
std::string format_summary(const DatasetSummary& s, size_t max_listed = 20);
// summary.json: counts and skipped files, no timings, so it is reproducible too.
std::string summary_json(const DatasetSummary& s, const DatasetOptions& opt);

// The mask type of face `index`: each block of |types| consecutive ids holds every type once,
// in a seeded order, so the counts differ by at most one.
MaskType choose_mask_type(const std::vector<MaskType>& types, uint64_t seed, int64_t index);
// Tint / texture choices for one face, drawn from g (cloth and plain surgical masks only), or
// for Procedural the random mask's seed and, with textures, a fabric a fifth of the time.
// Always draws the same number of values.
MaskOptions choose_mask_options(MaskType type, bool textures,
                                const std::vector<std::string>& texture_paths, Generator& g);

}  // namespace maskoff::data
