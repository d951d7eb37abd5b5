// Error type and the check macro used across the engine.
// A failed check throws maskoff::Error, which keeps the problem (message()) apart from the
// source location of the check (where()); what() holds both, "message [file.cpp:123]".
// The command-line tools print the message; logs and test failures keep both.
#pragma once
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>

namespace maskoff {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, const std::string& where = "");
  // What went wrong, in words for the person who ran the program.
  const std::string& message() const { return message_; }
  // The file and line of the check that failed ("tensor.cpp:42"); empty when unknown.
  const std::string& where() const { return where_; }

 private:
  std::string message_, where_;
};

// The message of any exception: Error::message() for a maskoff::Error, what() otherwise.
std::string message_of(const std::exception& e);

[[noreturn]] void throw_error(const char* file, int line, const std::string& msg);

}  // namespace maskoff

// MASKOFF_CHECK(cond, "message " << value << ...): throws maskoff::Error when cond is false.
#define MASKOFF_CHECK(cond, ...)                                      \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::ostringstream maskoff_oss_;                                \
      maskoff_oss_ << __VA_ARGS__;                                    \
      ::maskoff::throw_error(__FILE__, __LINE__, maskoff_oss_.str()); \
    }                                                                 \
  } while (0)

#define MASKOFF_FAIL(...) MASKOFF_CHECK(false, __VA_ARGS__)
