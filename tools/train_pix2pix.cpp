// train_pix2pix: trains the mask-removal pix2pix (U-Net generator, PatchGAN discriminator)
// on a make_masked_dataset folder, with the paper's masked-region MSE and landmark terms.
// See --help; train/train_loop.h does the work.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "tensor/error.h"
#include "train/options_cli.h"
#include "train/train_loop.h"

using namespace maskoff;
using namespace maskoff::train;

namespace {
std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
  // A second Ctrl-C ends the program at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}
}  // namespace

int main(int argc, char** argv) {
  // OpenMP threads spin between the hundreds of short parallel regions of a training step;
  // when anything else wants the cores that spinning makes a step several times slower
  // (measured: 0.34 vs 2.1 steps/s beside a parallel build). Sleeping waits cost little on
  // an idle machine, so they are the default here; the runtime reads the policy only at
  // start-up, hence the re-exec. An explicit OMP_WAIT_POLICY is left alone.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  }
  CLI::App app{
      "Train pix2pix to remove face masks: U-Net-256 generator and 70x70 PatchGAN on (masked, "
      "real) pairs\n"
      "from make_masked_dataset, with GAN + L1 + masked-region MSE + landmark losses.\n"
      "Writes OUT/train_log.csv, OUT/samples/*.png (input | output | predicted mask | real) and "
      "OUT/latest.ckpt\n"
      "(atomically; Ctrl-C saves before exiting, --resume continues exactly)."};
  TrainOptions o;
  std::string resume;
  bool overwrite = false;
  add_train_options(app, o);
  app.add_option("--resume", resume,
                 "continue from this checkpoint (its settings are used; " + resumable_flags() +
                     " may be changed)");
  app.add_flag("--overwrite", overwrite,
               "start a fresh run in an --out folder that already holds one");
  CLI11_PARSE(app, argc, argv);

  try {
    if (!resume.empty()) o = resumed_options(app, o, options_from_checkpoint(resume), resume);
    if (o.data_dir.empty() || o.out_dir.empty()) {
      std::cerr << "train_pix2pix: --data DIR and --out DIR are required (see --help)\n";
      return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunControl ctl;
    ctl.resume = resume;
    ctl.overwrite = overwrite;
    ctl.stop = &g_stop;
    ctl.tty = ::isatty(STDERR_FILENO);
    const RunResult r = run_training(o, ctl);
    std::fprintf(
        stderr,
        "%s at step %lld of %lld after %.1f s (%.2f steps/s); L1 %.4f -> %.4f; checkpoint %s\n",
        r.interrupted ? "interrupted" : "finished", static_cast<long long>(r.last_step),
        static_cast<long long>(r.total_steps), r.seconds, r.steps_per_second, r.first.g_l1,
        r.last.g_l1, r.checkpoint.c_str());
    return r.interrupted ? 130 : 0;
  } catch (const std::exception& e) {
    std::cerr << "train_pix2pix: " << message_of(e) << "\n";
    return 1;
  }
}
