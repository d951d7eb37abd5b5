// A reader for NumPy .npy files holding little-endian float32 arrays in C order (the format
// the pretrained weights ship in).
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace maskoff::models {

// Reads the array into a new float32 CPU tensor of the stored shape (a rank-0 array gives
// shape {}). Throws maskoff::Error naming the file and the problem: missing or unreadable,
// not an .npy file (magic), an unsupported version, a malformed header, a dtype other than
// '<f4', Fortran order, or a data size that does not match the shape (truncated or extra).
Tensor read_npy(const std::string& path);
// The same from a file's bytes in memory; `path` is what the error messages call them.
Tensor parse_npy(const char* data, size_t size, const std::string& path);

}  // namespace maskoff::models
