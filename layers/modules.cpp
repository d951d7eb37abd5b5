// The standard layers: construction, default initialisation, and forward in terms of the
// differentiable ops.
#include "layers/modules.h"

#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/elementwise.h"
#include "layers/linear.h"
#include "layers/norm.h"

namespace maskoff {

namespace {
void check_positive(int64_t v, const char* layer, const char* what) {
  MASKOFF_CHECK(v > 0, layer << ": " << what << " must be positive, got " << v);
}
void check_groups(int64_t in, int64_t out, int64_t groups, const char* layer) {
  check_positive(groups, layer, "groups");
  MASKOFF_CHECK(in % groups == 0 && out % groups == 0, layer << ": channels " << in << " -> " << out
                                                             << " are not divisible by groups "
                                                             << groups);
}
// What Conv2d and ConvTranspose2d ask of their sizes, before their own checks.
void check_conv_sizes(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding,
                      const char* layer) {
  check_positive(in, layer, "in_channels");
  check_positive(out, layer, "out_channels");
  check_positive(k, layer, "kernel");
  check_positive(stride, layer, "stride");
  MASKOFF_CHECK(padding >= 0, layer << ": padding must be >= 0, got " << padding);
}
// PyTorch's default initialisation of a layer's weight and bias, U(+-1/sqrt(fan_in)).
void init_weight_and_bias_(const Tensor& weight, const Tensor& bias, Generator& gen,
                           int64_t fan_in) {
  init_default_uniform_(weight, gen, fan_in);
  if (bias.defined()) init_default_uniform_(bias, gen, fan_in);
}
}  // namespace

// ---- Conv2d -----------------------------------------------------------------------------

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, Generator& gen, int64_t stride_,
               int64_t padding_, bool with_bias, int64_t groups_, DType dtype)
    : Module("Conv2d"),
      in_channels(in),
      out_channels(out),
      kernel(k),
      stride(stride_),
      padding(padding_),
      groups(groups_) {
  check_conv_sizes(in, out, k, stride, padding, "Conv2d");
  check_groups(in, out, groups, "Conv2d");
  weight = register_parameter("weight", empty({out, in / groups, k, k}, dtype));
  if (with_bias) bias = register_parameter("bias", empty({out}, dtype));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator& gen) {
  init_weight_and_bias_(weight, bias, gen, in_channels / groups * kernel * kernel);
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, Conv2dOptions::make(stride, padding, groups));
}

// ---- ConvTranspose2d --------------------------------------------------------------------

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, Generator& gen,
                                 int64_t stride_, int64_t padding_, int64_t output_padding_,
                                 bool with_bias, int64_t groups_, DType dtype)
    : Module("ConvTranspose2d"),
      in_channels(in),
      out_channels(out),
      kernel(k),
      stride(stride_),
      padding(padding_),
      output_padding(output_padding_),
      groups(groups_) {
  check_conv_sizes(in, out, k, stride, padding, "ConvTranspose2d");
  MASKOFF_CHECK(output_padding >= 0 && output_padding < stride,
                "ConvTranspose2d: output_padding " << output_padding << " must lie in [0, stride "
                                                   << stride << ")");
  check_groups(in, out, groups, "ConvTranspose2d");
  weight = register_parameter("weight", empty({in, out / groups, k, k}, dtype));
  if (with_bias) bias = register_parameter("bias", empty({out}, dtype));
  reset_parameters(gen);
}

void ConvTranspose2d::reset_parameters(Generator& gen) {
  init_weight_and_bias_(weight, bias, gen, out_channels / groups * kernel * kernel);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return conv_transpose2d(x, weight, bias, {stride, padding, output_padding, groups});
}

// ---- BatchNorm2d ------------------------------------------------------------------------

BatchNorm2d::BatchNorm2d(int64_t c, double eps_, double momentum_, bool affine,
                         bool track_running_stats, DType dtype)
    : Module("BatchNorm2d"), channels(c), eps(eps_), momentum(momentum_) {
  check_positive(c, "BatchNorm2d", "channels");
  MASKOFF_CHECK(eps > 0, "BatchNorm2d: eps must be positive, got " << eps);
  MASKOFF_CHECK(momentum >= 0 && momentum <= 1,
                "BatchNorm2d: momentum must lie in [0, 1], got " << momentum);
  if (affine) {
    weight = register_parameter("weight", empty({c}, dtype));
    bias = register_parameter("bias", empty({c}, dtype));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", empty({c}, dtype));
    running_var = register_buffer("running_var", empty({c}, dtype));
  }
  reset_parameters();
}

void BatchNorm2d::reset_parameters() {
  if (weight.defined()) init_constant_(weight, 1.0);
  if (bias.defined()) init_constant_(bias, 0.0);
  if (running_mean.defined()) init_constant_(running_mean, 0.0);
  if (running_var.defined()) init_constant_(running_var, 1.0);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  // Without running statistics there is nothing to normalise with but the batch's own.
  bool use_batch_stats = is_training() || !running_mean.defined();
  return batch_norm2d(x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps);
}

// ---- Linear -----------------------------------------------------------------------------

Linear::Linear(int64_t in, int64_t out, Generator& gen, bool with_bias, DType dtype)
    : Module("Linear"), in_features(in), out_features(out) {
  check_positive(in, "Linear", "in_features");
  check_positive(out, "Linear", "out_features");
  weight = register_parameter("weight", empty({out, in}, dtype));
  if (with_bias) bias = register_parameter("bias", empty({out}, dtype));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator& gen) {
  init_weight_and_bias_(weight, bias, gen, in_features);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

// ---- activations ------------------------------------------------------------------------

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope); }

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, gen, is_training()); }

// ---- Sequential -------------------------------------------------------------------------

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  register_module(std::to_string(size()), std::move(m));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& c : named_children()) y = c.second->forward(y);
  return y;
}

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  MASKOFF_CHECK(i < size(),
                "Sequential: index " << i << " out of range (" << size() << " modules)");
  return named_children()[i].second;
}

}  // namespace maskoff
