// End-to-end agreement with PyTorch for one whole pix2pix training step: train::Pix2Pix's
// train_step (G forward, the D update, the G update through the updated D, batch-norm running
// statistics, both Adam steps) against the float64 references that
// scripts/golden/make_train_step_golden.py stores in tests/fixtures/train_step_golden_*.txt,
// for the vanilla GAN, the least-squares GAN, and the vanilla GAN with the landmark term
// through the 68-point network (which needs the shared weights folder).
//
// The networks are too large to store whole (G 261,715 parameters, D 45,033), so the initial
// weights follow a formula both sides compute bit for bit, and each parameter's gradient and
// update are checked at sampled positions plus three whole-tensor reductions (see the script).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "tensor/error.h"
#include "tests/golden_fixture.h"
#include "train/pix2pix.h"

namespace maskoff {
namespace {

namespace tr = train;

// ---- the fixture ------------------------------------------------------------------------

using Entry = testing::GoldenEntry;

class Fixture {
 public:
  explicit Fixture(const std::string& path) : path_(path) {
    for (auto& [name, e] : testing::read_golden_fixture(path)) {
      MASKOFF_CHECK(!entries_.count(name), path << ": tensor " << name << " appears twice");
      order_.push_back(name);
      entries_[name] = std::move(e);
    }
  }

  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    MASKOFF_CHECK(it != entries_.end(), path_ << " has no tensor '" << name << "'");
    return it->second;
  }
  double scalar(const std::string& name) const {
    const Entry& e = get(name);
    MASKOFF_CHECK(e.values.size() == 1, path_ << ": " << name << " is not a scalar");
    return e.values[0];
  }
  // Names after `prefix`, in file order ("init/G/" -> "model.model.0.weight", ...).
  std::vector<std::string> names(const std::string& prefix) const {
    std::vector<std::string> r;
    for (const std::string& n : order_)
      if (n.rfind(prefix, 0) == 0) r.push_back(n.substr(prefix.size()));
    return r;
  }

 private:
  std::string path_;
  std::vector<std::string> order_;
  std::map<std::string, Entry> entries_;
};

// ---- the weight formula and the projection signs (as the script defines them) ------------

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Parameter k of network `net` (G 0, D 1): biases 0, 1-d weights (batch norm) 1 + 0.02 z,
// conv weights 0.02 z, z a sum of four 24-bit uniforms scaled to unit variance. Integer
// arithmetic, two rounded products and one float32 sum, none of which a compiler may fuse
// into a multiply-add, so the values are bit-identical to the script's.
std::vector<float> formula_weights(uint64_t net, uint64_t k, const std::string& name,
                                   const Shape& shape) {
  const int64_t n = shape_numel(shape);
  std::vector<float> w(static_cast<size_t>(n), 0.f);
  const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  if (is_bias) return w;
  const uint64_t base = (net << 56) + (k << 40);
  const double scale = std::sqrt(3.0) / 16777216.0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = -(int64_t{1} << 25);
    for (uint64_t j = 0; j < 4; ++j)
      s += static_cast<int64_t>(splitmix64(base + 4 * static_cast<uint64_t>(i) + j) >> 40);
    const double z = static_cast<double>(s) * scale;
    const float v = static_cast<float>(0.02 * z);
    w[static_cast<size_t>(i)] = shape.size() == 1 ? 1.0f + v : v;
  }
  return w;
}

double projection_sign(int64_t i) {
  return splitmix64(0x5EED0000ULL + static_cast<uint64_t>(i)) < (uint64_t{1} << 63) ? 1.0 : -1.0;
}

// [sum x, sum |x|, sum r_i x_i] in double.
std::vector<double> reductions(const std::vector<double>& x) {
  std::vector<double> r(3, 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    r[0] += x[i];
    r[1] += std::fabs(x[i]);
    r[2] += projection_sign(static_cast<int64_t>(i)) * x[i];
  }
  return r;
}

// ---- comparison -------------------------------------------------------------------------

// Element i passes when |got - want| <= tol_i (rtol |want| + atol unless given per element).
// Every check records its largest err / tol (the margin used) and its largest err / |want|
// (the relative error).
struct Stats {
  double ratio = 0, rel = 0;
  std::string ratio_at, rel_at;
};

struct Checker {
  std::map<std::string, Stats> by_kind;
  int failures = 0;
  std::ostringstream msg;

  void check(const std::string& kind, const std::string& name, const std::vector<double>& got,
             const std::vector<double>& want, const std::vector<double>& tol) {
    MASKOFF_CHECK(got.size() == want.size() && tol.size() == want.size(),
                  name << ": " << got.size() << " values, fixture has " << want.size());
    Stats& st = by_kind[kind];
    for (size_t i = 0; i < want.size(); ++i) {
      const double err = std::fabs(got[i] - want[i]);
      const std::string at = name + "[" + std::to_string(i) + "]";
      if (err / tol[i] > st.ratio) st.ratio = err / tol[i], st.ratio_at = at;
      if (want[i] != 0 && err / std::fabs(want[i]) > st.rel)
        st.rel = err / std::fabs(want[i]), st.rel_at = at;
      if (!(err <= tol[i]) && failures++ < 12)
        msg << "\n  " << kind << " " << at << ": got " << got[i] << ", want " << want[i]
            << " (tolerance " << tol[i] << ")";
    }
  }
  void check(const std::string& kind, const std::string& name, const std::vector<double>& got,
             const std::vector<double>& want, double rtol, double atol) {
    std::vector<double> tol;
    for (double w : want) tol.push_back(rtol * std::fabs(w) + atol);
    check(kind, name, got, want, tol);
  }

  // (A reduction's relative error is not shown: signed sums can be close to 0.)
  void report(const std::string& label) const {
    for (const auto& [kind, st] : by_kind) {
      std::printf("  %s %-8s worst err/tol %.3f at %s", label.c_str(), kind.c_str(), st.ratio,
                  st.ratio_at.c_str());
      if (kind.find("_red") == std::string::npos)
        std::printf("; worst relative error %.2e at %s", st.rel, st.rel_at.c_str());
      std::printf("\n");
    }
  }
};

// Tolerances for the float32 engine against the float64 reference. Each test prints its
// margins (worst err / tol per kind of check); over the three cases all are below 0.4.
//
// losses: rtol 2e-5. Each is a mean over at most 6,144 float32 terms at the end of a float32
//   network; the worst measured error is 2.7e-6 relative (LSGAN's G_GAN).
// gradients: |err| <= 2e-4 |g| + 2e-4 mean|g|, the mean over the whole tensor. A gradient
//   element is a sum over batch and positions of products that cancel, so its float32 error
//   scales with the tensor's typical magnitude rather than its own: measured errors reach
//   6e-5 mean|g| (the innermost, 1x1-input layers) and are mostly near 5e-6 mean|g|, as for
//   PyTorch's own float32 run of this step. The reductions (sum, sum |g|, signed projection)
//   get 2e-5 sum|g|: the elements' rounding errors are independent and mostly cancel in a sum
//   (measured: at most 1.6e-6 sum|g|), so a single element wrong by more than
//   2e-5 n mean|g| (1.3 mean|g| for the largest tensor) still shows.
// updates d = p_after - p_before: Adam's first step moves an element by lr g / (|g| + eps),
//   almost exactly +-lr where |g| >> eps = 1e-8, and exactly 0 where g is exactly 0 (kernel taps
//   that only see the zero padding of a 2x2 or 1x1 map, ReLU-dead channels). The tolerance is
//   1e-4 |d| + 2^-23 |p| (float32 rounding of the stored parameter, twice over: BN weights near
//   1 round by up to 6e-8) + lr eps tol_g / (|g| + eps)^2 (the gradient's own tolerance through
//   Adam's sensitivity, which matters only for |g| within a few orders of eps), capped at 2 lr.
//   The reductions sum that bound over the tensor, evaluated at the engine's own p and g.
// buffers: running statistics, rtol 1e-5 + atol 1e-7 (means near 0, variances near 1; the
//   worst measured error is about 1e-8).
constexpr double kLossRtol = 2e-5;
constexpr double kGradRtol = 2e-4, kGradAtolOfMean = 2e-4, kGradRedRtol = 2e-5;
constexpr double kStepRtol = 1e-4, kFloatRound = 1.0 / 8388608.0;  // 2^-23
constexpr double kBufRtol = 1e-5, kBufAtol = 1e-7;
constexpr double kLr = 2e-4, kAdamEps = 1e-8;

std::string fixture_path(const std::string& c) {
  return std::string(MASKOFF_SOURCE_DIR) + "/tests/fixtures/train_step_golden_" + c + ".txt";
}

Tensor u8_image(const Entry& e) {
  std::vector<float> v(e.values.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(e.values[i]) / 127.5f - 1.f;
  return from_vector(v, e.shape);
}

std::vector<double> at(const std::vector<double>& all, const std::vector<double>& index) {
  std::vector<double> r;
  for (double i : index) r.push_back(all.at(static_cast<size_t>(i)));
  return r;
}

// Loads the initial weights of one network by position, checking names, shapes and that the
// formula reproduced the reference's values; returns them (float32 values in double).
std::vector<std::vector<double>> load_initial(const Fixture& fx, Module& net,
                                              const std::string& tag, uint64_t id) {
  const auto names = fx.names("param/" + tag + "/");
  const auto params = net.named_parameters();
  EXPECT_EQ(params.size(), names.size()) << tag << ": parameter count";
  std::vector<std::vector<double>> init;
  for (size_t k = 0; k < std::min(params.size(), names.size()); ++k) {
    const auto& [name, p] = params[k];
    const std::string key = tag + "/" + name;
    EXPECT_EQ(name, names[k]) << tag << " parameter " << k;
    Shape want;
    for (double d : fx.get("param/" + tag + "/" + names[k]).values)
      want.push_back(static_cast<int64_t>(d));
    MASKOFF_CHECK(p.shape() == want, key << ": engine shape " << shape_str(p.shape())
                                         << ", fixture " << shape_str(want));
    const std::vector<float> w = formula_weights(id, k, name, p.shape());
    copy_(p, from_vector(w, p.shape()));
    std::vector<double> wd(w.begin(), w.end());
    // The rebuilt values must be the reference's own, to the bit where sampled (the fixture
    // prints float32 values with 9 digits, which round back to the same float).
    std::vector<double> want_init;
    for (double v : fx.get("init/" + key).values) want_init.push_back(static_cast<float>(v));
    EXPECT_EQ(at(wd, fx.get("index/" + key).values), want_init) << key;
    double sum = 0, sq = 0;
    for (double v : wd) sum += v, sq += v * v;
    const auto& sums = fx.get("init_sums/" + key).values;
    EXPECT_NEAR(sum, sums[0], 1e-12 * sq + 1e-15) << key << ": sum of the initial values";
    EXPECT_NEAR(sq, sums[1], 1e-12 * sq) << key << ": sum of squares of the initial values";
    init.push_back(std::move(wd));
  }
  const auto bufs = net.named_buffers();
  const auto bnames = fx.names("buffer0/" + tag + "/");
  EXPECT_EQ(bufs.size(), bnames.size()) << tag << ": buffer count";
  for (size_t k = 0; k < std::min(bufs.size(), bnames.size()); ++k) {
    EXPECT_EQ(bufs[k].first, bnames[k]) << tag << " buffer " << k;
    const Entry& e = fx.get("buffer0/" + tag + "/" + bnames[k]);
    MASKOFF_CHECK(bufs[k].second.shape() == e.shape,
                  tag << "/" << bufs[k].first << ": engine shape "
                      << shape_str(bufs[k].second.shape()) << ", fixture " << shape_str(e.shape));
    copy_(bufs[k].second, from_vector(e.values, e.shape));
  }
  return init;
}

void compare_network(const Fixture& fx, Module& net, const std::string& tag,
                     const std::vector<std::vector<double>>& init, Checker& c) {
  const auto params = net.named_parameters();
  for (size_t k = 0; k < params.size() && k < init.size(); ++k) {
    const auto& [name, p] = params[k];
    const std::string key = tag + "/" + name;
    ASSERT_TRUE(p.grad().defined()) << key << " has no gradient after the step";
    const std::vector<double> g = p.grad().to_vector<double>(), after = p.to_vector<double>();
    const std::vector<double>& p0 = init[k];
    std::vector<double> step(after.size());
    for (size_t i = 0; i < step.size(); ++i) step[i] = after[i] - p0[i];
    const std::vector<double>& index = fx.get("index/" + key).values;
    const std::vector<double>& want_g = fx.get("grad/" + key).values;
    const std::vector<double>& want_after = fx.get("after/" + key).values;
    const std::vector<double>& g_red = fx.get("grad_red/" + key).values;
    const std::vector<double>& s_red = fx.get("step_red/" + key).values;

    const double grad_atol = kGradAtolOfMean * g_red[1] / static_cast<double>(g.size());
    auto grad_tol = [&](double gr) { return kGradRtol * std::fabs(gr) + grad_atol; };
    auto step_tol = [&](double d, double pv, double gr) {
      const double a = std::fabs(gr) + kAdamEps;
      return kStepRtol * std::fabs(d) + kFloatRound * std::fabs(pv) +
             std::min(kLr * kAdamEps * grad_tol(gr) / (a * a), 2 * kLr);
    };

    std::vector<double> tol_g, want_step, tol_s;
    for (size_t i = 0; i < index.size(); ++i) {
      const double p_before = p0[static_cast<size_t>(index[i])];
      tol_g.push_back(grad_tol(want_g[i]));
      want_step.push_back(want_after[i] - p_before);
      tol_s.push_back(step_tol(want_step.back(), p_before, want_g[i]));
    }
    c.check("grad", "grad/" + key, at(g, index), want_g, tol_g);
    c.check("step", "step/" + key, at(step, index), want_step, tol_s);

    double sum_tol_s = 0;
    for (size_t i = 0; i < g.size(); ++i) sum_tol_s += step_tol(step[i], p0[i], g[i]);
    const double sum_tol_g = kGradRedRtol * g_red[1];
    c.check("grad_red", "grad_red/" + key, reductions(g), g_red, std::vector<double>(3, sum_tol_g));
    c.check("step_red", "step_red/" + key, reductions(step), s_red,
            std::vector<double>(3, sum_tol_s));
  }
  for (const auto& [name, b] : net.named_buffers())
    c.check("buffer", "buffer/" + tag + "/" + name, b.to_vector<double>(),
            fx.get("buffer/" + tag + "/" + name).values, kBufRtol, kBufAtol);
}

// Runs the step of fixture `which` and compares. `tweak`, when given, changes the options
// after they were set from the fixture, and the comparison goes to `out` instead of
// becoming a test failure (to show that a small change is caught).
void run_golden_step(const std::string& which,
                     const std::function<void(tr::TrainOptions&)>& tweak = nullptr,
                     Checker* out = nullptr) {
  const Fixture fx(fixture_path(which));
  tr::TrainOptions o;
  o.resolution = static_cast<int64_t>(fx.scalar("config/resolution"));
  o.batch_size = static_cast<int64_t>(fx.scalar("config/batch"));
  o.ngf = static_cast<int64_t>(fx.scalar("config/ngf"));
  o.ndf = static_cast<int64_t>(fx.scalar("config/ndf"));
  o.n_layers_d = static_cast<int64_t>(fx.scalar("config/n_layers_d"));
  o.gan_mode = fx.scalar("config/lsgan") != 0 ? "lsgan" : "vanilla";
  o.lambda_l1 = fx.scalar("config/lambda_l1");
  o.lambda_mask = fx.scalar("config/lambda_mask");
  o.lambda_landmark = fx.scalar("config/lambda_landmark");
  o.dropout = false;
  o.jitter = false;
  o.predict_mask = false;  // the paper's generator, as the PyTorch script builds it
  o.device = "cpu";
  o.lr = kLr, o.beta1 = 0.5, o.beta2 = 0.999;  // the script's Adam (eps 1e-8 is Adam's default)
  const bool landmark = fx.scalar("config/landmark_cnn") != 0;
  o.landmark_loss = landmark ? "cnn" : "none";
  if (landmark) {
    const std::string dir = tr::default_landmark_weights();
    if (dir.empty() || !std::filesystem::is_directory(dir))
      GTEST_SKIP()
          << "the 68-point network's weights were not found ("
          << (dir.empty() ? std::string("no shared data folder") : "no folder " + dir)
          << "): set MASKOFF_SHARED to the shared data folder (it holds weights/face_landmark_68)";
    o.landmark_weights = dir;
    const models::LandmarkCrop crop = models::default_landmark_crop();
    const auto& want = fx.get("config/landmark_crop").values;
    ASSERT_TRUE(crop.x0 == want[0] && crop.y0 == want[1] && crop.size == want[2])
        << "default_landmark_crop() is (" << crop.x0 << ", " << crop.y0 << ", " << crop.size
        << ") but the fixture was made with (" << want[0] << ", " << want[1] << ", " << want[2]
        << "): set DEFAULT_CROP in scripts/golden/landmark_net_ref.py and rerun "
           "make_train_step_golden.py";
  }
  if (tweak) tweak(o);

  tr::Pix2Pix model(o, Device::cpu());
  const auto init_g = load_initial(fx, model.generator(), "G", 0);
  const auto init_d = load_initial(fx, model.discriminator(), "D", 1);
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the initial state does not match the fixture";

  tr::PairedBatch batch;
  batch.input = u8_image(fx.get("input/a_u8"));
  batch.target = u8_image(fx.get("input/b_u8"));
  batch.mask = from_vector(fx.get("input/mask").values, fx.get("input/mask").shape);
  batch.landmarks = from_vector(fx.get("input/landmarks").values, fx.get("input/landmarks").shape);
  const tr::LossTerms t = model.train_step(batch);

  Checker c;
  const std::vector<std::string> names = tr::loss_names();
  const std::vector<double> values = tr::loss_values(t);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "G_seg") {  // the mask head's term: the paper's generator has none
      EXPECT_EQ(values[i], 0.0);
      continue;
    }
    c.check("loss", "loss/" + names[i], {values[i]}, {fx.scalar("loss/" + names[i])}, kLossRtol,
            1e-12);
  }
  compare_network(fx, model.generator(), "G", init_g, c);
  compare_network(fx, model.discriminator(), "D", init_d, c);
  if (out) {
    *out = std::move(c);
    return;
  }
  c.report(which);
  EXPECT_EQ(c.failures, 0) << c.failures << " mismatches" << c.msg.str();
}

TEST(GoldenTrainStep, WeightFormula) {
  // Values of the formula worked out with Python's exact integers and struct-packed float32,
  // independently of numpy and of this file: (net, k, element) = (1, 0, 0), (1, 0, 1),
  // (0, 0, 5), (1, 5, 100), and (0, 2, 0) for a batch-norm weight.
  const auto d0 = formula_weights(1, 0, "model.0.weight", {8, 6, 4, 4});
  EXPECT_EQ(d0[0], 0.03266496583819389f);
  EXPECT_EQ(d0[1], -0.0001407777745043859f);
  EXPECT_EQ(formula_weights(0, 0, "model.model.0.weight", {8, 3, 4, 4})[5],
            -0.0024599512107670307f);
  EXPECT_EQ(formula_weights(1, 5, "model.5.weight", {32, 16, 4, 4})[100], -0.009181035682559013f);
  EXPECT_EQ(formula_weights(0, 2, "model.model.1.model.2.weight", {16})[0], 0.9705970287322998f);
  EXPECT_EQ(formula_weights(1, 1, "model.0.bias", {8}), std::vector<float>(8, 0.f));
  // Unit variance: 0.02 z over a whole conv weight has standard deviation close to 0.02.
  const auto w = formula_weights(0, 7, "w", {64, 32, 4, 4});
  double sq = 0;
  for (float v : w) sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sq / w.size()), 0.02, 0.0005);
}

TEST(GoldenTrainStep, VanillaMatchesPyTorch) { run_golden_step("vanilla"); }
TEST(GoldenTrainStep, LsganMatchesPyTorch) { run_golden_step("lsgan"); }
TEST(GoldenTrainStep, LandmarkCnnMatchesPyTorch) { run_golden_step("landmark"); }

TEST(GoldenTrainStep, CatchesSmallChanges) {
  // Each of these steps differs from the reference's by a little; each must fail somewhere.
  // (Adam's betas cannot be checked by one step: its first update is lr g / (|g| + eps)
  // whatever they are.)
  const std::vector<std::pair<std::string, std::function<void(tr::TrainOptions&)>>> tweaks = {
      {"lambda_l1 100 -> 100.5", [](tr::TrainOptions& o) { o.lambda_l1 = 100.5; }},
      {"lambda_mask 100 -> 101", [](tr::TrainOptions& o) { o.lambda_mask = 101; }},
      {"lr 2e-4 -> 2.002e-4", [](tr::TrainOptions& o) { o.lr = 2.002e-4; }},
      {"lsgan instead of vanilla", [](tr::TrainOptions& o) { o.gan_mode = "lsgan"; }},
  };
  for (const auto& [what, tweak] : tweaks) {
    Checker c;
    run_golden_step("vanilla", tweak, &c);
    EXPECT_GT(c.failures, 0) << what << " went unnoticed";
    std::printf("  %s: %d mismatches\n", what.c_str(), c.failures);
  }
}

}  // namespace
}  // namespace maskoff
