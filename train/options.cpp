#include "train/options.h"

#include <algorithm>

#include "tensor/error.h"

namespace maskoff::train {

nlohmann::json TrainOptions::to_json() const {
  return {{"data_dir", data_dir},       {"out_dir", out_dir},
          {"epochs", epochs},           {"epochs_decay", epochs_decay},
          {"steps", steps},             {"batch_size", batch_size},
          {"lr", lr},                   {"beta1", beta1},
          {"beta2", beta2},             {"gan_mode", gan_mode},
          {"lambda_l1", lambda_l1},     {"lambda_mask", lambda_mask},
          {"lambda_landmark", lambda_landmark}, {"landmark_loss", landmark_loss},
          {"landmark_weights", landmark_weights}, {"landmark_crop", landmark_crop},
          {"resolution", resolution},
          {"ngf", ngf},                 {"ndf", ndf},
          {"n_layers_d", n_layers_d},   {"dropout", dropout},
          {"jitter", jitter},           {"seed", seed},
          {"device", device},           {"threads", threads},
          {"sample_every", sample_every}, {"save_every", save_every},
          {"num_samples", num_samples}, {"on_nonfinite", on_nonfinite},
          {"max_nonfinite_skips", max_nonfinite_skips}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& j) {
  TrainOptions o;
  auto get = [&](const char* key, auto& field) {
    if (j.contains(key)) j.at(key).get_to(field);
  };
  get("data_dir", o.data_dir);
  get("out_dir", o.out_dir);
  get("epochs", o.epochs);
  get("epochs_decay", o.epochs_decay);
  get("steps", o.steps);
  get("batch_size", o.batch_size);
  get("lr", o.lr);
  get("beta1", o.beta1);
  get("beta2", o.beta2);
  get("gan_mode", o.gan_mode);
  get("lambda_l1", o.lambda_l1);
  get("lambda_mask", o.lambda_mask);
  get("lambda_landmark", o.lambda_landmark);
  get("landmark_loss", o.landmark_loss);
  get("landmark_weights", o.landmark_weights);
  get("landmark_crop", o.landmark_crop);
  get("resolution", o.resolution);
  get("ngf", o.ngf);
  get("ndf", o.ndf);
  get("n_layers_d", o.n_layers_d);
  get("dropout", o.dropout);
  get("jitter", o.jitter);
  get("seed", o.seed);
  get("device", o.device);
  get("threads", o.threads);
  get("sample_every", o.sample_every);
  get("save_every", o.save_every);
  get("num_samples", o.num_samples);
  get("on_nonfinite", o.on_nonfinite);  // absent from older checkpoints: the defaults stand
  get("max_nonfinite_skips", o.max_nonfinite_skips);
  return o;
}

namespace {
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

TrainChoices TrainOptions::validate() const {
  TrainChoices c;
  c.gan_mode = parse_word<GanMode>("--gan-mode", gan_mode, {"vanilla", "lsgan"});
  c.landmark_loss =
      parse_word<LandmarkLoss>("--landmark-loss", landmark_loss, {"none", "cnn", "dlib"});
  MASKOFF_CHECK(device == "auto" || device == "cpu" || device == "cuda",
                "--device must be auto, cpu or cuda, got '" << device << "'");
  MASKOFF_CHECK(landmark_crop.empty() ||
                    (landmark_crop.size() == 3 && landmark_crop[0] >= 0 && landmark_crop[1] >= 0 &&
                     landmark_crop[2] > 0 && landmark_crop[0] + landmark_crop[2] <= 1 + 1e-9 &&
                     landmark_crop[1] + landmark_crop[2] <= 1 + 1e-9),
                "--landmark-crop must be X0,Y0,SIZE (fractions of the image side, inside the image)");
  MASKOFF_CHECK(batch_size >= 1, "--batch-size must be at least 1, got " << batch_size);
  MASKOFF_CHECK(epochs >= 0 && epochs_decay >= 0 && epochs + epochs_decay > 0,
                "--epochs and --epochs-decay must be non-negative with a positive sum");
  MASKOFF_CHECK(steps >= 0, "--steps must be non-negative, got " << steps);
  c.on_nonfinite = parse_word<OnNonFinite>("--on-nonfinite", on_nonfinite, {"stop", "skip"});
  MASKOFF_CHECK(max_nonfinite_skips >= 1,
                "--max-nonfinite-skips must be at least 1, got " << max_nonfinite_skips);
  MASKOFF_CHECK(lr > 0, "--lr must be positive, got " << lr);
  MASKOFF_CHECK(ngf >= 1 && ndf >= 1 && n_layers_d >= 1, "--ngf, --ndf and the D depth must be positive");
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
