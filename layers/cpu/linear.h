// CPU reference kernels for matrix products (Eigen GEMM, which threads itself through
// OpenMP) and the bias broadcast of a fully connected layer, on row-major arrays.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "tensor/parallel.h"

namespace maskoff::cpu {

template <class T>
using RowMajorMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// c [m, n] = op(a) [m, k] * op(b) [k, n]. a is stored [m, k], or [k, m] when trans_a; b is
// stored [k, n], or [n, k] when trans_b. The transposes are views, never copies, so every
// backward product reads the forward operands where they are.
template <class T>
void gemm(const T* a, bool trans_a, const T* b, bool trans_b, T* c, int64_t m, int64_t k,
          int64_t n) {
  using Map = Eigen::Map<const RowMajorMatrix<T>>;
  Eigen::Map<RowMajorMatrix<T>> C(c, m, n);
  if (k == 0) {  // an empty inner product is zero
    C.setZero();
    return;
  }
  Map A(a, trans_a ? k : m, trans_a ? m : k);
  Map B(b, trans_b ? n : k, trans_b ? k : n);
  if (!trans_a && !trans_b)
    C.noalias() = A * B;
  else if (!trans_a && trans_b)
    C.noalias() = A * B.transpose();
  else if (trans_a && !trans_b)
    C.noalias() = A.transpose() * B;
  else
    C.noalias() = A.transpose() * B.transpose();
}

// y[r, j] += bias[j] for each of `rows` rows of length n.
template <class T>
void add_row_bias(T* y, const T* bias, int64_t rows, int64_t n) {
  parallel_for(
      rows,
      [&](int64_t r) {
        T* yr = y + r * n;
        for (int64_t j = 0; j < n; ++j) yr[j] += bias[j];
      },
      kParallelGrain / std::max<int64_t>(1, n));
}

}  // namespace maskoff::cpu
