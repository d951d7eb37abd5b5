// A thin OpenMP loop. Small loops stay on one thread: starting a team costs a few
// microseconds, which only pays for more than ~32k simple elements.
#pragma once
#include <cstdint>

namespace maskoff {

constexpr int64_t kParallelGrain = 1 << 15;

template <class F>
inline void parallel_for(int64_t n, F&& f, int64_t grain = kParallelGrain) {
#pragma omp parallel for schedule(static) if (n > grain)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Number of threads OpenMP will use (1 in a build without OpenMP).
int num_threads();
void set_num_threads(int n);

}  // namespace maskoff
