// Element types. float32 is the product's type; float64 exists so that gradient checks
// can run the very same CPU code with finite differences that are accurate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"

namespace maskoff {

enum class DType : uint8_t { F32, F64 };

inline size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }
inline const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : "float64"; }

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::F64;
};

// Calls f with a value of the C++ scalar type that matches `t`:
//   visit_dtype(x.dtype(), [&](auto s) { using T = decltype(s); kernel<T>(...); });
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::F32:
      return f(float{});
    case DType::F64:
      return f(double{});
  }
  MASKOFF_FAIL("unknown dtype " << static_cast<int>(t));
}

}  // namespace maskoff
