// Adam: argument checks, per-parameter state, and the fused update: a CPU kernel per
// parameter, or on the GPU one multi-tensor kernel launch for all of them (cuda/adam.h).
#include "optim/adam.h"

#include <cmath>
#include <unordered_set>

#include "layers/dispatch.h"
#ifdef MASKOFF_WITH_CUDA
#include "cuda/adam.h"
#endif
#include "tensor/backend.h"
#include "tensor/parallel.h"

namespace maskoff {

namespace cpu {
// One pass over a parameter: weight decay, both moments and the parameter update, so each
// element is read and written once. Hyper-parameters arrive in double and are rounded once.
template <class T>
void adam_update(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2,
                 double eps, double weight_decay, int64_t t) {
  double bc1 = 1.0 - std::pow(beta1, static_cast<double>(t));
  double bc2 = 1.0 - std::pow(beta2, static_cast<double>(t));
  const T step_size = static_cast<T>(lr / bc1);
  const T sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
  const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), e = static_cast<T>(eps);
  const T wd = static_cast<T>(weight_decay);
  parallel_for(n, [&](int64_t i) {
    T gi = g[i] + wd * p[i];
    m[i] = b1 * m[i] + (T(1) - b1) * gi;
    v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + e);
  });
}
}  // namespace cpu

Adam::Adam(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps,
           double weight_decay)
    : params_(std::move(params)),
      lr_(lr),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      weight_decay_(weight_decay) {
  MASKOFF_CHECK(lr >= 0, "Adam: learning rate must be >= 0, got " << lr);
  MASKOFF_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                "Adam: betas must lie in [0, 1), got (" << beta1 << ", " << beta2 << ")");
  MASKOFF_CHECK(eps >= 0, "Adam: eps must be >= 0, got " << eps);
  MASKOFF_CHECK(weight_decay >= 0, "Adam: weight_decay must be >= 0, got " << weight_decay);
  std::unordered_set<const TensorImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    MASKOFF_CHECK(p.defined(), "Adam: parameter " << i << " is undefined");
    MASKOFF_CHECK(p.is_leaf() && p.requires_grad(), "Adam: parameter "
                                                        << i << " (" << p.str()
                                                        << ") must be a leaf that requires grad");
    MASKOFF_CHECK(seen.insert(p.impl()).second,
                  "Adam: parameter " << i << " (" << p.str() << ") appears twice");
    // Zero moments are exactly PyTorch's lazily created state.
    exp_avg_.push_back(zeros_like(p));
    exp_avg_sq_.push_back(zeros_like(p));
  }
  param_steps_.assign(params_.size(), 0);
}

void Adam::step() {
#ifdef MASKOFF_WITH_CUDA
  std::vector<cuda::AdamSlot> gpu_slots;  // updated together after the loop
#endif
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    check_same_dtype(p, g, "Adam (parameter vs gradient)");
    check_same_device(p, g, "Adam (parameter vs gradient)");
    // State made before the model moved to another device (Module::to_) follows it there.
    if (exp_avg_[i].device() != p.device()) {
      exp_avg_[i] = exp_avg_[i].to(p.device());
      exp_avg_sq_[i] = exp_avg_sq_[i].to(p.device());
    }
    int64_t t = ++param_steps_[i];
    const Tensor& m = exp_avg_[i];
    const Tensor& v = exp_avg_sq_[i];
    if (p.is_cuda()) {
#ifdef MASKOFF_WITH_CUDA
      MASKOFF_CHECK(p.dtype() == DType::F32,
                    "adam_update: CUDA kernels take float32, got " << p.str());
      // The same rounding of the bias corrections as cpu::adam_update.
      const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t));
      const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(t));
      gpu_slots.push_back({f32(p), f32(g), f32(m), f32(v), p.numel(), static_cast<float>(lr_ / bc1),
                           static_cast<float>(std::sqrt(bc2))});
#else
      MASKOFF_FAIL("adam_update: this build of maskoff has no CUDA support (" << p.str() << ")");
#endif
    } else {
      dispatch(p, "adam_update", [&](auto ptr) {
        cpu::adam_update(ptr(p), ptr(g), ptr(m), ptr(v), p.numel(), lr_, beta1_, beta2_, eps_,
                         weight_decay_, t);
      });
    }
    p.mark_modified();
  }
#ifdef MASKOFF_WITH_CUDA
  if (!gpu_slots.empty()) profile::on_op("adam_update (all parameters, one launch)");
  if (!gpu_slots.empty())
    cuda::adam_update_multi(gpu_slots.data(), static_cast<int>(gpu_slots.size()),
                            static_cast<float>(beta1_), static_cast<float>(beta2_),
                            static_cast<float>(eps_), static_cast<float>(weight_decay_));
#endif
  ++steps_;
}

void Adam::zero_grad() {
  for (const Tensor& p : params_) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    backend::zero_bytes(g.raw_data(), g.device(), g.nbytes());
    g.mark_modified();
  }
}

void Adam::set_lr(double lr) {
  MASKOFF_CHECK(lr >= 0, "Adam: learning rate must be >= 0, got " << lr);
  lr_ = lr;
}

void Adam::check_index(size_t i, const char* what) const {
  MASKOFF_CHECK(i < params_.size(), "Adam::" << what << ": index " << i << " out of range ("
                                             << params_.size() << " parameters)");
}
Tensor Adam::exp_avg(size_t i) const {
  check_index(i, "exp_avg");
  return exp_avg_[i];
}
Tensor Adam::exp_avg_sq(size_t i) const {
  check_index(i, "exp_avg_sq");
  return exp_avg_sq_[i];
}
int64_t Adam::param_step(size_t i) const {
  check_index(i, "param_step");
  return param_steps_[i];
}
void Adam::set_param_step(size_t i, int64_t t) {
  check_index(i, "set_param_step");
  MASKOFF_CHECK(t >= 0, "Adam::set_param_step: negative step " << t);
  param_steps_[i] = t;
}
void Adam::set_steps(int64_t steps) {
  MASKOFF_CHECK(steps >= 0, "Adam::set_steps: negative step count " << steps);
  steps_ = steps;
}

}  // namespace maskoff
