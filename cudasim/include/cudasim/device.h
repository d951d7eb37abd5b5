// The CUDA device language on the CPU: qualifiers, the built-in index variables, block
// barriers, warp collectives, atomics and the math intrinsics the kernels use.
//
// How a kernel runs (cudasim/src/block.cpp): the blocks of a grid run one after another;
// inside a block every CUDA thread is a fiber, so the threads run concurrently on one OS
// thread and a fiber gives way only where a CUDA thread could wait for others
// (__syncthreads, a warp shuffle, __syncwarp). threadIdx and friends read the state of
// the fiber now running.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

// ---- qualifiers -----------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __constant__
// Static __shared__ variables become statics. One block runs at a time, so each block has
// the storage to itself. With clang they are gathered in one linker section, which the
// simulator fills with 0xFF (NaN in every float type) before each block, as shared memory
// starts with garbage on a GPU: a read before the write is then visible. (GCC refuses a
// named section shared by inline and non-inline functions' statics, so there they keep
// whatever the last block left.)
#if defined(__clang__)
#define __shared__ static __attribute__((section("cudasim_shared")))
#define CUDASIM_POISONS_SHARED 1
#else
#define __shared__ static
#define CUDASIM_POISONS_SHARED 0
#endif

// ---- built-in variables ---------------------------------------------------------------
namespace cudasim::detail {
struct Builtins {
  uint3 thread_idx{0, 0, 0};
  uint3 block_idx{0, 0, 0};
  dim3 block_dim{1, 1, 1};
  dim3 grid_dim{1, 1, 1};
};
extern thread_local Builtins builtins;  // set by the scheduler before each fiber runs
inline const uint3& thread_idx() { return builtins.thread_idx; }
inline const uint3& block_idx() { return builtins.block_idx; }
inline const dim3& block_dim() { return builtins.block_dim; }
inline const dim3& grid_dim() { return builtins.grid_dim; }

// Scheduler entry points (cudasim/src/block.cpp).
enum class BarrierOp { Plain, Count, And, Or };
int block_barrier(BarrierOp op, int predicate);
enum class WarpOp { Idx, Up, Down, Xor, Ballot, Sync };
// Deposits `value` for this lane, waits until every lane named in `mask` has reached a
// collective of the same kind, and returns what `op` gives this lane (the bits of the
// source lane's value for shuffles, the vote mask for Ballot).
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int width);
unsigned active_mask();
void* dynamic_shared();
[[noreturn]] void trap(const char* what);
}  // namespace cudasim::detail

#define threadIdx (::cudasim::detail::thread_idx())
#define blockIdx (::cudasim::detail::block_idx())
#define blockDim (::cudasim::detail::block_dim())
#define gridDim (::cudasim::detail::grid_dim())
constexpr int warpSize = 32;

// Dynamic shared memory: `extern __shared__ T name[]` cannot be spelled by a macro in
// C++, so kernels that need it declare it with this (see cuda/kernel_util.cuh).
#define CUDASIM_DYNAMIC_SHARED(T, name) \
  T* name = static_cast<T*>(::cudasim::detail::dynamic_shared())

// ---- block and warp synchronisation ---------------------------------------------------
inline void __syncthreads() {
  ::cudasim::detail::block_barrier(::cudasim::detail::BarrierOp::Plain, 0);
}
inline int __syncthreads_count(int p) {
  return ::cudasim::detail::block_barrier(::cudasim::detail::BarrierOp::Count, p);
}
inline int __syncthreads_and(int p) {
  return ::cudasim::detail::block_barrier(::cudasim::detail::BarrierOp::And, p);
}
inline int __syncthreads_or(int p) {
  return ::cudasim::detail::block_barrier(::cudasim::detail::BarrierOp::Or, p);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::cudasim::detail::warp_collective(::cudasim::detail::WarpOp::Sync, mask, 0, 0, 32);
}
inline unsigned __activemask() { return ::cudasim::detail::active_mask(); }
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return static_cast<unsigned>(::cudasim::detail::warp_collective(::cudasim::detail::WarpOp::Ballot,
                                                                  mask, predicate != 0, 0, 32));
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
  return __ballot_sync(mask, predicate) == (mask & __activemask());
}

namespace cudasim::detail {
template <class T>
T shuffle(WarpOp op, unsigned mask, T v, int arg, int width) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "warp shuffles move values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_collective(op, mask, bits, arg, width);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
}  // namespace cudasim::detail
template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  return ::cudasim::detail::shuffle(::cudasim::detail::WarpOp::Idx, mask, v, src_lane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::cudasim::detail::shuffle(::cudasim::detail::WarpOp::Up, mask, v, static_cast<int>(delta),
                                    width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::cudasim::detail::shuffle(::cudasim::detail::WarpOp::Down, mask, v,
                                    static_cast<int>(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::cudasim::detail::shuffle(::cudasim::detail::WarpOp::Xor, mask, v, lane_mask, width);
}

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __trap() { ::cudasim::detail::trap("__trap() called"); }
inline void __nanosleep(unsigned) {}
inline long long clock64() { return static_cast<long long>(__builtin_ia32_rdtsc()); }

// ---- atomics (sequentially consistent; the floating-point adds by compare-and-swap) -----
template <class T>
T atomicAdd(T* p, T v) {
  if constexpr (std::is_integral_v<T>) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
  } else {
    T old, next;
    __atomic_load(p, &old, __ATOMIC_SEQ_CST);
    do {
      next = old + v;
    } while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old;
  }
}
template <class T>
T atomicSub(T* p, T v) {
  return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicExch(T* p, T v) {
  T old;
  __atomic_exchange(p, &v, &old, __ATOMIC_SEQ_CST);
  return old;
}
template <class T>
T atomicCAS(T* p, T compare, T v) {
  __atomic_compare_exchange(p, &compare, &v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;  // the old value, whether or not the swap happened
}
// Stores v while before(v, *p) holds, retrying when another thread wrote in between;
// returns the value it replaced (or the one that won).
template <class T, class Before>
T atomic_keep_first(T* p, T v, Before before) {
  T old = *p;
  while (before(v, old) &&
         !__atomic_compare_exchange(p, &old, &v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <class T>
T atomicMin(T* p, T v) {
  return atomic_keep_first(p, v, [](T a, T b) { return a < b; });
}
template <class T>
T atomicMax(T* p, T v) {
  return atomic_keep_first(p, v, [](T a, T b) { return a > b; });
}
template <class T>
T atomicAnd(T* p, T v) {
  return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicOr(T* p, T v) {
  return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicXor(T* p, T v) {
  return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
}
// ((old >= limit) ? 0 : old + 1) and ((old == 0 || old > limit) ? limit : old - 1).
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  unsigned old = *p, next;
  do {
    next = old >= limit ? 0u : old + 1u;
  } while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return old;
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
  unsigned old = *p, next;
  do {
    next = (old == 0u || old > limit) ? limit : old - 1u;
  } while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return old;
}

// ---- math: CUDA's integer/float min and max overloads, bit casts and intrinsics ---------
#define CUDASIM_MINMAX(T)                          \
  inline T min(T a, T b) { return b < a ? b : a; } \
  inline T max(T a, T b) { return a < b ? b : a; }
CUDASIM_MINMAX(int)
CUDASIM_MINMAX(unsigned int)
CUDASIM_MINMAX(long)
CUDASIM_MINMAX(unsigned long)
CUDASIM_MINMAX(long long)
CUDASIM_MINMAX(unsigned long long)
#undef CUDASIM_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

namespace cudasim::detail {
template <class To, class From>
To bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From));
  To out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}
}  // namespace cudasim::detail
inline float __int_as_float(int v) { return ::cudasim::detail::bit_cast<float>(v); }
inline int __float_as_int(float v) { return ::cudasim::detail::bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return ::cudasim::detail::bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return ::cudasim::detail::bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return ::cudasim::detail::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) {
  return ::cudasim::detail::bit_cast<long long>(v);
}

inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __powf(float a, float b) { return std::pow(a, b); }
inline float __saturatef(float x) { return x != x ? 0.f : (x < 0.f ? 0.f : (x > 1.f ? 1.f : x)); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }

inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v)); }
inline int __clzll(long long v) {
  return v == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(v));
}
inline int __ffs(int v) { return __builtin_ffs(v); }
inline int __ffsll(long long v) { return __builtin_ffsll(v); }
inline unsigned __brev(unsigned v) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((v >> i) & 1u) << (31 - i);
  return r;
}
template <class T>
T __ldg(const T* p) {
  return *p;
}
