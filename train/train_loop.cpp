#include "train/train_loop.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <numeric>
#include <sstream>

#include "autograd/node.h"
#include "data/dataset_writer.h"
#include "data/image.h"
#include "layers/elementwise.h"
#include "layers/shape_ops.h"
#include "tensor/backend.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/random.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/dlib_landmarks.h"
#include "train/inference.h"
#include "train/mask_composite.h"
#include "train/progress.h"

namespace maskoff::train {
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "maskoff-pix2pix";

// The epoch's sample order: a Fisher-Yates shuffle from the stream (seed, epoch).
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Generator g(seed ^ 0xbb67ae8584caa73bull);
  g.offset = static_cast<uint64_t>(epoch) << 32;
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[g.below(i)]);
  return order;
}

// A number as text, NaN always as "nan" (its sign bit means nothing); JSON has no NaN or
// infinity, so the diagnostics keep losses as text.
std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string csv_header() {
  std::string h = "step,epoch,lr";
  for (const auto& n : loss_names()) h += "," + n;
  return h + ",seconds";
}

// Keeps the header and the rows up to `step` of an existing log (a resumed run rewrites the
// steps after its checkpoint).
std::string truncated_log(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return csv_header() + "\n";
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      MASKOFF_CHECK(line == csv_header(),
                    path << " is not a train_pix2pix log (header '" << line << "')");
      out += line + "\n";
      first = false;
      continue;
    }
    const int64_t s = std::atoll(line.c_str());
    if (s >= 1 && s <= step) out += line + "\n";
  }
  if (first) out = csv_header() + "\n";
  return out;
}

void write_samples(Pix2Pix& model, const PairedDataset& samples, const std::string& out_dir,
                   int64_t step) {
  std::vector<size_t> idx(samples.size());
  std::iota(idx.begin(), idx.end(), 0);
  const PairedBatch b = samples.batch(idx, 0, 0);
  // input | output | real; with the mask head the output is the delivered composite, and the
  // delivered mask (white = replaced) comes before the real face.
  const bool head = model.options().predict_mask;
  const GeneratorSplit out = split_generator_output(model.generate(b.input).cpu(), head);
  Tensor fake = out.image, shown_mask;
  if (head) {
    autograd::NoGradGuard no_grad;
    const Tensor m = delivered_mask(out.logit, mask_edge_for_resolution(samples.resolution()));
    fake = composite(out.image, b.input, m);
    shown_mask = add_scalar(mul_scalar(concat_channels({m, m, m}), 2.0), -1.0);
  }
  std::vector<std::vector<data::Image>> rows;
  for (size_t n = 0; n < idx.size(); ++n) {
    const int64_t i = static_cast<int64_t>(n);
    rows.push_back({data::tensor_to_image(slice(b.input, 0, i, i + 1)),
                    data::tensor_to_image(slice(fake, 0, i, i + 1))});
    if (head) rows.back().push_back(data::tensor_to_image(slice(shown_mask, 0, i, i + 1)));
    rows.back().push_back(data::tensor_to_image(slice(b.target, 0, i, i + 1)));
  }
  const data::Image sheet = data::make_contact_sheet(rows, samples.resolution(), 2);
  const fs::path dir = fs::path(out_dir) / "samples";
  fs::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof name, "step_%07lld.png", static_cast<long long>(step));
  data::write_png((dir / name).string(), sheet);
  data::write_png((dir / "latest.png").string(), sheet);
}
}  // namespace

TrainOptions options_from_checkpoint(const std::string& path) {
  const Checkpoint ck = read_checkpoint(path);
  MASKOFF_CHECK(ck.meta.value("format", "") == kFormat,
                path << " is not a train_pix2pix checkpoint (format '"
                     << ck.meta.value("format", "") << "')");
  return TrainOptions::from_json(ck.meta.at("options"));
}

RunResult run_training(const TrainOptions& opts_in, const RunControl& ctl) {
  const TrainOptions opts = opts_in;
  const TrainChoices choices = opts.validate();
  std::ostream& log = *ctl.log;
  MASKOFF_CHECK(!opts.out_dir.empty(), "train_pix2pix: --out is required");
  MASKOFF_CHECK(!opts.data_dir.empty(), "train_pix2pix: --data is required");
  const fs::path out(opts.out_dir);
  const fs::path ckpt_path = out / "latest.ckpt", log_path = out / "train_log.csv";
  if (ctl.resume.empty() && !ctl.overwrite)
    MASKOFF_CHECK(!fs::exists(ckpt_path) && !fs::exists(log_path),
                  opts.out_dir << " already holds a training run ("
                               << (fs::exists(ckpt_path) ? ckpt_path : log_path).string()
                               << "): pass --resume " << ckpt_path.string()
                               << " to continue it or --overwrite to start over");
  fs::create_directories(out);

  if (opts.threads > 0) set_num_threads(opts.threads);
  const Device device = select_device(opts.device, log);

  const PairedDataset train =
      PairedDataset::load(opts.data_dir, "train", static_cast<int>(opts.resolution), opts.jitter);
  PairedDataset samples = [&] {
    try {
      return PairedDataset::load(opts.data_dir, "test", static_cast<int>(opts.resolution), false,
                                 opts.num_samples);
    } catch (const Error&) {  // no test split: show training faces
      return PairedDataset::load(opts.data_dir, "train", static_cast<int>(opts.resolution), false,
                                 opts.num_samples);
    }
  }();

  const data::FaceShapeModel face_shape = fit_face_shape(train);
  // dlib's predictor comes from the data library; the step itself needs none.
  LandmarkDistanceFn dlib_term;
  if (choices.landmark_loss == LandmarkLoss::dlib && opts.lambda_landmark != 0)
    dlib_term = dlib_landmark_distance();
  Pix2Pix model(opts, device, dlib_term);
  const int64_t B = opts.batch_size;
  const int64_t steps_per_epoch = (static_cast<int64_t>(train.size()) + B - 1) / B;
  const int64_t total =
      opts.steps > 0 ? opts.steps : (opts.epochs + opts.epochs_decay) * steps_per_epoch;

  RunResult res;
  int64_t step = 0;
  if (!ctl.resume.empty()) {
    const Checkpoint ck = read_checkpoint(ctl.resume);
    MASKOFF_CHECK(ck.meta.value("format", "") == kFormat,
                  ctl.resume << " is not a train_pix2pix checkpoint");
    model.load_state(ck);
    step = ck.meta.at("step").get<int64_t>();
    data::write_text_atomic(log_path.string(), truncated_log(log_path.string(), step));
  } else {
    data::write_text_atomic(log_path.string(), csv_header() + "\n");
  }
  res.first_step = step;
  res.total_steps = total;

  log << "train_pix2pix: " << (device.is_cuda() ? backend::cuda_report() : "CPU") << ", "
      << num_threads() << " threads\n"
      << "  data " << opts.data_dir << ": " << train.size() << " training pairs at "
      << opts.resolution << "x" << opts.resolution
      << (opts.jitter ? " (jitter: load " + std::to_string(train.load_size()) + ", crop, flip)"
                      : "")
      << "\n  G " << model.generator().num_parameters() << " parameters, D "
      << model.discriminator().num_parameters() << " parameters; losses: " << opts.gan_mode
      << " GAN + " << opts.lambda_l1 << " L1 + " << opts.lambda_mask << " masked MSE + "
      << opts.lambda_landmark << " landmark (" << opts.landmark_loss << ")"
      << (opts.predict_mask ? " on the " + opts.loss_on + " + " + number_text(opts.lambda_seg) +
                                  " mask BCE; the mask-aware generator"
                            : "; the plain generator")
      << (opts.upsample == "resize" ? ", resize-conv decoder" : "") << "\n"
      << "  " << (step > 0 ? "resuming at step " + std::to_string(step) + ", " : "") << total
      << " steps (" << steps_per_epoch << " per epoch, batch " << B << ")\n";

  std::ofstream csv(log_path, std::ios::app);
  MASKOFF_CHECK(csv, "cannot append to " << log_path.string());
  Progress progress(log, step, total, ctl.tty);
  int64_t cached_epoch = -1;
  std::vector<size_t> order;

  // ---- the non-finite guard ----
  model.set_skip_nonfinite(choices.on_nonfinite == OnNonFinite::skip);
  if (ctl.grad_hook) model.set_grad_hook(ctl.grad_hook);
  std::string last_good = ctl.resume;  // the checkpoint a stopped run can resume from
  int64_t last_good_step = step, bad_in_a_row = 0, bad_steps = 0;
  // Writes what is needed to see the cause to OUT/nonfinite_step_N.json, then ends the run
  // without saving anything more.
  auto stop_nonfinite = [&](int64_t at_step, double lr, const std::string& what,
                            const PairedBatch* batch, const LossTerms* t) {
    const std::vector<NonFinite> bad = model.nonfinite_tensors();
    nlohmann::json j;
    j["step"] = at_step;
    j["what"] = what;
    j["lr"] = lr;
    if (t) {
      const std::vector<std::string> names = loss_names();
      const std::vector<double> values = loss_values(*t);
      for (size_t i = 0; i < names.size(); ++i) j["losses"][names[i]] = number_text(values[i]);
    }
    if (batch) j["batch_ids"] = batch->ids;
    j["nonfinite_tensors"] = nlohmann::json::array();
    for (const NonFinite& b : bad)
      j["nonfinite_tensors"].push_back(
          {{"name", b.name}, {"nonfinite", b.count}, {"numel", b.numel}});
    if (!last_good.empty())
      j["last_good_checkpoint"] = {{"path", last_good}, {"step", last_good_step}};
    j["options"] = opts.to_json();
    const std::string report =
        (out / ("nonfinite_step_" + std::to_string(at_step) + ".json")).string();
    data::write_text_atomic(report, j.dump(2) + "\n");
    std::ostringstream first;
    if (bad.empty())
      first << "every parameter, gradient and optimiser state is still finite";
    else
      first << "first non-finite tensor: " << bad[0].name << " (" << bad[0].count << " of "
            << bad[0].numel << " values)";
    MASKOFF_FAIL("step " << at_step << ": " << what << "; " << first.str()
                         << ". Stopped without saving: "
                         << (last_good.empty()
                                 ? "no checkpoint had been written yet"
                                 : last_good + " (step " + std::to_string(last_good_step) +
                                       ") is the last good checkpoint; --resume it, perhaps with a "
                                       "lower --lr or --on-nonfinite skip")
                         << ". Details in " << report);
  };

  auto save = [&](int64_t at_step) {
    // What the checkpoint would hold must be finite, or the good one it replaces is kept.
    const std::vector<NonFinite> bad = model.nonfinite_tensors(false);
    if (!bad.empty())
      stop_nonfinite(at_step, opts.lr, "a parameter or optimiser state is not finite at a save",
                     nullptr, nullptr);
    Checkpoint ck;
    ck.meta["format"] = kFormat;
    ck.meta["version"] = 1;
    ck.meta["step"] = at_step;
    ck.meta["epoch"] = at_step / steps_per_epoch;
    ck.meta["options"] = opts.to_json();
    if (!face_shape.empty()) ck.meta["face_shape"] = face_shape.pack();
    model.save_state(ck);
    csv.flush();
    write_checkpoint(ckpt_path.string(), ck);
    res.checkpoint = ckpt_path.string();
    last_good = res.checkpoint;
    last_good_step = at_step;
  };

  // The pairs of step s: a pure function of (seed, s), so the next step's batch can be
  // assembled (decoded pixels jittered, cropped, flipped) on another thread while this
  // step runs, and a resumed run sees the same batches.
  auto indices_for = [&](int64_t s) {
    const int64_t epoch = s / steps_per_epoch, it = s % steps_per_epoch;
    if (epoch != cached_epoch) {
      order = epoch_order(train.size(), opts.seed, epoch);
      cached_epoch = epoch;
    }
    std::vector<size_t> idx;
    for (int64_t k = it * B;
         k < std::min<int64_t>((it + 1) * B, static_cast<int64_t>(train.size())); ++k)
      idx.push_back(order[k]);
    return idx;
  };
  auto prefetch = [&](int64_t s) {
    return std::async(std::launch::async, [&train, idx = indices_for(s), seed = opts.seed, s,
                                           clean = opts.predict_mask ? opts.clean_fraction : 0.0] {
      PairedBatch b = train.batch(idx, seed, static_cast<uint64_t>(s));
      make_clean_pairs(b, clean, seed, static_cast<uint64_t>(s));
      return b;
    });
  };
  std::future<PairedBatch> next;
  if (step < total) next = prefetch(step);

  bool saved_at_end = false;
  while (step < total) {
    const int64_t epoch = step / steps_per_epoch;
    const double lr = opts.lr * lr_factor(opts, epoch);
    model.set_lr(lr);
    PairedBatch batch = next.get();
    if (step + 1 < total) next = prefetch(step + 1);
    if (ctl.batch_hook) ctl.batch_hook(step + 1, batch);
    const LossTerms t = model.train_step(batch);
    ++step;
    if (step == res.first_step + 1) res.first = t;
    res.last = t;
    std::ostringstream row;
    row.precision(7);
    row << step << "," << epoch << "," << lr;
    for (double v : loss_values(t)) row << "," << v;
    row << "," << progress.elapsed_s();
    csv << row.str() << "\n" << std::flush;  // readable while the run goes on
    const int bad_loss = first_nonfinite_loss(t);
    const bool held_g = model.skipped_g(), held_d = model.skipped_d();
    if (bad_loss < 0 && !held_g && !held_d) {
      bad_in_a_row = 0;
    } else {
      ++bad_in_a_row;
      ++bad_steps;
      const std::string what =
          bad_loss < 0 ? std::string("a gradient of ") + (held_g ? "G" : "D") + " is not finite"
                       : "the loss " + loss_names()[bad_loss] + " is " +
                             number_text(loss_values(t)[bad_loss]);
      if (choices.on_nonfinite == OnNonFinite::stop) stop_nonfinite(step, lr, what, &batch, &t);
      const char* held = held_g && held_d ? "G's and D's update skipped"
                         : held_g         ? "G's update skipped"
                         : held_d         ? "D's update skipped"
                                          : "updates applied (their gradients are finite)";
      std::ostringstream line;
      line << "step " << step << ": " << what << "; " << held << " (" << bad_in_a_row
           << " in a row, " << bad_steps << " in all)";
      std::ofstream(out / "nonfinite_skips.log", std::ios::app) << line.str() << "\n";
      if (!ctl.quiet) log << "\ntrain_pix2pix: " << line.str() << "\n";
      if (bad_in_a_row >= opts.max_nonfinite_skips)
        stop_nonfinite(step, lr, what + ", " + std::to_string(bad_in_a_row) + " bad steps in a row",
                       &batch, &t);
    }
    if (!ctl.quiet) progress.update(step, "step", loss_names(), loss_values(t));
    if (opts.sample_every > 0 && step % opts.sample_every == 0)
      write_samples(model, samples, opts.out_dir, step);
    if (opts.save_every > 0 && step % opts.save_every == 0) {
      save(step);
      saved_at_end = step == total;
    }
    if (ctl.stop && ctl.stop->load()) {
      res.interrupted = true;
      break;
    }
  }
  if (!ctl.quiet) progress.finish();
  res.last_step = step;
  res.seconds = progress.elapsed_s();
  res.steps_per_second = progress.rate();
  if (!saved_at_end || res.interrupted) save(step);
  if (opts.sample_every <= 0 || step % opts.sample_every != 0)
    write_samples(model, samples, opts.out_dir, step);
  return res;
}

}  // namespace maskoff::train
