// The non-finite guard of the training loop: NaN put into an input, a loss and a gradient.
// With --on-nonfinite stop (the default) the run ends with one message naming the step, the
// loss and the first non-finite tensor, writes nonfinite_step_N.json, and keeps the last good
// checkpoint, from which it resumes; with skip the bad update is held back, counted, and the
// run stops after max_nonfinite_skips bad steps in a row.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "../data/temp_dir.h"
#include "layers/reduce.h"
#include "tensor/error.h"
#include "tests/train/train_util.h"
#include "train/checkpoint.h"
#include "train/train_loop.h"

namespace maskoff::train {
namespace {

using data::testing::TempDir;
using testing::quiet;
using testing::read_lines;
using testing::tiny_options;
namespace fs = std::filesystem;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A tiny run of `steps` steps in tmp/run, saving a checkpoint every `save_every` steps (0:
// at the end only).
TrainOptions run_options(const TempDir& tmp, int64_t steps, int64_t save_every = 0) {
  TrainOptions o = tiny_options(tmp / "run");
  o.steps = steps;
  o.save_every = save_every;
  return o;
}

// The message of the Error run_training throws, or "" when it finishes.
std::string run_error(const TrainOptions& o, const RunControl& c) {
  try {
    run_training(o, c);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Element 0 of a tensor set to NaN (any device).
void poison_first(const Tensor& t) {
  Tensor cpu = t.cpu().clone();
  std::vector<float> v = cpu.to_vector<float>();
  v[0] = kNaN;
  copy_(t, from_vector(v, t.shape()));
}

bool all_finite(const Checkpoint& ck) {
  std::vector<Tensor> ts;
  for (const auto& [name, t] : ck.tensors) ts.push_back(t);
  for (int64_t c : count_nonfinite(ts))
    if (c) return false;
  return true;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(TrainNonFinite, NaNInTheInputStopsAndKeepsTheLastGoodCheckpoint) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 6, 2);
  RunControl c = quiet();
  c.batch_hook = [](int64_t step, PairedBatch& b) {
    if (step == 5) poison_first(b.input);
  };
  const std::string e = run_error(o, c);
  const std::string ckpt = (fs::path(o.out_dir) / "latest.ckpt").string();
  const std::string report = (fs::path(o.out_dir) / "nonfinite_step_5.json").string();
  EXPECT_TRUE(contains(e, "step 5: the loss ")) << e;
  EXPECT_TRUE(contains(e, " is nan")) << e;
  EXPECT_TRUE(contains(e, "first non-finite tensor: G.")) << e;
  EXPECT_TRUE(contains(e, ckpt + " (step 4) is the last good checkpoint; --resume it")) << e;
  EXPECT_TRUE(contains(e, "Details in " + report)) << e;
  // The checkpoint of step 4 was not overwritten, and holds nothing but finite numbers.
  const Checkpoint ck = read_checkpoint(ckpt);
  EXPECT_EQ(ck.meta.at("step").get<int64_t>(), 4);
  EXPECT_TRUE(all_finite(ck));
  // What is needed to see the cause: the losses, the batch, the tensors gone bad.
  const nlohmann::json r = read_json(report);
  EXPECT_EQ(r.at("step").get<int64_t>(), 5);
  EXPECT_EQ(r.at("batch_ids").size(), 2u);
  EXPECT_EQ(r.at("losses").at("G_L1").get<std::string>(), "nan");  // relu keeps the NaN
  EXPECT_FALSE(r.at("nonfinite_tensors").empty());
  EXPECT_EQ(r.at("last_good_checkpoint").at("step").get<int64_t>(), 4);
  // The log shows the bad step; and the run resumes from the good checkpoint.
  EXPECT_TRUE(contains(read_lines(o.out_dir + "/train_log.csv").back(), "nan"));
  RunControl resume = quiet();
  resume.resume = ckpt;
  const RunResult done = run_training(o, resume);
  EXPECT_EQ(done.first_step, 4);
  EXPECT_EQ(done.last_step, 6);
  EXPECT_TRUE(std::isfinite(done.last.g_total));
  EXPECT_TRUE(all_finite(read_checkpoint(ckpt)));
}

TEST(TrainNonFinite, NaNInALossNamesTheTerm) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 4);
  RunControl c = quiet();
  c.batch_hook = [](int64_t step, PairedBatch& b) {
    if (step == 3) poison_first(b.mask);  // only the masked MSE sees the mask
  };
  const std::string e = run_error(o, c);
  EXPECT_TRUE(contains(e, "step 3: the loss G_mask is nan")) << e;
  EXPECT_TRUE(contains(e, "no checkpoint had been written yet")) << e;
  EXPECT_FALSE(fs::exists(fs::path(o.out_dir) / "latest.ckpt"));
}

TEST(TrainNonFinite, NaNInAGradientIsCaughtBeforeItIsSaved) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 4, 2);
  RunControl c = quiet();
  int backward = 0;
  // Step 2's G gradient: the update makes a weight NaN after the step's losses were read,
  // so the save that follows must refuse it.
  c.grad_hook = [&backward](const std::string& net, const Module& m) {
    if (net == "G" && ++backward == 2) poison_first(m.named_parameters().front().second.grad());
  };
  const std::string e = run_error(o, c);
  const std::string first =
      "G." + Pix2Pix(o, Device::cpu()).generator().named_parameters().front().first;
  EXPECT_TRUE(contains(e, "step 2: a parameter or optimiser state is not finite at a save")) << e;
  EXPECT_TRUE(contains(e, "first non-finite tensor: " + first + " (")) << e;
  EXPECT_FALSE(fs::exists(fs::path(o.out_dir) / "latest.ckpt"));
}

TEST(TrainNonFinite, SkipHoldsBackTheBadUpdateAndCountsIt) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 5);
  o.on_nonfinite = "skip";
  RunControl c = quiet();
  int backward = 0;
  c.grad_hook = [&backward](const std::string& net, const Module& m) {
    if (net == "G" && ++backward == 3) poison_first(m.named_parameters().front().second.grad());
  };
  const RunResult r = run_training(o, c);
  EXPECT_EQ(r.last_step, 5);
  EXPECT_TRUE(std::isfinite(r.last.g_total));
  const Checkpoint ck = read_checkpoint(r.checkpoint);
  EXPECT_TRUE(all_finite(ck));
  // G took four updates of five; D all five.
  EXPECT_EQ(ck.meta.at("state").at("optG").at("steps").get<int64_t>(), 4);
  EXPECT_EQ(ck.meta.at("state").at("optD").at("steps").get<int64_t>(), 5);
  const auto lines = read_lines(o.out_dir + "/nonfinite_skips.log");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "step 3: a gradient of G is not finite; G's update skipped (1 in a row, 1 in all)");
}

TEST(TrainNonFinite, SkipPutsBackTheBatchNormStatisticsOfANaNInput) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 4);
  o.on_nonfinite = "skip";
  RunControl c = quiet();
  c.batch_hook = [](int64_t step, PairedBatch& b) {
    if (step == 2) poison_first(b.input);
  };
  const RunResult r = run_training(o, c);
  EXPECT_EQ(r.last_step, 4);
  // The NaN batch moved the running means and variances; held back, they were put back.
  EXPECT_TRUE(all_finite(read_checkpoint(r.checkpoint)));
  const auto lines = read_lines(o.out_dir + "/nonfinite_skips.log");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(contains(lines[0], "G's and D's update skipped (1 in a row, 1 in all)")) << lines[0];
}

TEST(TrainNonFinite, SkipStopsAfterTooManyBadStepsInARow) {
  TempDir tmp;
  TrainOptions o = run_options(tmp, 8);
  o.on_nonfinite = "skip";
  o.max_nonfinite_skips = 3;
  RunControl c = quiet();
  c.batch_hook = [](int64_t step, PairedBatch& b) {
    if (step >= 2) poison_first(b.input);
  };
  const std::string e = run_error(o, c);
  EXPECT_TRUE(contains(e, "step 4: the loss ")) << e;
  EXPECT_TRUE(contains(e, "3 bad steps in a row")) << e;
  EXPECT_EQ(read_lines(o.out_dir + "/nonfinite_skips.log").size(), 3u);
}

TEST(TrainNonFinite, OptionsAreCheckedAndKeptInTheCheckpoint) {
  TrainOptions o;
  o.on_nonfinite = "ignore";
  EXPECT_THROW(o.validate(), Error);
  o.on_nonfinite = "skip";
  o.max_nonfinite_skips = 0;
  EXPECT_THROW(o.validate(), Error);
  o.max_nonfinite_skips = 7;
  const TrainOptions back = TrainOptions::from_json(o.to_json());
  EXPECT_EQ(back.on_nonfinite, "skip");
  EXPECT_EQ(back.max_nonfinite_skips, 7);
  // A checkpoint from before the guard (no such keys) gets the defaults.
  nlohmann::json old = o.to_json();
  old.erase("on_nonfinite");
  old.erase("max_nonfinite_skips");
  EXPECT_EQ(TrainOptions::from_json(old).on_nonfinite, "stop");
}

}  // namespace
}  // namespace maskoff::train
