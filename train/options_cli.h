// The command-line form of TrainOptions, for train_pix2pix and the fuzz target of its
// parser (fuzz/cli_lists_fuzz.cpp): every option, its help text and its default.
#pragma once
#include <CLI/CLI.hpp>

#include "train/options.h"

namespace maskoff::train {

// Adds --data, --out, --epochs ... --max-nonfinite-skips to `app`, bound to the fields of
// `o`, whose values at the call are the defaults shown by --help. Values are checked by
// o.validate() after parsing, not here.
void add_train_options(CLI::App& app, TrainOptions& o);

}  // namespace maskoff::train
