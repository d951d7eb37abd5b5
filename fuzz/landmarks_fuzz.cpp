// The landmark-file reader (68 lines "x y"). An accepted file gives 68 finite points.
#include <cmath>
#include <sstream>

#include "data/dataset_writer.h"
#include "fuzz/fuzz_target.h"

void maskoff_fuzz_init() {}

void maskoff_fuzz_one(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const maskoff::data::Landmarks lm = maskoff::data::parse_landmarks(in, "fuzz input");
  for (const auto& p : lm) FUZZ_REQUIRE(std::isfinite(p.x) && std::isfinite(p.y));
}
