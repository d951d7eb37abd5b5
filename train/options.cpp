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

void TrainOptions::validate() const {
  MASKOFF_CHECK(gan_mode == "vanilla" || gan_mode == "lsgan",
                "--gan-mode must be vanilla or lsgan, got '" << gan_mode << "'");
  MASKOFF_CHECK(landmark_loss == "none" || landmark_loss == "cnn" || landmark_loss == "dlib",
                "--landmark-loss must be none, cnn or dlib, got '" << landmark_loss << "'");
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
  MASKOFF_CHECK(on_nonfinite == "stop" || on_nonfinite == "skip",
                "--on-nonfinite must be stop or skip, got '" << on_nonfinite << "'");
  MASKOFF_CHECK(max_nonfinite_skips >= 1,
                "--max-nonfinite-skips must be at least 1, got " << max_nonfinite_skips);
  MASKOFF_CHECK(lr > 0, "--lr must be positive, got " << lr);
  MASKOFF_CHECK(ngf >= 1 && ndf >= 1 && n_layers_d >= 1, "--ngf, --ndf and the D depth must be positive");
  MASKOFF_CHECK(resolution >= 32 && (resolution & (resolution - 1)) == 0,
                "--resolution must be a power of two of at least 32, got " << resolution);
}

double lr_factor(const TrainOptions& o, int64_t epoch) {
  const double f = 1.0 - static_cast<double>(std::max<int64_t>(0, epoch + 1 - o.epochs)) /
                             static_cast<double>(o.epochs_decay + 1);
  return std::max(0.0, f);
}

}  // namespace maskoff::train
