#include "tensor/profile.h"

#include <mutex>

#include "tensor/error.h"

namespace maskoff::profile {
namespace {
std::mutex mu;
Counts counts;
}  // namespace

namespace detail {
std::atomic<bool> active{false};

void call(const char* name) {
  std::lock_guard<std::mutex> lock(mu);
  ++counts.ops[name].calls;
}

void work(const char* name, double flops) {
  std::lock_guard<std::mutex> lock(mu);
  counts.ops[name].flops += flops;
}

void alloc(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu);
  ++counts.allocations;
  counts.bytes_allocated += static_cast<int64_t>(bytes);
}
}  // namespace detail

int64_t Counts::calls() const {
  int64_t n = 0;
  for (const auto& [name, c] : ops) n += c.calls;
  return n;
}

double Counts::flops() const {
  double f = 0;
  for (const auto& [name, c] : ops) f += c.flops;
  return f;
}

void start() {
  std::lock_guard<std::mutex> lock(mu);
  MASKOFF_CHECK(!detail::active.load(), "profile::start: already counting");
  counts = Counts{};
  detail::active.store(true);
}

Counts stop() {
  std::lock_guard<std::mutex> lock(mu);
  detail::active.store(false);
  Counts out = std::move(counts);
  counts = Counts{};
  return out;
}

}  // namespace maskoff::profile
