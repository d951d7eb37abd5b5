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

// input_m11: [N, 3, R, R] (or [3, R, R]) in [-1, 1] with R the generator's resolution, on
// any device. Returns [N, 3, R, R] in [-1, 1] on the CPU, one image at a time, without
// recording gradients and without changing any state of the generator.
Tensor run_generator(LoadedGenerator& lg, const Tensor& input_m11);

}  // namespace maskoff::train
