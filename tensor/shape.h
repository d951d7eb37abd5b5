// Shapes are plain vectors of extents, outermost first (NCHW for images).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace maskoff {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[2, 3, 64, 64]"

}  // namespace maskoff
