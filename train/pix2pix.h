// The pix2pix model pair with the paper's generator objective, and one training step:
//   D:  0.5 * (GAN(D(x, G(x)), fake) + GAN(D(x, y), real))
//   G:  GAN(D(x, G(x)), real) + l1 * |G(x) - y|  + mask * MSE inside the mask
//       + landmark * mean distance between the 68 landmarks of G(x) and of y
// With the mask head (TrainOptions::predict_mask) G also predicts a mask logit s, trained by
// seg * BCE(s, the dataset's mask); D judges the composite c = m G(x) + (1 - m) x with
// m = sigmoid(s), and the L1, masked-MSE and landmark terms compare c (--loss-on composite,
// the default) or G(x) (raw) with y.
// The landmark term is either the differentiable 68-point network (cnn) or dlib's
// predictor on the generated image (dlib: computed and reported, but it carries no
// gradient, as dlib's regression trees are not differentiable).
//
// This file and its library (maskoff_train_core) need neither dlib, stb nor zlib, so the
// GPU programs that time the step build on a machine without them; dlib's term is handed
// in by the caller (train/dlib_landmarks.h, in the data-side library maskoff_train).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/landmark_net.h"
#include "models/pix2pix.h"
#include "optim/adam.h"
#include "train/batch.h"
#include "train/checkpoint.h"
#include "train/options.h"

namespace maskoff::train {

// Loss values of one step (unweighted, except total).
struct LossTerms {
  double g_gan = 0, g_l1 = 0, g_mask = 0, g_landmark = 0, g_total = 0;
  double d_real = 0, d_fake = 0;
  double g_seg = 0;  // the mask head's cross-entropy (0 without a mask head)
};
// Column names for train_log.csv, in the order loss_values() gives them.
std::vector<std::string> loss_names();
std::vector<double> loss_values(const LossTerms& t);
// The index (into loss_names() and loss_values()) of the first loss term that is NaN or
// infinite, or -1 when all are finite.
int first_nonfinite_loss(const LossTerms& t);

// A tensor of the model or its optimisers holding NaN or infinite values.
struct NonFinite {
  std::string
      name;  // e.g. "G.model.model.1.weight", "D.model.2.weight.grad", "optG.<name>.exp_avg"
  int64_t count = 0, numel = 0;
};

// A landmark distance measured outside the graph (no gradient): for each generated image
// (fake: [N, 3, R, R] in [-1, 1], on the CPU) the mean distance between the 68 landmarks
// found on it and the real face's (target_landmarks: [N, 68, 2] / R, on the CPU), in units
// of the image side, averaged over the batch. --landmark-loss dlib uses dlib's predictor.
using LandmarkDistanceFn =
    std::function<double(const Tensor& fake, const Tensor& target_landmarks)>;

class Pix2Pix {
 public:
  // Builds G and D (pix2pix's N(0, 0.02) init from opts.seed) on the CPU, moves them to
  // `device`, and loads the landmark network when the cnn landmark loss is on. With
  // --landmark-loss dlib (and a nonzero weight) `dlib_landmarks` must be given
  // (dlib_landmark_distance() in train/dlib_landmarks.h); it is ignored otherwise.
  Pix2Pix(const TrainOptions& opts, Device device, LandmarkDistanceFn dlib_landmarks = {});
  ~Pix2Pix();

  LossTerms train_step(const PairedBatch& batch);

  // With skipping on, an update whose gradients hold a NaN or an infinity is not applied,
  // as AMP's GradScaler skips such steps, and the network's batch-norm statistics go back
  // to what they were before the step; skipped_d() and skipped_g() say which were held. It
  // costs one read-back of gradient counts per network and step, so it is off by default.
  void set_skip_nonfinite(bool on) { skip_nonfinite_ = on; }
  bool skipped_d() const { return skipped_d_; }  // the last step's D update was held back
  bool skipped_g() const { return skipped_g_; }
  // Every parameter, gradient (with_grads), Adam moment and batch-norm buffer holding NaN
  // or infinite values, in that order, G before D within each kind; one read-back on the
  // GPU. Without the gradients, it is what a checkpoint would hold.
  std::vector<NonFinite> nonfinite_tensors(bool with_grads = true) const;
  // Called after each backward pass, before its optimiser's step, with "G" or "D" and the
  // network just differentiated (tests use it to corrupt a gradient).
  using GradHook = std::function<void(const std::string& net, const Module& m)>;
  void set_grad_hook(GradHook hook) { grad_hook_ = std::move(hook); }
  void set_lr(double lr);

  // The generator's output as pix2pix shows it at test time (batch statistics, dropout on;
  // with the mask head, the image channels and then the mask logit), one image at a time, leaving
  // every piece of training state (running statistics, dropout streams) exactly as it was.
  Tensor generate(const Tensor& input);

  // Weights, buffers, optimiser state and dropout streams, under names "G/...", "D/...",
  // "optG/...", "optD/..." and meta["state"].
  void save_state(Checkpoint& ck) const;
  void load_state(const Checkpoint& ck);

  models::UNetGenerator& generator() { return *g_; }
  models::PatchGANDiscriminator& discriminator() { return *d_; }
  Adam& opt_g() { return *opt_g_; }
  Adam& opt_d() { return *opt_d_; }
  Device device() const { return device_; }
  const TrainOptions& options() const { return opts_; }

 private:
  Tensor gan_loss(const Tensor& logits, bool real) const;
  // Runs the gradient hook, then opt's step unless skipping is on and a gradient of m is
  // not finite; false when the step was held back.
  bool update(Adam& opt, const std::string& net, const Module& m);

  TrainOptions opts_;
  TrainChoices choices_;  // opts_'s word-valued options, parsed
  Device device_;
  std::shared_ptr<models::UNetGenerator> g_;
  std::shared_ptr<models::PatchGANDiscriminator> d_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  std::shared_ptr<models::LandmarkNet68> landmark_net_;
  models::LandmarkCrop crop_;
  LandmarkDistanceFn dlib_;
  bool skip_nonfinite_ = false, skipped_d_ = false, skipped_g_ = false;
  GradHook grad_hook_;
};

// Where the landmark network's weights are looked for when --landmark-weights is not
// given: $MASKOFF_SHARED/weights/face_landmark_68, else ../shared/weights/face_landmark_68.
std::string default_landmark_weights();

}  // namespace maskoff::train
