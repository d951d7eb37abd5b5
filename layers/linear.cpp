// matmul and linear: shape checks and autograd around cpu::gemm. Each gradient is one
// GEMM with transposed views of the saved operands:
//   C = A B:        dA = dC B^T,   dB = A^T dC
//   y = x W^T + b:  dx = dy W,     dW = dy^T x,   db = column sums of dy
#include "layers/linear.h"

#include "autograd/node.h"
#include "cuda/bias.h"
#include "cuda/blas.h"
#include "cuda/reduce.h"
#include "layers/cpu/linear.h"
#include "layers/cpu/reduce.h"
#include "layers/dispatch.h"

namespace maskoff {

using autograd::record;

namespace {
// out [m, n] = op(a) op(b), with the same storage conventions as cpu::gemm.
Tensor gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, int64_t m, int64_t k,
            int64_t n, const char* op) {
  Tensor c = empty({m, n}, a.dtype(), a.device());
  profile::on_flops(op, 2.0 * m * k * n);
  dispatch(
      a, op, [&](auto p) { cpu::gemm(p(a), trans_a, p(b), trans_b, p(c), m, k, n); },
      [&] { cuda::gemm(f32(a), trans_a, f32(b), trans_b, f32(c), m, k, n); });
  return c;
}

void check_operands(const Tensor& a, const Tensor& b, const char* op) {
  check_same_dtype(a, b, op);
  check_same_device(a, b, op);
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_dim(a, 2, "matmul", "a");
  check_dim(b, 2, "matmul", "b");
  check_operands(a, b, "matmul");
  MASKOFF_CHECK(a.size(1) == b.size(0), "matmul: inner dimensions differ, "
                                            << shape_str(a.shape()) << " x "
                                            << shape_str(b.shape()));
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  Tensor c = gemm(a, false, b, false, m, k, n, "matmul");
  Tensor ad = a.detach(), bd = b.detach();
  return record(c, "matmul", {a, b}, [ad, bd, m, k, n](const Tensor& gc, const Needs& need) {
    return Grads{need[0] ? gemm(gc, false, bd, true, m, n, k, "matmul_backward") : Tensor(),
                 need[1] ? gemm(ad, true, gc, false, k, m, n, "matmul_backward") : Tensor()};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_dim(x, 2, "linear", "input");
  check_dim(w, 2, "linear", "weight");
  check_operands(x, w, "linear");
  MASKOFF_CHECK(x.size(1) == w.size(1), "linear: input " << shape_str(x.shape())
                                                         << " does not match weight [out, in] "
                                                         << shape_str(w.shape()));
  const int64_t rows = x.size(0), in = x.size(1), out = w.size(0);
  if (bias.defined()) {
    check_operands(x, bias, "linear");
    MASKOFF_CHECK(bias.dim() == 1 && bias.size(0) == out,
                  "linear: bias must have shape [" << out << "] for weight " << shape_str(w.shape())
                                                   << ", got " << shape_str(bias.shape()));
  }
  Tensor y = gemm(x, false, w, true, rows, in, out, "linear");
  if (bias.defined()) {
    dispatch(
        y, "linear", [&](auto p) { cpu::add_row_bias(p(y), p(bias), rows, out); },
        [&] { cuda::add_row_bias(f32(y), f32(bias), rows, out); });
  }
  Tensor xd = x.detach(), wd = w.detach();
  return record(y, "linear", {x, w, bias},
                [xd, wd, rows, in, out](const Tensor& gy, const Needs& need) {
                  Grads g(3);
                  if (need[0]) g[0] = gemm(gy, false, wd, false, rows, out, in, "linear_backward");
                  if (need[1]) g[1] = gemm(gy, true, xd, false, out, rows, in, "linear_backward");
                  if (need[2]) {
                    g[2] = empty({out}, gy.dtype(), gy.device());
                    dispatch(
                        gy, "linear_backward",
                        [&](auto p) { cpu::sum_middle(p(gy), p(g[2]), 1, rows, out, 1.0); },
                        [&] { cuda::sum_middle(f32(gy), f32(g[2]), 1, rows, out, 1.0); });
                  }
                  return g;
                });
}

}  // namespace maskoff
