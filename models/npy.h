// A reader for NumPy .npy files holding little-endian float32 arrays in C order (the format
// the pretrained weights ship in), and the loader of a pretrained network's weights.
#pragma once
#include <string>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace maskoff::models {

// Reads the array into a new float32 CPU tensor of the stored shape (a rank-0 array gives
// shape {}). Throws maskoff::Error naming the file and the problem: missing or unreadable,
// not an .npy file (magic), an unsupported version, a malformed header, a dtype other than
// '<f4', Fortran order, or a data size that does not match the shape (truncated or extra).
Tensor read_npy(const std::string& path);
// The same from a file's bytes in memory; `path` is what the error messages call them.
Tensor parse_npy(const char* data, size_t size, const std::string& path);

// Reads each parameter of `m` from DIR/<parameter name>.npy (its shape must match),
// converted to `dtype`, and freezes it (no gradient). `who` starts every error message.
void load_npy_parameters(const Module& m, const std::string& dir, DType dtype,
                         const std::string& who);

}  // namespace maskoff::models
