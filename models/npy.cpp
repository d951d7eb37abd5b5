// read_npy: the .npy header (magic, version, a Python dict literal with descr, fortran_order
// and shape), then the raw float32 data.
#include "models/npy.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace maskoff::models {

namespace {

// The value text after 'key': in the header dict, up to the next top-level ',' or '}'
// (the shape tuple's own commas are inside parentheses).
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string quoted = "'" + key + "'";
  size_t at = header.find(quoted);
  MASKOFF_CHECK(at != std::string::npos,
                "read_npy: " << path << ": header has no " << quoted << " entry: " << header);
  at = header.find(':', at + quoted.size());
  MASKOFF_CHECK(at != std::string::npos, "read_npy: " << path << ": malformed header: " << header);
  size_t end = ++at;
  int depth = 0;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  std::string v = header.substr(at, end - at);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(0, 1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v;
}

Shape parse_shape(const std::string& text, const std::string& path) {
  MASKOFF_CHECK(text.size() >= 2 && text.front() == '(' && text.back() == ')',
                "read_npy: " << path << ": shape " << text << " is not a tuple");
  Shape s;
  size_t i = 1;
  while (i < text.size() - 1) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
      ++i;
      continue;
    }
    MASKOFF_CHECK(std::isdigit(static_cast<unsigned char>(c)),
                  "read_npy: " << path << ": bad extent in shape " << text);
    int64_t v = 0;
    while (i < text.size() - 1 && std::isdigit(static_cast<unsigned char>(text[i]))) {
      v = v * 10 + (text[i] - '0');
      MASKOFF_CHECK(v < (int64_t{1} << 40),
                    "read_npy: " << path << ": extent too large in " << text);
      ++i;
    }
    s.push_back(v);
  }
  return s;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MASKOFF_CHECK(in.good(), "read_npy: cannot open " << path << " (missing or unreadable)");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  return parse_npy(bytes.data(), bytes.size(), path);
}

Tensor parse_npy(const char* data, size_t size, const std::string& path) {
  const std::vector<char> bytes(data, data + size);
  MASKOFF_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0,
                "read_npy: " << path << " is not an .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  MASKOFF_CHECK(major >= 1 && major <= 3,
                "read_npy: " << path << ": unsupported .npy version " << major);
  // Version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one; little-endian.
  const size_t len_bytes = major == 1 ? 2 : 4;
  MASKOFF_CHECK(bytes.size() >= 8 + len_bytes, "read_npy: " << path << ": truncated header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const size_t data_at = 8 + len_bytes + header_len;
  MASKOFF_CHECK(bytes.size() >= data_at, "read_npy: " << path << ": truncated header ("
                                                      << bytes.size() << " bytes, header ends at "
                                                      << data_at << ")");
  const std::string header(bytes.data() + 8 + len_bytes, header_len);

  const std::string descr = dict_value(header, "descr", path);
  MASKOFF_CHECK(descr == "'<f4'", "read_npy: " << path << ": dtype " << descr
                                               << " is not little-endian float32 '<f4'");
  const std::string order = dict_value(header, "fortran_order", path);
  MASKOFF_CHECK(order == "False", "read_npy: " << path << ": fortran_order " << order
                                               << " (only C order is supported)");
  const Shape shape = parse_shape(dict_value(header, "shape", path), path);

  // The data must be there before anything is allocated; extents of up to 2^40 each can
  // multiply past 64 bits, so the product is checked against the bytes as it grows.
  const size_t have = bytes.size() - data_at;
  size_t numel = 1;
  for (int64_t e : shape) {
    MASKOFF_CHECK(e == 0 || numel <= have / sizeof(float) / static_cast<size_t>(e),
                  "read_npy: " << path << ": shape " << shape_str(shape)
                               << " needs more data than the " << have
                               << " bytes the file holds (truncated)");
    numel *= static_cast<size_t>(e);
  }
  const size_t want = numel * sizeof(float);
  MASKOFF_CHECK(have == want, "read_npy: " << path << ": shape " << shape_str(shape) << " needs "
                                           << want << " data bytes, the file holds " << have
                                           << (have < want ? " (truncated)" : " (extra bytes)"));
  Tensor t = empty(shape, DType::F32);
  // The .npy data are little-endian; so is every machine this engine targets (x86-64, ARM64).
  std::memcpy(t.raw_data(), bytes.data() + data_at, want);
  return t;
}

void load_npy_parameters(const Module& m, const std::string& dir, DType dtype,
                         const std::string& who) {
  namespace fs = std::filesystem;
  MASKOFF_CHECK(fs::is_directory(dir),
                who << ": weight folder " << dir << " does not exist or is not a folder");
  for (const auto& [name, p] : m.named_parameters()) {
    const std::string path = (fs::path(dir) / (name + ".npy")).string();
    MASKOFF_CHECK(fs::exists(path), who << ": missing weight file " << path);
    Tensor w = read_npy(path);
    MASKOFF_CHECK(w.shape() == p.shape(), who << ": " << path << " holds shape "
                                              << shape_str(w.shape()) << ", expected "
                                              << shape_str(p.shape()));
    copy_(p, w.to(dtype));
    Tensor(p).set_requires_grad(false);
  }
}

}  // namespace maskoff::models
