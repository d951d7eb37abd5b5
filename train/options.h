// Every setting of a pix2pix training run, with the defaults of the paper's setup
// (pix2pix: Adam 2e-4, betas (0.5, 0.999), GAN + 100 x L1, batch 1, 256x256), and its
// JSON form, which checkpoints carry so a resumed run continues with the same settings.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pix2pix.h"

namespace maskoff::train {

// The word-valued options, parsed once by TrainOptions::validate() so that the training
// step compares no strings.
enum class GanMode { vanilla, lsgan };
enum class LandmarkLoss { none, cnn, dlib };
enum class OnNonFinite { stop, skip };
// With the mask head, what the image losses (L1, masked MSE, landmark) compare with the real
// face: the composite m * G(x) + (1 - m) * x with the predicted soft mask m, or G(x) itself.
enum class LossOn { composite, raw };
struct TrainChoices {
  GanMode gan_mode = GanMode::vanilla;
  LandmarkLoss landmark_loss = LandmarkLoss::cnn;
  OnNonFinite on_nonfinite = OnNonFinite::stop;
  models::UpsampleKind upsample = models::UpsampleKind::transpose;
  LossOn loss_on = LossOn::composite;
};

struct TrainOptions {
  std::string data_dir;  // a make_masked_dataset folder
  std::string out_dir;

  // Length: `epochs` at the constant rate, then `epochs_decay` decaying linearly to zero
  // (pix2pix's 'linear' policy). steps > 0 stops after that many steps in all instead.
  int64_t epochs = 100, epochs_decay = 100, steps = 0;
  int64_t batch_size = 1;
  double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;

  std::string gan_mode = "vanilla";  // vanilla (BCE with logits) | lsgan (least squares)
  double lambda_l1 = 100;
  double lambda_mask = 100;           // MSE inside the synthetic mask
  double lambda_landmark = 100;       // landmark distance in units of the image side
  std::string landmark_loss = "cnn";  // none | cnn (differentiable) | dlib (logged, no gradient)
  std::string landmark_weights;       // folder of the 68-point network's .npy files
  std::vector<double>
      landmark_crop;  // x0, y0, size (fractions of the side) fed to the network; empty: default

  // The mask-aware generator: a fourth output channel, the logit of "covered by a mask",
  // trained by binary cross-entropy against the dataset's mask (weight lambda_seg); the
  // delivered image is the composite m * G(x) + (1 - m) * x, and the discriminator judges
  // that composite. false: the paper's plain generator. A checkpoint written before this
  // option existed holds the plain generator, and reads back as predict_mask false.
  bool predict_mask = true;
  double lambda_seg = 100;
  // With the mask head: the share of training pairs shown unmasked (input = the real face,
  // empty mask; train/batch.h's make_clean_pairs), so that a face without a mask is left
  // alone. A checkpoint from before this option read it as 0.
  double clean_fraction = 0.1;
  std::string loss_on = "composite";   // composite | raw (see LossOn)
  std::string upsample = "transpose";  // transpose | resize (see models::UpsampleKind)

  int64_t resolution = 256, ngf = 64, ndf = 64, n_layers_d = 3;
  bool dropout = true, jitter = true;
  uint64_t seed = 1;

  std::string device = "auto";  // auto | cpu | cuda
  int threads = 0;              // 0: OpenMP's default

  int64_t sample_every = 500, save_every = 1000, num_samples = 4;

  // A NaN or an infinity in a loss, a gradient, a parameter or the optimiser state: `stop`
  // (the default) ends the run with a message and keeps the last good checkpoint; `skip`
  // holds back each update whose gradients are not finite, as AMP's GradScaler does, and
  // stops only after max_nonfinite_skips bad steps in a row.
  std::string on_nonfinite = "stop";
  int64_t max_nonfinite_skips = 5;

  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);
  // Throws naming the option and the accepted values; returns the word-valued options
  // parsed.
  TrainChoices validate() const;
};

// pix2pix's linear policy: 1 for the first `epochs` epochs, then falling by 1/(decay+1)
// per epoch; never below 0 (steps beyond the schedule train at the last rate's floor 0).
double lr_factor(const TrainOptions& o, int64_t epoch);

}  // namespace maskoff::train
