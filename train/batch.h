// One training batch as Pix2Pix::train_step takes it. It lives apart from the dataset that
// fills it (train/paired_data.h, which reads images and needs the data library), so the
// training step builds without dlib, stb or zlib.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace maskoff::train {

struct PairedBatch {
  Tensor input;      // [N, 3, R, R] masked faces in [-1, 1]
  Tensor target;     // [N, 3, R, R] real faces in [-1, 1]
  Tensor mask;       // [N, 1, R, R] 1 inside the synthetic mask, 0 outside
  Tensor landmarks;  // [N, 68, 2] the real face's dlib landmarks (x, y) / R
  std::vector<std::string> ids;
};

// Turns about `fraction` of the batch's pairs into unmasked ones: the input becomes the real
// face and the mask empty, so that a mask-aware generator learns to predict no mask, and to
// change nothing, on a face without one. Which pairs is a pure function of (seed, step, index
// in the batch), like the jitter, so resumed runs see the same batches.
void make_clean_pairs(PairedBatch& b, double fraction, uint64_t seed, uint64_t step);

}  // namespace maskoff::train
