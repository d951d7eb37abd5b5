// Training: the data pipeline's jitter, the schedule, checkpoints, and short end-to-end runs
// (the loss falls; a resumed run equals an uninterrupted one; Ctrl-C saves).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../data/temp_dir.h"
#include "data/dataset_writer.h"
#include "data/image.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tests/train/train_util.h"
#include "train/checkpoint.h"
#include "train/options.h"
#include "train/paired_data.h"
#include "train/train_loop.h"

using maskoff::Error;
using maskoff::Tensor;
using maskoff::data::testing::TempDir;
using maskoff::train::testing::endless_train_command;
using maskoff::train::testing::quiet;
using maskoff::train::testing::read_lines;
using maskoff::train::testing::small_dataset;
using maskoff::train::testing::spawn;
using maskoff::train::testing::tiny_options;
namespace fs = std::filesystem;
namespace tr = maskoff::train;

TEST(TrainData, Flip68IsAnInvolutionThatSwapsSides) {
  for (int i = 0; i < 68; ++i) EXPECT_EQ(tr::kFlip68[tr::kFlip68[i]], i) << i;
  EXPECT_EQ(tr::kFlip68[0], 16);
  EXPECT_EQ(tr::kFlip68[36], 45);  // outer eye corners
  EXPECT_EQ(tr::kFlip68[48], 54);  // mouth corners
  EXPECT_EQ(tr::kFlip68[30], 30);  // nose tip stays
  EXPECT_EQ(tr::kFlip68[57], 57);
}

TEST(TrainData, JitterMovesImagesMaskAndLandmarksTogether) {
  const auto ds = tr::PairedDataset::load(small_dataset(), "all", 32, true);
  ASSERT_GE(ds.size(), 4u);
  EXPECT_EQ(ds.load_size(), 36);  // round(32 * 286 / 256)
  for (uint64_t step = 0; step < 8; ++step) {
    const auto b = ds.batch({0, 1, 2, 3}, 11, step);
    ASSERT_EQ(b.input.shape(), (maskoff::Shape{4, 3, 32, 32}));
    ASSERT_EQ(b.mask.shape(), (maskoff::Shape{4, 1, 32, 32}));
    ASSERT_EQ(b.landmarks.shape(), (maskoff::Shape{4, 68, 2}));
    const auto in = b.input.to_vector<float>(), tg = b.target.to_vector<float>(),
               mk = b.mask.to_vector<float>();
    const auto lm = b.landmarks.to_vector<float>();
    for (int n = 0; n < 4; ++n) {
      // Outside the mask, the masked input is the real face: identical transforms keep it so.
      double outside = 0, inside = 0;
      int n_out = 0, n_in = 0;
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 32 * 32; ++p) {
          const double d = std::fabs(in[(n * 3 + c) * 1024 + p] - tg[(n * 3 + c) * 1024 + p]);
          if (mk[n * 1024 + p] > 0.5)
            inside += d, ++n_in;
          else
            outside += d, ++n_out;
        }
      ASSERT_GT(n_in, 0);
      EXPECT_LT(outside / n_out, 0.03) << "step " << step << " sample " << n;
      EXPECT_GT(inside / n_in, 0.1) << "step " << step << " sample " << n;
      // Image-left outer eye corner (36) left of the image-right one (45), flipped or not,
      // and the mouth (points 48-67) inside the mask.
      EXPECT_LT(lm[(n * 68 + 36) * 2], lm[(n * 68 + 45) * 2]);
      const float mx = lm[(n * 68 + 62) * 2] * 32, my = lm[(n * 68 + 62) * 2 + 1] * 32;
      const int px = std::lround(mx), py = std::lround(my);
      ASSERT_TRUE(px >= 0 && px < 32 && py >= 0 && py < 32);
      EXPECT_GT(mk[n * 1024 + py * 32 + px], 0.5f)
          << "mouth centre outside the mask, step " << step;
    }
    // Same (seed, step): same batch; flips happen for some steps.
    const auto again = ds.batch({0, 1, 2, 3}, 11, step);
    EXPECT_EQ(again.input.to_vector<float>(), in);
  }
}

TEST(TrainData, MissingDatasetNamesTheFolder) {
  TempDir tmp;
  try {
    tr::PairedDataset::load(tmp.str(), "train", 32, true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp.str()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("manifest.csv"), std::string::npos) << e.what();
  }
}

TEST(TrainSchedule, LinearDecayAsPix2Pix) {
  tr::TrainOptions o;
  o.epochs = 3;
  o.epochs_decay = 4;
  const double expect[] = {1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0, 0};
  for (int e = 0; e < 9; ++e) EXPECT_NEAR(tr::lr_factor(o, e), expect[e], 1e-12) << "epoch " << e;
}

TEST(TrainCheckpoint, RoundTripAndClearErrors) {
  TempDir tmp;
  tr::Checkpoint ck;
  ck.meta["answer"] = 42;
  ck.add("a", maskoff::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}));
  ck.add("b", maskoff::from_vector(std::vector<double>{0.5}, {1}, maskoff::DType::F64));
  const std::string path = tmp / "x.ckpt";
  tr::write_checkpoint(path, ck);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const tr::Checkpoint r = tr::read_checkpoint(path);
  EXPECT_EQ(r.meta["answer"], 42);
  EXPECT_EQ(r.get("a").to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.get("b").dtype(), maskoff::DType::F64);
  EXPECT_THROW(r.get("c"), Error);
  Tensor wrong = maskoff::zeros({3, 2});
  EXPECT_THROW(r.restore("a", wrong), Error);

  // Truncated and foreign files: the message names the file.
  auto bytes = maskoff::data::testing::read_bytes(path);
  bytes.resize(bytes.size() - 3);
  maskoff::data::testing::write_bytes(tmp / "cut.ckpt", bytes);
  for (const std::string& bad : {tmp / "cut.ckpt", tmp / "missing.ckpt"}) {
    try {
      tr::read_checkpoint(bad);
      FAIL() << "no error for " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  maskoff::data::testing::write_bytes(tmp / "foreign.ckpt",
                                      {'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_THROW(tr::read_checkpoint(tmp / "foreign.ckpt"), Error);
}

TEST(TrainRun, L1FallsByHalfOnAHandfulOfPairs) {
  TempDir tmp;
  auto o = tiny_options(tmp / "run");
  o.jitter = false;
  o.dropout = false;
  o.batch_size = 4;
  o.lr = 1e-3;
  o.steps = 120;
  o.epochs = 1000;
  const auto r = tr::run_training(o, quiet());
  EXPECT_EQ(r.last_step, 120);
  EXPECT_LT(r.last.g_l1, 0.5 * r.first.g_l1) << "L1 " << r.first.g_l1 << " -> " << r.last.g_l1;
  EXPECT_TRUE(fs::exists(tmp / "run/latest.ckpt"));
  EXPECT_TRUE(fs::exists(tmp / "run/samples/latest.png"));
  const auto lines = read_lines(tmp / "run/train_log.csv");
  ASSERT_EQ(lines.size(), 121u);
  EXPECT_EQ(lines[0].rfind("step,epoch", 0), 0u) << lines[0];
}

TEST(TrainRun, ResumedRunEqualsUninterruptedRun) {
  TempDir tmp;
  auto o = tiny_options(tmp / "full");
  o.steps = 6;  // dropout and jitter on: their state must survive the checkpoint too
  o.lambda_mask = 10;
  tr::run_training(o, quiet());

  auto h = tiny_options(tmp / "half");
  h.lambda_mask = 10;
  h.steps = 3;
  tr::run_training(h, quiet());
  h.steps = 6;
  auto ctl = quiet();
  ctl.resume = tmp / "half/latest.ckpt";
  const auto r = tr::run_training(h, ctl);
  EXPECT_EQ(r.first_step, 3);
  EXPECT_EQ(r.last_step, 6);

  const auto a = tr::read_checkpoint(tmp / "full/latest.ckpt");
  const auto b = tr::read_checkpoint(tmp / "half/latest.ckpt");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
    EXPECT_EQ(a.tensors[i].second.to_vector<float>(), b.tensors[i].second.to_vector<float>())
        << a.tensors[i].first << " differs";
  }
  EXPECT_EQ(a.meta["state"], b.meta["state"]);
  // The resumed log holds each step once.
  EXPECT_EQ(read_lines(tmp / "full/train_log.csv").size(), 7u);
  EXPECT_EQ(read_lines(tmp / "half/train_log.csv").size(), 7u);
}

TEST(TrainRun, RefusesToOverwriteAnExistingRun) {
  TempDir tmp;
  auto o = tiny_options(tmp / "run");
  o.steps = 1;
  tr::run_training(o, quiet());
  try {
    tr::run_training(o, quiet());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  auto ctl = quiet();
  ctl.overwrite = true;
  EXPECT_NO_THROW(tr::run_training(o, ctl));
}

TEST(TrainRun, ProgramSavesACheckpointOnCtrlC) {
  TempDir tmp;
  const std::string out = tmp / "run", log = tmp / "log.txt";
  const pid_t pid = spawn(endless_train_command(out, 8, 0), log);
  ASSERT_GE(pid, 0);
  // Interrupt once a few steps are logged (waiting at most a minute).
  for (int i = 0; i < 600 && read_lines(out + "/train_log.csv").size() < 4; ++i) ::usleep(100000);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  ASSERT_TRUE(fs::exists(out + "/latest.ckpt"));
  const auto ck = tr::read_checkpoint(out + "/latest.ckpt");
  const int64_t step = ck.meta["step"];
  EXPECT_GE(step, 3);
  EXPECT_EQ(static_cast<int64_t>(read_lines(out + "/train_log.csv").size()), step + 1);
  const auto lines = read_lines(log);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("interrupted at step " + std::to_string(step)), std::string::npos)
      << lines.back();
}
