// What the tests of the networks loaded from .npy weights (the face detector, the landmark
// network) share: hand-made .npy files (format version 1), valid and broken, weight folders
// with a flaw, and the loading contract of a pretrained network.
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "layers/module.h"
#include "tests/data/temp_dir.h"
#include "tests/test_util.h"

namespace maskoff::testing {

// The header dict of a C-ordered little-endian float32 array, e.g. shape "(16, 3, 3, 3)".
inline std::string f4_dict(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

// The bytes of an .npy file with header `dict` and payload `values`, less its last
// `drop_bytes` (a truncated file). The header is padded so the payload starts 64-aligned.
inline std::vector<uint8_t> npy_bytes(const std::string& dict, const std::vector<float>& values,
                                      size_t drop_bytes = 0) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string b = "\x93NUMPY";
  b += {char(1), char(0), char(header.size() & 0xff), char(header.size() >> 8)};
  b += header;
  b.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return std::vector<uint8_t>(b.begin(), b.end() - static_cast<std::ptrdiff_t>(drop_bytes));
}

// A float32 .npy file of shape s, every value zero.
inline std::vector<uint8_t> npy_zeros(const Shape& s) {
  std::string tuple = "(";
  for (int64_t d : s) tuple += std::to_string(d) + ", ";
  return npy_bytes(f4_dict(tuple + ")"), std::vector<float>(static_cast<size_t>(shape_numel(s))));
}

// A weight folder that is wrong in two ways: one zero-filled .npy file per parameter of
// `net`, named after it, except that `missing` has none and `wrong` has shape wrong_shape.
inline void write_flawed_weights(const Module& net, const data::testing::TempDir& dir,
                                 const std::string& missing, const std::string& wrong,
                                 const Shape& wrong_shape) {
  for (const auto& [name, p] : net.named_parameters())
    if (name != missing)
      data::testing::write_bytes(dir / (name + ".npy"),
                                 npy_zeros(name == wrong ? wrong_shape : p.shape()));
}

// The errors of load(folder) (a network's loader): a folder that does not exist is named;
// in `dir`, written by write_flawed_weights, the missing file is named first; once it is
// written, the file of the wrong shape, with its shape and the one expected.
template <class Load>
void expect_weight_folder_errors(Load load, const Module& net, const data::testing::TempDir& dir,
                                 const std::string& missing, const std::string& wrong,
                                 const Shape& wrong_shape) {
  std::string msg = error_of([&] { load("/nonexistent/weights"); });
  EXPECT_NE(msg.find("/nonexistent/weights"), std::string::npos) << msg;
  write_flawed_weights(net, dir, missing, wrong, wrong_shape);
  msg = error_of([&] { load(dir.str()); });
  EXPECT_NE(msg.find(dir / (missing + ".npy")), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  data::testing::write_bytes(dir / (missing + ".npy"), npy_zeros(net.parameter(missing).shape()));
  msg = error_of([&] { load(dir.str()); });
  EXPECT_NE(msg.find(dir / (wrong + ".npy")), std::string::npos) << msg;
  EXPECT_NE(msg.find(shape_str(wrong_shape)), std::string::npos) << msg;
  EXPECT_NE(msg.find(shape_str(net.parameter(wrong).shape())), std::string::npos) << msg;
}

// The loading contract of a pretrained network: one parameter per .npy file in `dir` (named
// by the file's stem) and the other way round, each of them frozen.
inline void expect_frozen_parameter_per_npy_file(const Module& net, const std::string& dir) {
  std::set<std::string> files, params;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".npy") files.insert(e.path().stem().string());
  for (const auto& [name, p] : net.named_parameters()) {
    params.insert(name);
    EXPECT_FALSE(p.requires_grad()) << name;
  }
  EXPECT_EQ(files, params);
}

}  // namespace maskoff::testing
