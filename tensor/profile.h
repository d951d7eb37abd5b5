// Counting what a piece of work asks of the device, on any backend and without a GPU:
//  - ops dispatched (layers/dispatch.h): on CUDA each is at least one kernel launch, so at
//    batch 1, where a launch costs more than the work, the count times the launch latency
//    is a floor under the step time that only fewer launches (fusion, graphs) can lower;
//  - tensor storage allocated: every op writes its output once, so these bytes are a lower
//    bound on the step's memory writes (reads are at least as many again);
//  - floating-point operations of convolutions and matrix products (2 per multiply-add),
//    against which a measured time gives the achieved FLOP/s.
//
//   profile::start();
//   model.train_step(batch);
//   const profile::Counts c = profile::stop();
//
// Counting is off by default; while off, each op pays one relaxed atomic load.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace maskoff::profile {

struct OpCount {
  int64_t calls = 0;
  double flops = 0;
};

struct Counts {
  std::map<std::string, OpCount> ops;  // by op name
  int64_t allocations = 0;
  int64_t bytes_allocated = 0;
  int64_t calls() const;
  double flops() const;
};

namespace detail {
extern std::atomic<bool> active;
void call(const char* name);
void work(const char* name, double flops);
void alloc(size_t bytes);
}  // namespace detail

inline bool active() { return detail::active.load(std::memory_order_relaxed); }
inline void on_op(const char* name) {
  if (active()) detail::call(name);
}
// Adds flops to `name`'s count without counting a call (the call is counted by dispatch).
inline void on_flops(const char* name, double flops) {
  if (active() && flops > 0) detail::work(name, flops);
}
inline void on_alloc(size_t bytes) {
  if (active()) detail::alloc(bytes);
}

void start();   // clears the counts and starts counting (throws if already counting)
Counts stop();  // stops and returns what was counted

}  // namespace maskoff::profile
