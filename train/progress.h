// A one-line progress display for long loops: step, it/s, ETA and named values. On a
// terminal it redraws in place; otherwise (logs, CI) it prints a line every few seconds.
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace maskoff::train {

class Progress {
 public:
  Progress(std::ostream& out, int64_t first, int64_t total, bool tty);
  // `done` steps finished so far (first <= done <= total).
  void update(int64_t done, const std::string& prefix, const std::vector<std::string>& names,
              const std::vector<double>& values);
  void finish();
  double elapsed_s() const;
  double rate() const;  // steps per second since the start

 private:
  std::ostream& out_;
  int64_t first_, total_, last_done_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  bool printed_ = false;
};

std::string format_duration(double seconds);  // "1:02:03" or "4:05"

}  // namespace maskoff::train
