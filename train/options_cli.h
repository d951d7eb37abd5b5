// The command-line form of TrainOptions, for train_pix2pix and the fuzz target of its
// parser (fuzz/cli_lists_fuzz.cpp): every option, its help text and its default, and
// which of them a resumed run may change.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "train/options.h"

namespace maskoff::train {

// Adds --data, --out, --epochs ... --max-nonfinite-skips to `app`, bound to the fields of
// `o`, whose values at the call are the defaults shown by --help. Values are checked by
// o.validate() after parsing, not here.
void add_train_options(CLI::App& app, TrainOptions& o);

// The options of a run resumed from `checkpoint`, whose own options are `saved`: those, but
// for the settings a resumed run may change (the folders, the schedule, the device and
// threads, the sample and save intervals, the landmark weights' folder, the non-finite
// policy), which `app` parsed into `given` where their flag was on the command line. A flag
// that shapes the model or the data stream (--resolution, --ngf, --ndf, --batch-size,
// --seed, --gan-mode, --landmark-loss and the loss weights) may be given only with the
// checkpoint's value; another value throws, naming the flag.
TrainOptions resumed_options(const CLI::App& app, const TrainOptions& given,
                             const TrainOptions& saved, const std::string& checkpoint);
// The flags that resumed_options takes from the command line, for --resume's help.
std::string resumable_flags();

}  // namespace maskoff::train
