// Matrix products on the GPU through cuBLAS, with the storage conventions of cpu::gemm:
// row-major c [m, n] = op(a) [m, k] * op(b) [k, n], where a is stored [m, k] ([k, m] when
// trans_a) and b is stored [k, n] ([n, k] when trans_b).
#pragma once
#include <cstdint>

namespace maskoff::cuda {

void gemm(const float* a, bool trans_a, const float* b, bool trans_b, float* c, int64_t m,
          int64_t k, int64_t n);

}  // namespace maskoff::cuda
