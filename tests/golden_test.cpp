// End-to-end agreement with PyTorch: one training step of a tiny conv net (forward, every
// loss, backward, batch-norm running statistics, one Adam step), against the float64
// reference stored in tests/fixtures/tiny_net_golden.txt by
// scripts/golden/make_tiny_net_golden.py. The engine runs the step in float32 (the
// product's type) and in float64 (where it must agree almost to the last digit).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "layers/elementwise.h"
#include "layers/modules.h"
#include "losses/losses.h"
#include "optim/adam.h"
#include "tests/golden_fixture.h"
#include "tests/gradcheck.h"

namespace maskoff {
namespace {

using Entry = testing::GoldenEntry;
using Fixture = std::map<std::string, Entry>;

Fixture load_fixture(const std::string& path) {
  Fixture fx;
  for (auto& [name, e] : testing::read_golden_fixture(path)) fx[name] = std::move(e);
  return fx;
}

const Fixture& fixture() {
  static const Fixture fx =
      load_fixture(std::string(MASKOFF_SOURCE_DIR) + "/tests/fixtures/tiny_net_golden.txt");
  return fx;
}

const Entry& get(const std::string& name) {
  auto it = fixture().find(name);
  MASKOFF_CHECK(it != fixture().end(), "golden fixture has no tensor '" << name << "'");
  return it->second;
}

Tensor load(const std::string& name, DType t) {
  const Entry& e = get(name);
  return from_vector(e.values, e.shape, t);
}

// The step under test, recorded under the fixture's names.
Fixture run_step(DType dt) {
  Generator gen(0);  // the weights are overwritten from the fixture
  Sequential net;
  net.emplace<Conv2d>(3, 4, 4, gen, 2, 1, true, 1, dt);
  net.emplace<BatchNorm2d>(4, 1e-5, 0.1, true, true, dt);
  net.emplace<LeakyReLU>(0.2);
  net.emplace<ConvTranspose2d>(4, 3, 4, gen, 2, 1, 0, true, 1, dt);
  net.emplace<Tanh>();
  net.train();
  for (auto& [name, p] : net.named_parameters()) copy_(p, load("init/" + name, dt));

  Tensor x = load("input/x", dt).set_requires_grad(true);
  Tensor target = load("input/target", dt);
  Tensor mask = load("input/mask", dt);
  Tensor target01 = mul_scalar(add_scalar(target, 1.0), 0.5);

  Tensor out = net.forward(x);
  std::vector<std::pair<std::string, Tensor>> losses = {
      {"l1", l1_loss(out, target)},
      {"mse", mse_loss(out, target)},
      {"bce_real", bce_with_logits(out, 1.0)},
      {"bce_target", bce_with_logits(out, target01)},
      {"masked_mse", masked_mse_loss(out, target, mask)},
  };
  Tensor total = add(add(add(losses[0].second, mul_scalar(losses[1].second, 2.0)),
                         add(losses[2].second, mul_scalar(losses[3].second, 0.5))),
                     mul_scalar(losses[4].second, 3.0));
  total.backward();

  Fixture r;
  auto put = [&](const std::string& name, const Tensor& t) {
    r[name] = Entry{t.shape(), t.to_vector<double>()};
  };
  put("output/out", out);
  for (auto& [name, l] : losses) put("loss/" + name, l);
  put("loss/total", total);
  put("grad/x", x.grad());
  for (auto& [name, p] : net.named_parameters()) put("grad/" + name, p.grad());
  for (auto& [name, b] : net.named_buffers()) put("buffer/" + name, b);

  Adam opt(net.parameters(), 2e-4, 0.5, 0.999, 1e-8);
  opt.step();
  for (auto& [name, p] : net.named_parameters()) put("adam/" + name, p);
  return r;
}

// Tolerance rule: element i of a tensor passes when |got - want| <= rtol |want| + atol.
// float32: rtol 1e-5, atol 1e-6. Values and gradients here are at most of order 1, and
// float32 rounding of the intermediate sums leaves errors of about 1e-7 relative to that
// scale, so atol only matters for elements near zero (input gradients go down to 1e-5).
// The worst element uses under a tenth of its tolerance.
// One exception, for the first conv's bias: batch norm removes any per-channel shift, so
// its gradient is exactly zero in exact arithmetic and pure round-off in practice (1e-17 in
// the reference, ~1e-9 in float32). Adam's first step moves a parameter by
// lr * g / (|g| + eps), i.e. by up to lr in the direction of that noise, so post-Adam
// elements whose reference gradient is below `zero_grad` are allowed an error of 2 lr.
struct Tolerance {
  double rtol, atol, zero_grad;
};

struct Worst {
  double ratio = 0;  // largest |err| / tol seen, outside the zero-gradient exception
  std::string where;
};

::testing::AssertionResult compare(const Fixture& got, const std::string& name, Tolerance tol,
                                   Worst& worst, const std::vector<double>* ref_grad = nullptr) {
  const Entry& want = get(name);
  auto it = got.find(name);
  if (it == got.end()) return ::testing::AssertionFailure() << "engine produced no " << name;
  const Entry& g = it->second;
  if (g.shape != want.shape)
    return ::testing::AssertionFailure()
           << name << ": shape " << shape_str(g.shape) << " vs " << shape_str(want.shape);
  int bad = 0;
  std::ostringstream msg;
  for (size_t i = 0; i < want.values.size(); ++i) {
    double w = want.values[i], err = std::fabs(g.values[i] - w);
    double t = tol.rtol * std::fabs(w) + tol.atol;
    bool noise_step = ref_grad && std::fabs((*ref_grad)[i]) < tol.zero_grad;
    if (noise_step) t = std::max(t, 2 * 2e-4);
    if (!noise_step && err / t > worst.ratio) {
      worst.ratio = err / t;
      worst.where = name + "[" + std::to_string(i) + "]";
    }
    if (!(err <= t) && bad++ < 5)
      msg << "\n  " << name << "[" << i << "]: got " << g.values[i] << ", want " << w;
  }
  if (bad) return ::testing::AssertionFailure() << bad << " mismatches" << msg.str();
  return ::testing::AssertionSuccess();
}

std::vector<std::string> names_with_prefix(const std::string& prefix) {
  std::vector<std::string> r;
  for (const auto& [name, e] : fixture())
    if (name.rfind(prefix, 0) == 0) r.push_back(name);
  return r;
}

void check_all(DType dt, Tolerance tol) {
  Fixture got = run_step(dt);
  Worst worst;
  // Every parameter of the net has a reference (and the reference no extra ones).
  EXPECT_EQ(names_with_prefix("init/").size(), 6u);
  for (const std::string& n : names_with_prefix("init/"))
    EXPECT_TRUE(got.count("grad/" + n.substr(5))) << n;
  size_t checked = 0;
  for (const char* prefix : {"output/", "loss/", "grad/", "buffer/"})
    for (const std::string& n : names_with_prefix(prefix)) {
      EXPECT_TRUE(compare(got, n, tol, worst));
      ++checked;
    }
  for (const std::string& n : names_with_prefix("adam/")) {
    const std::vector<double>& ref_grad = get("grad/" + n.substr(5)).values;
    EXPECT_TRUE(compare(got, n, tol, worst, &ref_grad));
    ++checked;
  }
  EXPECT_EQ(checked, 1u + 6u + 7u + 2u + 6u);
  std::printf("  %s: %zu tensors checked; worst error %.3g of its tolerance, at %s\n",
              dtype_name(dt), checked, worst.ratio, worst.where.c_str());
}

TEST(GoldenTinyNet, FixtureLoads) {
  EXPECT_EQ(get("input/x").shape, (Shape{2, 3, 8, 8}));
  EXPECT_EQ(get("loss/total").shape, Shape{});
  EXPECT_EQ(get("buffer/1.running_var").values.size(), 4u);
}

TEST(GoldenTinyNet, Float32StepMatchesPyTorch) {
  check_all(DType::F32, Tolerance{1e-5, 1e-6, 1e-6});
}

TEST(GoldenTinyNet, Float64StepMatchesPyTorchClosely) {
  // Same computation in double: only summation order differs from PyTorch, which leaves
  // about 1e-15 relative; 1e-12 catches any real difference in the formulas.
  check_all(DType::F64, Tolerance{1e-12, 1e-14, 1e-12});
}

}  // namespace
}  // namespace maskoff
