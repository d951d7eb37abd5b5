// The standard layers as Modules: Conv2d, ConvTranspose2d, BatchNorm2d, Linear, the
// activations, Dropout, and Sequential. Layers are built on the CPU in float32 unless a
// dtype is given (float64 for gradient checks); random initialisation draws from the
// Generator passed in, so a seeded model is reproducible. Models that want another
// initialisation (pix2pix: N(0, 0.02)) overwrite the weights afterwards with Module::apply
// and the init helpers of layers/module.h.
#pragma once
#include <memory>
#include <utility>

#include "layers/elementwise.h"
#include "layers/module.h"
#include "tensor/random.h"

namespace maskoff {

// weight [out, in/groups, k, k], bias [out]; default init U(-1/sqrt(fan_in), +) with
// fan_in = in/groups * k * k, as PyTorch.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Generator& gen,
         int64_t stride = 1, int64_t padding = 0, bool bias = true, int64_t groups = 1,
         DType dtype = DType::F32);
  Tensor forward(const Tensor& x) override;
  void reset_parameters(Generator& gen);

  int64_t in_channels, out_channels, kernel, stride, padding, groups;
  Tensor weight, bias;  // bias undefined when built without one
};

// weight [in, out/groups, k, k] (PyTorch's layout), bias [out];
// output size (H - 1) * stride - 2 * padding + k + output_padding. Default init as PyTorch,
// whose fan_in for this layout is out/groups * k * k.
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Generator& gen,
                  int64_t stride = 1, int64_t padding = 0, int64_t output_padding = 0,
                  bool bias = true, int64_t groups = 1, DType dtype = DType::F32);
  Tensor forward(const Tensor& x) override;
  void reset_parameters(Generator& gen);

  int64_t in_channels, out_channels, kernel, stride, padding, output_padding, groups;
  Tensor weight, bias;
};

// Parameters weight (ones) and bias (zeros) when affine; buffers running_mean (zeros) and
// running_var (ones) when tracking. Training mode normalises with batch statistics and
// updates the running ones; eval mode uses the running ones (batch statistics when not
// tracking).
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true,
                       DType dtype = DType::F32);
  Tensor forward(const Tensor& x) override;
  void reset_parameters();  // weight 1, bias 0, running mean 0, running var 1

  int64_t channels;
  double eps, momentum;
  Tensor weight, bias, running_mean, running_var;  // each undefined when switched off
};

// y = x w^T + b, x [N, in], weight [out, in], bias [out].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true,
         DType dtype = DType::F32);
  Tensor forward(const Tensor& x) override;
  void reset_parameters(Generator& gen);

  int64_t in_features, out_features;
  Tensor weight, bias;
};

// A module without parameters around one elementwise function of layers/elementwise.h.
class Activation : public Module {
 public:
  using Fn = Tensor (*)(const Tensor&);
  Activation(const char* type_name, Fn fn) : Module(type_name), fn_(fn) {}
  Tensor forward(const Tensor& x) override { return fn_(x); }

 private:
  Fn fn_;
};
class ReLU : public Activation {
 public:
  ReLU() : Activation("ReLU", relu) {}
};
class Tanh : public Activation {
 public:
  Tanh() : Activation("Tanh", tanh) {}
};
class Sigmoid : public Activation {
 public:
  Sigmoid() : Activation("Sigmoid", sigmoid) {}
};
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.2) : Module("LeakyReLU"), slope(slope) {}
  Tensor forward(const Tensor& x) override;
  double slope;
};

// Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)); the
// identity in eval mode. Owns its generator, so a seeded model drops the same elements.
class Dropout : public Module {
 public:
  // The seed is required: layers built with the same seed would drop the same units.
  Dropout(double p, uint64_t seed) : Module("Dropout"), p(p), gen(seed) {}
  Tensor forward(const Tensor& x) override;
  double p;
  Generator gen;
};

// Children named "0", "1", ... applied in order.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential& add(std::shared_ptr<Module> m);
  template <class M, class... Args>
  std::shared_ptr<M> emplace(Args&&... args) {
    auto m = std::make_shared<M>(std::forward<Args>(args)...);
    add(m);
    return m;
  }
  Tensor forward(const Tensor& x) override;
  size_t size() const { return named_children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
};

}  // namespace maskoff
