// A checkpoint file: named float tensors plus a JSON document of everything else (options,
// step, random-number state), in one file written atomically and checked when read.
//
// Layout (format 2): the 8 bytes "MASKOFF2", a little-endian uint64 length, the CRC-32C of
// the JSON as a little-endian uint32, 4 zero bytes, that many bytes of JSON, then the
// tensors' raw little-endian bytes back to back in the order the JSON's "tensors" array
// lists them ({name, dtype, shape, offset, nbytes, crc32c}, offsets from the data start).
// A flipped byte anywhere is reported as corruption naming the file and the part (the
// metadata or the tensor). Format 1 ("MASKOFF1": no checksums, no CRC field) still loads.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/tensor.h"

namespace maskoff::train {

struct Checkpoint {
  nlohmann::json meta = nlohmann::json::object();
  std::vector<std::pair<std::string, Tensor>> tensors;  // CPU copies, in write order

  void add(const std::string& name, const Tensor& t);  // copies t to the CPU
  bool has(const std::string& name) const;
  // Throws naming the checkpoint file and the entry when it is missing.
  const Tensor& get(const std::string& name) const;
  // Copies the stored tensor into dst (any device); shape and dtype must match exactly.
  void restore(const std::string& name, const Tensor& dst) const;

  std::string path;  // set by read_checkpoint, for error messages
};

// Writes PATH.tmp, flushes, fsyncs and renames it over PATH: PATH is either the old file or
// the complete new one, never a torn write.
void write_checkpoint(const std::string& path, const Checkpoint& ck);
// Throws naming PATH and the problem (missing, not a checkpoint, truncated, corrupt, bad
// JSON). Nothing is allocated for a tensor before its bytes are known to be in the file.
Checkpoint read_checkpoint(const std::string& path);
// The same from a file's bytes in memory; `path` is what the error messages call them.
Checkpoint parse_checkpoint(const char* data, size_t size, const std::string& path);

}  // namespace maskoff::train
