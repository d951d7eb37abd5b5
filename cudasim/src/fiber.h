// Fibers: one per simulated CUDA thread. A fiber runs on its own stack until it calls
// Fiber::yield(), which returns to whoever called resume(); resume() continues it where
// it stopped. The switch itself is a few instructions of assembly on x86-64 (it saves the
// callee-saved registers on the old stack and loads the new stack pointer); elsewhere it
// falls back to ucontext, which costs a system call per switch. Each switch is announced
// to AddressSanitizer so that it follows the change of stacks.
#pragma once
#include <cstddef>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace cudasim::detail {

class Fiber {
 public:
  Fiber() = default;
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Prepares the fiber to run entry(arg) on `stack` (stack_bytes long) at its first resume.
  void start(void (*entry)(void*), void* arg, char* stack, size_t stack_bytes);
  // Runs the fiber until it yields or its entry function returns.
  void resume();
  bool finished() const { return finished_; }
  // Called on a fiber: back to the resume() that started this slice.
  static void yield();

 private:
  static void trampoline();
#if defined(__x86_64__)
  void* sp_ = nullptr;  // the fiber's saved stack pointer while it is not running
#else
  ucontext_t context_{};
#endif
  void (*entry_)(void*) = nullptr;
  void* arg_ = nullptr;
  char* stack_ = nullptr;
  size_t stack_bytes_ = 0;
  void* asan_fake_stack_ = nullptr;
  bool finished_ = false;
};

// Stacks for fibers, reused from launch to launch. Each has a PROT_NONE guard page below
// it, so an overflow faults instead of corrupting its neighbour.
class StackPool {
 public:
  static constexpr size_t kStackBytes = 256 * 1024;
  char* get(size_t i);  // the i-th stack, made on first use
  ~StackPool();

 private:
  struct Mapping {
    char* base;
    size_t bytes;
  };
  Mapping* maps_ = nullptr;
  size_t count_ = 0, capacity_ = 0;
};

}  // namespace cudasim::detail
