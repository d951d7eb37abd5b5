// Running a grid: launch checks, then the blocks one after another, and inside a block
// one fiber per CUDA thread under a small scheduler.
//
// The scheduler runs every ready thread in turn until it finishes or has to wait:
//  - at __syncthreads it waits until every thread of the block that has not exited is
//    there too (exited threads count as arrived, as on Volta and later GPUs);
//  - at a warp collective (__shfl_*_sync, __ballot_sync, __syncwarp) it waits until every
//    lane named in the mask has reached a collective of the same kind with the same mask;
//    then all of them get their results at once, which is lockstep.
// When no thread can run and they are not all at the barrier, the block is deadlocked
// (on a GPU it would hang); that, a lane calling a collective with a mask that leaves
// itself out or names lanes that have exited or do not exist, and __trap() are reported
// as the kernel's fault and leave the launch-failure error CUDA leaves.
//
// Blocks run in index order, or in a seeded random order with CUDASIM_SEED=N, which also
// shuffles the order threads are resumed in: results that change with the seed depend
// on an order CUDA does not promise.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include "fiber.h"
#include "internal.h"

#if defined(__clang__)
// The linker's bounds of the section that holds every static __shared__ variable (weak:
// absent when no kernel has one).
extern "C" char __start_cudasim_shared[] __attribute__((weak));
extern "C" char __stop_cudasim_shared[] __attribute__((weak));
#endif

namespace cudasim::detail {

thread_local Builtins builtins;

namespace {

enum class ThreadState { Ready, AtBarrier, AtWarp, Done, Faulted };

struct SimThread {
  Fiber fiber;
  uint3 idx{};
  int linear = 0;
  ThreadState state = ThreadState::Ready;
  BarrierOp barrier_op = BarrierOp::Plain;
  int predicate = 0;
  int barrier_result = 0;
  uint64_t warp_result = 0;
};

// A warp collective some lanes have reached and others not yet.
struct Collective {
  WarpOp op;
  unsigned mask;
  unsigned arrived = 0;
  int width = 32;
  uint64_t value[32] = {};
  int arg[32] = {};
};

struct Warp {
  unsigned exists = 0;  // lanes that exist (the last warp of a block may be partial)
  unsigned done = 0;    // lanes that have exited
  std::vector<Collective> pending;
};

struct BlockRun {
  const std::function<void()>* body = nullptr;
  std::vector<SimThread> threads;
  std::vector<Warp> warps;
  int done = 0;
  int at_barrier = 0;
  bool faulted = false;
  std::string fault;
  std::vector<unsigned char> dynamic_shared;
};

thread_local BlockRun* t_block = nullptr;
thread_local SimThread* t_thread = nullptr;
thread_local StackPool* t_stacks = nullptr;

std::map<const void*, int>& max_dynamic_shared() {
  static auto* m = new std::map<const void*, int>();
  return *m;
}

const char* op_name(WarpOp op) {
  // In the order WarpOp declares them.
  static const char* const kNames[] = {"__shfl_sync",     "__shfl_up_sync", "__shfl_down_sync",
                                       "__shfl_xor_sync", "__ballot_sync",  "__syncwarp"};
  const auto i = static_cast<size_t>(op);
  return i < std::size(kNames) ? kNames[i] : "?";
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
std::string triple(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

// Thrown on a fiber by fault_here and caught where the fiber began, so that the faulting
// thread's stack unwinds; the block is then abandoned (its other threads never resume).
struct KernelFault {};

// Called on a fiber: ends the block with a fault naming this thread.
[[noreturn]] void fault_here(const std::string& what) {
  BlockRun& b = *t_block;
  if (!b.faulted) {
    b.faulted = true;
    b.fault = "thread " + triple(t_thread->idx) + ": " + what;
  }
  throw KernelFault{};
}

// Every lane of c has arrived: work out each lane's result and let them all go on.
void complete(BlockRun& b, int warp, Collective& c, int self_lane) {
  const int width = c.width;
  for (int lane = 0; lane < 32; ++lane) {
    if (!((c.mask >> lane) & 1u)) continue;
    uint64_t r = 0;
    if (c.op == WarpOp::Ballot) {
      for (int l = 0; l < 32; ++l)
        if (((c.mask >> l) & 1u) && c.value[l]) r |= 1ull << l;
    } else if (c.op != WarpOp::Sync) {
      const int seg = lane / width * width, in_seg = lane % width, a = c.arg[lane];
      int src = lane;
      switch (c.op) {
        case WarpOp::Idx:
          src = seg + ((a % width) + width) % width;
          break;
        case WarpOp::Up:
          src = in_seg >= a ? lane - a : lane;
          break;
        case WarpOp::Down:
          src = in_seg + a < width ? lane + a : lane;
          break;
        case WarpOp::Xor:
          src = (lane ^ a) < seg + width ? (lane ^ a) : lane;
          break;
        default:
          break;
      }
      // Reading a lane that takes no part is undefined in CUDA: it reads as all ones
      // (a NaN as a float or double) here.
      r = (src >= 0 && src < 32 && ((c.mask >> src) & 1u)) ? c.value[src] : ~0ull;
    }
    SimThread& t = b.threads[static_cast<size_t>(warp * 32 + lane)];
    t.warp_result = r;
    if (lane != self_lane) t.state = ThreadState::Ready;
  }
}

void release_barrier(BlockRun& b) {
  int count = 0, all = 1, any = 0;
  for (SimThread& t : b.threads) {
    if (t.state != ThreadState::AtBarrier) continue;
    count += t.predicate != 0;
    all &= t.predicate != 0;
    any |= t.predicate != 0;
  }
  for (SimThread& t : b.threads) {
    if (t.state != ThreadState::AtBarrier) continue;
    switch (t.barrier_op) {
      case BarrierOp::Plain:
        t.barrier_result = 0;
        break;
      case BarrierOp::Count:
        t.barrier_result = count;
        break;
      case BarrierOp::And:
        t.barrier_result = all;
        break;
      case BarrierOp::Or:
        t.barrier_result = any;
        break;
    }
    t.state = ThreadState::Ready;
  }
  b.at_barrier = 0;
}

std::string deadlock_report(const BlockRun& b) {
  std::ostringstream os;
  os << "deadlock: " << b.at_barrier << " thread(s) wait at __syncthreads, ";
  for (size_t w = 0; w < b.warps.size(); ++w)
    for (const Collective& c : b.warps[w].pending)
      os << "warp " << w << " lanes " << hex(c.arrived) << " wait in " << op_name(c.op) << " (mask "
         << hex(c.mask) << ") for lanes " << hex(c.mask & ~c.arrived) << ", ";
  os << b.done << " exited; nothing can move";
  return os.str();
}

void thread_main(void* p) {
  auto* t = static_cast<SimThread*>(p);
  try {
    (*t_block->body)();
    // Exiting: a collective that waits for this lane can never complete.
    BlockRun& b = *t_block;
    Warp& w = b.warps[static_cast<size_t>(t->linear / 32)];
    const unsigned bit = 1u << (t->linear % 32);
    w.done |= bit;
    for (const Collective& c : w.pending)
      if ((c.mask & bit) && !(c.arrived & bit))
        fault_here("exited while lanes " + hex(c.arrived) + " of its warp wait for it in " +
                   op_name(c.op));
    t->state = ThreadState::Done;
    ++b.done;
  } catch (const KernelFault&) {
    t->state = ThreadState::Faulted;
  }
}

void poison_shared(BlockRun& b) {
#if defined(__clang__)
  if (__start_cudasim_shared && __stop_cudasim_shared)
    std::fill(__start_cudasim_shared, __stop_cudasim_shared, static_cast<char>(0xFF));
#endif
  std::fill(b.dynamic_shared.begin(), b.dynamic_shared.end(), static_cast<unsigned char>(0xFF));
}

// Runs one block to completion; false (with b.fault set) when it faulted.
bool run_block(BlockRun& b, dim3 block, std::mt19937_64* rng) {
  const int n = static_cast<int>(block.x * block.y * block.z);
  if (!t_stacks) t_stacks = new StackPool();
  if (b.threads.size() != static_cast<size_t>(n))
    b.threads = std::vector<SimThread>(static_cast<size_t>(n));
  b.warps.assign(static_cast<size_t>((n + 31) / 32), Warp{});
  b.done = b.at_barrier = 0;
  for (int i = 0; i < n; ++i) {
    SimThread& t = b.threads[static_cast<size_t>(i)];
    t.state = ThreadState::Ready;
    t.linear = i;
    t.idx = uint3{static_cast<unsigned>(i) % block.x, static_cast<unsigned>(i) / block.x % block.y,
                  static_cast<unsigned>(i) / (block.x * block.y)};
    b.warps[static_cast<size_t>(i / 32)].exists |= 1u << (i % 32);
    t.fiber.start(&thread_main, &t, t_stacks->get(static_cast<size_t>(i)), StackPool::kStackBytes);
  }
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  poison_shared(b);
  t_block = &b;
  while (b.done < n && !b.faulted) {
    if (rng) std::shuffle(order.begin(), order.end(), *rng);
    bool ran = false;
    for (int i : order) {
      SimThread& t = b.threads[static_cast<size_t>(i)];
      if (t.state != ThreadState::Ready) continue;
      builtins.thread_idx = t.idx;
      t_thread = &t;
      t.fiber.resume();
      ran = true;
      if (b.faulted) break;
    }
    if (!ran && !b.faulted) {
      if (b.at_barrier == n - b.done) {
        release_barrier(b);
      } else {
        b.faulted = true;
        b.fault = deadlock_report(b);
      }
    }
  }
  t_block = nullptr;
  t_thread = nullptr;
  return !b.faulted;
}

void run_grid(const std::string& name, dim3 grid, dim3 block, size_t shared_bytes,
              const std::function<void()>& body, uint64_t launch_number) {
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  const long long seed = env_int("CUDASIM_SEED", -1);
  std::mt19937_64 rng(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + launch_number);
  // With a seed, block k is block (a * k + c) mod blocks: a random bijection for any
  // a coprime with the count, and no table even for a grid of 2^31 blocks.
  uint64_t a = 1, c = 0;
  if (seed >= 0) {
    do {
      a = rng() % blocks | 1;
    } while (std::gcd(a, blocks) != 1);
    c = rng() % blocks;
  }
  builtins.grid_dim = grid;
  builtins.block_dim = block;
  BlockRun b;
  b.body = &body;
  b.dynamic_shared.resize(shared_bytes);
  for (uint64_t k = 0; k < blocks; ++k) {
    const uint64_t id = static_cast<uint64_t>((static_cast<unsigned __int128>(a) * k + c) % blocks);
    builtins.block_idx =
        uint3{static_cast<unsigned>(id % grid.x), static_cast<unsigned>(id / grid.x % grid.y),
              static_cast<unsigned>(id / (uint64_t{grid.x} * grid.y))};
    if (!run_block(b, block, seed >= 0 ? &rng : nullptr)) {
      device_fault(cudaErrorLaunchFailure,
                   "kernel " + name + ", block " + triple(builtins.block_idx) + ", " + b.fault);
      return;
    }
  }
}

uint64_t g_launches = 0;

}  // namespace

// ---- called from kernels --------------------------------------------------------------

int block_barrier(BarrierOp op, int predicate) {
  SimThread& t = *t_thread;
  t.state = ThreadState::AtBarrier;
  t.barrier_op = op;
  t.predicate = predicate;
  ++t_block->at_barrier;
  Fiber::yield();
  return t.barrier_result;
}

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int width) {
  BlockRun& b = *t_block;
  SimThread& t = *t_thread;
  const int lane = t.linear % 32, warp = t.linear / 32;
  Warp& w = b.warps[static_cast<size_t>(warp)];
  // (The messages are built only on the way to a fault: this path runs once per lane.)
  auto call = [&] { return std::string(op_name(op)) + "(mask " + hex(mask) + ")"; };
  if (!((mask >> lane) & 1u))
    fault_here(call() + " from lane " + std::to_string(lane) + ", which the mask leaves out");
  if (mask & ~w.exists)
    fault_here(call() + " names lanes " + hex(mask & ~w.exists) +
               " that do not exist (the block has " + std::to_string(b.threads.size()) +
               " threads)");
  if (mask & w.done)
    fault_here(call() + " names lanes " + hex(mask & w.done) + " that have exited");
  if (width < 1 || width > 32 || (width & (width - 1)))
    fault_here(call() + " with width " + std::to_string(width) + " (a power of two up to 32)");
  Collective* c = nullptr;
  for (Collective& p : w.pending) {
    if (p.mask == mask) {
      c = &p;
    } else if (p.mask & mask) {
      fault_here(call() + " while lanes " + hex(p.arrived) + " of the same warp wait in " +
                 op_name(p.op) + " with mask " + hex(p.mask));
    }
  }
  if (!c) {
    w.pending.push_back(Collective{op, mask});
    c = &w.pending.back();
    c->width = width;
  } else if (c->op != op || c->width != width) {
    fault_here(call() + " while lanes " + hex(c->arrived) + " wait in " + op_name(c->op) +
               " with the same mask");
  }
  c->value[lane] = value;
  c->arg[lane] = arg;
  c->arrived |= 1u << lane;
  if (c->arrived == mask) {
    complete(b, warp, *c, lane);
    w.pending.erase(w.pending.begin() + (c - w.pending.data()));
    return t.warp_result;
  }
  t.state = ThreadState::AtWarp;
  Fiber::yield();
  return t.warp_result;
}

unsigned active_mask() {
  const Warp& w = t_block->warps[static_cast<size_t>(t_thread->linear / 32)];
  return w.exists & ~w.done;
}

void* dynamic_shared() {
  return t_block && !t_block->dynamic_shared.empty() ? t_block->dynamic_shared.data() : nullptr;
}

void trap(const char* what) {
  if (!t_block) {
    std::fprintf(stderr, "cudasim: %s outside a kernel\n", what);
    std::abort();
  }
  fault_here(what);
}

void reset_kernels() { max_dynamic_shared().clear(); }

cudaError_t func_set_attribute(const void* func, cudaFuncAttribute attr, int value) {
  Lock lock(device_mutex());
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || value > 227 * 1024)
    return note(cudaErrorInvalidValue);
  max_dynamic_shared()[func] = value;
  return cudaSuccess;
}

// ---- the launch -----------------------------------------------------------------------

cudaError_t launch_grid(const void* kernel, const char* name, dim3 grid, dim3 block,
                        size_t shared_bytes, cudaStream_t stream, std::function<void()> body) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return e;
  const std::string what = std::string("launch of ") + name + " with grid " +
                           triple(uint3{grid.x, grid.y, grid.z}) + ", block " +
                           triple(uint3{block.x, block.y, block.z});
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 ||
      block.z > 64 || threads > 1024) {
    explain(what + ": a block has 1 to 1024 threads (x, y <= 1024, z <= 64)");
    return note(cudaErrorInvalidConfiguration);
  }
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
      grid.z > 65535) {
    explain(what + ": grid.x is 1 to 2^31-1, grid.y and grid.z 1 to 65535");
    return note(cudaErrorInvalidConfiguration);
  }
  auto attr = max_dynamic_shared().find(kernel);
  const size_t limit =
      attr == max_dynamic_shared().end() ? 48 * 1024 : static_cast<size_t>(attr->second);
  if (shared_bytes > limit) {
    explain(what + ": " + std::to_string(shared_bytes) +
            " bytes of dynamic shared memory, over the " + std::to_string(limit) +
            " this kernel may have (cudaFuncSetAttribute raises it)");
    return note(cudaErrorInvalidValue);
  }
  const uint64_t number = g_launches++;
  std::string label = name;
  return enqueue(stream, "kernel " + label,
                 [label, grid, block, shared_bytes, body = std::move(body), number] {
                   run_grid(label, grid, block, shared_bytes, body, number);
                 });
}

}  // namespace cudasim::detail
