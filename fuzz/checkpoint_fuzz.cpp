// The checkpoint reader (train/checkpoint.h): header, JSON index, checksums, tensor data.
// An accepted checkpoint holds tensors whose bytes all came from the input.
#include "fuzz/fuzz_target.h"
#include "train/checkpoint.h"

void maskoff_fuzz_init() {}

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  const maskoff::train::Checkpoint ck =
      maskoff::train::parse_checkpoint(reinterpret_cast<const char*>(data), size, "fuzz input");
  size_t bytes = 0;
  for (const auto& [name, t] : ck.tensors) bytes += t.nbytes();
  FUZZ_REQUIRE(bytes <= size);
  FUZZ_REQUIRE(ck.meta.is_object() && !ck.meta.contains("tensors"));
}
