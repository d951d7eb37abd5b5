#include "train/progress.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace maskoff::train {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::ostream& out, int64_t first, int64_t total, bool tty)
    : out_(out),
      first_(first),
      total_(total),
      last_done_(first),
      tty_(tty),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::rate() const {
  const double t = elapsed_s();
  return t > 0 ? static_cast<double>(last_done_ - first_) / t : 0.0;
}

void Progress::update(int64_t done, const std::string& prefix,
                      const std::vector<std::string>& names, const std::vector<double>& values) {
  last_done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  const bool last = done >= total_;
  if (!last && since < (tty_ ? 0.2 : 10.0) && printed_) return;
  last_print_ = now;
  printed_ = true;
  const double r = rate();
  const double eta = r > 0 ? static_cast<double>(total_ - done) / r : NAN;
  std::ostringstream line;
  const int width = 20;
  const int fill = total_ > 0 ? static_cast<int>(width * static_cast<double>(done) / total_) : 0;
  line << prefix << " " << done << "/" << total_ << " [" << std::string(fill, '#')
       << std::string(width - fill, ' ') << "] ";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f it/s ETA %s", r, format_duration(eta).c_str());
  line << buf;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %s %.4g", names[i].c_str(), values[i]);
    line << buf;
  }
  if (tty_)
    out_ << "\r" << line.str() << "\033[K" << std::flush;
  else
    out_ << line.str() << "\n" << std::flush;
}

void Progress::finish() {
  if (tty_ && printed_) out_ << "\n" << std::flush;
}

}  // namespace maskoff::train
