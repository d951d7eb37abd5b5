// maskoff::Error keeps what went wrong (message()) apart from where the check that failed
// sits (where()): the command-line tools print the first, what() and the logs keep both.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tensor/error.h"

namespace maskoff {
namespace {

TEST(Error, ACheckGivesTheMessageAndItsSourceLocationApart) {
  const int line = __LINE__ + 2;
  try {
    MASKOFF_CHECK(1 + 1 == 3, "arithmetic is off by " << 1);
    FAIL() << "MASKOFF_CHECK did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "arithmetic is off by 1");
    EXPECT_EQ(e.where(), "error_test.cpp:" + std::to_string(line));
    EXPECT_EQ(std::string(e.what()),
              "arithmetic is off by 1 [error_test.cpp:" + std::to_string(line) + "]");
    EXPECT_EQ(message_of(e), "arithmetic is off by 1");
  }
}

TEST(Error, WithoutALocationWhatIsTheMessage) {
  const Error e("no file to blame");
  EXPECT_EQ(e.message(), "no file to blame");
  EXPECT_EQ(e.where(), "");
  EXPECT_EQ(std::string(e.what()), "no file to blame");
}

TEST(Error, MessageOfAnyOtherExceptionIsWhat) {
  EXPECT_EQ(message_of(std::runtime_error("from elsewhere [a.cpp:1]")), "from elsewhere [a.cpp:1]");
  // Caught as std::exception, a maskoff::Error still gives its message alone.
  try {
    MASKOFF_FAIL("failed " << 2 << " times");
  } catch (const std::exception& e) {
    EXPECT_EQ(message_of(e), "failed 2 times");
  }
}

}  // namespace
}  // namespace maskoff
