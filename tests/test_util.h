// Small helpers shared by the test suites.
#pragma once
#include <string>

#include "tensor/error.h"

namespace maskoff::testing {

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
