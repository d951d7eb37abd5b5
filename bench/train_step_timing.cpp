// train_step_timing: the whole pix2pix training step (G forward, D update, G update, both
// Adam steps) timed end to end, configuration by configuration, as
// bench/reference/pix2pix_step.py times PyTorch's: fixed random inputs made once, warm-up
// steps, then the median of many timed steps, written as the same JSON.
//
// Configurations:
//   fp32  strict float32 (cuDNN FMA math, no TF32)
//   tf32  TF32 tensor-core convolutions and matrix products (set_tf32)
// Each step ends with the loss values copied to the host (as train_pix2pix logs them), so a
// step's wall time covers all its device work.
//
// --profile adds what one step asks of the device, counted by the engine itself on any
// backend (tensor/profile.h): ops dispatched (each at least one kernel launch on CUDA),
// tensor bytes allocated (a floor under memory writes) and convolution/matmul FLOPs. With
// a time per step it gives the achieved FLOP/s; with a launch latency it bounds what CUDA
// graphs can save.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#ifdef MASKOFF_WITH_CUDA
#include "bench/cuda_bench_util.h"
#endif
#include "tensor/backend.h"
#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/profile.h"
#include "tensor/random.h"
#include "train/device.h"
#include "train/pix2pix.h"

using namespace maskoff;
using json = nlohmann::json;

namespace {

train::PairedBatch random_batch(int64_t n, int64_t r, Generator& g) {
  train::PairedBatch b;
  b.input = rand({n, 3, r, r}, g, DType::F32, Device::cpu(), -1, 1);
  b.target = rand({n, 3, r, r}, g, DType::F32, Device::cpu(), -1, 1);
  Tensor m = zeros({n, 1, r, r});
  float* mp = m.data<float>();
  for (int64_t k = 0; k < n; ++k)
    for (int64_t y = r / 2; y < r * 7 / 8; ++y)
      for (int64_t x = r / 4; x < r * 3 / 4; ++x) mp[(k * r + y) * r + x] = 1;
  b.mask = m;
  b.landmarks = rand({n, 68, 2}, g, DType::F32, Device::cpu(), 0.2, 0.8);
  return b;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - i;
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

json profile_json(const profile::Counts& c) {
  json ops = json::array();
  std::vector<std::pair<std::string, profile::OpCount>> sorted(c.ops.begin(), c.ops.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.calls != b.second.calls ? a.second.calls > b.second.calls : a.first < b.first;
  });
  for (const auto& [name, oc] : sorted)
    ops.push_back({{"op", name}, {"calls", oc.calls}, {"flops", oc.flops}});
  return {{"ops_dispatched", c.calls()},
          {"allocations", c.allocations},
          {"bytes_allocated", c.bytes_allocated},
          {"flops", c.flops()},
          {"by_op", ops}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Time the whole pix2pix training step, configuration by configuration (JSON like "
      "bench/reference/pix2pix_step.py)."};
  std::string device_name = "auto", out;
  std::vector<std::string> configs = {"fp32", "tf32"};
  std::vector<int64_t> batches = {1, 16};
  int64_t resolution = 256, ngf = 64, ndf = 64;
  int warmup = 20, steps = 100, threads = 0;
  uint64_t seed = 1;
  bool do_profile = false;
  app.add_option("--device", device_name, "auto, cpu or cuda")->capture_default_str();
  app.add_option("--configs", configs, "comma list of fp32, tf32 (tf32 needs CUDA)")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "tf32"}))
      ->capture_default_str();
  app.add_option("--batch", batches, "comma list of batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  app.add_option("--resolution", resolution, "image side (U-Net depth follows it)")
      ->capture_default_str();
  app.add_option("--ngf", ngf, "generator width")->capture_default_str();
  app.add_option("--ndf", ndf, "discriminator width")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first (cuDNN plans, allocator, caches)")
      ->capture_default_str();
  app.add_option("--steps", steps, "timed steps; the median is reported")->capture_default_str();
  app.add_option("--seed", seed, "seed of the weights and inputs")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
  app.add_flag("--profile", do_profile, "also count ops, allocations and FLOPs of one step");
  app.add_option("--out", out, "write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  try {
    MASKOFF_CHECK(warmup >= 0 && steps >= 1, "--warmup must be >= 0 and --steps >= 1");
    if (threads > 0) set_num_threads(threads);
    const Device device = train::select_device(device_name, std::cerr);
    json doc;
    doc["implementation"] = "maskoff";
    doc["device"] = device.is_cuda()
                        ? backend::cuda_report()
                        : "cpu (" + std::to_string(num_threads()) + " threads, " +
                              std::to_string(std::thread::hardware_concurrency()) + " cores)";
    std::string cmd;
    for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
    doc["command"] = cmd;
#ifdef MASKOFF_WITH_CUDA
    if (device.is_cuda()) {
      // The device's own ceilings, against which the achieved FLOP/s is read.
      const bench::Ceilings& c = bench::ceilings();
      doc["device_floors"] = {{"copy_gb_per_s", c.copy_bytes_per_s / 1e9},
                              {"sgemm_fp32_tflops", c.sgemm_flops_per_s / 1e12},
                              {"sgemm_tf32_tflops", c.tf32_flops_per_s / 1e12}};
    }
#endif
    doc["results"] = json::array();

    std::printf("%-6s %6s %11s %11s %11s %10s %12s\n", "config", "batch", "median ms", "p10 ms",
                "p90 ms", "images/s", "TFLOP/s");
    for (const std::string& config : configs) {
      for (const int64_t batch : batches) {
        json r = {{"config", config}, {"batch", batch}, {"resolution", resolution},
                  {"ngf", ngf},       {"ndf", ndf},     {"warmup", warmup},
                  {"steps", steps}};
        if (config == "tf32" && !device.is_cuda()) {
          r["error"] = "tf32 needs a CUDA device";
          std::printf("%-6s %6lld  skipped: %s\n", config.c_str(), static_cast<long long>(batch),
                      r["error"].get<std::string>().c_str());
          doc["results"].push_back(r);
          continue;
        }
        backend::set_tf32(config == "tf32");
        train::TrainOptions o;
        o.resolution = resolution, o.ngf = ngf, o.ndf = ndf, o.batch_size = batch;
        o.landmark_loss = "none";
        o.predict_mask = false;  // the paper's generator: the step bench/reference/ times
        o.seed = seed;
        train::Pix2Pix model(o, device);
        Generator g(seed + 1);
        const train::PairedBatch b = random_batch(batch, resolution, g);
        train::LossTerms last;
        for (int i = 0; i < warmup; ++i) last = model.train_step(b);
        std::vector<double> ms;
        for (int i = 0; i < steps; ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          last = model.train_step(b);  // ends by reading the losses back: the device work is done
          ms.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count());
        }
        const double median = percentile(ms, 0.5);
        double mean = 0;
        for (double v : ms) mean += v / ms.size();
        r["ms_per_step"] = {{"median", median},
                            {"p10", percentile(ms, 0.1)},
                            {"p90", percentile(ms, 0.9)},
                            {"mean", mean}};
        r["images_per_s"] = batch * 1000.0 / median;
        r["losses"] = {{"d_real", last.d_real},
                       {"d_fake", last.d_fake},
                       {"g_gan", last.g_gan},
                       {"g_l1", last.g_l1},
                       {"g_mask", last.g_mask}};
        double tflops = 0;
        if (do_profile) {
          profile::start();
          model.train_step(b);
          const profile::Counts c = profile::stop();
          r["profile"] = profile_json(c);
          tflops = c.flops() / (median * 1e-3) / 1e12;
          r["achieved_tflops"] = tflops;
        }
        std::printf("%-6s %6lld %11.2f %11.2f %11.2f %10.2f %12s\n", config.c_str(),
                    static_cast<long long>(batch), median, percentile(ms, 0.1), percentile(ms, 0.9),
                    batch * 1000.0 / median,
                    do_profile ? std::to_string(tflops).substr(0, 6).c_str() : "-");
        if (do_profile) {
          const json& p = r["profile"];
          std::printf(
              "       one step: %lld ops dispatched, %lld allocations, %.1f MB allocated, %.2f "
              "GFLOP\n",
              static_cast<long long>(p["ops_dispatched"].get<int64_t>()),
              static_cast<long long>(p["allocations"].get<int64_t>()),
              p["bytes_allocated"].get<double>() / 1e6, p["flops"].get<double>() / 1e9);
        }
        std::fflush(stdout);
        doc["results"].push_back(r);
      }
    }
    backend::set_tf32(false);
    if (!out.empty()) {
      std::ofstream f(out);
      MASKOFF_CHECK(f, "cannot write " << out);
      f << doc.dump(2) << "\n";
      MASKOFF_CHECK(f.good(), "error writing " << out);
      std::printf("wrote %s\n", out.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step_timing: %s\n", message_of(e).c_str());
    return 1;
  }
}
