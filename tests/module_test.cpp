// Module bookkeeping (registration, dotted names, buffers, train/eval), default
// initialisation, and gradient checks of whole layer stacks through the generic checker.
#include <cmath>
#include <set>

#include "layers/modules.h"
#include "tests/gradcheck.h"

namespace maskoff::testing {
namespace {

constexpr DType F64 = DType::F64;

// Conv2d -> BatchNorm2d -> LeakyReLU -> ConvTranspose2d -> Tanh, in float64.
std::shared_ptr<Sequential> small_stack(Generator& g, int64_t k, int64_t stride, int64_t pad,
                                        int64_t out_pad) {
  auto net = std::make_shared<Sequential>();
  net->emplace<Conv2d>(3, 4, k, g, stride, pad, true, 1, F64);
  net->emplace<BatchNorm2d>(4, 1e-5, 0.1, true, true, F64);
  net->emplace<LeakyReLU>(0.2);
  net->emplace<ConvTranspose2d>(4, 3, k, g, stride, pad, out_pad, true, 1, F64);
  net->emplace<Tanh>();
  return net;
}

// Moves the batch-norm scale and shift away from 1 and 0 so their gradients are generic.
void perturb_affine(Module& net, Generator& g) {
  net.apply([&](Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
      if (bn->weight.defined()) init_uniform_(bn->weight, g, 0.5, 1.5);
      if (bn->bias.defined()) init_uniform_(bn->bias, g, -0.5, 0.5);
    }
  });
}

std::vector<Tensor> with(std::vector<Tensor> v, const Tensor& x) {
  v.push_back(x);
  return v;
}

// ---- gradient checks -------------------------------------------------------------------

TEST(ModuleGrad, ConvBatchNormLeakyReluDeconvTanhTrainingMode) {
  Generator g(31);
  auto net = small_stack(g, 3, 2, 1, 1);
  perturb_affine(*net, g);
  Tensor x = leaf({2, 3, 7, 7}, g);
  ASSERT_EQ(net->forward(x).shape(), (Shape{2, 3, 8, 8}));  // 7 -> 4 -> 8
  EXPECT_TRUE(grad_check([&] { return net->forward(x); }, with(net->parameters(), x)));
}

TEST(ModuleGrad, Pix2pixKernelStrideAndPadding) {
  // k4 s2 p1: the pix2pix down/up-sampling geometry (halves, then doubles).
  Generator g(32);
  auto net = small_stack(g, 4, 2, 1, 0);
  perturb_affine(*net, g);
  Tensor x = leaf({2, 3, 6, 6}, g);
  ASSERT_EQ(net->forward(x).shape(), (Shape{2, 3, 6, 6}));
  EXPECT_TRUE(grad_check([&] { return net->forward(x); }, with(net->parameters(), x)));
}

TEST(ModuleGrad, EvalModeGroupedConvNoBiasNoAffine) {
  Generator g(33);
  Sequential net;
  auto conv = net.emplace<Conv2d>(4, 6, 3, g, 1, 1, false, 2, F64);
  auto bn = net.emplace<BatchNorm2d>(6, 1e-5, 0.1, false, true, F64);
  net.emplace<Sigmoid>();
  auto up = net.emplace<ConvTranspose2d>(6, 2, 2, g, 2, 0, 0, true, 2, F64);
  // Give the running statistics values of their own, then freeze them.
  init_uniform_(bn->running_mean, g, -0.5, 0.5);
  init_uniform_(bn->running_var, g, 0.5, 2.0);
  net.eval();
  Tensor mean_before = bn->running_mean.clone();
  Tensor x = leaf({1, 4, 5, 3}, g);
  EXPECT_EQ(net.forward(x).shape(), (Shape{1, 2, 10, 6}));
  EXPECT_EQ(net.parameters().size(), 3u);  // conv weight, deconv weight and bias
  EXPECT_TRUE(grad_check([&] { return net.forward(x); }, with(net.parameters(), x)));
  EXPECT_EQ(bn->running_mean.to_vector<double>(), mean_before.to_vector<double>());
  (void)conv;
  (void)up;
}

TEST(ModuleGrad, BatchNormWithoutRunningStatsInEvalMode) {
  Generator g(34);
  BatchNorm2d bn(3, 1e-5, 0.1, true, false, F64);
  init_uniform_(bn.weight, g, 0.5, 1.5);
  bn.eval();
  EXPECT_TRUE(bn.buffers().empty());
  Tensor x = leaf({3, 3, 2, 3}, g);
  EXPECT_TRUE(grad_check([&] { return bn.forward(x); }, with(bn.parameters(), x)));
}

TEST(ModuleGrad, LinearStack) {
  Generator g(30);
  Sequential net;
  net.emplace<Linear>(7, 5, g, true, F64);
  net.emplace<Tanh>();
  net.emplace<Linear>(5, 3, g, false, F64);
  Tensor x = leaf({4, 7}, g);
  ASSERT_EQ(net.forward(x).shape(), (Shape{4, 3}));
  EXPECT_EQ(net.parameters().size(), 3u);
  EXPECT_TRUE(grad_check([&] { return net.forward(x); }, with(net.parameters(), x)));
}

// ---- bookkeeping -----------------------------------------------------------------------

TEST(Module, NamedParametersAreDottedAndInRegistrationOrder) {
  Generator g(35);
  struct Net : Module {
    std::shared_ptr<Sequential> enc;
    Tensor scale;
    Net(Generator& g) : Module("Net") {
      scale = register_parameter("scale", ones({1}));
      enc = register_module("enc", std::make_shared<Sequential>());
      enc->emplace<Conv2d>(3, 8, 4, g, 2, 1);
      enc->emplace<BatchNorm2d>(8);
      enc->emplace<LeakyReLU>();
      register_module("head", std::make_shared<Conv2d>(8, 1, 3, g, 1, 1, false));
    }
  } net(g);
  std::vector<std::string> names;
  for (auto& [n, t] : net.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"scale", "enc.0.weight", "enc.0.bias", "enc.1.weight",
                                             "enc.1.bias", "head.weight"}));
  std::vector<std::string> bufs;
  for (auto& [n, t] : net.named_buffers()) bufs.push_back(n);
  EXPECT_EQ(bufs, (std::vector<std::string>{"enc.1.running_mean", "enc.1.running_var"}));
  EXPECT_EQ(net.num_parameters(), 1 + 8 * 3 * 16 + 8 + 8 + 8 + 8 * 9);
  for (const Tensor& p : net.parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.requires_grad());
  // Lookups return the layer's own tensor, not a copy.
  auto conv = std::dynamic_pointer_cast<Conv2d>((*net.enc)[0]);
  ASSERT_TRUE(conv);
  EXPECT_EQ(net.parameter("enc.0.weight").impl(), conv->weight.impl());
  EXPECT_EQ(net.buffer("enc.1.running_var").shape(), (Shape{8}));
  EXPECT_THROW(net.parameter("enc.0.nothing"), Error);
}

TEST(Module, TrainEvalPropagatesToChildren) {
  Generator g(36);
  Sequential outer;
  auto inner = outer.emplace<Sequential>();
  auto bn = inner->emplace<BatchNorm2d>(2);
  EXPECT_TRUE(bn->is_training());
  outer.eval();
  EXPECT_FALSE(outer.is_training());
  EXPECT_FALSE(inner->is_training());
  EXPECT_FALSE(bn->is_training());
  // A child added to a module in eval mode joins in eval mode.
  auto late = outer.emplace<Dropout>(0.5, 7);
  EXPECT_FALSE(late->is_training());
  outer.train();
  EXPECT_TRUE(bn->is_training());
  EXPECT_TRUE(late->is_training());
}

TEST(Module, ApplyVisitsEveryModuleDepthFirst) {
  Generator g(37);
  Sequential net;
  net.emplace<Conv2d>(1, 2, 3, g);
  auto inner = net.emplace<Sequential>();
  inner->emplace<Tanh>();
  net.emplace<ReLU>();
  std::vector<std::string> seen;
  net.apply([&](Module& m) { seen.push_back(m.type_name()); });
  EXPECT_EQ(seen, (std::vector<std::string>{"Sequential", "Conv2d", "Sequential", "Tanh", "ReLU"}));
  // The hook the models use: re-initialise every conv weight from N(0, 0.02).
  Generator init(38);
  net.apply([&](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) init_normal_(c->weight, init, 0.0, 0.02);
  });
  double sq = 0;
  std::vector<double> w = net.parameter("0.weight").to_vector<double>();
  for (double v : w) sq += v * v;
  EXPECT_LT(std::sqrt(sq / w.size()), 0.05);
}

TEST(Module, RegistrationErrors) {
  Module m("Thing");
  m.register_parameter("w", zeros({2}));
  EXPECT_THROW(m.register_parameter("w", zeros({2})), Error);  // duplicate
  EXPECT_THROW(m.register_buffer("w", zeros({2})), Error);     // duplicate across kinds
  EXPECT_THROW(m.register_parameter("a.b", zeros({2})), Error);
  EXPECT_THROW(m.register_parameter("", zeros({2})), Error);
  EXPECT_THROW(m.register_parameter("u", Tensor()), Error);
  EXPECT_THROW(m.register_module("c", std::shared_ptr<Module>()), Error);
  // A computed tensor is not a parameter.
  Tensor p = ones({2});
  p.set_requires_grad(true);
  EXPECT_THROW(m.register_parameter("y", ReLU().forward(p)), Error);
  // A bare Module has nothing to compute.
  try {
    m.forward(zeros({1}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Thing"), std::string::npos) << e.what();
  }
  Sequential s;
  EXPECT_THROW(s[0], Error);
}

TEST(Module, LayerArgumentErrors) {
  Generator g(39);
  EXPECT_THROW(Conv2d(3, 4, 0, g), Error);
  EXPECT_THROW(Conv2d(3, 4, 3, g, 1, 0, true, 2), Error);     // 3 channels in 2 groups
  EXPECT_THROW(ConvTranspose2d(4, 4, 4, g, 2, 1, 2), Error);  // output_padding >= stride
  EXPECT_THROW(BatchNorm2d(0), Error);
  EXPECT_THROW(BatchNorm2d(4, 0.0), Error);
}

// ---- layers ----------------------------------------------------------------------------

TEST(Module, DefaultInitIsPyTorchsUniformAndSeeded) {
  Generator g1(40), g2(40), g3(41);
  Conv2d a(6, 8, 3, g1), b(6, 8, 3, g2), c(6, 8, 3, g3);
  EXPECT_EQ(a.weight.shape(), (Shape{8, 6, 3, 3}));
  EXPECT_EQ(a.weight.dtype(), DType::F32);
  EXPECT_EQ(a.weight.to_vector<double>(), b.weight.to_vector<double>());
  EXPECT_NE(a.weight.to_vector<double>(), c.weight.to_vector<double>());
  double bound = 1.0 / std::sqrt(6.0 * 9.0), lo = 1, hi = -1;
  for (double v : a.weight.to_vector<double>()) lo = std::min(lo, v), hi = std::max(hi, v);
  for (double v : a.bias.to_vector<double>()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.7 * bound);  // 440 draws do cover the range
  EXPECT_GT(hi, 0.7 * bound);
  // ConvTranspose2d's fan_in follows PyTorch: weight dim 1 (out/groups) times k*k.
  Generator g4(42);
  ConvTranspose2d t(2, 16, 4, g4, 2, 1);
  EXPECT_EQ(t.weight.shape(), (Shape{2, 16, 4, 4}));
  double tb = 1.0 / std::sqrt(16.0 * 16.0), tmax = 0;
  for (double v : t.weight.to_vector<double>()) tmax = std::max(tmax, std::fabs(v));
  EXPECT_LE(tmax, tb);
  EXPECT_GT(tmax, 0.9 * tb);
}

TEST(Module, BatchNormUpdatesRunningStatsOnlyInTraining) {
  BatchNorm2d bn(2, 1e-5, 0.1, true, true, F64);
  EXPECT_EQ(bn.running_mean.to_vector<double>(), (std::vector<double>{0, 0}));
  EXPECT_EQ(bn.running_var.to_vector<double>(), (std::vector<double>{1, 1}));
  // Channel 0 holds {1, 3}, channel 1 holds {-2, -2}: means 2 and -2, unbiased vars 2 and 0.
  Tensor x = from_vector(std::vector<double>{1, 3, -2, -2}, {1, 2, 1, 2}, F64);
  bn.forward(x);
  EXPECT_TRUE(all_close(bn.running_mean.to_vector<double>(), {0.2, -0.2}, 1e-15));
  EXPECT_TRUE(all_close(bn.running_var.to_vector<double>(), {0.9 + 0.2, 0.9}, 1e-15));
  bn.eval();
  Tensor y = bn.forward(x);
  EXPECT_TRUE(all_close(bn.running_mean.to_vector<double>(), {0.2, -0.2}, 1e-15));
  // Eval: (x - running_mean) / sqrt(running_var + eps).
  EXPECT_TRUE(all_close(y.to_vector<double>(),
                        {0.8 / std::sqrt(1.1 + 1e-5), 2.8 / std::sqrt(1.1 + 1e-5),
                         -1.8 / std::sqrt(0.9 + 1e-5), -1.8 / std::sqrt(0.9 + 1e-5)},
                        1e-14));
}

TEST(Module, LinearForwardHandComputed) {
  Generator g(43);
  Linear lin(2, 2, g, true, F64);
  copy_(lin.weight, from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}, F64));
  copy_(lin.bias, from_vector(std::vector<double>{0.5, -1}, {2}, F64));
  Tensor x = from_vector(std::vector<double>{1, -1}, {1, 2}, F64);
  EXPECT_TRUE(all_close(lin.forward(x).to_vector<double>(), {-0.5, -2.0}, 1e-15));
}

TEST(Module, DropoutIsIdentityInEval) {
  Dropout d(0.5, 7);
  d.eval();
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, {3}, F64);
  EXPECT_EQ(d.forward(x).to_vector<double>(), x.to_vector<double>());
}

TEST(ModuleInit, SkipInitGuardLeavesTensorsAsTheyAreAndNests) {
  Generator g(3);
  const Tensor t = zeros({4, 5});
  {
    SkipInitGuard outer;
    {
      SkipInitGuard inner;
      init_normal_(t, g, 1.0, 2.0);
    }
    EXPECT_TRUE(SkipInitGuard::active());  // the inner guard restores the outer's state
    init_default_uniform_(t, g, 3);
    init_constant_(t, 7.0);
  }
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  EXPECT_FALSE(SkipInitGuard::active());
  init_constant_(t, 7.0);
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 7.0f);
  // A layer built under the guard draws nothing from its generator; one built without it does.
  Generator a(1), b(1);
  {
    SkipInitGuard guard;
    Conv2d c(2, 3, 3, a);
    EXPECT_EQ(c.weight.numel(), 2 * 3 * 3 * 3);
  }
  Conv2d drawn(2, 3, 3, b);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_GT(b.offset, 0u);
}

}  // namespace
}  // namespace maskoff::testing
