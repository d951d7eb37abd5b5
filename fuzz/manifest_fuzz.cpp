// The dataset manifest reader (manifest.csv: a fixed header, then eight fields a row with
// RFC 4180 quoting). Its fields are pieces of the input, so they cannot outgrow it.
#include <sstream>

#include "data/dataset_writer.h"
#include "fuzz/fuzz_target.h"

void maskoff_fuzz_init() {}

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const std::vector<maskoff::data::ManifestRow> rows =
      maskoff::data::parse_manifest(in, "fuzz input");
  for (const auto& r : rows) FUZZ_REQUIRE(r.id.size() + r.landmarks.size() <= size);
}
