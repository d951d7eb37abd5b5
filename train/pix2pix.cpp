#include "train/pix2pix.h"

#include <cmath>
#include <filesystem>

#include "autograd/node.h"
#include "data/paths.h"
#include "layers/elementwise.h"
#include "layers/modules.h"
#include "layers/reduce.h"
#include "layers/shape_ops.h"
#include "losses/losses.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "train/mask_composite.h"

namespace maskoff::train {

std::vector<std::string> loss_names() {
  return {"G_GAN", "G_L1", "G_mask", "G_landmark", "G_total", "D_real", "D_fake", "G_seg"};
}
std::vector<double> loss_values(const LossTerms& t) {
  return {t.g_gan, t.g_l1, t.g_mask, t.g_landmark, t.g_total, t.d_real, t.d_fake, t.g_seg};
}
int first_nonfinite_loss(const LossTerms& t) {
  const std::vector<double> values = loss_values(t);
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return static_cast<int>(i);
  return -1;
}

std::string default_landmark_weights() {
  const std::string shared = data::shared_dir();
  if (shared.empty()) return "";
  return (std::filesystem::path(shared) / "weights" / "face_landmark_68").string();
}

namespace {
std::vector<Dropout*> dropout_layers(Module& m) {
  std::vector<Dropout*> out;
  m.apply([&](Module& x) {
    if (auto* d = dynamic_cast<Dropout*>(&x)) out.push_back(d);
  });
  return out;
}

void set_requires_grad(Module& m, bool on) {
  for (Tensor p : m.parameters()) p.set_requires_grad(on);
}

void save_adam(Checkpoint& ck, const std::string& prefix, const Adam& a) {
  std::vector<int64_t> steps;
  for (size_t i = 0; i < a.size(); ++i) {
    ck.add(prefix + "/m/" + std::to_string(i), a.exp_avg(i));
    ck.add(prefix + "/v/" + std::to_string(i), a.exp_avg_sq(i));
    steps.push_back(a.param_step(i));
  }
  ck.meta["state"][prefix] = {{"steps", a.steps()}, {"param_steps", steps}};
}

void load_adam(const Checkpoint& ck, const std::string& prefix, Adam& a) {
  const auto& st = ck.meta.at("state").at(prefix);
  const auto steps = st.at("param_steps").get<std::vector<int64_t>>();
  MASKOFF_CHECK(steps.size() == a.size(),
                "checkpoint " << ck.path << ": " << prefix << " holds " << steps.size()
                              << " parameters, the model has " << a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ck.restore(prefix + "/m/" + std::to_string(i), a.exp_avg(i));
    ck.restore(prefix + "/v/" + std::to_string(i), a.exp_avg_sq(i));
    a.set_param_step(i, steps[i]);
  }
  a.set_steps(st.at("steps").get<int64_t>());
}

void save_module(Checkpoint& ck, const std::string& prefix, const Module& m) {
  for (const auto& [name, t] : m.named_parameters()) ck.add(prefix + "/" + name, t);
  for (const auto& [name, t] : m.named_buffers()) ck.add(prefix + "/" + name, t);
}

void load_module(const Checkpoint& ck, const std::string& prefix, const Module& m) {
  for (const auto& [name, t] : m.named_parameters()) ck.restore(prefix + "/" + name, t);
  for (const auto& [name, t] : m.named_buffers()) ck.restore(prefix + "/" + name, t);
}
}  // namespace

Pix2Pix::Pix2Pix(const TrainOptions& opts, Device device, LandmarkDistanceFn dlib_landmarks)
    : opts_(opts), choices_(opts_.validate()), device_(device) {
  Generator init(opts_.seed);
  models::UNetConfig gc;
  gc.num_downs = models::unet_downs_for_resolution(opts_.resolution);
  gc.ngf = opts_.ngf;
  gc.dropout = opts_.dropout;
  gc.dropout_seed = opts_.seed * 0x9E3779B97F4A7C15ull + 1;
  gc.mask_head = opts_.predict_mask;
  gc.upsample = choices_.upsample;
  g_ = std::make_shared<models::UNetGenerator>(gc, init);
  models::PatchGANConfig dc;
  dc.ndf = opts_.ndf;
  dc.n_layers = opts_.n_layers_d;
  d_ = std::make_shared<models::PatchGANDiscriminator>(dc, init);
  if (device_.is_cuda()) {
    g_->to_(device_);
    d_->to_(device_);
  }
  opt_g_ = std::make_unique<Adam>(g_->parameters(), opts_.lr, opts_.beta1, opts_.beta2);
  opt_d_ = std::make_unique<Adam>(d_->parameters(), opts_.lr, opts_.beta1, opts_.beta2);

  if (choices_.landmark_loss == LandmarkLoss::cnn && opts_.lambda_landmark != 0) {
    const std::string dir =
        opts_.landmark_weights.empty() ? default_landmark_weights() : opts_.landmark_weights;
    MASKOFF_CHECK(
        !dir.empty(),
        "--landmark-loss cnn needs the 68-point network's weights: pass --landmark-weights DIR "
        "(the face_landmark_68 folder) or set MASKOFF_SHARED; or choose --landmark-loss none|dlib");
    landmark_net_ = models::load_landmark_net(dir);
    if (device_.is_cuda()) landmark_net_->to_(device_);
    crop_ = models::default_landmark_crop();
    if (!opts_.landmark_crop.empty())
      crop_ = {opts_.landmark_crop[0], opts_.landmark_crop[1], opts_.landmark_crop[2]};
  } else if (choices_.landmark_loss == LandmarkLoss::dlib && opts_.lambda_landmark != 0) {
    MASKOFF_CHECK(
        dlib_landmarks,
        "--landmark-loss dlib needs dlib's landmark predictor, which this program was built "
        "without (it comes with the data library: train/dlib_landmarks.h); choose "
        "--landmark-loss cnn|none");
    dlib_ = std::move(dlib_landmarks);
  }
}

Pix2Pix::~Pix2Pix() = default;

Tensor Pix2Pix::gan_loss(const Tensor& logits, bool real) const {
  const double target = real ? 1.0 : 0.0;
  if (choices_.gan_mode == GanMode::lsgan)
    return mse_loss(logits, full(logits.shape(), target, logits.dtype(), logits.device()));
  return bce_with_logits(logits, target);
}

namespace {
std::vector<Tensor> clone_buffers(const Module& m) {
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> out;
  for (const Tensor& b : m.buffers()) out.push_back(b.clone());
  return out;
}
void restore_buffers(const Module& m, const std::vector<Tensor>& saved) {
  autograd::NoGradGuard no_grad;
  const std::vector<Tensor> now = m.buffers();
  for (size_t i = 0; i < now.size(); ++i) copy_(now[i], saved[i]);
}
}  // namespace

bool Pix2Pix::update(Adam& opt, const std::string& net, const Module& m) {
  if (grad_hook_) grad_hook_(net, m);
  if (skip_nonfinite_) {
    std::vector<Tensor> grads;
    for (const Tensor& p : m.parameters()) grads.push_back(p.grad());
    for (int64_t c : count_nonfinite(grads))
      if (c > 0) return false;
  }
  opt.step();
  return true;
}

std::vector<NonFinite> Pix2Pix::nonfinite_tensors(bool with_grads) const {
  std::vector<std::string> names;
  std::vector<Tensor> tensors;
  auto add = [&](const std::string& name, const Tensor& t) {
    names.push_back(name);
    tensors.push_back(t);
  };
  const std::pair<const char*, const Module*> nets[] = {{"G", g_.get()}, {"D", d_.get()}};
  const std::pair<const char*, const Adam*> opts[] = {{"optG", opt_g_.get()},
                                                      {"optD", opt_d_.get()}};
  for (const auto& [tag, m] : nets)
    for (const auto& [name, p] : m->named_parameters()) add(std::string(tag) + "." + name, p);
  if (with_grads)
    for (const auto& [tag, m] : nets)
      for (const auto& [name, p] : m->named_parameters())
        add(std::string(tag) + "." + name + ".grad", p.grad());
  for (size_t k = 0; k < 2; ++k) {
    const auto named = nets[k].second->named_parameters();
    const Adam& opt = *opts[k].second;
    for (size_t i = 0; i < opt.size() && i < named.size(); ++i) {
      add(std::string(opts[k].first) + "." + named[i].first + ".exp_avg", opt.exp_avg(i));
      add(std::string(opts[k].first) + "." + named[i].first + ".exp_avg_sq", opt.exp_avg_sq(i));
    }
  }
  for (const auto& [tag, m] : nets)
    for (const auto& [name, b] : m->named_buffers()) add(std::string(tag) + "." + name, b);
  const std::vector<int64_t> counts = count_nonfinite(tensors);
  std::vector<NonFinite> bad;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) bad.push_back({names[i], counts[i], tensors[i].numel()});
  return bad;
}

LossTerms Pix2Pix::train_step(const PairedBatch& batch) {
  const Tensor a = batch.input.to(device_), b = batch.target.to(device_);
  LossTerms t;
  // The batch-norm statistics this step will move, kept to put back if its update is held.
  const std::vector<Tensor> saved_g = skip_nonfinite_ ? clone_buffers(*g_) : std::vector<Tensor>{};
  const std::vector<Tensor> saved_d = skip_nonfinite_ ? clone_buffers(*d_) : std::vector<Tensor>{};
  // The generator's image; with the mask head, the delivered image is the composite with the
  // predicted soft mask, and the image losses act on it or on the raw output (--loss-on).
  const GeneratorSplit out = split_generator_output(g_->forward(a), opts_.predict_mask);
  Tensor fake = out.image, judged = out.image;
  if (opts_.predict_mask) {
    judged = composite(
        out.image, a,
        soft_delivered_mask(sigmoid(out.logit), mask_edge_for_resolution(opts_.resolution)));
    if (choices_.loss_on == LossOn::composite) fake = judged;
  }

  // Discriminator: the fake is detached, so only D learns from this loss.
  opt_d_->zero_grad();
  const Tensor d_fake = gan_loss(d_->forward(concat_channels({a, judged.detach()})), false);
  const Tensor d_real = gan_loss(d_->forward(concat_channels({a, b})), true);
  const Tensor d_loss = mul_scalar(add(d_fake, d_real), 0.5);
  d_loss.backward();
  skipped_d_ = !update(*opt_d_, "D", *d_);

  // Generator, through the just-updated D, whose parameters take no gradient here.
  set_requires_grad(*d_, false);
  opt_g_->zero_grad();
  const Tensor g_gan = gan_loss(d_->forward(concat_channels({a, judged})), true);
  const Tensor g_l1 = l1_loss(fake, b);
  Tensor total = add(g_gan, mul_scalar(g_l1, opts_.lambda_l1));
  // Every reported value stays on the device until the step's end, then comes back in one
  // copy into its field of t: a read-back waits for all queued work, so reading each term as
  // it is computed would stall the host several times per step instead of once.
  std::vector<std::pair<Tensor, double*>> report = {
      {d_fake, &t.d_fake}, {d_real, &t.d_real}, {g_gan, &t.g_gan}, {g_l1, &t.g_l1}};
  const Tensor mask = batch.mask.to(device_);
  if (opts_.predict_mask) {
    const Tensor g_seg = bce_with_logits(out.logit, mask);
    total = add(total, mul_scalar(g_seg, opts_.lambda_seg));
    report.push_back({g_seg, &t.g_seg});
  }
  if (opts_.lambda_mask != 0) {
    const Tensor g_mask = masked_mse_loss(fake, b, mask);
    total = add(total, mul_scalar(g_mask, opts_.lambda_mask));
    report.push_back({g_mask, &t.g_mask});
  }
  double reported_extra = 0;
  if (landmark_net_) {
    const Tensor pred = models::landmarks_on_image(*landmark_net_, fake, crop_);
    const Tensor g_lm = landmark_distance_loss(pred, batch.landmarks.to(device_));
    total = add(total, mul_scalar(g_lm, opts_.lambda_landmark));
    report.push_back({g_lm, &t.g_landmark});
  } else if (dlib_) {
    t.g_landmark = dlib_(fake.detach().cpu(), batch.landmarks.cpu());
    reported_extra = opts_.lambda_landmark * t.g_landmark;
  }
  total.backward();
  skipped_g_ = !update(*opt_g_, "G", *g_);
  set_requires_grad(*d_, true);
  if (skipped_d_) restore_buffers(*d_, saved_d);
  if (skipped_g_) restore_buffers(*g_, saved_g);
  report.push_back({total, &t.g_total});

  autograd::NoGradGuard no_grad;
  std::vector<Tensor> flat;
  for (const auto& [value, field] : report) flat.push_back(reshape(value.detach(), {1}));
  const std::vector<double> values = concat(flat, 0).cpu().to(DType::F64).to_vector<double>();
  for (size_t i = 0; i < report.size(); ++i) *report[i].second = values[i];
  t.g_total += reported_extra;
  return t;
}

void Pix2Pix::set_lr(double lr) {
  opt_g_->set_lr(lr);
  opt_d_->set_lr(lr);
}

Tensor Pix2Pix::generate(const Tensor& input) {
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> saved;
  for (const Tensor& buf : g_->buffers()) saved.push_back(buf.clone());
  std::vector<uint64_t> offsets;
  for (Dropout* d : dropout_layers(*g_)) offsets.push_back(d->gen.offset);
  const bool was_training = g_->is_training();
  g_->train();
  const Tensor x = input.to(device_);
  std::vector<Tensor> outs;
  for (int64_t n = 0; n < x.size(0); ++n) outs.push_back(g_->forward(slice(x, 0, n, n + 1)));
  g_->train(was_training);
  const auto bufs = g_->buffers();
  for (size_t i = 0; i < bufs.size(); ++i) copy_(bufs[i], saved[i]);
  const auto drops = dropout_layers(*g_);
  for (size_t i = 0; i < drops.size(); ++i) drops[i]->gen.offset = offsets[i];
  return concat(outs, 0);
}

void Pix2Pix::save_state(Checkpoint& ck) const {
  save_module(ck, "G", *g_);
  save_module(ck, "D", *d_);
  save_adam(ck, "optG", *opt_g_);
  save_adam(ck, "optD", *opt_d_);
  std::vector<uint64_t> offsets;
  for (Dropout* d : dropout_layers(*g_)) offsets.push_back(d->gen.offset);
  ck.meta["state"]["g_dropout_offsets"] = offsets;
}

void Pix2Pix::load_state(const Checkpoint& ck) {
  load_module(ck, "G", *g_);
  load_module(ck, "D", *d_);
  load_adam(ck, "optG", *opt_g_);
  load_adam(ck, "optD", *opt_d_);
  const auto offsets = ck.meta.at("state").at("g_dropout_offsets").get<std::vector<uint64_t>>();
  const auto drops = dropout_layers(*g_);
  MASKOFF_CHECK(offsets.size() == drops.size(),
                "checkpoint " << ck.path << ": " << offsets.size()
                              << " dropout streams, the generator has " << drops.size());
  for (size_t i = 0; i < drops.size(); ++i) drops[i]->gen.offset = offsets[i];
}

}  // namespace maskoff::train
