// Loading the generator from a checkpoint and running it in test mode (train/inference.h).
#include "train/inference.h"

#include "autograd/node.h"
#include "layers/modules.h"
#include "layers/shape_ops.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "train/checkpoint.h"
#include "train/paired_data.h"

namespace maskoff::train {

namespace {
// The format tag train_loop.cpp writes into every train_pix2pix checkpoint.
constexpr const char* kCheckpointFormat = "maskoff-pix2pix";
}  // namespace

data::FaceShapeModel fit_face_shape(const PairedDataset& train) {
  if (train.size() < 4) return {};
  return data::FaceShapeModel::fit(train.landmark_fractions(), 6, kFlip68);
}

LoadedGenerator load_generator(const std::string& ckpt, Device device) {
  const Checkpoint ck = read_checkpoint(ckpt);
  MASKOFF_CHECK(ck.meta.value("format", "") == kCheckpointFormat,
                ckpt << " is not a train_pix2pix checkpoint (format '"
                     << ck.meta.value("format", "") << "')");
  MASKOFF_CHECK(ck.meta.contains("options"), ckpt << ": the checkpoint holds no training options");
  LoadedGenerator lg;
  try {
    lg.options = TrainOptions::from_json(ck.meta.at("options"));
    lg.options.validate();
  } catch (const std::exception& e) {
    MASKOFF_FAIL(ckpt << ": bad training options in the checkpoint: " << e.what());
  }
  if (ck.meta.contains("face_shape")) {
    try {
      lg.face_shape =
          data::FaceShapeModel::unpack(ck.meta.at("face_shape").get<std::vector<double>>());
    } catch (const std::exception& e) {
      MASKOFF_FAIL(ckpt << ": bad face-shape model in the checkpoint: " << e.what());
    }
  }
  const TrainOptions& o = lg.options;
  lg.resolution = static_cast<int>(o.resolution);
  lg.device = device;

  // The same module tree as training builds, so the "G/<name>" entries line up. Every
  // parameter and buffer is read from the checkpoint below (restore throws on a missing
  // one), so no initial weights are drawn.
  models::UNetConfig gc;
  gc.num_downs = models::unet_downs_for_resolution(o.resolution);
  gc.ngf = o.ngf;
  gc.dropout = o.dropout;
  gc.mask_head = o.predict_mask;
  gc.upsample = o.validate().upsample;
  lg.mask_head = o.predict_mask;
  lg.edge = mask_edge_for_resolution(o.resolution);
  Generator init(o.seed);
  {
    SkipInitGuard no_init;
    lg.g = std::make_shared<models::UNetGenerator>(gc, init);
  }
  for (const auto& [name, t] : lg.g->named_parameters()) ck.restore("G/" + name, t);
  for (const auto& [name, t] : lg.g->named_buffers()) ck.restore("G/" + name, t);
  for (Tensor p : lg.g->parameters()) p.set_requires_grad(false);
  if (device.is_cuda()) lg.g->to_(device);

  // Eval mode turns dropout into the identity; batch norm in eval mode falls back to the
  // batch's own statistics when it has no running ones, so detaching them from the layers
  // (they stay registered as buffers) gives pix2pix's test-time normalisation with no
  // state to update.
  lg.g->eval();
  lg.g->apply([](Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) {
      bn->running_mean = Tensor();
      bn->running_var = Tensor();
    }
  });
  return lg;
}

GeneratorRun run_generator_full(LoadedGenerator& lg, const Tensor& input_m11) {
  MASKOFF_CHECK(lg.g, "run_generator: no generator loaded");
  Tensor x = input_m11;
  if (x.dim() == 3) x = reshape(x, {1, x.size(0), x.size(1), x.size(2)});
  const int64_t R = lg.resolution;
  MASKOFF_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == R && x.size(3) == R,
                "run_generator: expected an RGB image [N, 3, "
                    << R << ", " << R << "] at the generator's resolution, got "
                    << shape_str(x.shape()));
  autograd::NoGradGuard no_grad;
  const Tensor x_cpu = x.cpu(), x_dev = x.to(lg.device);  // the composite is made on the CPU
  std::vector<Tensor> outs;
  // One at a time: batch statistics over several images would mix them.
  for (int64_t n = 0; n < x_dev.size(0); ++n)
    outs.push_back(lg.g->forward(slice(x_dev, 0, n, n + 1)).cpu());
  const GeneratorSplit split =
      split_generator_output(outs.size() == 1 ? outs[0] : concat(outs, 0), lg.mask_head);
  GeneratorRun run;
  run.raw = split.image;
  run.delivered = split.image;
  if (lg.mask_head) {
    run.logit = split.logit;
    run.mask = delivered_mask(split.logit, lg.edge);
    run.delivered = composite(split.image, x_cpu, run.mask);
  }
  return run;
}

Tensor run_generator(LoadedGenerator& lg, const Tensor& input_m11) {
  return run_generator_full(lg, input_m11).delivered;
}

}  // namespace maskoff::train
