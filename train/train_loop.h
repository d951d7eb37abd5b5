// The training run behind train_pix2pix: data, schedule, logging, samples, checkpoints,
// resume and interruption. A run resumed from a checkpoint continues exactly as the
// uninterrupted run would have (on the CPU): the batch order and jitter are functions of
// (seed, step), and the checkpoint holds every other piece of state.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>

#include "train/options.h"
#include "train/paired_data.h"
#include "train/pix2pix.h"

namespace maskoff::train {

struct RunControl {
  std::string resume;                       // checkpoint to continue from ("" = fresh run)
  bool overwrite = false;                   // allow a fresh run over an existing one in out_dir
  const std::atomic<bool>* stop = nullptr;  // polled after each step (Ctrl-C)
  std::ostream* log = &std::cerr;           // start-up lines and progress
  bool tty = false;                         // redraw the progress line in place
  bool quiet = false;                       // no progress line (tests)
  // For tests: called with each batch before its step (to corrupt an input), and handed to
  // Pix2Pix::set_grad_hook (to corrupt a gradient).
  std::function<void(int64_t step, PairedBatch& batch)> batch_hook;
  Pix2Pix::GradHook grad_hook;
};

struct RunResult {
  int64_t first_step = 0, last_step = 0, total_steps = 0;
  bool interrupted = false;
  double seconds = 0, steps_per_second = 0;
  LossTerms first, last;
  std::string checkpoint;  // the last one written
};

// Throws maskoff::Error naming the file or option on bad input; nothing already in out_dir
// is lost (the log and checkpoints are replaced atomically). A NaN or an infinity (in a
// loss after a step, or in what a checkpoint would hold when it is saved) stops the run
// with Error naming the step, the loss and the first non-finite tensor, writes
// OUT/nonfinite_step_N.json, and never overwrites the last good checkpoint; with
// --on-nonfinite skip such steps' updates are held back instead, each logged to
// OUT/nonfinite_skips.log, until max_nonfinite_skips come in a row.
RunResult run_training(const TrainOptions& opts, const RunControl& ctl = {});

// The checkpoint's options (for --resume): throws naming the file when it is not a
// train_pix2pix checkpoint.
TrainOptions options_from_checkpoint(const std::string& path);

}  // namespace maskoff::train
