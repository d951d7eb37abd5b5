// Adam with PyTorch's update rule (torch.optim.Adam, amsgrad off, L2-style weight decay):
//   g <- g + weight_decay * p
//   m <- beta1 m + (1 - beta1) g            v <- beta2 v + (1 - beta2) g^2
//   p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// where t counts the steps this parameter actually took (a parameter without a gradient
// is skipped and its count does not advance, as in PyTorch).
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace maskoff {

class Adam {
 public:
  // Defaults are pix2pix's (lr 2e-4, betas (0.5, 0.999)). Every parameter must be a leaf
  // that requires grad, and each may appear only once.
  explicit Adam(std::vector<Tensor> params, double lr = 2e-4, double beta1 = 0.5,
                double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0);

  // One update of every parameter that has a gradient.
  void step();
  // Zeroes the existing gradient tensors in place (keeps them allocated, so the next
  // backward accumulates into the same buffers); parameters without a gradient are left alone.
  void zero_grad();

  void set_lr(double lr);
  double lr() const { return lr_; }
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

  // Number of step() calls.
  int64_t steps() const { return steps_; }

  // ---- state, for checkpoints ----
  // The tensors returned share storage with the optimiser: copy_ into them to restore.
  const std::vector<Tensor>& params() const { return params_; }
  size_t size() const { return params_.size(); }
  Tensor exp_avg(size_t i) const;      // first moment m of parameter i
  Tensor exp_avg_sq(size_t i) const;   // second moment v of parameter i
  int64_t param_step(size_t i) const;  // t of parameter i (steps it actually took)
  void set_param_step(size_t i, int64_t t);
  void set_steps(int64_t steps);  // restores step() count

 private:
  void check_index(size_t i, const char* what) const;

  std::vector<Tensor> params_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  std::vector<int64_t> param_steps_;
  double lr_, beta1_, beta2_, eps_, weight_decay_;
  int64_t steps_ = 0;
};

}  // namespace maskoff
