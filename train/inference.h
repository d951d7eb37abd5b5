// Running a trained generator outside training: loading the U-Net from a train_pix2pix
// checkpoint and applying it to images, for the evaluate and remove_mask programs.
//
// Test mode here means pix2pix's normalisation (batch norm with each image's own
// statistics, which is what pix2pix's test script does, as it never switches to eval mode)
// but with dropout off: pix2pix keeps dropout on at test time as its noise source, which
// makes the same photo come out differently on every run. A metric or a retouched photo
// should be reproducible, so dropout here is the identity (the expected value of the
// training-time layer, which scales kept units by 1 / (1 - p)). Training samples
// (Pix2Pix::generate) keep pix2pix's dropout, so they may differ slightly from these outputs.
#pragma once
#include <memory>
#include <string>

#include "data/face_shape.h"
#include "models/pix2pix.h"
#include "tensor/tensor.h"
#include "train/mask_composite.h"
#include "train/options.h"

namespace maskoff::train {

struct LoadedGenerator {
  std::shared_ptr<models::UNetGenerator> g;
  int resolution = 0;  // the square side the generator was trained on
  TrainOptions options;
  Device device = Device::cpu();
  // Where the training faces' landmarks sit on the aligned face (data/face_shape.h); empty
  // when the checkpoint carries none.
  data::FaceShapeModel face_shape;
  // The mask-aware generator (options.predict_mask) and the edge its delivered mask gets.
  bool mask_head = false;
  MaskEdge edge;
};

class PairedDataset;
// The face-shape model of a training set: 6 modes, each face also mirrored. Empty when the
// set has fewer than 4 faces. train_pix2pix stores it in every checkpoint ("face_shape").
data::FaceShapeModel fit_face_shape(const PairedDataset& train);

// Reads the generator ("G/..." tensors) from a train_pix2pix checkpoint onto `device`.
// Throws naming the file when it is missing, not a train_pix2pix checkpoint, or lacks or
// mis-shapes a generator tensor. The running batch-norm statistics are read (and checked)
// but not used: see the file comment.
LoadedGenerator load_generator(const std::string& ckpt, Device device);

// What the generator gives for a batch of inputs, on the CPU.
struct GeneratorRun {
  Tensor delivered;  // [N, 3, R, R] in [-1, 1]: the composite with `mask` (with a mask head),
                     // else the raw output
  Tensor raw;        // [N, 3, R, R] the generator's own image
  Tensor logit;      // [N, 1, R, R] the mask logit; undefined without a mask head
  Tensor mask;       // [N, 1, R, R] delivered_mask(logit, edge); undefined without a head
};

// input_m11: [N, 3, R, R] (or [3, R, R]) in [-1, 1] with R the generator's resolution, on
// any device. Runs one image at a time, without recording gradients and without changing
// any state of the generator.
GeneratorRun run_generator_full(LoadedGenerator& lg, const Tensor& input_m11);
// The delivered image alone: [N, 3, R, R] in [-1, 1] on the CPU.
Tensor run_generator(LoadedGenerator& lg, const Tensor& input_m11);

}  // namespace maskoff::train
