// The .npy reader (the weight files): magic, version, header dict, shape, then the data.
// An accepted file holds exactly the float32 data its shape needs.
#include "fuzz/fuzz_target.h"
#include "models/npy.h"

void maskoff_fuzz_init() {}

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  const maskoff::Tensor t =
      maskoff::models::parse_npy(reinterpret_cast<const char*>(data), size, "fuzz input");
  FUZZ_REQUIRE(t.dtype() == maskoff::DType::F32);
  FUZZ_REQUIRE(static_cast<size_t>(t.numel()) * sizeof(float) < size);
}
