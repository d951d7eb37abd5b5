// train_pix2pix's command line (train/options_cli.h): numbers, comma lists such as
// --landmark-crop X0,Y0,SIZE, words and flags, then TrainOptions::validate(). The input is
// the arguments, one per line. A rejection is CLI11's parse error or validate()'s Error;
// accepted options satisfy what validate() promises.
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "train/options_cli.h"

void maskoff_fuzz_init() {}

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size && args.size() <= 64; ++i) {
    if (data[i] == '\n')
      args.emplace_back();
    else
      args.back().push_back(static_cast<char>(data[i]));
  }
  maskoff::train::TrainOptions o;
  CLI::App app;
  maskoff::train::add_train_options(app, o);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::Error&) {
    return;
  }
  o.validate();
  FUZZ_REQUIRE(o.batch_size >= 1 && o.lr > 0 && o.max_nonfinite_skips >= 1);
  FUZZ_REQUIRE(o.landmark_crop.empty() || o.landmark_crop.size() == 3);
}
