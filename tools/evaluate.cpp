// evaluate: image-quality and landmark metrics of a mask-removal model, written as
// metrics.csv (per image), metrics.json (mean and std) and a self-contained report.html.
//   --checkpoint CKPT --data DIR   runs the generator on a make_masked_dataset split
//   --pairs REAL_DIR FAKE_DIR      compares images that share a file name
//   --table A/metrics.json ...     prints one comparison table from earlier runs
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "autograd/node.h"
#include "data/dataset_writer.h"
#include "data/face.h"
#include "data/image.h"
#include "data/paths.h"
#include "layers/shape_ops.h"
#include "metrics/metrics.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "train/device.h"
#include "train/inference.h"
#include "train/paired_data.h"

using namespace maskoff;
namespace dt = maskoff::data;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The delivered image's metrics first (for a mask-aware generator the composite with its
// predicted mask), then the generator's raw output's and its mask's (empty without a mask
// head).
const std::vector<std::string> kMetrics = {
    "mse",       "psnr",    "ssim",     "lpips",    "ssim_mask", "lpips_mask", "nme",
    "nme_mouth", "mse_raw", "psnr_raw", "ssim_raw", "lpips_raw", "mask_iou",   "changed_outside"};
enum {
  kMse,
  kPsnr,
  kSsim,
  kLpips,
  kSsimMask,
  kLpipsMask,
  kNme,
  kNmeMouth,
  kMseRaw,
  kPsnrRaw,
  kSsimRaw,
  kLpipsRaw,
  kMaskIou,
  kChangedOutside,
  kCount
};
const double kMissing = std::numeric_limits<double>::quiet_NaN();

// One image to score. input is empty in pairs mode; mask is empty when none is known;
// real_landmarks is absent when the real face's landmarks could not be found, and
// landmark_box is where dlib's predictor starts on the output.
// raw, pred_mask and weights are set only for a generator with a mask head: its own output,
// its mask (logit > 0, 0/255) and the delivered mask's weights (0-255).
struct Sample {
  std::string id;
  dt::Image input, output, real, mask;
  dt::Image raw, pred_mask, weights;
  std::optional<dt::Landmarks> real_landmarks;
  dt::FaceBox landmark_box;
};

struct Row {
  std::string id;
  std::vector<double> v = std::vector<double>(kCount, kMissing);
};

// [1, 3, H, W] float32 in [0, 1], straight from the 8-bit values (x / 255).
Tensor unit_tensor(const dt::Image& img) {
  Tensor t = empty({1, 3, img.height, img.width});
  float* p = t.data<float>();
  const int64_t plane = int64_t(img.width) * img.height;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < 3; ++c)
        p[c * plane + int64_t(y) * img.width + x] = img.at(x, y, c) / 255.f;
  return t;
}

// The mask image (0/255 in its first channel) as a 0/1 [H, W] tensor.
Tensor mask_tensor(const dt::Image& m) {
  Tensor t = empty({m.height, m.width});
  float* p = t.data<float>();
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x)
      p[int64_t(y) * m.width + x] = m.at(x, y, 0) >= 128 ? 1.f : 0.f;
  return t;
}

// SSIM and LPIPS need a minimum window; a smaller mask box is grown about its centre (and
// shifted to stay inside the image) to that side. Absent when the image itself is smaller.
std::optional<metrics::Box> grown_box(metrics::Box b, int64_t min_side, int64_t h, int64_t w) {
  if (h < min_side || w < min_side) return std::nullopt;
  auto grow = [&](int64_t& lo, int64_t& hi, int64_t limit) {
    if (hi - lo >= min_side) return;
    const int64_t extra = min_side - (hi - lo);
    lo -= extra / 2;
    hi = lo + min_side;
    if (lo < 0) hi -= lo, lo = 0;
    if (hi > limit) lo -= hi - limit, hi = limit;
  };
  grow(b.y0, b.y1, h);
  grow(b.x0, b.x1, w);
  return b;
}

metrics::Landmarks68 to68(const dt::Landmarks& lm) {
  metrics::Landmarks68 out;
  for (int i = 0; i < 68; ++i) out[i] = {lm[i].x, lm[i].y};
  return out;
}

// The intersection over union of two 0/255 masks (1 when both are empty).
double mask_iou(const dt::Image& pred, const dt::Image& truth) {
  MASKOFF_CHECK(pred.width == truth.width && pred.height == truth.height,
                "mask_iou: masks of " << pred.width << "x" << pred.height << " and " << truth.width
                                      << "x" << truth.height);
  int64_t inter = 0, uni = 0;
  for (int y = 0; y < pred.height; ++y)
    for (int x = 0; x < pred.width; ++x) {
      const bool p = pred.at(x, y, 0) >= 128, t = truth.at(x, y, 0) >= 128;
      inter += p && t;
      uni += p || t;
    }
  return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

// The largest change from input to output, in 8-bit steps, over the pixels whose delivered
// mask weight is 0: the promise that nothing outside the (dilated) predicted mask changes.
double changed_outside(const Sample& s) {
  int worst = 0;
  for (int y = 0; y < s.output.height; ++y)
    for (int x = 0; x < s.output.width; ++x)
      if (s.weights.at(x, y, 0) == 0)
        for (int c = 0; c < 3; ++c)
          worst = std::max(worst, std::abs(int(s.output.at(x, y, c)) - int(s.input.at(x, y, c))));
  return worst;
}

struct Scorer {
  std::shared_ptr<metrics::Lpips> lpips;  // null: LPIPS columns stay empty
  dt::FaceAnalyzer faces;

  // MSE, PSNR, SSIM and LPIPS of a against b ([1, 3, H, W] in [0, 1]) into v[0..3].
  void whole_image(const Tensor& a, const Tensor& b, double* v) {
    const int64_t H = b.size(2), W = b.size(3);
    v[0] = metrics::mse(a, b)[0];
    v[1] = metrics::psnr(a, b)[0];
    if (H >= metrics::kSsimWindow && W >= metrics::kSsimWindow) v[2] = metrics::ssim(a, b)[0];
    if (lpips && H >= metrics::Lpips::kMinSide && W >= metrics::Lpips::kMinSide)
      v[3] = lpips->distance(a, b).to_vector<float>()[0];
  }

  Row score(const Sample& s) {
    MASKOFF_CHECK(s.output.width == s.real.width && s.output.height == s.real.height,
                  s.id << ": output " << s.output.width << "x" << s.output.height << " and real "
                       << s.real.width << "x" << s.real.height << " differ in size");
    autograd::NoGradGuard no_grad;
    Row r;
    r.id = s.id;
    const Tensor a = unit_tensor(s.output), b = unit_tensor(s.real);
    const int64_t H = s.real.height, W = s.real.width;
    whole_image(a, b, &r.v[kMse]);
    if (!s.raw.empty()) {
      whole_image(unit_tensor(s.raw), b, &r.v[kMseRaw]);
      r.v[kMaskIou] = mask_iou(s.pred_mask, s.mask);
      r.v[kChangedOutside] = changed_outside(s);
    }
    if (!s.mask.empty()) {
      MASKOFF_CHECK(s.mask.width == W && s.mask.height == H,
                    s.id << ": the mask is " << s.mask.width << "x" << s.mask.height
                         << ", the images " << W << "x" << H);
      const Tensor m = mask_tensor(s.mask);
      bool any = false;
      for (float v : m.to_vector<float>()) any = any || v > 0;
      if (any) {
        const metrics::Box box = metrics::mask_box(m);
        if (auto g = grown_box(box, metrics::kSsimWindow, H, W))
          r.v[kSsimMask] = metrics::ssim_in_box(a, b, *g)[0];
        if (lpips)
          if (auto g = grown_box(box, metrics::Lpips::kMinSide, H, W))
            r.v[kLpipsMask] = lpips->distance_in_box(a, b, *g).to_vector<float>()[0];
      }
    }
    if (s.real_landmarks) {
      const dt::Landmarks got = faces.landmarks(s.output, s.landmark_box);
      r.v[kNme] = metrics::nme(to68(got), to68(*s.real_landmarks));
      r.v[kNmeMouth] = metrics::nme(to68(got), to68(*s.real_landmarks), true);
    }
    return r;
  }
};

std::string fmt(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

struct Stat {
  double mean = kMissing, std = kMissing;
  int64_t n = 0;
};

// Mean and population standard deviation of the values that are present.
Stat stat_of(const std::vector<Row>& rows, int k) {
  Stat s;
  double sum = 0;
  for (const Row& r : rows)
    if (!std::isnan(r.v[k])) sum += r.v[k], ++s.n;
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  double ss = 0;
  for (const Row& r : rows)
    if (!std::isnan(r.v[k])) ss += (r.v[k] - s.mean) * (r.v[k] - s.mean);
  s.std = std::sqrt(ss / s.n);
  return s;
}

json num_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

const char* kConventions[] = {
    "Images are compared as 8-bit RGB scaled to [0, 1], at the model's resolution in checkpoint "
    "mode.",
    "MSE: mean over pixels and channels of the squared difference on [0, 1] (x 65025 for 8-bit "
    "units).",
    "PSNR: 10 log10(1 / MSE) dB, peak 1, capped at 100 dB (identical images).",
    "SSIM: Wang et al. 2004 as scikit-image computes it with gaussian_weights=True: 11x11 Gaussian "
    "window, sigma "
    "1.5, K1 0.01, K2 0.03, population covariances, data range 1, mean over the pixels 5 or more "
    "from the edge, then "
    "over channels.",
    "LPIPS: version 0.1, AlexNet backbone, linear heads on; inputs mapped to [-1, 1].",
    "ssim_mask, lpips_mask: the same on the bounding box of the mask, grown about its centre to at "
    "least 11x11 "
    "(SSIM) or 31x31 (LPIPS) where smaller.",
    "NME: mean distance of dlib's 68 landmarks on the output to the real face's, divided by the "
    "real face's outer "
    "eye-corner distance (points 36 and 45, from 0); nme_mouth over the mouth points 48-67 only. "
    "dlib's predictor is "
    "started from the bounding box of the real landmarks.",
    "For a generator with a mask head the first eight metrics score the delivered image: the "
    "composite m G(x) + (1 - m) x with the delivered mask m (the pixels whose mask logit is "
    "positive, dilated and feathered); mse_raw, psnr_raw, ssim_raw and lpips_raw score G(x) "
    "itself; mask_iou is the intersection over union of the predicted mask (logit > 0, i.e. "
    "probability > 0.5) with the dataset's mask; changed_outside is the largest change from "
    "input to output, in 8-bit steps, over the pixels the delivered mask leaves at weight 0.",
    "std is the population standard deviation over the images that have the metric.",
};

void write_outputs(const std::string& out_dir, const std::vector<Row>& rows, const json& settings,
                   const std::vector<Sample>& shown, bool has_input) {
  fs::create_directories(fs::path(out_dir) / "images");
  std::ostringstream csv;
  csv << "id";
  for (const auto& m : kMetrics) csv << "," << m;
  csv << "\n";
  for (const Row& r : rows) {
    csv << r.id;
    for (double v : r.v) csv << "," << fmt(v);
    csv << "\n";
  }
  dt::write_text_atomic((fs::path(out_dir) / "metrics.csv").string(), csv.str());

  json j;
  j["count"] = rows.size();
  for (int k = 0; k < kCount; ++k) {
    const Stat s = stat_of(rows, k);
    j[kMetrics[k]] = {{"mean", num_or_null(s.mean)}, {"std", num_or_null(s.std)}, {"n", s.n}};
  }
  j["settings"] = settings;
  j["conventions"] = kConventions;
  dt::write_text_atomic((fs::path(out_dir) / "metrics.json").string(), j.dump(2) + "\n");

  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>maskoff "
       "evaluation</title>\n<style>"
       "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px "
       "solid #bbb;"
       "padding:3px "
       "8px;text-align:right}th{background:#eee}img{width:128px;height:128px;image-rendering:"
       "pixelated}"
       ".grid "
       "td{text-align:center}pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;"
       "padding:0.5em;font-size:85%}</style></head><body>\n<h1>maskoff evaluation</h1>\n"
       "<details><summary>settings</summary><pre>"
    << html_escape(settings.dump(2)) << "</pre></details>\n<h2>Summary (" << rows.size()
    << " images)</h2>\n<table><tr><th>metric</th><th>mean</th><th>std</th><th>images</th></tr>\n";
  for (int k = 0; k < kCount; ++k) {
    const Stat s = stat_of(rows, k);
    h << "<tr><th>" << kMetrics[k] << "</th><td>" << (s.n ? fmt(s.mean) : "-") << "</td><td>"
      << (s.n ? fmt(s.std) : "-") << "</td><td>" << s.n << "</td></tr>\n";
  }
  h << "</table>\n<h2>Conventions</h2>\n<ul>\n";
  const bool has_raw = !shown.empty() && !shown[0].raw.empty();
  for (const char* c : kConventions) h << "<li>" << html_escape(c) << "</li>\n";
  h << "</ul>\n<h2>Images</h2>\n<table class=\"grid\"><tr><th>id</th>"
    << (has_input ? "<th>input</th>" : "") << "<th>output</th>"
    << (has_raw ? "<th>raw output</th><th>predicted mask</th>" : "")
    << "<th>real</th><th>psnr</th><th>ssim</th><th>lpips</th><th>nme</th>"
    << (has_raw ? "<th>mask_iou</th>" : "") << "</tr>\n";
  for (size_t i = 0; i < shown.size(); ++i) {
    char stem[32];
    std::snprintf(stem, sizeof stem, "%04zu", i);
    auto save = [&](const dt::Image& img, const char* what) {
      const std::string name = std::string("images/") + stem + "_" + what + ".png";
      dt::write_png((fs::path(out_dir) / name).string(), img);
      return "<td><img src=\"" + name + "\" alt=\"" + what + "\"></td>";
    };
    const Row& r = rows[i];
    h << "<tr><td>" << html_escape(r.id) << "</td>"
      << (has_input ? save(shown[i].input, "input") : "") << save(shown[i].output, "output");
    if (has_raw) h << save(shown[i].raw, "raw") << save(dt::to_rgb(shown[i].pred_mask), "mask");
    h << save(shown[i].real, "real");
    for (int k : {kPsnr, kSsim, kLpips, kNme})
      h << "<td>" << (std::isnan(r.v[k]) ? "-" : fmt(r.v[k])) << "</td>";
    if (has_raw) h << "<td>" << fmt(r.v[kMaskIou]) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n</body></html>\n";
  dt::write_text_atomic((fs::path(out_dir) / "report.html").string(), h.str());
}

void print_summary(const std::vector<Row>& rows) {
  std::printf("%-11s %12s %12s %7s\n", "metric", "mean", "std", "images");
  for (int k = 0; k < kCount; ++k) {
    const Stat s = stat_of(rows, k);
    if (s.n == 0)
      std::printf("%-11s %12s %12s %7lld\n", kMetrics[k].c_str(), "-", "-", 0LL);
    else
      std::printf("%-11s %12.6g %12.6g %7lld\n", kMetrics[k].c_str(), s.mean, s.std,
                  static_cast<long long>(s.n));
  }
}

// Image files directly inside `dir` (not below), sorted by name.
std::vector<std::string> images_in(const std::string& dir) {
  MASKOFF_CHECK(fs::is_directory(dir), "evaluate: " << dir << " is not a folder");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && dt::is_image_file(e.path().string()))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  MASKOFF_CHECK(!names.empty(), "evaluate: no .png/.jpg images in " << dir);
  return names;
}

// Prints the comparison table of several runs: one row per metrics.json, mean +- std.
int print_table(const std::vector<std::string>& files) {
  std::printf("| run | images |");
  for (const auto& m : kMetrics) std::printf(" %s |", m.c_str());
  std::printf("\n|---|---:|");
  for (size_t i = 0; i < kMetrics.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const std::string& f : files) {
    std::ifstream in(f);
    MASKOFF_CHECK(in, "evaluate --table: cannot read " << f);
    json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      MASKOFF_FAIL("evaluate --table: " << f << " is not valid JSON: " << e.what());
    }
    MASKOFF_CHECK(j.contains("count"),
                  "evaluate --table: " << f << " is not an evaluate metrics.json (no 'count')");
    // A run is named by its folder (OUT of evaluate): metrics.json files all share a name.
    const fs::path p = fs::absolute(f);
    const std::string label = p.has_parent_path() ? p.parent_path().filename().string() : f;
    std::printf("| %s | %lld |", label.c_str(), j.at("count").get<long long>());
    for (const auto& m : kMetrics) {
      if (!j.contains(m) || j[m].at("mean").is_null()) {
        std::printf(" - |");
        continue;
      }
      std::printf(" %.4g ± %.3g |", j[m].at("mean").get<double>(), j[m].at("std").get<double>());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Score a mask-removal model: MSE, PSNR, SSIM, LPIPS (whole image and mask box) and landmark "
      "NME.\n"
      "Writes OUT/metrics.csv, OUT/metrics.json and OUT/report.html, and prints the summary."};
  std::string ckpt, data_dir, split = "test", out_dir, masks_dir, device_name = "auto", lpips_dir;
  std::vector<std::string> pairs, tables;
  int64_t limit = 0;
  int report_images = 12, threads = 0;
  app.add_option("--checkpoint", ckpt, "train_pix2pix checkpoint to evaluate on --data");
  app.add_option("--data", data_dir, "make_masked_dataset folder (with --checkpoint)");
  app.add_option("--split", split, "train, test or all")->capture_default_str();
  app.add_option("--limit", limit, "score at most this many images (0: all)")
      ->capture_default_str();
  std::vector<std::string> mask_types;
  std::vector<int64_t> mask_edge;
  app.add_option("--mask-edge", mask_edge,
                 "with a mask-aware checkpoint: DILATE,FEATHER in pixels at the model's "
                 "resolution for the delivered mask (default: one pixel each per 64 of the side)")
      ->expected(2)
      ->delimiter(',');
  app.add_option("--mask-types", mask_types,
                 "with --checkpoint: score only the rows of these mask types (comma list of the "
                 "manifest's mask_type names, e.g. cloth,KN95,gas)")
      ->delimiter(',');
  app.add_option("--pairs", pairs, "REAL_DIR FAKE_DIR: compare the images that share a file name")
      ->expected(2);
  app.add_option("--masks", masks_dir,
                 "with --pairs: folder of masks (0/255, same file names) for the *_mask metrics");
  app.add_option("--table", tables, "print one table from these metrics.json files and exit")
      ->expected(1, 1 << 20);
  app.add_option("--out", out_dir, "output folder");
  app.add_option("--lpips-weights", lpips_dir,
                 "LPIPS AlexNet weights (default: <shared>/weights/lpips_alex)");
  app.add_option("--report-images", report_images, "images shown in report.html")
      ->capture_default_str();
  app.add_option("--device", device_name, "where the generator runs: auto, cpu or cuda")
      ->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const int modes = !ckpt.empty() + !pairs.empty() + !tables.empty();
    if (modes != 1) {
      std::cerr << "evaluate: give exactly one of --checkpoint CKPT --data DIR, --pairs REAL_DIR "
                   "FAKE_DIR, or "
                   "--table FILE... (see --help)\n";
      return 2;
    }
    if (!tables.empty()) return print_table(tables);
    if (out_dir.empty() || (!ckpt.empty() && data_dir.empty())) {
      std::cerr
          << "evaluate: --out DIR is required, and --data DIR with --checkpoint (see --help)\n";
      return 2;
    }
    if (threads > 0) set_num_threads(threads);

    Scorer scorer;
    json settings;
    settings["lpips_weights"] = nullptr;
    {
      const bool explicit_dir = !lpips_dir.empty();
      if (!explicit_dir && !dt::shared_dir().empty())
        lpips_dir = (fs::path(dt::shared_dir()) / "weights" / "lpips_alex").string();
      if (explicit_dir || (!lpips_dir.empty() && fs::is_directory(lpips_dir))) {
        scorer.lpips = metrics::Lpips::load(lpips_dir);
        settings["lpips_weights"] = lpips_dir;
      } else {
        std::fprintf(stderr,
                     "evaluate: LPIPS weights not found (%s); the lpips columns are left empty "
                     "(pass --lpips-weights DIR or set MASKOFF_SHARED)\n",
                     lpips_dir.empty() ? "no shared folder" : lpips_dir.c_str());
      }
    }

    std::vector<Row> rows;
    std::vector<Sample> shown;
    const auto keep = [&](Sample&& s, const Row& r) {
      rows.push_back(r);
      if (static_cast<int>(shown.size()) < report_images) shown.push_back(std::move(s));
    };
    int64_t no_landmarks = 0;
    const bool tty = ::isatty(STDERR_FILENO);
    const auto progress = [&](size_t done, size_t total) {
      if (tty) std::fprintf(stderr, "\r%zu/%zu images", done, total);
      if (done == total) std::fprintf(stderr, "%s%zu images scored\n", tty ? "\n" : "", total);
    };
    if (!ckpt.empty()) {
      const Device device = train::select_device(device_name, std::cerr);
      train::LoadedGenerator gen = train::load_generator(ckpt, device);
      if (!mask_edge.empty()) {
        MASKOFF_CHECK(mask_edge[0] >= 0 && mask_edge[1] >= 0 && mask_edge[1] <= mask_edge[0],
                      "--mask-edge needs 0 <= FEATHER <= DILATE, got " << mask_edge[0] << ","
                                                                       << mask_edge[1]);
        gen.edge = {mask_edge[0], mask_edge[1]};
      }
      const int R = gen.resolution;
      std::fprintf(stderr, "evaluate: generator %dx%d from %s on %s, %d threads\n", R, R,
                   ckpt.c_str(), device.str().c_str(), num_threads());
      const auto ds = train::PairedDataset::load(data_dir, split, R, false, limit, mask_types);
      settings.update({{"mode", "checkpoint"},
                       {"checkpoint", ckpt},
                       {"data", data_dir},
                       {"split", split},
                       {"limit", limit},
                       {"mask_types", mask_types},
                       {"mask_head", gen.mask_head},
                       {"mask_edge", {gen.edge.dilate, gen.edge.feather}},
                       {"resolution", R},
                       {"options", gen.options.to_json()},
                       {"test_mode", "batch statistics per image, dropout off"}});
      for (size_t i = 0; i < ds.size(); ++i) {
        const train::PairedBatch b = ds.batch({i}, 0, 0);
        const train::GeneratorRun run = train::run_generator_full(gen, b.input);
        Sample s;
        s.id = b.ids[0];
        s.input = dt::tensor_to_image(b.input);
        s.output = dt::tensor_to_image(run.delivered);
        s.real = dt::tensor_to_image(b.target);
        if (gen.mask_head) {
          s.raw = dt::tensor_to_image(run.raw);
          s.pred_mask = dt::Image(R, R, 1);
          s.weights = dt::Image(R, R, 1);
          const auto logit = run.logit.to_vector<float>();
          const auto weight = run.mask.to_vector<float>();
          for (size_t k = 0; k < logit.size(); ++k) {
            s.pred_mask.pixels[k] = logit[k] > 0 ? 255 : 0;
            s.weights.pixels[k] = static_cast<uint8_t>(std::lround(weight[k] * 255));
            if (weight[k] > 0 && s.weights.pixels[k] == 0) s.weights.pixels[k] = 1;
          }
        }
        s.mask = dt::Image(R, R, 1);
        const auto mk = b.mask.to_vector<float>();
        for (size_t k = 0; k < mk.size(); ++k) s.mask.pixels[k] = mk[k] > 0.5f ? 255 : 0;
        const auto lm = b.landmarks.to_vector<float>();
        dt::Landmarks real_lm;
        for (int k = 0; k < 68; ++k)
          real_lm[k] = {double(lm[k * 2]) * R, double(lm[k * 2 + 1]) * R};
        s.real_landmarks = real_lm;
        s.landmark_box = dt::landmark_box(real_lm);
        const Row r = scorer.score(s);
        keep(std::move(s), r);
        progress(i + 1, ds.size());
      }
    } else {
      const std::string real_dir = pairs[0], fake_dir = pairs[1];
      std::vector<std::string> names = images_in(real_dir);
      if (limit > 0 && static_cast<int64_t>(names.size()) > limit) names.resize(limit);
      settings.update({{"mode", "pairs"},
                       {"real", real_dir},
                       {"fake", fake_dir},
                       {"limit", limit},
                       {"masks", masks_dir.empty() ? json(nullptr) : json(masks_dir)}});
      for (size_t i = 0; i < names.size(); ++i) {
        Sample s;
        s.id = names[i];
        s.real = dt::read_image((fs::path(real_dir) / names[i]).string());
        const fs::path fake = fs::path(fake_dir) / names[i];
        MASKOFF_CHECK(fs::exists(fake),
                      "evaluate: " << fake.string() << " is missing (every image of " << real_dir
                                   << " needs a partner of the same name in " << fake_dir << ")");
        s.output = dt::read_image(fake.string());
        if (!masks_dir.empty()) s.mask = dt::read_image((fs::path(masks_dir) / names[i]).string());
        // The largest face dlib finds on the real image is the one compared.
        const auto boxes = scorer.faces.detect(s.real);
        if (!boxes.empty()) {
          const auto area = [](const dt::FaceBox& b) {
            return double(b.right - b.left) * (b.bottom - b.top);
          };
          const auto best =
              *std::max_element(boxes.begin(), boxes.end(),
                                [&](const auto& a, const auto& b) { return area(a) < area(b); });
          // Re-fitted from the box the output's fit starts from, so both fits start alike and
          // identical images score exactly 0.
          s.landmark_box = dt::landmark_box(scorer.faces.landmarks(s.real, best));
          s.real_landmarks = scorer.faces.landmarks(s.real, s.landmark_box);
        } else {
          ++no_landmarks;
        }
        const Row r = scorer.score(s);
        keep(std::move(s), r);
        progress(i + 1, names.size());
      }
      if (no_landmarks)
        std::fprintf(
            stderr,
            "evaluate: dlib found no face on %lld real image%s; their nme columns are empty\n",
            static_cast<long long>(no_landmarks), no_landmarks == 1 ? "" : "s");
    }
    settings["lpips_version"] = "0.1 alex";
    settings["psnr_cap_db"] = metrics::kPsnrCapDb;
    settings["nme_normalisation"] = "outer eye corners 36-45 of the real face";
    write_outputs(out_dir, rows, settings, shown, !ckpt.empty());
    print_summary(rows);
    std::printf("wrote %s/metrics.csv, metrics.json, report.html\n", out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evaluate: %s\n", message_of(e).c_str());
    return 1;
  }
}
