// A thin OpenMP loop. Small loops stay on one thread: starting a team costs a few
// microseconds, which only pays for more than ~32k simple elements.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace maskoff {

constexpr int64_t kParallelGrain = 1 << 15;

template <class F>
inline void parallel_for(int64_t n, F&& f, int64_t grain = kParallelGrain) {
#pragma omp parallel for schedule(static) if (n > grain)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// f(r, start, len) for every row r in [0, rows) and every piece [start, start + len) of
// [0, cols) cut every `piece` columns, in parallel over the (row, piece) pairs: work along
// long rows still spreads over threads when there is a single row. `grain` counts pairs; a
// `piece` below 1 counts as 1.
template <class F>
inline void parallel_for_pieces(int64_t rows, int64_t cols, int64_t piece, F&& f, int64_t grain) {
  piece = std::max<int64_t>(1, piece);
  const int64_t pieces = (cols + piece - 1) / piece;
  parallel_for(
      rows * pieces,
      [&](int64_t t) {
        const int64_t r = t / pieces, start = (t % pieces) * piece;
        f(r, start, std::min(piece, cols - start));
      },
      grain);
}

// Sum of f(0) + ... + f(n-1) in double. Fixed-size chunks are summed in parallel and the
// chunk sums are then added in order, so the result is the same for any thread count
// (an OpenMP reduction clause would make a loss depend on the number of threads).
template <class F>
double parallel_sum(int64_t n, F&& f) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(
      chunks,
      [&](int64_t c) {
        double s = 0;
        const int64_t end = std::min(n, (c + 1) * kChunk);
        for (int64_t i = c * kChunk; i < end; ++i) s += static_cast<double>(f(i));
        partial[static_cast<size_t>(c)] = s;
      },
      kParallelGrain / kChunk);
  double s = 0;
  for (double v : partial) s += v;
  return s;
}

// Number of threads OpenMP will use (1 in a build without OpenMP).
int num_threads();
void set_num_threads(int n);

// OpenMP's waiting threads spin. When other work keeps a core busy, a spinning thread holds
// the core its partner needs, and every barrier waits for the scheduler: remove_mask took
// 1.4 s instead of 0.1 s for a 640x480 photo beside one busy process on 2 cores. Programs
// that run briefly call this first: unless OMP_WAIT_POLICY is set, it starts the program
// again (same arguments) with OMP_WAIT_POLICY=passive, read by OpenMP only at start-up.
// Returns only when nothing was done or the restart failed.
void prefer_sleeping_omp_threads(char** argv);

}  // namespace maskoff
