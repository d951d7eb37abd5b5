// Simulated device memory.
//
// All device allocations come from one arena of reserved address space. Outside device
// work the whole arena is PROT_NONE, so host code that dereferences a device pointer
// faults at once (a SIGSEGV handler names the allocation); device work (kernels, copies,
// library calls) opens it for its duration with one mprotect.
//
// Each allocation is exactly as large as asked (no rounding the kernels could hide an
// overrun in): its first byte is 256-byte aligned, as cudaMalloc's, and behind its last
// byte lie at least 256 guard bytes with a known pattern. After every piece of device
// work the guards of all live allocations are checked, so a write past the end is
// reported with the name of the kernel that made it. Freed allocations are filled with
// 0xFF (NaN as float) and held back from reuse for a while; a later write to one is
// reported too. Under AddressSanitizer the guards and freed blocks are also poisoned,
// so the faulting access itself is reported with its stack.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <map>

#include "internal.h"

#ifdef CUDASIM_ASAN
#include <sanitizer/asan_interface.h>
#define CUDASIM_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CUDASIM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define CUDASIM_POISON(p, n) ((void)(p), (void)(n))
#define CUDASIM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#ifdef CUDASIM_ASAN
// AddressSanitizer ignores other SIGSEGV handlers unless told otherwise; ours only adds a
// line naming the device allocation before handing the fault back to it.
extern "C" const char* __asan_default_options() { return "allow_user_segv_handler=1"; }
#endif

namespace cudasim::detail {

namespace {

constexpr size_t kAlign = 256;
constexpr size_t kGuard = 256;  // at least this many guard bytes per block
constexpr unsigned char kGuardByte = 0xA5;
constexpr unsigned char kFreedByte = 0xFF;
constexpr size_t kQuarantineBytes = 64 << 20;  // freed memory held back from reuse

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

struct Block {
  size_t bytes;  // as asked
  size_t span;   // bytes + guard, a multiple of kAlign
};

struct Arena {
  char* base = nullptr;
  size_t reserved = 0;  // address space reserved
  size_t top = 0;       // bytes ever handed out (the bump pointer)
  size_t opened = 0;    // bytes currently readable and writable (a page multiple)
  int open_depth = 0;
  size_t in_use = 0;
  std::map<char*, Block> live;
  std::multimap<size_t, char*> free_spans;  // span -> start, for reuse
  std::deque<std::pair<char*, size_t>> quarantine;
  size_t quarantined = 0;
  std::map<const char*, size_t> pinned;  // page-locked host memory: start -> bytes
  struct sigaction previous_segv {};
};

Arena& arena();

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// Writes a message from the signal handler without allocating.
void write_str(const char* s) {
  const ssize_t r = write(STDERR_FILENO, s, std::strlen(s));
  (void)r;
}
void write_num(unsigned long long v, int base) {
  char buf[32];
  int i = 31;
  buf[i] = '\0';
  do {
    buf[--i] = "0123456789abcdef"[v % static_cast<unsigned>(base)];
    v /= static_cast<unsigned>(base);
  } while (v && i > 0);
  write_str(buf + i);
}

// A SIGSEGV inside the arena while it is closed is host code touching device memory. Say
// so, put the previous handler back and return: the access faults again and that handler
// (the default, or AddressSanitizer's) reports it with a stack.
void on_segv(int sig, siginfo_t* info, void* ctx) {
  Arena& a = arena();
  const char* addr = static_cast<const char*>(info->si_addr);
  if (addr >= a.base && addr < a.base + a.reserved) {
    if (a.open_depth == 0) {
      write_str("cudasim: host code dereferenced device memory at 0x");
      write_num(reinterpret_cast<uintptr_t>(addr), 16);
      auto it = a.live.upper_bound(const_cast<char*>(addr));
      if (it != a.live.begin()) {
        --it;
        if (addr < it->first + it->second.bytes) {
          write_str(", byte ");
          write_num(static_cast<unsigned long long>(addr - it->first), 10);
          write_str(" of a ");
          write_num(it->second.bytes, 10);
          write_str("-byte device allocation");
        }
      }
      write_str(
          ". Device memory is reachable only from kernels, cudaMemcpy*/cudaMemset* "
          "and the libraries; copy it to the host first.\n");
    } else {
      write_str("cudasim: device work touched device memory that was never allocated, at 0x");
      write_num(reinterpret_cast<uintptr_t>(addr), 16);
      write_str("\n");
    }
  }
  (void)sig, (void)ctx;
  sigaction(SIGSEGV, &a.previous_segv, nullptr);
}

Arena& arena() {
  static Arena* a = [] {
    auto* r = new Arena();
    // Address space only (MAP_NORESERVE): pages cost memory once touched.
    const long long mb = env_int("CUDASIM_MEMORY_MB", 64 * 1024);
    r->reserved = round_up(static_cast<size_t>(mb) << 20, page_size());
    void* m =
        mmap(nullptr, r->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      explain("cannot reserve " + std::to_string(r->reserved) + " bytes for device memory");
      r->reserved = 0;
      return r;
    }
    r->base = static_cast<char*>(m);
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &r->previous_segv);
    return r;
  }();
  return *a;
}

void set_access(Arena& a, size_t bytes, int prot) {
  if (bytes) mprotect(a.base, bytes, prot);
}

void fill_guard(char* p, const Block& b) {
  std::memset(p + b.bytes, kGuardByte, b.span - b.bytes);
  CUDASIM_POISON(p + b.bytes, b.span - b.bytes);
}

// Oldest freed spans leave quarantine once it is over its size; each is checked for
// writes made after it was freed.
void drain_quarantine(Arena& a, size_t limit) {
  while (a.quarantined > limit && !a.quarantine.empty()) {
    auto [p, span] = a.quarantine.front();
    a.quarantine.pop_front();
    a.quarantined -= span;
    CUDASIM_UNPOISON(p, span);
    for (size_t i = 0; i < span; ++i) {
      if (static_cast<unsigned char>(p[i]) != kFreedByte) {
        device_fault(cudaErrorIllegalAddress,
                     "device memory was written after it was freed: byte " + std::to_string(i) +
                         " of a freed " + std::to_string(span) + "-byte block");
        break;
      }
    }
    CUDASIM_POISON(p, span);
    a.free_spans.emplace(span, p);
  }
}

// A free span of at least `span` bytes (not more than twice as large, to keep big spans
// for big requests), or fresh space at the top; null when the arena is full.
char* place(Arena& a, size_t span) {
  auto it = a.free_spans.lower_bound(span);
  if (it != a.free_spans.end() && it->first < 2 * span) {
    char* at = it->second;
    const size_t spare = it->first - span;
    a.free_spans.erase(it);
    if (spare) a.free_spans.emplace(spare, at + span);
    return at;
  }
  if (a.top + span > a.reserved) return nullptr;
  char* at = a.base + a.top;
  a.top += span;
  return at;
}

}  // namespace

DeviceMemoryOpen::DeviceMemoryOpen() {
  Arena& a = arena();
  const size_t want = round_up(a.top, page_size());
  if (a.open_depth++ == 0 || want > a.opened) {
    set_access(a, want, PROT_READ | PROT_WRITE);
    a.opened = want;
  }
}
DeviceMemoryOpen::~DeviceMemoryOpen() {
  Arena& a = arena();
  if (--a.open_depth == 0) {
    set_access(a, a.opened, PROT_NONE);
    a.opened = 0;
  }
}

cudaError_t device_malloc(void** p, size_t bytes) {
  Lock lock(device_mutex());
  if (!p) return note(cudaErrorInvalidValue);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;  // as cudaMalloc: a null pointer, no error
  Arena& a = arena();
  const Block b{bytes, round_up(bytes + kGuard, kAlign)};
  char* at = place(a, b.span);
  if (!at && !a.quarantine.empty()) {  // last resort: reuse everything freed
    DeviceMemoryOpen open;
    drain_quarantine(a, 0);
    at = place(a, b.span);
  }
  if (!at) {
    explain("out of device memory allocating " + std::to_string(bytes) + " bytes (" +
            std::to_string(a.in_use) + " in use of " + std::to_string(a.reserved) +
            "; CUDASIM_MEMORY_MB sets the size)");
    return note(cudaErrorMemoryAllocation);
  }
  {
    DeviceMemoryOpen open;
    CUDASIM_UNPOISON(at, b.span);
    std::memset(at, kFreedByte, bytes);  // fresh device memory holds garbage
    fill_guard(at, b);
  }
  a.live.emplace(at, b);
  a.in_use += bytes;
  *p = at;
  return cudaSuccess;
}

cudaError_t device_free(void* p) {
  Lock lock(device_mutex());
  if (!p) return cudaSuccess;
  Arena& a = arena();
  auto it = a.live.find(static_cast<char*>(p));
  if (it == a.live.end()) {
    explain("cudaFree of a pointer that is not the start of a live device allocation");
    return note(cudaErrorInvalidValue);
  }
  const Block b = it->second;
  a.live.erase(it);
  a.in_use -= b.bytes;
  {
    DeviceMemoryOpen open;
    CUDASIM_UNPOISON(p, b.span);
    std::memset(p, kFreedByte, b.span);
    CUDASIM_POISON(p, b.span);
    a.quarantine.emplace_back(static_cast<char*>(p), b.span);
    a.quarantined += b.span;
    drain_quarantine(a, kQuarantineBytes);
  }
  return cudaSuccess;
}

bool is_device_pointer(const void* p) {
  Arena& a = arena();
  const char* c = static_cast<const char*>(p);
  return a.base && c >= a.base && c < a.base + a.reserved;
}

bool device_range(const void* p, size_t bytes, std::string* why) {
  Lock lock(device_mutex());
  Arena& a = arena();
  const char* c = static_cast<const char*>(p);
  auto it = a.live.upper_bound(const_cast<char*>(c));
  if (it != a.live.begin()) {
    --it;
    const size_t offset = static_cast<size_t>(c - it->first);
    if (offset < it->second.bytes || (bytes == 0 && offset == it->second.bytes)) {
      if (bytes <= it->second.bytes - offset) return true;
      if (why)
        *why = std::to_string(bytes) + " bytes from byte " + std::to_string(offset) + " of a " +
               std::to_string(it->second.bytes) + "-byte device allocation run " +
               std::to_string(bytes - (it->second.bytes - offset)) + " bytes past its end";
      return false;
    }
  }
  if (why) *why = "the address is not inside any live device allocation";
  return false;
}

bool readable_extent(const void* p, size_t bytes, const std::string& what) {
  std::string why;
  if (device_range(p, bytes, &why)) return true;
  device_fault(cudaErrorIllegalAddress, what + ": " + why);
  return false;
}

void pinned_register(void* p, size_t bytes) {
  Lock lock(device_mutex());
  arena().pinned[static_cast<const char*>(p)] = bytes;
}
bool pinned_unregister(void* p) {
  Lock lock(device_mutex());
  return arena().pinned.erase(static_cast<const char*>(p)) == 1;
}
bool is_pinned(const void* p, size_t bytes) {
  Lock lock(device_mutex());
  Arena& a = arena();
  const char* c = static_cast<const char*>(p);
  auto it = a.pinned.upper_bound(c);
  if (it == a.pinned.begin()) return false;
  --it;
  return c >= it->first && c + bytes <= it->first + it->second;
}

void check_guards(const std::string& after) {
  Arena& a = arena();
  static const auto* expected = [] {
    auto* g = new unsigned char[2 * kGuard + kAlign];
    std::memset(g, kGuardByte, 2 * kGuard + kAlign);
    return g;
  }();
  for (auto& [p, b] : a.live) {
    const unsigned char* g = reinterpret_cast<const unsigned char*>(p + b.bytes);
    const size_t n = b.span - b.bytes;
    CUDASIM_UNPOISON(p + b.bytes, n);
    if (std::memcmp(g, expected, n) != 0) {
      size_t first = 0;
      while (g[first] == kGuardByte) ++first;
      device_fault(cudaErrorIllegalAddress,
                   after + " wrote past the end of a " + std::to_string(b.bytes) +
                       "-byte device allocation (or before the start of the next): byte " +
                       std::to_string(b.bytes + first) + " from its start was changed");
      fill_guard(p, b);
      return;
    }
    CUDASIM_POISON(p + b.bytes, n);
  }
}

size_t device_total_bytes() { return arena().reserved; }
size_t device_free_bytes() {
  Arena& a = arena();
  return a.reserved - a.in_use;
}

void reset_memory() {
  Lock lock(device_mutex());
  Arena& a = arena();
  if (!a.base) return;
  {
    DeviceMemoryOpen open;
    CUDASIM_UNPOISON(a.base, a.top);
  }
  madvise(a.base, a.top, MADV_DONTNEED);
  a.top = 0;
  a.in_use = 0;
  a.live.clear();
  a.free_spans.clear();
  a.quarantine.clear();
  a.quarantined = 0;
}

}  // namespace cudasim::detail
