#include "train/paired_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/dataset_writer.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

namespace maskoff::train {

std::vector<data::Landmarks> PairedDataset::landmark_fractions() const {
  std::vector<data::Landmarks> out;
  out.reserve(samples_.size());
  for (const Sample& s : samples_) {
    data::Landmarks f;
    for (int i = 0; i < 68; ++i)
      f[i] = data::Point2{(s.landmarks[i].x + 0.5) / load_size_,
                          (s.landmarks[i].y + 0.5) / load_size_};
    out.push_back(f);
  }
  return out;
}

int jitter_load_size(int resolution) {
  return static_cast<int>(std::lround(resolution * 286.0 / 256.0));
}

PairedDataset PairedDataset::load(const std::string& dir, const std::string& split, int resolution,
                                  bool jitter, int64_t limit,
                                  const std::vector<std::string>& mask_types) {
  namespace fs = std::filesystem;
  MASKOFF_CHECK(resolution >= 8, "training resolution must be at least 8, got " << resolution);
  MASKOFF_CHECK(split == "train" || split == "test" || split == "all",
                "unknown split '" << split << "' (train, test or all)");
  const fs::path manifest = fs::path(dir) / "manifest.csv";
  MASKOFF_CHECK(fs::is_regular_file(manifest),
                "dataset " << dir << " has no manifest.csv (make one with make_masked_dataset)");
  std::vector<data::ManifestRow> rows;
  auto wanted = [&](const std::string& type) {
    return mask_types.empty() ||
           std::find(mask_types.begin(), mask_types.end(), type) != mask_types.end();
  };
  for (auto& r : data::read_manifest(manifest.string()))
    if ((split == "all" || r.split == split) && wanted(r.mask_type)) rows.push_back(std::move(r));
  if (limit > 0 && static_cast<int64_t>(rows.size()) > limit) rows.resize(limit);
  std::string types;
  for (const std::string& t : mask_types) types += (types.empty() ? "" : ",") + t;
  MASKOFF_CHECK(!rows.empty(), "dataset " << dir << " has no '" << split << "' rows"
                                          << (types.empty() ? "" : " with mask type " + types)
                                          << " in " << manifest.string());

  PairedDataset ds;
  ds.dir_ = dir;
  ds.resolution_ = resolution;
  ds.jitter_ = jitter;
  ds.load_size_ = jitter ? jitter_load_size(resolution) : resolution;
  ds.samples_.resize(rows.size());
  const int L = ds.load_size_;
  std::vector<std::string> errors(rows.size());
  parallel_for(
      static_cast<int64_t>(rows.size()),
      [&](int64_t i) {
        const auto& r = rows[i];
        Sample& s = ds.samples_[i];
        try {
          s.id = r.id;
          s.mask_type = r.mask_type;
          const fs::path base(dir);
          data::Image masked = data::read_image((base / r.masked).string());
          data::Image real = data::read_image((base / r.real).string());
          data::Image mask = data::read_image((base / r.mask).string());
          MASKOFF_CHECK(masked.width == real.width && masked.height == real.height &&
                            mask.width == real.width && mask.height == real.height,
                        "row " << r.id << ": masked, real and mask images differ in size");
          MASKOFF_CHECK(real.width == real.height, "row " << r.id << ": images must be square, got "
                                                          << real.width << "x" << real.height);
          const double scale = static_cast<double>(L) / real.width;
          s.masked = data::resize_bilinear(masked, L, L);
          s.real = data::resize_bilinear(real, L, L);
          data::Image m3 = data::resize_bilinear(mask, L, L);
          s.mask = data::Image(L, L, 1);
          for (int y = 0; y < L; ++y)
            for (int x = 0; x < L; ++x) s.mask.at(x, y, 0) = m3.at(x, y, 0) >= 128 ? 255 : 0;
          data::Landmarks lm = data::read_landmarks((base / r.landmarks).string());
          // Pixel-centre convention: centre of pixel i sits at i, so i + 0.5 scales.
          for (auto& p : lm) {
            p.x = (p.x + 0.5) * scale - 0.5;
            p.y = (p.y + 0.5) * scale - 0.5;
          }
          s.landmarks = lm;
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      },
      1);
  for (const auto& e : errors) MASKOFF_CHECK(e.empty(), "dataset " << dir << ": " << e);
  return ds;
}

PairedBatch PairedDataset::batch(const std::vector<size_t>& idx, uint64_t seed,
                                 uint64_t step) const {
  MASKOFF_CHECK(!idx.empty(), "PairedDataset::batch: empty index list");
  const int R = resolution_, L = load_size_;
  const int64_t N = static_cast<int64_t>(idx.size());
  PairedBatch b;
  b.input = empty({N, 3, R, R});
  b.target = empty({N, 3, R, R});
  b.mask = empty({N, 1, R, R});
  b.landmarks = empty({N, 68, 2});
  float* in = b.input.data<float>();
  float* tg = b.target.data<float>();
  float* mk = b.mask.data<float>();
  float* lmk = b.landmarks.data<float>();
  // Three draws per sample from the stream (seed, step): crop x, crop y, flip.
  Generator g(seed ^ 0x6a09e667f3bcc909ull);
  g.offset = step * 4096;
  for (int64_t n = 0; n < N; ++n) {
    MASKOFF_CHECK(idx[n] < samples_.size(),
                  "PairedDataset::batch: index " << idx[n] << " out of range");
    const Sample& s = samples_[idx[n]];
    b.ids.push_back(s.id);
    int ox = 0, oy = 0;
    bool flip = false;
    if (jitter_) {
      ox = static_cast<int>(g.below(L - R + 1));
      oy = static_cast<int>(g.below(L - R + 1));
      flip = g.uniform() < 0.5;
    }
    const size_t plane = static_cast<size_t>(R) * R;
    for (int y = 0; y < R; ++y) {
      for (int x = 0; x < R; ++x) {
        const int sx = flip ? ox + (R - 1 - x) : ox + x, sy = oy + y;
        const size_t o = static_cast<size_t>(y) * R + x;
        for (int c = 0; c < 3; ++c) {
          in[(n * 3 + c) * plane + o] = s.masked.at(sx, sy, c) / 127.5f - 1.f;
          tg[(n * 3 + c) * plane + o] = s.real.at(sx, sy, c) / 127.5f - 1.f;
        }
        mk[n * plane + o] = s.mask.at(sx, sy, 0) ? 1.f : 0.f;
      }
    }
    for (int i = 0; i < 68; ++i) {
      const data::Point2& p = s.landmarks[flip ? kFlip68[i] : i];
      double x = p.x - ox, y = p.y - oy;
      if (flip) x = (R - 1) - x;
      lmk[(n * 68 + i) * 2 + 0] = static_cast<float>(x / R);
      lmk[(n * 68 + i) * 2 + 1] = static_cast<float>(y / R);
    }
  }
  return b;
}

}  // namespace maskoff::train
