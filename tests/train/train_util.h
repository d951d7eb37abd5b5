// What the training tests share: one small dataset per test program, the settings of a
// tiny, fast run on it, a quiet RunControl, and reading a text file's lines.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "train/options.h"
#include "train/train_loop.h"

namespace maskoff::train::testing {

namespace fs = std::filesystem;
namespace tr = maskoff::train;

// One small dataset per test program: 64x64 pairs from dlib's example photos (procedural
// masks when ../shared is absent), made by the real tool.
inline const std::string& small_dataset() {
  static const std::string dir = [] {
    const fs::path d =
        fs::temp_directory_path() / ("maskoff_train_ds_" + std::to_string(::getpid()));
    fs::remove_all(d);
    const std::string cmd =
        std::string(MASKOFF_BINARY_DIR) + "/make_masked_dataset --output " + d.string() +
        " --size 64 --limit 12 --threads 1 --seed 3 --contact-rows 0 > " + d.string() + ".log 2>&1";
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << cmd;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("maskoff_train_ds_" + std::to_string(::getpid())),
                     ec);
      fs::remove(
          fs::temp_directory_path() / ("maskoff_train_ds_" + std::to_string(::getpid()) + ".log"),
          ec);
    });
    return d.string();
  }();
  return dir;
}

inline tr::TrainOptions tiny_options(const std::string& out) {
  tr::TrainOptions o;
  o.data_dir = small_dataset();
  o.out_dir = out;
  o.resolution = 32;
  o.ngf = 8;
  o.ndf = 8;
  o.batch_size = 2;
  o.landmark_loss = "none";
  o.device = "cpu";
  o.sample_every = 0;
  o.save_every = 0;
  o.num_samples = 2;
  return o;
}

inline tr::RunControl quiet() {
  tr::RunControl c;
  c.quiet = true;
  static std::ostringstream sink;
  c.log = &sink;
  return c;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

}  // namespace maskoff::train::testing
