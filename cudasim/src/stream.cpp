// Streams, events and graphs.
//
// Device work is never run when it is queued. Each stream keeps a queue; work runs only
// when the host must see its effect: a stream or event synchronisation, a copy into
// pageable host memory, cudaFree, or cudaDeviceSynchronize. So a program that reads a
// result without waiting for it sees stale memory here as it might on a GPU, while any
// order CUDA guarantees is kept:
//  - work on one stream runs in queue order;
//  - cudaStreamWaitEvent makes a stream's later work wait for the event's record point;
//  - the legacy default stream (0) waits for all blocking streams, and they wait for it
//    (streams made with cudaStreamNonBlocking are exempt);
//  - stream capture records the work into a graph instead of queueing it. A kernel's
//    arguments were copied at its launch, so a replayed graph uses the values of capture
//    time; a copy from page-locked host memory reads that memory when it is replayed.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "internal.h"

struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;

namespace cudasim::detail {
namespace {

struct Stream;
struct Capture;

struct Dep {
  std::shared_ptr<Stream> stream;
  uint64_t seq;  // that stream's work up to this sequence number must have run
};
struct Op {
  std::string name;
  Work work;
  std::vector<Dep> deps;
};

struct Stream {
  bool legacy = false;
  bool blocking = true;  // synchronises with the legacy stream
  std::deque<Op> queue;
  uint64_t queued = 0, done = 0;  // sequence numbers: queued work is (done, queued]
  Capture* capture = nullptr;
};

struct Capture {
  std::vector<Op> ops;  // in a valid execution order (the order they were captured in)
  std::shared_ptr<Stream> origin;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  bool invalidated = false;
  std::map<Stream*, size_t> last_op;  // per stream in the capture: ops it captured
  std::map<Stream*, size_t> joined;   // ... and how many of those the origin waited for
};

struct Event {
  bool timing = true;
  std::shared_ptr<Stream> stream;  // where it was last recorded
  uint64_t seq = 0;                // the record point on that stream
  uint64_t generation = 0;         // which record a timestamp belongs to
  double time_ms = -1;             // when the last record point ran
  Capture* capture = nullptr;      // recorded into this capture (no record point)
  size_t capture_ops = 0;          // the capture's op count at that record
};

struct State {
  std::shared_ptr<Stream> legacy = [] {
    auto s = std::make_shared<Stream>();
    s->legacy = true;
    return s;
  }();
  std::map<const CUstream_st*, std::shared_ptr<Stream>> streams;
  std::map<const CUevent_st*, std::shared_ptr<Event>> events;
  std::set<Capture*> captures;
  bool eager = env_int("CUDASIM_EAGER", 0) != 0;
};
State& state() {
  static State* s = new State();
  return *s;
}

double now_ms() {
  using clock = std::chrono::steady_clock;
  static const clock::time_point t0 = clock::now();
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

std::shared_ptr<Stream> find_stream(cudaStream_t s) {
  State& st = state();
  if (s == nullptr || s == cudaStreamLegacy) return st.legacy;
  auto it = st.streams.find(s);
  return it == st.streams.end() ? nullptr : it->second;
}
std::shared_ptr<Event> find_event(cudaEvent_t e) {
  auto it = state().events.find(e);
  return it == state().events.end() ? nullptr : it->second;
}

bool global_capture_active() {
  for (Capture* c : state().captures)
    if (c->mode != cudaStreamCaptureModeRelaxed) return true;
  return false;
}

void invalidate(Capture* c) {
  if (c) c->invalidated = true;
}

// Runs stream s's queued work up to sequence number `upto`, first running whatever each
// piece waits for on other streams. Device memory is open for the duration.
void run_until(Stream& s, uint64_t upto) {
  if (s.done >= upto) return;
  DeviceMemoryOpen open;
  while (s.done < upto) {
    Op op = std::move(s.queue.front());
    s.queue.pop_front();
    for (const Dep& d : op.deps) run_until(*d.stream, d.seq);
    if (sticky_error() == cudaSuccess) {
      op.work();
      check_guards(op.name);
    }
    ++s.done;  // after a fault the rest is dropped, as a faulted GPU context drops it
  }
}

void run_all() {
  State& st = state();
  run_until(*st.legacy, st.legacy->queued);
  for (auto& [h, s] : st.streams) run_until(*s, s->queued);
}

cudaError_t push(const std::shared_ptr<Stream>& s, Op op) {
  State& st = state();
  if (Capture* c = s->capture) {
    if (c->invalidated) return note(cudaErrorStreamCaptureInvalidated);
    c->ops.push_back(std::move(op));
    c->last_op[s.get()] = c->ops.size();
    return cudaSuccess;
  }
  if (s->legacy) {
    if (global_capture_active()) {
      for (Capture* c : st.captures) invalidate(c);
      explain("work queued on the legacy default stream while a stream is being captured");
      return note(cudaErrorStreamCaptureImplicit);
    }
    for (auto& [h, other] : st.streams)
      if (other->blocking && other->queued > other->done) op.deps.push_back({other, other->queued});
  } else if (s->blocking && st.legacy->queued > st.legacy->done) {
    op.deps.push_back({st.legacy, st.legacy->queued});
  }
  s->queue.push_back(std::move(op));
  ++s->queued;
  if (st.eager) run_until(*s, s->queued);
  return cudaSuccess;
}

}  // namespace

// ---- what the rest of the simulator uses ----------------------------------------------

cudaError_t enqueue(cudaStream_t s, const std::string& name, Work work) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return e;
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  return push(st, Op{name, std::move(work), {}});
}

bool is_capturing(cudaStream_t s) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  return st && st->capture != nullptr;
}

cudaError_t require_not_capturing(cudaStream_t s, const char* what) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  if (st->capture || (st->legacy && global_capture_active())) {
    explain(std::string(what) + " cannot be captured into a graph (it would have to run now)");
    invalidate(st->capture);
    return note(st->capture ? cudaErrorStreamCaptureUnsupported : cudaErrorStreamCaptureImplicit);
  }
  return cudaSuccess;
}

cudaError_t sync_stream(cudaStream_t s) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  if (cudaError_t e = require_not_capturing(s, "a stream synchronisation")) return e;
  run_until(*st, st->queued);
  return sticky_error();
}

cudaError_t sync_device() {
  Lock lock(device_mutex());
  if (global_capture_active()) {
    for (Capture* c : state().captures) invalidate(c);
    return note(cudaErrorStreamCaptureUnsupported);
  }
  run_all();
  return sticky_error();
}

void reset_streams() {
  Lock lock(device_mutex());
  State& st = state();
  for (auto& [h, s] : st.streams) {
    s->queue.clear();
    s->done = s->queued;
    s->capture = nullptr;
  }
  st.legacy->queue.clear();
  st.legacy->done = st.legacy->queued;
  st.legacy->capture = nullptr;
  for (Capture* c : st.captures) delete c;
  st.captures.clear();
}

}  // namespace cudasim::detail

// ---- the runtime API ------------------------------------------------------------------
using namespace cudasim::detail;  // NOLINT: this file implements the detail layer's API

struct CUstream_st {};
struct CUevent_st {};
struct CUgraph_st {
  std::vector<Op> ops;
};
struct CUgraphExec_st {
  std::vector<Op> ops;
};

cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  Lock lock(device_mutex());
  if (!s || (flags & ~cudaStreamNonBlocking)) return note(cudaErrorInvalidValue);
  auto st = std::make_shared<Stream>();
  st->blocking = (flags & cudaStreamNonBlocking) == 0;
  *s = new CUstream_st();
  state().streams[*s] = st;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  Lock lock(device_mutex());
  auto it = state().streams.find(s);
  if (it == state().streams.end()) return note(cudaErrorInvalidResourceHandle);
  // Work already queued still runs (CUDA lets it finish); running it now is one of the
  // orders CUDA allows. Work queued elsewhere may still name the stream: it stays alive.
  run_until(*it->second, it->second->queued);
  state().streams.erase(it);
  delete s;
  return sticky_error();
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) { return sync_stream(s); }

cudaError_t cudaStreamQuery(cudaStream_t s) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  if (st->capture) return note(cudaErrorStreamCaptureUnsupported);
  // The simulated device makes progress when asked: the queued work runs now.
  run_until(*st, st->queued);
  return sticky_error();
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  auto ev = find_event(e);
  if (!st || !ev) return note(cudaErrorInvalidResourceHandle);
  if (Capture* c = ev->capture) {  // a fork or join inside a capture
    if (c->invalidated) return note(cudaErrorStreamCaptureInvalidated);
    if (st->capture && st->capture != c) return note(cudaErrorStreamCaptureUnsupported);
    st->capture = c;
    c->last_op.emplace(st.get(), 0);
    if (ev->stream.get() != st.get()) {
      size_t& j = c->joined[ev->stream.get()];
      j = std::max(j, ev->capture_ops);
    }
    return cudaSuccess;
  }
  if (!ev->stream) return cudaSuccess;  // never recorded: nothing to wait for
  return push(st, Op{"cudaStreamWaitEvent", [] {}, {{ev->stream, ev->seq}}});
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, 0); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  Lock lock(device_mutex());
  if (!e || (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming)))
    return note(cudaErrorInvalidValue);
  auto ev = std::make_shared<Event>();
  ev->timing = (flags & cudaEventDisableTiming) == 0;
  *e = new CUevent_st();
  state().events[*e] = ev;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  Lock lock(device_mutex());
  auto it = state().events.find(e);
  if (it == state().events.end()) return note(cudaErrorInvalidResourceHandle);
  state().events.erase(it);  // a queued record point keeps the event itself alive
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  auto ev = find_event(e);
  if (!st || !ev) return note(cudaErrorInvalidResourceHandle);
  if (cudaError_t err = sticky_error()) return err;
  if (Capture* c = st->capture) {
    if (c->invalidated) return note(cudaErrorStreamCaptureInvalidated);
    ev->capture = c;
    ev->stream = st;
    ev->capture_ops = c->last_op[st.get()];
    return cudaSuccess;
  }
  ev->capture = nullptr;
  ev->time_ms = -1;
  const uint64_t gen = ++ev->generation;
  std::shared_ptr<Event> keep = ev;
  cudaError_t err = push(st, Op{"cudaEventRecord",
                                [keep, gen] {
                                  if (keep->generation == gen) keep->time_ms = now_ms();
                                },
                                {}});
  if (err != cudaSuccess) return err;
  ev->stream = st;
  ev->seq = st->queued;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  Lock lock(device_mutex());
  auto ev = find_event(e);
  if (!ev) return note(cudaErrorInvalidResourceHandle);
  if (ev->capture) return note(cudaErrorCapturedEvent);
  if (ev->stream) run_until(*ev->stream, ev->seq);
  return sticky_error();
}

cudaError_t cudaEventQuery(cudaEvent_t e) { return cudaEventSynchronize(e); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  Lock lock(device_mutex());
  auto a = find_event(start), b = find_event(end);
  if (!ms || !a || !b) return note(cudaErrorInvalidResourceHandle);
  if (!a->timing || !b->timing) return note(cudaErrorInvalidResourceHandle);
  if (a->time_ms < 0 || b->time_ms < 0) return note(cudaErrorNotReady);
  *ms = static_cast<float>(b->time_ms - a->time_ms);
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  if (st->legacy) {
    explain("the legacy default stream cannot be captured");
    return note(cudaErrorStreamCaptureUnsupported);
  }
  if (st->capture) return note(cudaErrorStreamCaptureUnsupported);
  auto* c = new Capture();
  c->origin = st;
  c->mode = mode;
  c->last_op[st.get()] = 0;
  st->capture = c;
  state().captures.insert(c);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st || !graph) return note(cudaErrorInvalidValue);
  Capture* c = st->capture;
  if (!c) return note(cudaErrorIllegalState);
  if (c->origin != st) return note(cudaErrorStreamCaptureUnmatched);
  cudaError_t result = c->invalidated ? cudaErrorStreamCaptureInvalidated : cudaSuccess;
  for (auto& [member, count] : c->last_op) {
    if (member == st.get() || result != cudaSuccess) continue;
    auto j = c->joined.find(member);
    if (count > 0 && (j == c->joined.end() || j->second < count)) {
      explain("a stream forked into the capture was not joined back before it ended");
      result = cudaErrorStreamCaptureUnjoined;
    }
  }
  State& state_ref = state();
  for (auto& [h, other] : state_ref.streams)
    if (other->capture == c) other->capture = nullptr;
  st->capture = nullptr;
  state_ref.captures.erase(c);
  *graph = nullptr;
  if (result == cudaSuccess) *graph = new CUgraph_st{std::move(c->ops)};
  delete c;
  return note(result);
}

cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status) {
  Lock lock(device_mutex());
  auto st = find_stream(s);
  if (!st || !status) return note(cudaErrorInvalidValue);
  *status = !st->capture               ? cudaStreamCaptureStatusNone
            : st->capture->invalidated ? cudaStreamCaptureStatusInvalidated
                                       : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  Lock lock(device_mutex());
  if (!exec || !graph) return note(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->ops};
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  Lock lock(device_mutex());
  if (!exec) return note(cudaErrorInvalidValue);
  auto st = find_stream(s);
  if (!st) return note(cudaErrorInvalidResourceHandle);
  if (st->capture) {  // launching a graph inside a capture appends its work
    for (const Op& op : exec->ops)
      if (cudaError_t e = push(st, op)) return e;
    return cudaSuccess;
  }
  std::vector<Op> ops = exec->ops;  // the executable graph may be destroyed before it runs
  return push(st, Op{"cudaGraphLaunch",
                     [ops] {
                       for (const Op& op : ops) {
                         if (sticky_error() != cudaSuccess) return;
                         op.work();
                         check_guards(op.name + " (in a graph)");
                       }
                     },
                     {}});
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
