// What the training tests share: one small dataset per test program, the settings of a
// tiny, fast run on it, a quiet RunControl, and reading a text file's lines.
#pragma once
#include <unistd.h>

#include <cstdio>
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

// The command line of a train_pix2pix run on small_dataset() that only a signal ends: 32x32,
// generator and discriminator `width` wide, CPU, no landmark loss, no sample grids, a
// checkpoint every `save_every` steps (0: on exit only), then `extra`.
inline std::vector<std::string> endless_train_command(const std::string& out, int width,
                                                      int save_every,
                                                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {std::string(MASKOFF_BINARY_DIR) + "/train_pix2pix",
                                   "--data",
                                   small_dataset(),
                                   "--out",
                                   out,
                                   "--resolution",
                                   "32",
                                   "--ngf",
                                   std::to_string(width),
                                   "--ndf",
                                   std::to_string(width),
                                   "--landmark-loss",
                                   "none",
                                   "--device",
                                   "cpu",
                                   "--steps",
                                   "1000000",
                                   "--save-every",
                                   std::to_string(save_every),
                                   "--sample-every",
                                   "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Runs args[0] with `args` in a child process whose stderr goes to `stderr_path`; returns
// the child's pid (the test waits for it).
inline pid_t spawn(const std::vector<std::string>& args, const std::string& stderr_path) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::FILE* f = std::freopen(stderr_path.c_str(), "w", stderr);
  (void)f;
  ::execv(argv[0], argv.data());
  std::_Exit(127);
}

}  // namespace maskoff::train::testing
