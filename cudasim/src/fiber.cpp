#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "internal.h"

#ifdef CUDASIM_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__)
// cudasim_switch(save, load): pushes the callee-saved registers (and the SSE and x87
// control words, which the ABI also asks a callee to keep) on the current stack, stores
// the stack pointer in *save, loads `load` as the stack pointer and pops the same set
// from it. The `ret` then continues wherever the other side last called cudasim_switch,
// or, for a fresh fiber, in its trampoline (see Fiber::start).
extern "C" void cudasim_switch(void** save, void* load);
asm(R"(
  .text
  .p2align 4
  .globl cudasim_switch
  .type cudasim_switch, @function
cudasim_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cudasim_switch, .-cudasim_switch
  .section .note.GNU-stack,"",@progbits
  .text
)");
#endif

namespace cudasim::detail {

namespace {
thread_local Fiber* t_running = nullptr;  // the fiber now running on this OS thread
#if defined(__x86_64__)
thread_local void* t_scheduler = nullptr;  // the scheduler's saved stack pointer
#else
thread_local ucontext_t t_scheduler;  // where yield() returns to
#endif
thread_local const void* t_sched_bottom = nullptr;  // the scheduler's stack, for ASan
thread_local size_t t_sched_size = 0;

// AddressSanitizer must be told before each switch which stack comes next, and after it
// which one was left, or it mistakes the new stack for an overflow of the old one.
void before_switch(void** fake_stack_save, const void* bottom, size_t size) {
#ifdef CUDASIM_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}
void after_switch(void* fake_stack_save, const void** old_bottom, size_t* old_size) {
#ifdef CUDASIM_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, old_bottom, old_size);
#else
  (void)fake_stack_save, (void)old_bottom, (void)old_size;
#endif
}
}  // namespace

void Fiber::start(void (*entry)(void*), void* arg, char* stack, size_t stack_bytes) {
  entry_ = entry;
  arg_ = arg;
  stack_ = stack;
  stack_bytes_ = stack_bytes;
  finished_ = false;
  asan_fake_stack_ = nullptr;
#if defined(__x86_64__)
  // The frame cudasim_switch pops, from the stack pointer up: the control words (MXCSR's
  // default, then the x87 default), six zeroed registers, the trampoline as the return
  // address, and a null slot above it so the trampoline starts with the stack aligned as
  // after a call.
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack + stack_bytes) &
                                          ~uintptr_t{15});
  uint64_t* sp = top - 9;
  sp[0] = 0x1F80ull | (0x037Full << 32);
  for (int i = 1; i <= 6; ++i) sp[i] = 0;
  sp[7] = reinterpret_cast<uint64_t>(&Fiber::trampoline);
  sp[8] = 0;
  sp_ = sp;
#else
  static thread_local ucontext_t blank;
  static thread_local bool have_blank = false;
  if (!have_blank) {  // getcontext is a system call: made once, then copied
    getcontext(&blank);
    have_blank = true;
  }
  context_ = blank;
  context_.uc_stack.ss_sp = stack;
  context_.uc_stack.ss_size = stack_bytes;
  context_.uc_link = nullptr;
  makecontext(&context_, &Fiber::trampoline, 0);
#endif
}

void Fiber::trampoline() {
  Fiber* self = t_running;
  after_switch(nullptr, &t_sched_bottom, &t_sched_size);
  self->entry_(self->arg_);
  self->finished_ = true;
  before_switch(nullptr, t_sched_bottom, t_sched_size);  // this stack is done with
#if defined(__x86_64__)
  void* unused;
  cudasim_switch(&unused, t_scheduler);
#else
  setcontext(&t_scheduler);
#endif
  std::abort();  // unreachable
}

void Fiber::resume() {
  t_running = this;
  void* fake_stack = nullptr;
  before_switch(&fake_stack, stack_, stack_bytes_);
#if defined(__x86_64__)
  cudasim_switch(&t_scheduler, sp_);
#else
  swapcontext(&t_scheduler, &context_);
#endif
  after_switch(fake_stack, nullptr, nullptr);
  t_running = nullptr;
}

void Fiber::yield() {
  Fiber* self = t_running;
  before_switch(&self->asan_fake_stack_, t_sched_bottom, t_sched_size);
#if defined(__x86_64__)
  cudasim_switch(&self->sp_, t_scheduler);
#else
  swapcontext(&self->context_, &t_scheduler);
#endif
  after_switch(self->asan_fake_stack_, &t_sched_bottom, &t_sched_size);
}

char* StackPool::get(size_t i) {
  while (count_ <= i) {
    if (count_ == capacity_) {
      capacity_ = capacity_ ? 2 * capacity_ : 64;
      maps_ = static_cast<Mapping*>(std::realloc(maps_, capacity_ * sizeof(Mapping)));
      if (!maps_) std::abort();
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = kStackBytes + page;
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "cudasim: cannot map a %zu-byte fiber stack\n", bytes);
      std::abort();
    }
    mprotect(m, page, PROT_NONE);  // the guard page: stacks grow down into it
    maps_[count_++] = Mapping{static_cast<char*>(m), bytes};
  }
  return maps_[i].base + (maps_[i].bytes - kStackBytes);
}

StackPool::~StackPool() {
  for (size_t i = 0; i < count_; ++i) munmap(maps_[i].base, maps_[i].bytes);
  std::free(maps_);
}

}  // namespace cudasim::detail
