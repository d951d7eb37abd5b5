// The main() of a benchmark program that registers its cases at run time (one per layer or
// size): a registration helper for wall-clock cases, and the run with Google Benchmark's own
// flags (--benchmark_filter=..., --benchmark_format=json, ...).
#pragma once
#include <benchmark/benchmark.h>

#include <string>
#include <utility>

namespace maskoff::bench {

// Registers fn as `name`, timed by the wall clock (so a multithreaded kernel is not charged
// for every thread's CPU time) and repeated for at least min_seconds.
template <class Fn>
benchmark::internal::Benchmark* register_wall_clock(const std::string& name, Fn&& fn,
                                                    double min_seconds, benchmark::TimeUnit unit) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))
      ->UseRealTime()
      ->MinTime(min_seconds)
      ->Unit(unit);
}

// Parses Google Benchmark's flags, runs every registered case and reports them.
inline int run_registered_benchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace maskoff::bench
