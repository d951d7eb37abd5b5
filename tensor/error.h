// Error type and the check macro used across the engine.
// A failed check throws maskoff::Error whose message names the problem and the source location.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace maskoff {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_error(const char* file, int line, const std::string& msg);

}  // namespace maskoff

// MASKOFF_CHECK(cond, "message " << value << ...): throws maskoff::Error when cond is false.
#define MASKOFF_CHECK(cond, ...)                                        \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::ostringstream maskoff_oss_;                                  \
      maskoff_oss_ << __VA_ARGS__;                                      \
      ::maskoff::throw_error(__FILE__, __LINE__, maskoff_oss_.str());   \
    }                                                                   \
  } while (0)

#define MASKOFF_FAIL(...) MASKOFF_CHECK(false, __VA_ARGS__)
