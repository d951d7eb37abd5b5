// Whole-file replacement that a reader never sees half-done: the bytes go to PATH.tmp,
// every write, the flush, the close and the fsync are checked, and only then is PATH.tmp
// renamed over PATH. Any failure removes PATH.tmp and leaves PATH as it was.
#pragma once
#include <cstddef>
#include <string>

namespace maskoff::data {

// Throws maskoff::Error naming PATH and the reason (strerror of errno) on any failure.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace maskoff::data
