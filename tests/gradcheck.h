// The one finite-difference gradient checker, used for every op, layer and loss.
//
// f() computes some tensor from tensors it closes over; `wrt` lists the float64 leaves
// (inputs and parameters) to check. The checker projects the output on a fixed random
// direction R, so the scalar is L = sum(R * f()). The analytic gradient comes from
// f().backward(R); the numeric one perturbs each element of each leaf in place by +/-eps
// and takes the central difference of L. Every element of every leaf is compared with
// |analytic - numeric| <= atol + rtol * |numeric|.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "autograd/node.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace maskoff::testing {

struct GradCheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 20221;
};

inline double dot_with(const Tensor& out, const std::vector<double>& r) {
  std::vector<double> v = out.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i] * r[i];
  return s;
}

inline ::testing::AssertionResult grad_check(const std::function<Tensor()>& f,
                                             const std::vector<Tensor>& wrt,
                                             GradCheckOptions opt = {}) {
  for (const Tensor& t : wrt) {
    if (t.dtype() != DType::F64 || !t.is_leaf() || !t.requires_grad())
      return ::testing::AssertionFailure()
             << "grad_check needs float64 leaves that require grad, got " << t.str();
    t.set_grad(Tensor());
  }
  // Analytic.
  Tensor out = f();
  if (!out.requires_grad())
    return ::testing::AssertionFailure() << "output " << out.str() << " does not require grad";
  Generator g(opt.seed);
  Tensor r = randn(out.shape(), g, DType::F64);
  std::vector<double> rv = r.to_vector<double>();
  out.backward(r);

  // Numeric, element by element.
  std::ostringstream errors;
  int n_bad = 0;
  autograd::NoGradGuard no_grad;
  for (size_t k = 0; k < wrt.size(); ++k) {
    const Tensor& t = wrt[k];
    Tensor grad = t.grad();
    std::vector<double> analytic =
        grad.defined() ? grad.to_vector<double>() : std::vector<double>(t.numel(), 0.0);
    double* p = t.data<double>();
    for (int64_t j = 0; j < t.numel(); ++j) {
      double saved = p[j];
      p[j] = saved + opt.eps;
      double lp = dot_with(f(), rv);
      p[j] = saved - opt.eps;
      double lm = dot_with(f(), rv);
      p[j] = saved;
      double numeric = (lp - lm) / (2 * opt.eps);
      double a = analytic[static_cast<size_t>(j)];
      if (!(std::fabs(a - numeric) <= opt.atol + opt.rtol * std::fabs(numeric))) {
        if (n_bad < 8)
          errors << "\n  input " << k << " (" << t.str() << ") element " << j << ": analytic " << a
                 << ", numeric " << numeric;
        ++n_bad;
      }
    }
  }
  if (n_bad)
    return ::testing::AssertionFailure() << n_bad << " gradient mismatches:" << errors.str();
  return ::testing::AssertionSuccess();
}

// A float64 constant tensor from literal values (hand-computed cases).
inline Tensor f64(const std::vector<double>& v, const Shape& s) {
  return from_vector(v, s, DType::F64);
}

// A float64 leaf with values from N(0,1) (scaled), requiring grad.
inline Tensor leaf(const Shape& s, Generator& g, double scale = 1.0) {
  Tensor t = randn(s, g, DType::F64, Device::cpu(), 0.0, scale);
  t.set_requires_grad(true);
  return t;
}

// A float64 leaf whose values are a shuffled grid with gaps of at least `gap`, so that
// max-pooling and ReLU-style kinks are never within eps of each other or of zero.
inline Tensor distinct_leaf(const Shape& s, Generator& g, double gap = 0.01) {
  int64_t n = shape_numel(s);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = (static_cast<double>(i) - n / 2.0 + 0.5) * gap;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(v[static_cast<size_t>(i)], v[g.below(static_cast<uint64_t>(i + 1))]);
  Tensor t = from_vector(v, s, DType::F64);
  t.set_requires_grad(true);
  return t;
}

// Largest |a - b| relative check, for forward comparisons against hand-computed values.
inline ::testing::AssertionResult all_close(const std::vector<double>& got,
                                            const std::vector<double>& want, double atol,
                                            double rtol = 0.0) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i])))
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", want " << want[i];
  return ::testing::AssertionSuccess();
}

}  // namespace maskoff::testing
