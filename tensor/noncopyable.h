// Base of the scope guards (NoGradGuard, SkipInitGuard): a guard stands for one scope, so it
// can be neither copied nor assigned.
#pragma once

namespace maskoff {

class NonCopyable {
 protected:
  NonCopyable() = default;
  ~NonCopyable() = default;

 public:
  NonCopyable(const NonCopyable&) = delete;
  NonCopyable& operator=(const NonCopyable&) = delete;
};

}  // namespace maskoff
