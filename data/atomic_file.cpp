// The one place the data pipeline writes files, so PNGs, manifests, landmark files and
// summaries all get the same checks and the same clean-up on failure.
#include "data/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "tensor/error.h"

namespace maskoff::data {

namespace {

std::string reason(int e) { return e ? std::strerror(e) : "unknown error"; }

}  // namespace

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    const int e = errno;
    MASKOFF_FAIL("cannot write '" << path << "': cannot create '" << tmp << "': " << reason(e));
  }
  // Each step records the first errno; the temporary is removed before reporting, so a
  // failed write never leaves debris and never replaces the previous file.
  int err = 0;
  const char* step = nullptr;
  if (size > 0 && std::fwrite(data, 1, size, f) != size) err = errno, step = "write";
  if (!step && std::fflush(f) != 0) err = errno, step = "flush";
  // fsync makes the rename below publish data that is on disk, not just in the page cache;
  // devices and file systems that cannot sync (EINVAL, ENOTSUP) are not an error.
  if (!step && ::fsync(fileno(f)) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS)
    err = errno, step = "sync";
  if (std::fclose(f) != 0 && !step) err = errno, step = "close";
  if (step) {
    std::remove(tmp.c_str());
    MASKOFF_FAIL("cannot write '" << path << "' (" << step << " of '" << tmp
                                  << "' failed): " << reason(err));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    MASKOFF_FAIL("cannot write '" << path << "': cannot move '" << tmp
                                  << "' over it: " << ec.message());
  }
}

}  // namespace maskoff::data
