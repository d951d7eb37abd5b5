// Reader for the golden fixtures that scripts/golden/*.py write: blocks of
//   tensor NAME [d0,d1,...]
//   v v v ...
// ('#' lines are comments), returned in file order with each size checked against its shape.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tensor/error.h"
#include "tensor/shape.h"

namespace maskoff::testing {

struct GoldenEntry {
  Shape shape;
  std::vector<double> values;
};

inline std::vector<std::pair<std::string, GoldenEntry>> read_golden_fixture(
    const std::string& path) {
  std::ifstream in(path);
  MASKOFF_CHECK(in.good(), "cannot open golden fixture " << path);
  std::vector<std::pair<std::string, GoldenEntry>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("tensor ", 0) == 0) {
      std::istringstream ls(line.substr(7));
      std::string name, dims;
      ls >> name >> dims;
      MASKOFF_CHECK(dims.size() >= 2 && dims.front() == '[' && dims.back() == ']',
                    path << ": bad shape '" << dims << "' for " << name);
      GoldenEntry e;
      std::istringstream ds(dims.substr(1, dims.size() - 2));
      for (std::string d; std::getline(ds, d, ',');) e.shape.push_back(std::stoll(d));
      out.emplace_back(name, std::move(e));
      continue;
    }
    MASKOFF_CHECK(!out.empty(), path << ": values before any tensor header");
    std::istringstream vs(line);
    for (double v; vs >> v;) out.back().second.values.push_back(v);
  }
  for (const auto& [name, e] : out)
    MASKOFF_CHECK(static_cast<int64_t>(e.values.size()) == shape_numel(e.shape),
                  path << ": " << name << " has " << e.values.size() << " values for shape "
                       << shape_str(e.shape));
  return out;
}

}  // namespace maskoff::testing
