#include "train/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/atomic_file.h"
#include "tensor/error.h"

namespace maskoff::train {
namespace {
constexpr char kMagic[8] = {'M', 'A', 'S', 'K', 'O', 'F', 'F', '1'};

const char* short_dtype(DType t) { return t == DType::F64 ? "f64" : "f32"; }
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
                     {"nbytes", nbytes}});
    offset += nbytes;
  }
  meta["tensors"] = index;
  std::string json = meta.dump();
  std::string bytes;
  bytes.reserve(16 + json.size() + offset);
  bytes.append(kMagic, 8);
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  bytes += json;
  for (const auto& [name, t] : ck.tensors) {
    bytes.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
  data::write_file_atomic(path, bytes);
}

Checkpoint read_checkpoint(const std::string& path) {
  MASKOFF_CHECK(std::filesystem::is_regular_file(path),
                "cannot read checkpoint " << path << ": " << (std::filesystem::exists(path) ? "not a file" : "no such file"));
  // Read once, straight into one buffer: a full-size checkpoint is ~700 MB.
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  MASKOFF_CHECK(in, "cannot open checkpoint " << path << ": " << std::strerror(errno));
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  MASKOFF_CHECK(in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())),
                "cannot read checkpoint " << path << ": " << std::strerror(errno));
  MASKOFF_CHECK(bytes.size() >= 16 && std::memcmp(bytes.data(), kMagic, 8) == 0,
                path << " is not a maskoff checkpoint (bad header)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  MASKOFF_CHECK(n <= bytes.size() - 16, "checkpoint " << path << " is truncated (header says "
                                                        << n << " bytes of metadata)");
  Checkpoint ck;
  ck.path = path;
  try {
    ck.meta = nlohmann::json::parse(bytes.begin() + 16, bytes.begin() + 16 + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception& e) {
    MASKOFF_FAIL("checkpoint " << path << ": bad metadata: " << e.what());
  }
  const size_t base = 16 + n;
  MASKOFF_CHECK(ck.meta.contains("tensors") && ck.meta["tensors"].is_array(),
                "checkpoint " << path << ": metadata has no tensor index");
  for (const auto& e : ck.meta["tensors"]) {
    std::string name = e.at("name");
    DType dt = e.at("dtype") == "f64" ? DType::F64 : DType::F32;
    std::vector<int64_t> dims = e.at("shape").get<std::vector<int64_t>>();
    uint64_t off = e.at("offset"), nbytes = e.at("nbytes");
    Tensor t = empty(dims, dt);
    MASKOFF_CHECK(nbytes == static_cast<uint64_t>(t.numel()) * dtype_size(dt),
                  "checkpoint " << path << ": tensor '" << name << "' size does not match its shape");
    MASKOFF_CHECK(base + off + nbytes <= bytes.size(),
                  "checkpoint " << path << " is truncated (tensor '" << name << "' is cut off)");
    std::memcpy(t.raw_data(), bytes.data() + base + off, nbytes);
    ck.tensors.emplace_back(name, t);
  }
  ck.meta.erase("tensors");
  return ck;
}

}  // namespace maskoff::train
