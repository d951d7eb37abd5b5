// Training pairs from a make_masked_dataset folder, held in memory as 8-bit images, and
// pix2pix's jitter (resize to 286/256 of the resolution, random crop, random horizontal
// flip) applied identically to the masked input, the real target, the mask and the
// landmarks. The jitter draws from a counter-based stream keyed by (seed, step), so a
// batch is a pure function of its step: resuming needs no data-loader state.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/face.h"
#include "data/image.h"
#include "tensor/tensor.h"
#include "train/batch.h"

namespace maskoff::train {

// The flip's landmark permutation (data/face.h), under the name the jitter uses.
using data::kFlip68;

class PairedDataset {
 public:
  // Reads every manifest row whose split is `split` ("train", "test" or "all"), at most
  // `limit` rows (0 = all), each resized once to the jitter's load size (or straight to
  // `resolution` without jitter). Throws naming the dataset and the problem: no manifest,
  // a missing or unreadable image, no rows in the split. A non-empty `mask_types` keeps only
  // the rows whose mask_type column is one of them (before `limit`).
  static PairedDataset load(const std::string& dir, const std::string& split, int resolution,
                            bool jitter, int64_t limit = 0,
                            const std::vector<std::string>& mask_types = {});

  size_t size() const { return samples_.size(); }
  int resolution() const { return resolution_; }
  int load_size() const { return load_size_; }
  const std::string& dir() const { return dir_; }
  // The manifest's mask_type of pair i.
  const std::string& mask_type(size_t i) const { return samples_.at(i).mask_type; }

  // Every pair's landmarks in aligned-face units ((pixel + 0.5) / side): the data of the
  // face-shape model remove_mask uses (data/face_shape.h).
  std::vector<data::Landmarks> landmark_fractions() const;

  // Samples idx[0..n) with the jitter of stream (seed, step); without jitter, unchanged.
  PairedBatch batch(const std::vector<size_t>& idx, uint64_t seed, uint64_t step) const;

 private:
  struct Sample {
    std::string id, mask_type;
    data::Image masked, real, mask;  // load_size x load_size; mask has 1 channel
    data::Landmarks landmarks;       // pixels of the load_size image
  };
  std::string dir_;
  int resolution_ = 0, load_size_ = 0;
  bool jitter_ = false;
  std::vector<Sample> samples_;
};

// The jitter's load size for a crop of `resolution` (pix2pix: 286 for 256).
int jitter_load_size(int resolution);

}  // namespace maskoff::train
