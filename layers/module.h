// Module: the base class of every layer and model. It owns named parameters (trainable
// leaves), named buffers (state such as batch-norm running statistics) and named child
// modules, lists them recursively in registration order with dotted names
// ("enc.0.weight"), and carries the train/eval switch down to its children.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/noncopyable.h"
#include "tensor/tensor.h"

namespace maskoff {

struct Generator;

class Module {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The computation; the default throws (a module may be a mere container).
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Registration. Names must be non-empty, contain no '.', and be unique within this module
  // across parameters, buffers and children. register_parameter marks t as requiring grad
  // (it must be a leaf) and returns the stored handle, which shares t's storage.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // Recursive listings, this module's own entries first, then each child's in order.
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> buffers() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  // Direct children only.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // Looks up a parameter or buffer by dotted name; throws naming the missing entry.
  Tensor parameter(const std::string& dotted_name) const;
  Tensor buffer(const std::string& dotted_name) const;

  // Train/eval, applied to the whole subtree.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Calls f on this module and then on every descendant, depth first (e.g. weight init:
  // net.apply([&](Module& m) { if (auto* c = dynamic_cast<Conv2d*>(&m)) ... })).
  void apply(const std::function<void(Module&)>& f);

  // Drops every parameter's gradient (use Adam::zero_grad to zero them in place instead).
  void clear_grad();

  // Moves every parameter, its gradient and every buffer to `device` in place: the same
  // tensor handles now refer to memory there, so copies held elsewhere (member fields such
  // as Conv2d::weight, an optimizer's parameter list) see the move. Tensors that shared a
  // storage block still share one. An Adam made before the move moves its state on its
  // next step.
  void to_(Device device);

  int64_t num_parameters() const;  // total elements
  const std::string& type_name() const { return type_name_; }

 private:
  void check_new_name(const std::string& name) const;
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void collect(const std::string& prefix, bool params,
               std::vector<std::pair<std::string, Tensor>>& out) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// ---- initialisation helpers (in place, no autograd history) ----------------------------
void init_uniform_(const Tensor& t, Generator& g, double lo, double hi);
void init_normal_(const Tensor& t, Generator& g, double mean, double stddev);
void init_constant_(const Tensor& t, double value);
// PyTorch's default for conv and linear layers (kaiming_uniform with a = sqrt(5)), which
// reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases use the same bound.
void init_default_uniform_(const Tensor& t, Generator& g, int64_t fan_in);

// While one is alive on this thread, the init helpers above do nothing: tensors keep
// whatever their constructors gave them. For modules whose every parameter is about to be
// read from a checkpoint; a 54 M-parameter U-Net would otherwise draw its weights twice
// (the layers' defaults, then pix2pix's) only to overwrite them.
class SkipInitGuard : NonCopyable {
 public:
  SkipInitGuard();
  ~SkipInitGuard();
  static bool active();

 private:
  bool prev_;
};

}  // namespace maskoff
