// Small helpers shared by the test suites.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tensor/error.h"

namespace maskoff::testing {

// SHARED/weights/<name>: SHARED is $MASKOFF_SHARED, or the shared folder beside the source
// tree. The engine's tests cannot use data::shared_dir (the data library needs dlib).
inline std::string shared_weights_dir(const std::string& name) {
  const char* env = std::getenv("MASKOFF_SHARED");
  const std::string shared = env && *env ? env : std::string(MASKOFF_SOURCE_DIR) + "/../shared";
  return shared + "/weights/" + name;
}

// Skips the test, saying where it looked, when the pretrained weights `dir` are absent.
#define MASKOFF_SKIP_WITHOUT_WEIGHTS(dir, what)              \
  if (!std::filesystem::is_directory(dir))                   \
  GTEST_SKIP() << "no " << (what) << " weights at " << (dir) \
               << " (set MASKOFF_SHARED to the shared data folder)"

// Hides every GPU from child processes started while it lives: CUDA_VISIBLE_DEVICES=""
// hides a real one, CUDASIM_DEVICES=0 the simulated one.
class HiddenGpus {
 public:
  HiddenGpus() {
    for (int i = 0; i < 2; ++i) {
      const char* old = std::getenv(kNames[i]);
      had_[i] = old != nullptr;
      if (old) old_[i] = old;
      setenv(kNames[i], kValues[i], 1);
    }
  }
  ~HiddenGpus() {
    for (int i = 0; i < 2; ++i)
      had_[i] ? setenv(kNames[i], old_[i].c_str(), 1) : unsetenv(kNames[i]);
  }
  HiddenGpus(const HiddenGpus&) = delete;
  HiddenGpus& operator=(const HiddenGpus&) = delete;

 private:
  static constexpr const char* kNames[2] = {"CUDA_VISIBLE_DEVICES", "CUDASIM_DEVICES"};
  static constexpr const char* kValues[2] = {"", "0"};
  bool had_[2] = {false, false};
  std::string old_[2];
};

// Runs `statement` in a fresh child process that sees no GPU, so what a machine without
// one does is tested on every machine. The statement reports a failure by exiting non-zero
// (its stderr is shown); reaching its end passes.
#define MASKOFF_EXPECT_WITHOUT_GPU(statement)       \
  do {                                              \
    ::maskoff::testing::HiddenGpus maskoff_hidden_; \
    GTEST_FLAG_SET(death_test_style, "threadsafe"); \
    EXPECT_EXIT(                                    \
        {                                           \
          statement;                                \
          std::exit(0);                             \
        },                                          \
        ::testing::ExitedWithCode(0), "");          \
  } while (0)

// The message of the maskoff::Error that f throws, or "no error" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace maskoff::testing
