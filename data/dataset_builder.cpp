// The dataset pipeline: a pool of workers, each with its own face analyzer, reads and
// aligns photos in any order; faces get their ids strictly in sorted input order (a file's
// faces are numbered only once every earlier file is done), and writing a face depends only
// on its id and the seed, so the output does not depend on the thread count.
#include "data/dataset_builder.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "data/align.h"
#include "data/dataset_writer.h"
#include "data/masked_face.h"
#include "data/paths.h"
#include "tensor/error.h"

namespace fs = std::filesystem;

namespace maskoff::data {
namespace {

// Independent random streams derived from the one --seed.
constexpr uint64_t kTypeStream = 0x6d61736b74797065ULL;  // mask type order per block
constexpr uint64_t kFaceStream = 0x66616365636f6c72ULL;  // per-face tint / texture choices

// A file or face that an exception refused: the error's message (after `prefix`) and, for
// a maskoff::Error, the source location that raised it.
Skipped refused(const std::string& path, const std::string& prefix, const std::exception& e) {
  const auto* err = dynamic_cast<const Error*>(&e);
  return Skipped{path, prefix + message_of(e), err ? err->where() : ""};
}

// What one input file produced.
struct FileOutcome {
  bool ready = false;
  std::vector<AlignedFace> faces;
  std::vector<Skipped> too_small;
  std::vector<Skipped> face_failed;  // single faces whose landmarks or alignment threw
  Skipped unreadable, failed;        // reason empty when not applicable
  bool no_face = false;
  int64_t remaining = 0;  // faces not yet written (progress)
};

// Among several detections in an aligned crop, the face the crop was made for: the largest,
// ties broken by closeness to the centre.
const FaceBox& main_face(const std::vector<FaceBox>& boxes, int size) {
  size_t best = 0;
  double best_key = -1e300;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const FaceBox& b = boxes[i];
    const double area = double(b.right - b.left) * (b.bottom - b.top);
    const double cx = (b.left + b.right) / 2.0 - size / 2.0,
                 cy = (b.top + b.bottom) / 2.0 - size / 2.0;
    const double key = area - 1e-3 * (cx * cx + cy * cy);
    if (key > best_key) best_key = key, best = i;
  }
  return boxes[best];
}

void find_faces(const std::string& path, const Image& img, const DatasetOptions& opt,
                FaceAnalyzer& fa, models::FaceDetector* cnn, FileOutcome& out) {
  if (opt.aligned) {
    if (img.width != img.height) {
      out.failed.reason = "not square (" + std::to_string(img.width) + "x" +
                          std::to_string(img.height) +
                          "): --aligned expects square FFHQ-style crops";
      return;
    }
    const int s = opt.size;
    Image face = resize_bilinear(img, s, s);
    std::vector<FaceBox> boxes = fa.detect(face, 0);
    if (boxes.empty()) boxes = fa.detect(face, 1);
    if (boxes.empty()) {
      out.no_face = true;
      return;
    }
    AlignedFace a;
    a.landmarks = fa.landmarks(face, main_face(boxes, s));
    const double k = static_cast<double>(s) / img.width;
    a.to_aligned = {k, 0, 0.5 * k - 0.5, 0, k, 0.5 * k - 0.5, 0,
                    0, 1};  // pixel centres scale about the edges
    a.image = std::move(face);
    out.faces.push_back(std::move(a));
    return;
  }
  std::vector<FaceBox> boxes;
  if (cnn) {
    for (const models::FaceDetection& d : detect_faces_cnn(*cnn, img, opt.cnn_min_score))
      boxes.push_back(five_point_box(d));
  } else {
    boxes = fa.detect(img);
  }
  // Small photos (tight crops such as UTKFace's 200 px chips) hold faces that one 2x
  // upsampling leaves just under the detector's ~80 px window; a second one finds some of
  // them. Only tried when the first pass found nothing, so it costs nothing elsewhere.
  if (!cnn && boxes.empty() && std::max(img.width, img.height) < 640) boxes = fa.detect(img, 2);
  if (boxes.empty()) {
    out.no_face = true;
    return;
  }
  for (size_t k = 0; k < boxes.size(); ++k) {
    const FaceBox& b = boxes[k];
    // Each face gets its own try: one face with degenerate landmarks must not discard the
    // other faces of the same photo.
    try {
      Landmarks lm = fa.landmarks(img, b);
      const double iod = inter_ocular_distance(lm);
      if (iod < opt.min_eye_distance) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "face %zu at (%d, %d): eye distance %.1f px < %.0f", k + 1,
                      b.left, b.top, iod, opt.min_eye_distance);
        out.too_small.push_back(Skipped{path, buf});
        continue;
      }
      out.faces.push_back(align_face(img, lm, opt.size));
    } catch (const std::exception& e) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "face %zu at (%d, %d): ", k + 1, b.left, b.top);
      out.face_failed.push_back(refused(path, buf, e));
    }
  }
}

FileOutcome analyse_file(const std::string& path, const DatasetOptions& opt, FaceAnalyzer& fa,
                         models::FaceDetector* cnn) {
  FileOutcome out;
  Image img;
  try {
    img = read_image(path);
  } catch (const std::exception& e) {  // maskoff::Error, or bad_alloc for an absurd size
    out.unreadable = refused(path, "", e);
    return out;
  }
  // One odd photo (degenerate landmarks, a dlib error) must not end the run.
  try {
    find_faces(path, img, opt, fa, cnn, out);
  } catch (const std::exception& e) {
    out.faces.clear();
    out.too_small.clear();
    out.face_failed.clear();
    out.no_face = false;
    out.failed = refused(path, "", e);
  }
  return out;
}

struct FaceJob {
  int64_t id = 0;
  size_t file = 0;
  AlignedFace face;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else
      o += c;
  }
  return o;
}

}  // namespace

MaskType choose_mask_type(const std::vector<MaskType>& types, uint64_t seed, int64_t index) {
  MASKOFF_CHECK(!types.empty(), "choose_mask_type: no mask types to choose from");
  const int64_t n = static_cast<int64_t>(types.size());
  const int64_t block = index / n, pos = index % n;
  // Fisher-Yates with draws keyed by the block, so each block is a permutation of the types.
  std::vector<MaskType> perm = types;
  const uint64_t s = rng_bits(seed ^ kTypeStream, static_cast<uint64_t>(block));
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t j = rng_bits(s, static_cast<uint64_t>(i)) % static_cast<uint64_t>(i + 1);
    std::swap(perm[i], perm[j]);
  }
  return perm[pos];
}

MaskOptions choose_mask_options(MaskType type, bool textures,
                                const std::vector<std::string>& texture_paths, Generator& g) {
  // Colours masks are commonly sold in: black, navy, grey, pink, light blue, olive, beige, red.
  static const std::array<std::array<uint8_t, 3>, 8> kPalette = {{{30, 30, 34},
                                                                  {32, 45, 90},
                                                                  {128, 130, 135},
                                                                  {232, 170, 190},
                                                                  {150, 195, 230},
                                                                  {95, 105, 60},
                                                                  {215, 195, 160},
                                                                  {170, 35, 45}}};
  // Always draw the same number of values, so one face's choices never shift another's.
  const double u_texture = g.uniform(), u_tint = g.uniform(), u_strength = g.uniform();
  const uint64_t colour = g.below(kPalette.size());
  const uint64_t texture = g.below(std::max<size_t>(1, texture_paths.size()));
  const uint64_t procedural_seed = rng_bits(g.seed, g.take(1));
  MaskOptions mo;
  mo.type = type;
  double p_texture = 0, p_tint = 0;
  if (type == MaskType::Cloth) p_texture = 0.5, p_tint = 0.5;
  if (type == MaskType::Surgical) p_texture = 0.25, p_tint = 0.25;
  if (type == MaskType::Procedural) {
    // The random mask draws its own colours; a fabric now and then, mostly opaque.
    mo.procedural_seed = procedural_seed;
    if (textures && !texture_paths.empty() && u_texture < 0.2) {
      mo.texture_path = texture_paths[texture];
      mo.texture_strength = 0.7 + 0.3 * u_strength;
    }
    return mo;
  }
  if (textures && !texture_paths.empty() && u_texture < p_texture) {
    mo.texture_path = texture_paths[texture];
    mo.texture_strength = 0.5 + 0.4 * u_strength;
  } else if (u_tint < p_tint) {
    mo.tint = true;
    mo.tint_rgb = kPalette[colour];
    mo.tint_strength = 0.4 + 0.4 * u_strength;
  }
  return mo;
}

namespace {

// Masks one aligned face and writes its four files; the manifest row, or `failure` set
// when mask synthesis refused the face. Output errors throw (they end the run).
ManifestRow write_face(const FaceJob& job, const std::string& source, const DatasetOptions& opt,
                       const std::vector<MaskType>& types,
                       const std::vector<std::string>& texture_paths, const MaskSynthesizer& synth,
                       const fs::path& root, Skipped& failure) {
  const std::string id = format_id(job.id);
  const MaskType type = choose_mask_type(types, opt.seed, job.id);
  Generator g(rng_bits(opt.seed ^ kFaceStream, static_cast<uint64_t>(job.id)));
  const MaskOptions mo = choose_mask_options(type, opt.textures, texture_paths, g);
  MaskedFace mf;
  try {
    mf = synth.apply(job.face.image, job.face.landmarks, mo);
  } catch (const std::exception& e) {
    failure = refused(source, "", e);
    return ManifestRow{};
  }
  write_png((root / "masked" / (id + ".png")).string(), mf.masked);
  write_png((root / "real" / (id + ".png")).string(), job.face.image);
  write_png((root / "mask" / (id + ".png")).string(), mf.mask);
  write_landmarks((root / "landmarks" / (id + ".txt")).string(), job.face.landmarks);
  return ManifestRow{id,
                     split_for_id(id, opt.seed, opt.test_fraction),
                     source,
                     mask_type_name(type),
                     "masked/" + id + ".png",
                     "real/" + id + ".png",
                     "mask/" + id + ".png",
                     "landmarks/" + id + ".txt"};
}

}  // namespace

namespace {
const char* const kSubfolders[] = {"masked", "real", "mask", "landmarks"};
const char* const kTopFiles[] = {"manifest.csv", "summary.json", "contact_sheet.png"};
}  // namespace

void prepare_output_folder(const std::string& folder, bool overwrite) {
  const fs::path root(folder);
  std::error_code ec;
  bool holds_dataset = fs::exists(root / "manifest.csv", ec);
  for (const char* sub : kSubfolders) {
    if (holds_dataset) break;
    if (fs::is_directory(root / sub, ec) && !fs::is_empty(root / sub, ec)) holds_dataset = true;
  }
  if (!holds_dataset) return;
  MASKOFF_CHECK(overwrite,
                "output folder '"
                    << folder
                    << "' already holds a dataset (manifest.csv or files in masked/, real/, mask/, "
                       "landmarks/); choose a new folder or pass --overwrite to replace it");
  // The manifest goes first: should the clean-up stop half-way, no manifest is left that
  // lists files already removed.
  for (const char* f : kTopFiles) {
    fs::remove(root / f, ec);
    MASKOFF_CHECK(!ec, "make_masked_dataset: cannot remove '" << (root / f).string()
                                                              << "': " << ec.message());
  }
  for (const char* sub : kSubfolders) {
    if (!fs::is_directory(root / sub, ec)) continue;
    for (const auto& e : fs::directory_iterator(root / sub)) {
      fs::remove_all(e.path(), ec);
      MASKOFF_CHECK(!ec, "make_masked_dataset: cannot remove '" << e.path().string()
                                                                << "': " << ec.message());
    }
  }
}

DatasetSummary build_masked_dataset(
    const DatasetOptions& opt, const std::function<void(const DatasetProgress&)>& on_progress) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  MASKOFF_CHECK(!opt.output.empty(), "make_masked_dataset: no output folder given");
  MASKOFF_CHECK(opt.size >= 16 && opt.size <= 4096,
                "make_masked_dataset: --size must be in [16, 4096], got " << opt.size);
  MASKOFF_CHECK(
      opt.test_fraction >= 0 && opt.test_fraction <= 1,
      "make_masked_dataset: --test-fraction must be in [0, 1], got " << opt.test_fraction);
  MASKOFF_CHECK(opt.contact_rows >= 0, "make_masked_dataset: --contact-rows must be >= 0");
  const int n_threads =
      opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  MASKOFF_CHECK(opt.detector == "hog" || opt.detector == "cnn",
                "make_masked_dataset: --detector must be hog or cnn, got '" << opt.detector << "'");
  std::string cnn_weights = opt.detector_weights;
  if (opt.detector == "cnn") {
    MASKOFF_CHECK(opt.cnn_min_score >= 0.2 && opt.cnn_min_score <= 1,
                  "make_masked_dataset: the CNN detector's minimum score must be in [0.2, 1], got "
                      << opt.cnn_min_score);
    if (cnn_weights.empty() && !shared_dir().empty())
      cnn_weights = shared_dir() + "/weights/face_detector_yunet";
    MASKOFF_CHECK(
        fs::is_directory(cnn_weights),
        "make_masked_dataset: --detector cnn needs the CNN face detector's weights, and "
            << (cnn_weights.empty()
                    ? std::string("no shared folder was found (../shared or MASKOFF_SHARED)")
                    : cnn_weights + " is not a folder"));
  }
  const std::vector<MaskType> types = opt.mask_types.empty() ? all_mask_types() : opt.mask_types;

  std::vector<std::string> files;
  if (opt.inputs.empty()) {
    files = dlib_example_photos();
  } else {
    for (const auto& in : opt.inputs)
      for (auto& f : list_images(in)) files.push_back(std::move(f));
  }
  if (opt.limit >= 0 && static_cast<int64_t>(files.size()) > opt.limit)
    files.resize(static_cast<size_t>(opt.limit));
  MASKOFF_CHECK(!files.empty(),
                "make_masked_dataset: no .jpg/.jpeg/.png files found in the inputs");

  const fs::path root(opt.output);
  prepare_output_folder(opt.output, opt.overwrite);
  for (const char* sub : kSubfolders) {
    std::error_code ec;
    fs::create_directories(root / sub, ec);
    MASKOFF_CHECK(!ec, "make_masked_dataset: cannot create '" << (root / sub).string()
                                                              << "': " << ec.message());
  }
  const MaskSynthesizer synth(opt.masks_dir.empty() ? default_masks_dir() : opt.masks_dir);
  const std::vector<std::string> texture_paths =
      opt.textures ? synth.texture_paths() : std::vector<std::string>{};

  // ---- shared state (all guarded by mu) ----
  std::mutex mu;
  std::condition_variable cv;
  const size_t n_files = files.size();
  std::vector<FileOutcome> outcomes(n_files);
  size_t next_file = 0, next_commit = 0;
  int64_t next_id = 0, faces_written = 0, files_done = 0;
  std::deque<FaceJob> jobs;
  std::vector<ManifestRow> rows;    // by id
  std::vector<Skipped> row_failed;  // by id: mask synthesis error, or an empty reason
  std::vector<size_t> row_file;     // by id: index into files, to name a failed face's photo
  std::exception_ptr fatal;
  int running = n_threads;

  auto finish_face = [&](size_t file) {  // under mu
    if (--outcomes[file].remaining == 0) ++files_done;
  };

  auto worker = [&]() {
    try {
      FaceAnalyzer fa(opt.predictor_path);
      std::unique_ptr<models::FaceDetector> cnn;
      if (opt.detector == "cnn") cnn = std::make_unique<models::FaceDetector>(cnn_weights);
      for (;;) {
        FaceJob job;
        bool have_job = false;
        size_t file = 0;
        {
          std::unique_lock<std::mutex> lock(mu);
          for (;;) {
            if (fatal) return;
            if (!jobs.empty()) {  // writing first keeps the queue of aligned faces short
              job = std::move(jobs.front());
              jobs.pop_front();
              have_job = true;
              break;
            }
            if (next_file < n_files) {
              file = next_file++;
              break;
            }
            if (next_commit == n_files) return;
            cv.wait(lock);
          }
        }
        if (have_job) {
          Skipped failure;
          ManifestRow row =
              write_face(job, files[job.file], opt, types, texture_paths, synth, root, failure);
          std::lock_guard<std::mutex> lock(mu);
          rows[job.id] = std::move(row);
          row_failed[job.id] = std::move(failure);
          if (row_failed[job.id].reason.empty()) ++faces_written;
          finish_face(job.file);
          continue;
        }
        FileOutcome out = analyse_file(files[file], opt, fa, cnn.get());
        std::lock_guard<std::mutex> lock(mu);
        out.ready = true;
        outcomes[file] = std::move(out);
        // Number the faces of every file that is now next in input order.
        while (next_commit < n_files && outcomes[next_commit].ready) {
          FileOutcome& o = outcomes[next_commit];
          o.remaining = static_cast<int64_t>(o.faces.size());
          if (o.remaining == 0) ++files_done;
          for (AlignedFace& f : o.faces) {
            row_file.push_back(next_commit);
            jobs.push_back(FaceJob{next_id++, next_commit, std::move(f)});
          }
          o.faces.clear();
          o.faces.shrink_to_fit();
          ++next_commit;
        }
        rows.resize(static_cast<size_t>(next_id));
        row_failed.resize(static_cast<size_t>(next_id));
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!fatal) fatal = std::current_exception();
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  for (int i = 0; i < n_threads; ++i)
    pool.emplace_back([&] {
      worker();
      std::lock_guard<std::mutex> lock(mu);
      --running;
      cv.notify_all();
    });
  auto snapshot = [&]() {  // under mu
    return DatasetProgress{files_done, static_cast<int64_t>(n_files), faces_written,
                           std::chrono::duration<double>(clock::now() - t0).count()};
  };
  {
    std::unique_lock<std::mutex> lock(mu);
    auto last = clock::now();
    while (running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (on_progress && running > 0 && clock::now() - last >= std::chrono::milliseconds(200)) {
        last = clock::now();
        DatasetProgress p = snapshot();
        lock.unlock();
        on_progress(p);
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (fatal) std::rethrow_exception(fatal);

  // ---- assemble, in id / input order so the reports are reproducible ----
  DatasetSummary s;
  s.files = static_cast<int64_t>(n_files);
  s.masks_source = synth.source_description();
  for (size_t i = 0; i < n_files; ++i) {
    const FileOutcome& o = outcomes[i];
    if (!o.unreadable.reason.empty()) s.unreadable.push_back(o.unreadable);
    if (!o.failed.reason.empty())
      s.failed.push_back(Skipped{files[i], o.failed.reason, o.failed.where});
    if (o.no_face) s.no_face.push_back(Skipped{files[i], "no face found"});
    for (const auto& t : o.too_small) s.too_small.push_back(t);
    for (const auto& f : o.face_failed) s.failed.push_back(f);
  }
  std::vector<ManifestRow> written;
  std::vector<MaskType> known = all_mask_types();
  known.push_back(MaskType::Procedural);
  std::vector<int64_t> per_type(known.size(), 0);
  for (size_t id = 0; id < rows.size(); ++id) {
    if (!row_failed[id].reason.empty()) {
      const Skipped& f = row_failed[id];
      const std::string face = "face " + format_id(static_cast<int64_t>(id)) + ": ";
      s.failed.push_back(Skipped{files[row_file[id]], face + f.reason, f.where});
      continue;
    }
    const ManifestRow& r = rows[id];
    (r.split == "test" ? s.test : s.train)++;
    for (size_t k = 0; k < known.size(); ++k)
      if (mask_type_name(known[k]) == r.mask_type) ++per_type[k];
    written.push_back(r);
  }
  for (size_t k = 0; k < known.size(); ++k) {
    const MaskType t = known[k];
    if (per_type[k] > 0 || std::find(types.begin(), types.end(), t) != types.end())
      s.per_mask_type.emplace_back(mask_type_name(t), per_type[k]);
  }
  s.faces_written = static_cast<int64_t>(written.size());
  s.manifest = (root / "manifest.csv").string();
  write_manifest(s.manifest, written);

  if (opt.contact_rows > 0 && !written.empty()) {
    const size_t n = written.size(),
                 n_rows = std::min<size_t>(static_cast<size_t>(opt.contact_rows), n);
    std::vector<std::vector<Image>> sheet_rows;
    for (size_t r = 0; r < n_rows; ++r) {
      const ManifestRow& row = written[r * n / n_rows];  // spread over the whole dataset
      sheet_rows.push_back({read_image((root / row.masked).string()),
                            read_image((root / row.real).string()),
                            read_image((root / row.mask).string())});
    }
    s.contact_sheet = (root / "contact_sheet.png").string();
    write_png(s.contact_sheet, make_contact_sheet(sheet_rows, std::min(opt.size, 128), 4));
  }
  write_text_atomic((root / "summary.json").string(), summary_json(s, opt));
  s.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  if (on_progress) on_progress(DatasetProgress{s.files, s.files, s.faces_written, s.seconds});
  return s;
}

std::string format_summary(const DatasetSummary& s, size_t max_listed) {
  std::ostringstream os;
  char buf[256];
  std::snprintf(buf, sizeof buf, "faces written: %lld from %lld files in %.1f s (%.1f faces/s)\n",
                static_cast<long long>(s.faces_written), static_cast<long long>(s.files), s.seconds,
                s.seconds > 0 ? s.faces_written / s.seconds : 0.0);
  os << buf;
  os << "masks: " << s.masks_source << "\n";
  os << "per mask type:";
  for (const auto& [name, n] : s.per_mask_type) os << " " << name << " " << n;
  os << "\nsplit: train " << s.train << ", test " << s.test << "\n";
  os << "skipped: no face " << s.no_face.size() << " files, too small " << s.too_small.size()
     << " faces, unreadable " << s.unreadable.size() << " files, failed " << s.failed.size()
     << "\n";
  auto list = [&](const char* what, const std::vector<Skipped>& v) {
    if (v.empty()) return;
    os << "  " << what << ":\n";
    for (size_t i = 0; i < v.size() && i < max_listed; ++i) {
      os << "    " << v[i].path;
      if (v[i].reason != "no face found") os << ": " << v[i].reason;
      os << "\n";
    }
    if (v.size() > max_listed)
      os << "    ... and " << v.size() - max_listed << " more (see summary.json)\n";
  };
  list("no face", s.no_face);
  list("too small", s.too_small);
  list("unreadable", s.unreadable);
  list("failed", s.failed);
  if (!s.manifest.empty()) os << "manifest: " << s.manifest << "\n";
  if (!s.contact_sheet.empty()) os << "contact sheet: " << s.contact_sheet << "\n";
  return os.str();
}

std::string summary_json(const DatasetSummary& s, const DatasetOptions& opt) {
  std::ostringstream os;
  os << "{\n  \"files\": " << s.files << ",\n  \"faces_written\": " << s.faces_written << ",\n";
  os << "  \"size\": " << opt.size << ",\n  \"aligned\": " << (opt.aligned ? "true" : "false")
     << ",\n  \"seed\": " << opt.seed << ",\n  \"test_fraction\": " << opt.test_fraction
     << ",\n  \"textures\": " << (opt.textures ? "true" : "false") << ",\n";
  os << "  \"masks\": \"" << json_escape(s.masks_source) << "\",\n";
  os << "  \"per_mask_type\": {";
  for (size_t i = 0; i < s.per_mask_type.size(); ++i)
    os << (i ? ", " : "") << "\"" << s.per_mask_type[i].first
       << "\": " << s.per_mask_type[i].second;
  os << "},\n  \"split\": {\"train\": " << s.train << ", \"test\": " << s.test << "},\n";
  auto list = [&](const char* key, const std::vector<Skipped>& v, bool last) {
    os << "  \"" << key << "\": [";
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? ",\n    " : "\n    ") << "{\"path\": \"" << json_escape(v[i].path)
         << "\", \"reason\": \"" << json_escape(v[i].reason) << "\""
         << (v[i].where.empty() ? "" : ", \"where\": \"" + json_escape(v[i].where) + "\"") << "}";
    os << (v.empty() ? "]" : "\n  ]") << (last ? "\n" : ",\n");
  };
  list("no_face", s.no_face, false);
  list("too_small", s.too_small, false);
  list("unreadable", s.unreadable, false);
  list("failed", s.failed, true);
  os << "}\n";
  return os.str();
}

}  // namespace maskoff::data
