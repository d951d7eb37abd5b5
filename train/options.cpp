#include "train/options.h"

#include <algorithm>

#include "tensor/error.h"

namespace maskoff::train {

namespace {
// Calls f(key, field) for every option: the one list behind both directions of the JSON
// form.
template <class Options, class F>
void for_each_option(Options& o, F&& f) {
  f("data_dir", o.data_dir);
  f("out_dir", o.out_dir);
  f("epochs", o.epochs);
  f("epochs_decay", o.epochs_decay);
  f("steps", o.steps);
  f("batch_size", o.batch_size);
  f("lr", o.lr);
  f("beta1", o.beta1);
  f("beta2", o.beta2);
  f("gan_mode", o.gan_mode);
  f("lambda_l1", o.lambda_l1);
  f("lambda_mask", o.lambda_mask);
  f("lambda_landmark", o.lambda_landmark);
  f("landmark_loss", o.landmark_loss);
  f("landmark_weights", o.landmark_weights);
  f("landmark_crop", o.landmark_crop);
  f("predict_mask", o.predict_mask);
  f("lambda_seg", o.lambda_seg);
  f("clean_fraction", o.clean_fraction);
  f("loss_on", o.loss_on);
  f("upsample", o.upsample);
  f("resolution", o.resolution);
  f("ngf", o.ngf);
  f("ndf", o.ndf);
  f("n_layers_d", o.n_layers_d);
  f("dropout", o.dropout);
  f("jitter", o.jitter);
  f("seed", o.seed);
  f("device", o.device);
  f("threads", o.threads);
  f("sample_every", o.sample_every);
  f("save_every", o.save_every);
  f("num_samples", o.num_samples);
  f("on_nonfinite", o.on_nonfinite);
  f("max_nonfinite_skips", o.max_nonfinite_skips);
}

// The choice named `word` among `names` (in the enum's order), or an Error naming the flag
// and the words it accepts.
template <class Enum, size_t N>
Enum parse_word(const char* flag, const std::string& word, const char* const (&names)[N]) {
  std::string accepted;
  for (size_t i = 0; i < N; ++i) {
    if (word == names[i]) return static_cast<Enum>(i);
    accepted += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + names[i];
  }
  MASKOFF_FAIL(flag << " must be " << accepted << ", got '" << word << "'");
}
}  // namespace

nlohmann::json TrainOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for_each_option(*this, [&](const char* key, const auto& field) { j[key] = field; });
  return j;
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  // Checkpoints from before the mask head hold the plain generator.
  o.predict_mask = false;
  o.clean_fraction = 0;
  // A key absent from an older checkpoint (on_nonfinite, say) keeps its default.
  for_each_option(o, [&](const char* key, auto& field) {
    if (j.contains(key)) j.at(key).get_to(field);
  });
  return o;
}

TrainChoices TrainOptions::validate() const {
  TrainChoices c;
  c.gan_mode = parse_word<GanMode>("--gan-mode", gan_mode, {"vanilla", "lsgan"});
  c.landmark_loss =
      parse_word<LandmarkLoss>("--landmark-loss", landmark_loss, {"none", "cnn", "dlib"});
  MASKOFF_CHECK(device == "auto" || device == "cpu" || device == "cuda",
                "--device must be auto, cpu or cuda, got '" << device << "'");
  MASKOFF_CHECK(
      landmark_crop.empty() ||
          (landmark_crop.size() == 3 && landmark_crop[0] >= 0 && landmark_crop[1] >= 0 &&
           landmark_crop[2] > 0 && landmark_crop[0] + landmark_crop[2] <= 1 + 1e-9 &&
           landmark_crop[1] + landmark_crop[2] <= 1 + 1e-9),
      "--landmark-crop must be X0,Y0,SIZE (fractions of the image side, inside the image)");
  MASKOFF_CHECK(batch_size >= 1, "--batch-size must be at least 1, got " << batch_size);
  MASKOFF_CHECK(epochs >= 0 && epochs_decay >= 0 && epochs + epochs_decay > 0,
                "--epochs and --epochs-decay must be non-negative with a positive sum");
  MASKOFF_CHECK(steps >= 0, "--steps must be non-negative, got " << steps);
  c.upsample = parse_word<models::UpsampleKind>("--upsample", upsample, {"transpose", "resize"});
  c.loss_on = parse_word<LossOn>("--loss-on", loss_on, {"composite", "raw"});
  MASKOFF_CHECK(lambda_seg >= 0, "--lambda-seg must be non-negative, got " << lambda_seg);
  MASKOFF_CHECK(clean_fraction >= 0 && clean_fraction <= 1,
                "--clean-fraction must be in [0, 1], got " << clean_fraction);
  c.on_nonfinite = parse_word<OnNonFinite>("--on-nonfinite", on_nonfinite, {"stop", "skip"});
  MASKOFF_CHECK(max_nonfinite_skips >= 1,
                "--max-nonfinite-skips must be at least 1, got " << max_nonfinite_skips);
  MASKOFF_CHECK(lr > 0, "--lr must be positive, got " << lr);
  MASKOFF_CHECK(ngf >= 1 && ndf >= 1 && n_layers_d >= 1,
                "--ngf, --ndf and the D depth must be positive");
  MASKOFF_CHECK(resolution >= 32 && (resolution & (resolution - 1)) == 0,
                "--resolution must be a power of two of at least 32, got " << resolution);
  return c;
}

double lr_factor(const TrainOptions& o, int64_t epoch) {
  const double f = 1.0 - static_cast<double>(std::max<int64_t>(0, epoch + 1 - o.epochs)) /
                             static_cast<double>(o.epochs_decay + 1);
  return std::max(0.0, f);
}

}  // namespace maskoff::train
