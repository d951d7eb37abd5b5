#include "train/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/atomic_file.h"
#include "tensor/crc32c.h"
#include "tensor/error.h"

namespace maskoff::train {
namespace {
constexpr char kMagic1[8] = {'M', 'A', 'S', 'K', 'O', 'F', 'F', '1'};  // no checksums
constexpr char kMagic2[8] = {'M', 'A', 'S', 'K', 'O', 'F', 'F', '2'};

const char* short_dtype(DType t) { return t == DType::F64 ? "f64" : "f32"; }

uint64_t read_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
void append_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

void Checkpoint::add(const std::string& name, const Tensor& t) {
  MASKOFF_CHECK(t.defined(), "checkpoint: tensor '" << name << "' is undefined");
  MASKOFF_CHECK(!has(name), "checkpoint: tensor '" << name << "' added twice");
  tensors.emplace_back(name, t.detach().cpu().clone());
}

bool Checkpoint::has(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

const Tensor& Checkpoint::get(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  MASKOFF_FAIL("checkpoint " << (path.empty() ? "(in memory)" : path) << ": no tensor named '"
                             << name << "' (was it written by another model configuration?)");
}

void Checkpoint::restore(const std::string& name, const Tensor& dst) const {
  const Tensor& src = get(name);
  MASKOFF_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
                "checkpoint " << path << ": tensor '" << name << "' is " << src.str()
                              << " but the model expects " << dst.str());
  copy_(dst, src);
}

void write_checkpoint(const std::string& path, const Checkpoint& ck) {
  nlohmann::json meta = ck.meta;
  nlohmann::json index = nlohmann::json::array();
  uint64_t offset = 0;
  for (const auto& [name, t] : ck.tensors) {
    uint64_t nbytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    index.push_back({{"name", name},
                     {"dtype", short_dtype(t.dtype())},
                     {"shape", t.shape()},
                     {"offset", offset},
                     {"nbytes", nbytes},
                     {"crc32c", crc32c(t.raw_data(), nbytes)}});
    offset += nbytes;
  }
  meta["tensors"] = index;
  std::string json = meta.dump();
  std::string bytes;
  bytes.reserve(24 + json.size() + offset);
  bytes.append(kMagic2, 8);
  append_le(bytes, json.size(), 8);
  append_le(bytes, crc32c(json.data(), json.size()), 4);
  append_le(bytes, 0, 4);
  bytes += json;
  for (const auto& [name, t] : ck.tensors) {
    bytes.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
  data::write_file_atomic(path, bytes);
}

Checkpoint read_checkpoint(const std::string& path) {
  MASKOFF_CHECK(std::filesystem::is_regular_file(path),
                "cannot read checkpoint "
                    << path << ": "
                    << (std::filesystem::exists(path) ? "not a file" : "no such file"));
  // Read once, straight into one buffer: a full-size checkpoint is ~700 MB.
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  MASKOFF_CHECK(in, "cannot open checkpoint " << path << ": " << std::strerror(errno));
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  MASKOFF_CHECK(in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())),
                "cannot read checkpoint " << path << ": " << std::strerror(errno));
  return parse_checkpoint(bytes.data(), bytes.size(), path);
}

Checkpoint parse_checkpoint(const char* data, size_t size, const std::string& path) {
  const bool v2 = size >= 8 && std::memcmp(data, kMagic2, 8) == 0;
  const bool v1 = size >= 8 && std::memcmp(data, kMagic1, 8) == 0;
  MASKOFF_CHECK(v1 || v2, path << " is not a maskoff checkpoint (bad header)");
  const size_t header = v2 ? 24 : 16;
  MASKOFF_CHECK(size >= header, "checkpoint " << path << " is truncated (" << size << " bytes)");
  const uint64_t n = read_le(data + 8, 8);
  if (v2)
    MASKOFF_CHECK(read_le(data + 20, 4) == 0,
                  "checkpoint " << path << " is corrupt: its header has unknown flags");
  MASKOFF_CHECK(n <= size - header, "checkpoint " << path << " is truncated (header says " << n
                                                  << " bytes of metadata)");
  const char* json = data + header;
  if (v2)
    MASKOFF_CHECK(crc32c(json, n) == read_le(data + 16, 4),
                  "checkpoint " << path << " is corrupt: its metadata fails the checksum");
  Checkpoint ck;
  ck.path = path;
  try {
    ck.meta = nlohmann::json::parse(json, json + n);
  } catch (const std::exception& e) {
    MASKOFF_FAIL("checkpoint " << path << ": bad metadata: " << e.what());
  }
  const size_t base = header + n, have = size - base;
  MASKOFF_CHECK(ck.meta.is_object() && ck.meta.contains("tensors") && ck.meta["tensors"].is_array(),
                "checkpoint " << path << ": metadata has no tensor index");
  for (const auto& e : ck.meta["tensors"]) {
    std::string name;
    DType dt = DType::F32;
    std::vector<int64_t> dims;
    uint64_t off = 0, nbytes = 0, crc = 0;
    try {
      name = e.at("name").get<std::string>();
      const std::string d = e.at("dtype").get<std::string>();
      MASKOFF_CHECK(d == "f32" || d == "f64",
                    "checkpoint " << path << ": tensor '" << name << "' has dtype '" << d << "'");
      dt = d == "f64" ? DType::F64 : DType::F32;
      dims = e.at("shape").get<std::vector<int64_t>>();
      off = e.at("offset").get<uint64_t>();
      nbytes = e.at("nbytes").get<uint64_t>();
      if (v2) crc = e.at("crc32c").get<uint64_t>();
    } catch (const nlohmann::json::exception& ex) {
      MASKOFF_FAIL("checkpoint " << path << ": bad tensor index entry: " << ex.what());
    }
    // The shape must describe exactly the bytes the entry names, and those must be in the
    // file, before anything is allocated: the index could claim any size.
    uint64_t numel = 1;
    bool fits = true;
    for (int64_t d : dims) {
      fits = fits && d >= 0 && (d == 0 || numel <= have / static_cast<uint64_t>(d));
      if (fits) numel *= static_cast<uint64_t>(d);
    }
    MASKOFF_CHECK(fits && off <= have && nbytes <= have - off,
                  "checkpoint " << path << " is truncated (tensor '" << name << "' is cut off)");
    MASKOFF_CHECK(nbytes == numel * dtype_size(dt), "checkpoint "
                                                        << path << ": tensor '" << name
                                                        << "' size does not match its shape");
    const char* at = data + base + off;
    if (v2)
      MASKOFF_CHECK(crc32c(at, nbytes) == crc, "checkpoint " << path << " is corrupt: tensor '"
                                                             << name << "' fails its checksum");
    Tensor t = empty(dims, dt);
    std::memcpy(t.raw_data(), at, nbytes);
    ck.tensors.emplace_back(name, t);
  }
  ck.meta.erase("tensors");
  return ck;
}

}  // namespace maskoff::train
