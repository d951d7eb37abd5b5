#include "train/options_cli.h"

#include "tensor/error.h"

namespace maskoff::train {

// Five groups in --help. Where a default is a value, the help shows it; an empty path or crop
// means "the built-in choice" and shows nothing.
void add_train_options(CLI::App& app, TrainOptions& o) {
  CLI::Option_group* data = app.add_option_group("Data");
  data->add_option("--data", o.data_dir, "dataset folder written by make_masked_dataset");
  data->add_option("--out", o.out_dir, "output folder (log, samples, checkpoints)");
  CLI::Option_group* schedule = app.add_option_group("Schedule");
  schedule->option_defaults()->always_capture_default();
  schedule->add_option("--epochs", o.epochs, "epochs at the initial learning rate");
  schedule->add_option("--epochs-decay", o.epochs_decay,
                       "further epochs with the rate decaying linearly to zero");
  schedule->add_option("--steps", o.steps,
                       "stop after this many steps in all (0: run the whole schedule)");
  schedule->add_option("--batch-size", o.batch_size);
  schedule->add_option("--lr", o.lr, "Adam learning rate");
  schedule->add_option("--beta1", o.beta1, "Adam beta1");
  CLI::Option_group* losses = app.add_option_group("Losses");
  losses->add_option("--gan-mode", o.gan_mode, "vanilla (BCE with logits) or lsgan (least squares)")
      ->capture_default_str();
  losses->add_option("--lambda-l1", o.lambda_l1, "weight of the L1 loss")->capture_default_str();
  losses->add_option("--lambda-mask", o.lambda_mask, "weight of the MSE inside the mask region")
      ->capture_default_str();
  losses
      ->add_option(
          "--lambda-landmark", o.lambda_landmark,
          "weight of the landmark loss (mean distance of the 68 points in units of the image side)")
      ->capture_default_str();
  losses
      ->add_option(
          "--landmark-loss", o.landmark_loss,
          "none; cnn: a frozen 68-point landmark network in the engine, differentiable; dlib: "
          "dlib's predictor on the generated face, as in the paper -- it has NO gradient, so it is "
          "only computed, logged and added to the reported total")
      ->capture_default_str();
  losses->add_option("--landmark-weights", o.landmark_weights,
                     "folder of the 68-point network's .npy weights (default: $MASKOFF_SHARED or "
                     "../shared/weights/face_landmark_68)");
  losses
      ->add_option("--landmark-crop", o.landmark_crop,
                   "square crop X0 Y0 SIZE (fractions of the side) that the landmark network sees "
                   "(default: the lower-centre crop measured best on FFHQ-aligned faces)")
      ->expected(3)
      ->delimiter(',');
  CLI::Option_group* model = app.add_option_group("Model");
  model->option_defaults()->always_capture_default();
  model->add_flag("--predict-mask,!--no-predict-mask", o.predict_mask,
                  "the mask-aware generator: a fourth output predicts which pixels a mask covers, "
                  "and only those are replaced (--no-predict-mask: the paper's plain generator)");
  model->add_option("--lambda-seg", o.lambda_seg, "weight of the mask head's cross-entropy")
      ->check(CLI::NonNegativeNumber);
  model
      ->add_option(
          "--clean-fraction", o.clean_fraction,
          "with the mask head: share of training pairs shown without a mask (the real face "
          "as input, an empty mask), so that an unmasked face is left alone")
      ->check(CLI::Range(0.0, 1.0));
  model
      ->add_option("--loss-on", o.loss_on,
                   "with the mask head, where the L1, masked MSE and landmark losses act: "
                   "composite (the delivered image) or raw (the generator's own output)")
      ->check(CLI::IsMember({"composite", "raw"}));
  model
      ->add_option("--upsample", o.upsample,
                   "decoder upsampling: transpose (pix2pix's transposed convolution) or resize "
                   "(nearest 2x, then a 3x3 convolution)")
      ->check(CLI::IsMember({"transpose", "resize"}));
  model->add_option("--resolution", o.resolution,
                    "training size (power of two >= 32; U-Net depth follows)");
  model->add_option("--ngf", o.ngf, "generator width");
  model->add_option("--ndf", o.ndf, "discriminator width");
  model->add_flag("--dropout,!--no-dropout", o.dropout, "dropout 0.5 in the inner decoder blocks");
  model->add_flag("--jitter,!--no-jitter", o.jitter, "resize to 286/256, random crop and flip");
  CLI::Option_group* run = app.add_option_group("Run");
  run->option_defaults()->always_capture_default();
  run->add_option("--seed", o.seed);
  run->add_option("--device", o.device, "auto, cpu or cuda");
  run->add_option("--threads", o.threads, "CPU threads (0: all cores)");
  run->add_option("--sample-every", o.sample_every,
                  "write a sample grid every N steps (0: at the end only)");
  run->add_option("--save-every", o.save_every,
                  "write OUT/latest.ckpt every N steps (and at the end)");
  run->add_option("--num-samples", o.num_samples, "faces in the sample grid");
  run->add_option("--on-nonfinite", o.on_nonfinite,
                  "a NaN or infinity in a loss, gradient or parameter: stop (keep the last good "
                  "checkpoint) or skip the step's updates");
  run->add_option("--max-nonfinite-skips", o.max_nonfinite_skips,
                  "with --on-nonfinite skip: stop after this many bad steps in a row");
}

namespace {
// Calls keep(flag, field) for each setting a resumed run keeps from its checkpoint, and
// change(flag, field) for each one it may take from the command line.
template <class Keep, class Change>
void resume_settings(Keep&& keep, Change&& change) {
  keep("--resolution", &TrainOptions::resolution);
  keep("--ngf", &TrainOptions::ngf);
  keep("--ndf", &TrainOptions::ndf);
  keep("--batch-size", &TrainOptions::batch_size);
  keep("--seed", &TrainOptions::seed);
  keep("--gan-mode", &TrainOptions::gan_mode);
  keep("--landmark-loss", &TrainOptions::landmark_loss);
  keep("--lambda-l1", &TrainOptions::lambda_l1);
  keep("--lambda-mask", &TrainOptions::lambda_mask);
  keep("--lambda-landmark", &TrainOptions::lambda_landmark);
  keep("--predict-mask", &TrainOptions::predict_mask);
  keep("--lambda-seg", &TrainOptions::lambda_seg);
  keep("--clean-fraction", &TrainOptions::clean_fraction);
  keep("--loss-on", &TrainOptions::loss_on);
  keep("--upsample", &TrainOptions::upsample);
  change("--data", &TrainOptions::data_dir);
  change("--out", &TrainOptions::out_dir);
  change("--epochs", &TrainOptions::epochs);
  change("--epochs-decay", &TrainOptions::epochs_decay);
  change("--steps", &TrainOptions::steps);
  change("--device", &TrainOptions::device);
  change("--threads", &TrainOptions::threads);
  change("--sample-every", &TrainOptions::sample_every);
  change("--save-every", &TrainOptions::save_every);
  change("--landmark-weights", &TrainOptions::landmark_weights);
  change("--on-nonfinite", &TrainOptions::on_nonfinite);
  change("--max-nonfinite-skips", &TrainOptions::max_nonfinite_skips);
}
}  // namespace

TrainOptions resumed_options(const CLI::App& app, const TrainOptions& given,
                             const TrainOptions& saved, const std::string& checkpoint) {
  TrainOptions o = saved;
  resume_settings(
      [&](const char* flag, auto TrainOptions::*field) {
        MASKOFF_CHECK(!app.count(flag) || given.*field == saved.*field,
                      flag << " differs from the checkpoint " << checkpoint
                           << "; a resumed run keeps its settings");
      },
      [&](const char* flag, auto TrainOptions::*field) {
        if (app.count(flag)) o.*field = given.*field;
      });
  return o;
}

std::string resumable_flags() {
  std::string flags;
  resume_settings(
      [](const char*, auto) {},
      [&](const char* flag, auto) { flags += (flags.empty() ? "" : ", ") + std::string(flag); });
  return flags;
}

}  // namespace maskoff::train
