// TrainOptions: the word-valued options parsed once by validate(), and the options of a
// resumed run (train/options_cli.h), which keeps its checkpoint's model and data settings and
// takes the schedule, folders, device and intervals from the command line.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <string>

#include "tensor/error.h"
#include "train/options.h"
#include "train/options_cli.h"

namespace maskoff::train {
namespace {

// The options parsed from `args`, with `app` kept to say which flags were given.
struct Parsed {
  CLI::App app;
  TrainOptions o;
  explicit Parsed(const std::string& args) {
    add_train_options(app, o);
    app.parse(args, false);
  }
};

TrainOptions checkpointed() {
  TrainOptions o;
  o.data_dir = "data/old";
  o.out_dir = "out/old";
  o.resolution = 64;
  o.ngf = o.ndf = 16;
  o.gan_mode = "lsgan";
  o.lambda_mask = 10;
  o.epochs = 3;
  o.device = "cpu";
  o.save_every = 50;
  return o;
}

TEST(TrainOptions, ValidateParsesTheWordValuedOptions) {
  TrainOptions o;
  TrainChoices c = o.validate();
  EXPECT_EQ(c.gan_mode, GanMode::vanilla);
  EXPECT_EQ(c.landmark_loss, LandmarkLoss::cnn);
  EXPECT_EQ(c.on_nonfinite, OnNonFinite::stop);
  o.gan_mode = "lsgan";
  o.landmark_loss = "dlib";
  o.on_nonfinite = "skip";
  c = o.validate();
  EXPECT_EQ(c.gan_mode, GanMode::lsgan);
  EXPECT_EQ(c.landmark_loss, LandmarkLoss::dlib);
  EXPECT_EQ(c.on_nonfinite, OnNonFinite::skip);
  o.landmark_loss = "none";
  EXPECT_EQ(o.validate().landmark_loss, LandmarkLoss::none);
  o.gan_mode = "wgan";
  try {
    o.validate();
    FAIL() << "--gan-mode wgan was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "--gan-mode must be vanilla or lsgan, got 'wgan'");
  }
}

TEST(TrainOptions, TheMaskAwareGeneratorIsTheDefaultAndOldCheckpointsReadAsPlain) {
  TrainOptions o;
  EXPECT_TRUE(o.predict_mask);
  TrainChoices c = o.validate();
  EXPECT_EQ(c.upsample, models::UpsampleKind::transpose);
  EXPECT_EQ(c.loss_on, LossOn::composite);
  o.upsample = "resize";
  o.loss_on = "raw";
  o.predict_mask = false;
  c = o.validate();
  EXPECT_EQ(c.upsample, models::UpsampleKind::resize);
  EXPECT_EQ(c.loss_on, LossOn::raw);
  // The JSON form keeps every one of them.
  const TrainOptions back = TrainOptions::from_json(o.to_json());
  EXPECT_FALSE(back.predict_mask);
  EXPECT_EQ(back.upsample, "resize");
  EXPECT_EQ(back.loss_on, "raw");
  // A checkpoint's options written before the mask head existed: the plain generator.
  nlohmann::json old = TrainOptions().to_json();
  for (const char* key : {"predict_mask", "lambda_seg", "loss_on", "upsample", "clean_fraction"})
    old.erase(key);
  const TrainOptions from_old = TrainOptions::from_json(old);
  EXPECT_FALSE(from_old.predict_mask);
  EXPECT_EQ(from_old.clean_fraction, 0.0);
  EXPECT_EQ(from_old.upsample, "transpose");
  // Words and weights are checked.
  o.upsample = "bilinear";
  EXPECT_THROW(o.validate(), Error);
  o.upsample = "transpose";
  o.loss_on = "both";
  EXPECT_THROW(o.validate(), Error);
  o.loss_on = "composite";
  o.lambda_seg = -1;
  EXPECT_THROW(o.validate(), Error);
  // The command line: --no-predict-mask, and a resumed run keeps the variant.
  Parsed p("--no-predict-mask --upsample resize --lambda-seg 5");
  EXPECT_FALSE(p.o.predict_mask);
  EXPECT_EQ(p.o.upsample, "resize");
  EXPECT_EQ(p.o.lambda_seg, 5);
  TrainOptions saved;
  Parsed differs("--no-predict-mask");
  EXPECT_THROW(resumed_options(differs.app, differs.o, saved, "x.ckpt"), Error);
}

TEST(TrainOptions, AResumedRunKeepsItsSettingsAndTakesTheScheduleFromTheCommandLine) {
  const TrainOptions saved = checkpointed();
  Parsed cli("--epochs 9 --device auto --out out/new --resolution 64 --lr 0.5");
  const TrainOptions o = resumed_options(cli.app, cli.o, saved, "latest.ckpt");
  // Given, and a resumed run may change them.
  EXPECT_EQ(o.epochs, 9);
  EXPECT_EQ(o.device, "auto");
  EXPECT_EQ(o.out_dir, "out/new");
  // Not given: the checkpoint's, not the command line's defaults.
  EXPECT_EQ(o.data_dir, "data/old");
  EXPECT_EQ(o.save_every, 50);
  EXPECT_EQ(o.gan_mode, "lsgan");
  EXPECT_EQ(o.lambda_mask, 10);
  EXPECT_EQ(o.ngf, 16);
  // Given with the checkpoint's value: accepted.
  EXPECT_EQ(o.resolution, 64);
  // Neither kept nor changeable (the optimiser's settings): the checkpoint's.
  EXPECT_EQ(o.lr, saved.lr);
}

TEST(TrainOptions, AResumedRunRefusesAModelSettingThatDiffers) {
  const TrainOptions saved = checkpointed();
  for (const std::string args :
       {"--ngf 32", "--gan-mode vanilla", "--lambda-mask 100", "--resolution 128 --epochs 9"}) {
    Parsed cli(args);
    const std::string flag = args.substr(0, args.find(' '));
    try {
      resumed_options(cli.app, cli.o, saved, "latest.ckpt");
      ADD_FAILURE() << args << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.message(), flag +
                                 " differs from the checkpoint latest.ckpt; a resumed run "
                                 "keeps its settings");
    }
  }
}

TEST(TrainOptions, TheResumeHelpNamesEveryChangeableFlag) {
  const std::string flags = resumable_flags();
  for (const char* flag : {"--data", "--out", "--epochs", "--epochs-decay", "--steps", "--device",
                           "--threads", "--sample-every", "--save-every", "--landmark-weights",
                           "--on-nonfinite", "--max-nonfinite-skips"})
    EXPECT_NE(flags.find(flag), std::string::npos) << flag;
  EXPECT_EQ(flags.find("--ngf"), std::string::npos);
}

}  // namespace
}  // namespace maskoff::train
