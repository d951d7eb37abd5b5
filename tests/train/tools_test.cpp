// The evaluate and remove_mask programs, and what they are built on: loading and running a
// trained generator (train/inference.h) and the feathered paste (data/blend.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../data/temp_dir.h"
#include "data/blend.h"
#include "data/face.h"
#include "data/image.h"
#include "data/paths.h"
#include "layers/shape_ops.h"
#include "models/pix2pix.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "train/checkpoint.h"
#include "train/inference.h"
#include "train/mask_composite.h"
#include "train/pix2pix.h"

using maskoff::Error;
using maskoff::Tensor;
using maskoff::data::testing::TempDir;
namespace fs = std::filesystem;
namespace tr = maskoff::train;
namespace dt = maskoff::data;
using nlohmann::json;

namespace {

const std::string kBin = MASKOFF_BINARY_DIR;

// Exit status of a shell command (-1 when it did not exit normally).
int run(const std::string& cmd) {
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("maskoff_tools_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("maskoff_tools_" + std::to_string(::getpid())),
                     ec);
    });
    return d;
  }();
  return dir;
}

// 64x64 pairs from dlib's example photos, made by the real tool (once per program).
const std::string& dataset() {
  static const std::string dir = [] {
    const std::string d = (scratch() / "ds").string();
    const std::string cmd = kBin + "/make_masked_dataset --output " + d +
                            " --size 64 --limit 12 --threads 1 --seed 3 --contact-rows 0 > " + d +
                            ".log 2>&1";
    EXPECT_EQ(run(cmd), 0) << cmd;
    return d;
  }();
  return dir;
}

// A 32x32 generator trained for two steps by train_pix2pix: the paper's plain generator, or
// with `mask_head` the mask-aware one.
std::string tiny_checkpoint(bool dropout, bool mask_head = false) {
  const std::string out = (scratch() / ((dropout ? "ckpt_dropout" : "ckpt_plain") +
                                        std::string(mask_head ? "_head" : "")))
                              .string();
  if (!fs::exists(out + "/latest.ckpt")) {
    const std::string cmd =
        kBin + "/train_pix2pix --data " + dataset() + " --out " + out +
        " --resolution 32 --ngf 8 --ndf 8 --landmark-loss none --lambda-mask 10 --device cpu "
        "--steps 2 --sample-every 0 --save-every 0 --threads 1" +
        (dropout ? "" : " --no-dropout") + (mask_head ? "" : " --no-predict-mask") + " > " + out +
        ".log 2>&1";
    EXPECT_EQ(run(cmd), 0) << cmd;
  }
  return out + "/latest.ckpt";
}

// The mask-aware tiny checkpoint with its mask logit pinned near `bias` everywhere (the
// outermost layer's bias of the logit channel): +50 predicts a mask over every pixel, -50
// none.
std::string pinned_mask_checkpoint(double bias) {
  const std::string path = (scratch() / ("pinned_" + std::to_string(int(bias)) + ".ckpt")).string();
  if (fs::exists(path)) return path;
  const tr::Checkpoint src = tr::read_checkpoint(tiny_checkpoint(false, true));
  tr::Checkpoint ck;
  ck.meta = src.meta;
  for (const auto& [name, t] : src.tensors) {
    Tensor copy = t.clone();
    if (name == "G/model.model.3.bias") {
      EXPECT_EQ(copy.numel(), 4);
      copy.data<float>()[3] = static_cast<float>(bias);
    }
    ck.add(name, copy);
  }
  tr::write_checkpoint(path, ck);
  return path;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Whether a line of the text file at `path` contains `text` (a tool's log names something).
bool mentions(const std::string& path, const std::string& text) {
  for (const auto& l : read_lines(path))
    if (l.find(text) != std::string::npos) return true;
  return false;
}

// remove_mask on `photo` with `args` exits with 1, writes no output and names `option`.
void expect_remove_mask_refuses(const std::string& photo, const std::string& args,
                                const std::string& option, const TempDir& tmp) {
  const std::string out = tmp / "refused.png", log = tmp / "refused.txt";
  EXPECT_EQ(run(kBin + "/remove_mask --checkpoint " + tiny_checkpoint(true) + " --input " + photo +
                " --output " + out + " " + args + " --device cpu > " + log + " 2>&1"),
            1);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(mentions(log, option));
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  json j;
  in >> j;
  return j;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// Two 32x32 RGB images in [-1, 1].
Tensor random_inputs(uint64_t seed) {
  maskoff::Generator g(seed);
  return maskoff::rand({2, 3, 32, 32}, g, maskoff::DType::F32, maskoff::Device::cpu(), -1.0, 1.0);
}

// The generator's output on x as training shows it: the full Pix2Pix state of the checkpoint,
// train mode (batch statistics).
Tensor training_generate(const std::string& ckpt, const Tensor& x) {
  const tr::Checkpoint ck = tr::read_checkpoint(ckpt);
  tr::Pix2Pix model(tr::TrainOptions::from_json(ck.meta.at("options")), maskoff::Device::cpu());
  model.load_state(ck);
  return model.generate(x);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  return worst;
}

bool lpips_weights_present() {
  const std::string s = dt::shared_dir();
  return !s.empty() && fs::is_directory(fs::path(s) / "weights" / "lpips_alex");
}

}  // namespace

TEST(ToolsInference, MatchesTheTrainingGeneratorWithoutDropout) {
  const std::string ckpt = tiny_checkpoint(false);
  tr::LoadedGenerator lg = tr::load_generator(ckpt, maskoff::Device::cpu());
  ASSERT_EQ(lg.resolution, 32);
  EXPECT_EQ(lg.options.ngf, 8);
  // The training faces' shape model travels with the checkpoint: its mean face has the eyes
  // where the alignment puts them (3/8 and 5/8 across, 19/40 down).
  ASSERT_FALSE(lg.face_shape.empty());
  EXPECT_EQ(lg.face_shape.modes.size(), 6u);
  const maskoff::data::Point2 le = maskoff::data::eye_centre_left(lg.face_shape.mean),
                              re = maskoff::data::eye_centre_right(lg.face_shape.mean);
  EXPECT_NEAR(le.x, 0.375, 0.03);
  EXPECT_NEAR(re.x, 0.625, 0.03);
  EXPECT_NEAR(le.y, 0.475, 0.03);

  // Training's own path: the full Pix2Pix state, train mode (batch statistics).
  const Tensor x = random_inputs(5);
  const auto want = training_generate(ckpt, x).to_vector<float>();
  const Tensor got = tr::run_generator(lg, x);
  ASSERT_EQ(got.shape(), (maskoff::Shape{2, 3, 32, 32}));
  EXPECT_LT(max_abs_diff(got.to_vector<float>(), want), 1e-6);
}

TEST(ToolsInference, DeterministicWithDropoutAndLeavesNoTrace) {
  const std::string ckpt = tiny_checkpoint(true);
  tr::LoadedGenerator lg = tr::load_generator(ckpt, maskoff::Device::cpu());
  maskoff::Generator g(7);
  const Tensor x =
      maskoff::rand({1, 3, 32, 32}, g, maskoff::DType::F32, maskoff::Device::cpu(), -1.0, 1.0);
  const auto a = tr::run_generator(lg, x).to_vector<float>();
  const auto b = tr::run_generator(lg, x).to_vector<float>();
  EXPECT_EQ(a, b);
  for (float v : a) ASSERT_TRUE(v >= -1.f && v <= 1.f);
  // The stored buffers (running statistics) are untouched by the runs.
  const tr::Checkpoint ck = tr::read_checkpoint(ckpt);
  for (const auto& [name, t] : lg.g->named_buffers())
    EXPECT_EQ(t.to_vector<float>(), ck.get("G/" + name).to_vector<float>()) << name;
  // A [3, R, R] image works; the wrong size is refused with the shapes named.
  EXPECT_EQ(tr::run_generator(lg, maskoff::reshape(x, {3, 32, 32})).to_vector<float>(), a);
  try {
    tr::run_generator(lg, maskoff::zeros({1, 3, 64, 64}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 3, 64, 64]"), std::string::npos) << e.what();
  }
}

TEST(ToolsInference, MaskHeadDeliversTheCompositeWithTheDeliveredMask) {
  const std::string ckpt = tiny_checkpoint(false, true);
  tr::LoadedGenerator lg = tr::load_generator(ckpt, maskoff::Device::cpu());
  ASSERT_TRUE(lg.mask_head);
  const Tensor x = random_inputs(8);
  const Tensor want = training_generate(ckpt, x);
  ASSERT_EQ(want.shape(), (maskoff::Shape{2, 4, 32, 32}));
  const tr::GeneratorRun run = tr::run_generator_full(lg, x);
  EXPECT_LT(
      max_abs_diff(run.raw.to_vector<float>(), maskoff::slice(want, 1, 0, 3).to_vector<float>()),
      1e-6);
  EXPECT_LT(
      max_abs_diff(run.logit.to_vector<float>(), maskoff::slice(want, 1, 3, 4).to_vector<float>()),
      1e-6);
  EXPECT_EQ(run.mask.to_vector<float>(), tr::delivered_mask(run.logit, lg.edge).to_vector<float>());
  // The delivered image: the raw output where the mask weight is 1, the input itself where it
  // is 0, and the blend between.
  const auto d = run.delivered.to_vector<float>(), r = run.raw.to_vector<float>(),
             in = x.to_vector<float>(), m = run.mask.to_vector<float>();
  int64_t ones = 0, zeros = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 32 * 32; ++i) {
        const size_t k = (n * 3 + c) * 1024 + i;
        const float w = m[n * 1024 + i];
        if (w == 0) {
          ASSERT_EQ(d[k], in[k]);
          ++zeros;
        }
        if (w == 1) {
          ASSERT_NEAR(d[k], r[k], 1e-6);  // input + (raw - input) in float
          ++ones;
        }
        ASSERT_NEAR(d[k], in[k] + w * (r[k] - in[k]), 1e-6);
      }
  EXPECT_GT(zeros + ones, 0);
  // The same checkpoint without the mask head's options (as written before they existed) is a
  // plain generator: a checkpoint of the plain one loads so.
  tr::Checkpoint old = tr::read_checkpoint(tiny_checkpoint(false));
  for (const char* key : {"predict_mask", "lambda_seg", "loss_on", "upsample", "clean_fraction"})
    old.meta["options"].erase(key);
  TempDir tmp;
  tr::write_checkpoint(tmp / "old.ckpt", old);
  tr::LoadedGenerator plain = tr::load_generator(tmp / "old.ckpt", maskoff::Device::cpu());
  EXPECT_FALSE(plain.mask_head);
  const tr::GeneratorRun prun = tr::run_generator_full(plain, x);
  EXPECT_FALSE(prun.logit.defined());
  EXPECT_EQ(prun.delivered.to_vector<float>(), prun.raw.to_vector<float>());
  tr::LoadedGenerator same = tr::load_generator(tiny_checkpoint(false), maskoff::Device::cpu());
  EXPECT_EQ(prun.raw.to_vector<float>(), tr::run_generator(same, x).to_vector<float>());
}

TEST(ToolsInference, BadCheckpointsNameTheFile) {
  TempDir tmp;
  tr::Checkpoint foreign;
  foreign.meta["format"] = "something-else";
  tr::write_checkpoint(tmp / "foreign.ckpt", foreign);
  for (const std::string& path : {tmp / "missing.ckpt", tmp / "foreign.ckpt"}) {
    try {
      tr::load_generator(path, maskoff::Device::cpu());
      FAIL() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(ToolsBlend, FeatheredRegionRampsWithDistance) {
  const std::vector<dt::Point2> square = {{10, 10}, {30, 10}, {30, 30}, {10, 30}};
  const auto r = dt::feathered_region(square, 2, 4, 50, 40);
  EXPECT_FLOAT_EQ(r.at(20, 20), 1);         // inside
  EXPECT_FLOAT_EQ(r.at(31, 20), 1);         // 1 px out, within the dilation
  EXPECT_FLOAT_EQ(r.at(32, 20), 1);         // on the dilated edge
  EXPECT_FLOAT_EQ(r.at(33, 20), 0.84375f);  // t = 0.25: 1 - 0.0625 * 2.5
  EXPECT_FLOAT_EQ(r.at(20, 36), 0);         // at dilate + feather
  EXPECT_FLOAT_EQ(r.at(0, 0), 0);
  // Diagonal from a corner: distance sqrt(2^2 + 2^2) = 2.83, t = 0.207.
  const double t = (std::sqrt(8.0) - 2) / 4;
  EXPECT_NEAR(r.at(32, 32), 1 - t * t * (3 - 2 * t), 1e-6);
  EXPECT_LE(r.box.y1, 40);  // clipped to the image

  // The paste: full weight copies, zero alpha or zero weight keeps, half alpha mixes.
  dt::Image dst(50, 40, 3, 100), src(50, 40, 4, 0);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 50; ++x)
      src.at(x, y, 0) = src.at(x, y, 1) = src.at(x, y, 2) = 200, src.at(x, y, 3) = 255;
  src.at(20, 20, 3) = 0;
  src.at(21, 20, 3) = 128;
  dt::blend_into(dst, src, r);
  EXPECT_EQ(dst.at(15, 15, 0), 200);
  EXPECT_EQ(dst.at(20, 20, 0), 100);
  EXPECT_EQ(dst.at(21, 20, 1), static_cast<int>(100 + 100 * (128 / 255.0) + 0.5));
  EXPECT_EQ(dst.at(33, 20, 2), static_cast<int>(100 + 100 * 0.84375 + 0.5));
  EXPECT_EQ(dst.at(36, 20, 0), 100);
  EXPECT_EQ(dst.at(0, 0, 0), 100);
}

TEST(ToolsEvaluate, IdenticalPairsScorePerfectlyAndOnePixelCounts) {
  TempDir tmp;
  const fs::path real = tmp / "real", fake = tmp / "fake";
  fs::create_directories(real);
  fs::create_directories(fake);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(dataset()) / "real"))
    names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_GE(names.size(), 3u);
  names.resize(3);
  for (const auto& n : names) {
    fs::copy_file(fs::path(dataset()) / "real" / n, real / n);
    fs::copy_file(fs::path(dataset()) / "real" / n, fake / n);
  }
  // One channel of one pixel of the first fake moved to the far end of the range.
  dt::Image img = dt::read_image(real / names[0]);
  const int v = img.at(5, 7, 1), v2 = v < 128 ? 255 : 0;
  img.at(5, 7, 1) = static_cast<uint8_t>(v2);
  dt::write_png(fake / names[0], img);
  const double want_mse = std::pow((v2 - v) / 255.0, 2) / (3.0 * img.width * img.height);

  const std::string masks = (fs::path(dataset()) / "mask").string();
  const std::string same = tmp / "same", diff = tmp / "diff";
  ASSERT_EQ(run(kBin + "/evaluate --pairs " + real.string() + " " + real.string() + " --masks " +
                masks + " --out " + same + " > " + tmp / "same.log 2>&1"),
            0)
      << read_lines(tmp / "same.log").back();
  const json j = read_json(same + "/metrics.json");
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["mse"]["mean"].get<double>(), 0.0);
  EXPECT_EQ(j["psnr"]["mean"].get<double>(), 100.0);
  EXPECT_NEAR(j["ssim"]["mean"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(j["ssim_mask"]["mean"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(j["ssim_mask"]["n"], 3);
  if (lpips_weights_present()) {
    EXPECT_NEAR(j["lpips"]["mean"].get<double>(), 0.0, 1e-9);
    EXPECT_NEAR(j["lpips_mask"]["mean"].get<double>(), 0.0, 1e-9);
  } else {
    EXPECT_TRUE(j["lpips"]["mean"].is_null());
  }
  if (j["nme"]["n"].get<int>() > 0) {
    EXPECT_EQ(j["nme"]["mean"].get<double>(), 0.0);
  }
  EXPECT_EQ(read_lines(same + "/metrics.csv").size(), 4u);
  EXPECT_TRUE(fs::exists(same + "/report.html"));

  ASSERT_EQ(run(kBin + "/evaluate --pairs " + real.string() + " " + fake.string() + " --out " +
                diff + " > " + tmp / "diff.log 2>&1"),
            0);
  const auto lines = read_lines(diff + "/metrics.csv");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "id,mse,psnr,ssim,lpips,ssim_mask,lpips_mask,nme,nme_mouth,mse_raw,psnr_raw,ssim_raw,"
            "lpips_raw,mask_iou,changed_outside");
  const auto first = split_csv(lines[1]);
  ASSERT_EQ(first.size(), 15u) << lines[1];
  EXPECT_EQ(first[0], names[0]);
  EXPECT_NEAR(std::stod(first[1]), want_mse, want_mse * 1e-5);
  EXPECT_NEAR(std::stod(first[2]), 10 * std::log10(1 / want_mse), 1e-4);
  EXPECT_LT(std::stod(first[3]), 1.0);
  EXPECT_EQ(first[5], "");  // no --masks: no masked metrics
  EXPECT_EQ(split_csv(lines[2])[1], "0");
}

TEST(ToolsEvaluate, CheckpointModeWritesOneRowPerImageAndTheTable) {
  TempDir tmp;
  const std::string ckpt = tiny_checkpoint(true);
  for (const std::string run_name : {"a", "b"}) {
    const std::string out = tmp / run_name;
    const std::string cmd = kBin + "/evaluate --checkpoint " + ckpt + " --data " + dataset() +
                            " --split all --limit 5 --report-images 3 --device cpu --out " + out +
                            " > " + out + ".log 2>&1";
    ASSERT_EQ(run(cmd), 0) << cmd << "\n" << read_lines(out + ".log").back();
  }
  const std::string out = tmp / "a";
  EXPECT_EQ(read_lines(out + "/metrics.csv").size(), 6u);
  const json j = read_json(out + "/metrics.json");
  EXPECT_EQ(j["count"], 5);
  EXPECT_EQ(j["settings"]["resolution"], 32);
  for (const char* m : {"mse", "psnr", "ssim", "ssim_mask", "nme", "nme_mouth"})
    EXPECT_EQ(j[m]["n"], 5) << m;
  const double psnr = j["psnr"]["mean"];
  EXPECT_GT(psnr, 3);
  EXPECT_LT(psnr, 60);  // an untrained generator does not reproduce the faces
  EXPECT_LT(j["ssim"]["mean"].get<double>(), 0.99);
  EXPECT_GE(j["mse"]["std"].get<double>(), 0.0);
  // Deterministic: a second run gives the same numbers.
  EXPECT_EQ(read_lines(out + "/metrics.csv"), read_lines(tmp / "b/metrics.csv"));

  std::ifstream html(out + "/report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  for (const char* img :
       {"images/0000_input.png", "images/0002_output.png", "images/0002_real.png"}) {
    EXPECT_NE(page.find(img), std::string::npos) << img;
    EXPECT_TRUE(fs::exists(out + "/" + img)) << img;
  }
  EXPECT_FALSE(fs::exists(out + "/images/0003_real.png"));
  EXPECT_NE(page.find("100 dB"), std::string::npos);

  ASSERT_EQ(run(kBin + "/evaluate --table " + out + "/metrics.json " + tmp / "b/metrics.json > " +
                tmp / "table.txt"),
            0);
  const auto table = read_lines(tmp / "table.txt");
  ASSERT_EQ(table.size(), 4u);
  EXPECT_EQ(table[0].rfind("| run | images | mse | psnr |", 0), 0u) << table[0];
  EXPECT_EQ(table[2].rfind("| a | 5 |", 0), 0u) << table[2];
  EXPECT_EQ(table[3].rfind("| b | 5 |", 0), 0u) << table[3];
}

TEST(ToolsRemoveMask, ChangesOnlyTheLowerFaces) {
  TempDir tmp;
  const auto photos = dt::dlib_example_photos();
  ASSERT_FALSE(photos.empty()) << "dlib's example photos are missing";
  const std::string photo = photos[0], out = tmp / "out.png";
  const std::string cmd = kBin + "/remove_mask --checkpoint " + tiny_checkpoint(true) +
                          " --input " + photo + " --output " + out + " --device cpu > " +
                          tmp / "log.txt 2>&1";
  ASSERT_EQ(run(cmd), 0) << cmd;
  const dt::Image before = dt::read_image(photo), after = dt::read_image(out);
  ASSERT_EQ(after.width, before.width);
  ASSERT_EQ(after.height, before.height);

  dt::FaceAnalyzer fa;
  const auto faces = fa.detect(before);
  ASSERT_FALSE(faces.empty());
  auto near_face = [&](int x, int y) {
    for (const auto& b : faces) {
      const int mx = (b.right - b.left) * 3 / 10, my = (b.bottom - b.top) * 3 / 10;
      if (x >= b.left - mx && x <= b.right + mx && y >= b.top - my && y <= b.bottom + my)
        return true;
    }
    return false;
  };
  int64_t changed_inside = 0, changed_outside = 0;
  for (int y = 0; y < before.height; ++y)
    for (int x = 0; x < before.width; ++x) {
      bool diff = false;
      for (int c = 0; c < 3; ++c) diff = diff || before.at(x, y, c) != after.at(x, y, c);
      if (diff) (near_face(x, y) ? changed_inside : changed_outside)++;
    }
  EXPECT_EQ(changed_outside, 0);
  EXPECT_GT(changed_inside, 50 * static_cast<int64_t>(faces.size()));
  const auto log = read_lines(tmp / "log.txt");
  int face_lines = 0;
  for (const auto& l : log)
    face_lines += l.rfind("face ", 0) == 0 && l.find(" ms ") != std::string::npos;
  EXPECT_EQ(face_lines, static_cast<int>(faces.size()));
}

TEST(ToolsEvaluate, MaskHeadScoresTheDeliveredAndTheRawImageAndTheMask) {
  TempDir tmp;
  // All mask: the delivered image is the raw output; no mask: it is the input.
  for (const double bias : {50.0, -50.0}) {
    const std::string out = tmp / (bias > 0 ? "all" : "none");
    const std::string cmd = kBin + "/evaluate --checkpoint " + pinned_mask_checkpoint(bias) +
                            " --data " + dataset() +
                            " --split all --limit 5 --report-images 2 --device cpu --out " + out +
                            " > " + out + ".log 2>&1";
    ASSERT_EQ(run(cmd), 0) << cmd << "\n" << read_lines(out + ".log").back();
    const json j = read_json(out + "/metrics.json");
    EXPECT_EQ(j["settings"]["mask_head"], true);
    for (const char* m : {"mse_raw", "psnr_raw", "ssim_raw", "mask_iou", "changed_outside"})
      EXPECT_EQ(j[m]["n"], 5) << m;
    EXPECT_EQ(j["changed_outside"]["mean"].get<double>(), 0.0);
    if (bias > 0) {
      EXPECT_NEAR(j["mse"]["mean"].get<double>(), j["mse_raw"]["mean"].get<double>(), 1e-9);
      // The IoU of a full mask is the true mask's share of the image.
      EXPECT_GT(j["mask_iou"]["mean"].get<double>(), 0.05);
      EXPECT_LT(j["mask_iou"]["mean"].get<double>(), 0.6);
    } else {
      EXPECT_EQ(j["mask_iou"]["mean"].get<double>(), 0.0);
      EXPECT_GT(std::fabs(j["mse"]["mean"].get<double>() - j["mse_raw"]["mean"].get<double>()),
                1e-4);
    }
    std::ifstream html(out + "/report.html");
    const std::string page((std::istreambuf_iterator<char>(html)),
                           std::istreambuf_iterator<char>());
    EXPECT_NE(page.find("images/0001_mask.png"), std::string::npos);
    EXPECT_TRUE(fs::exists(out + "/images/0001_raw.png"));
  }
  // With no mask predicted the output is the masked input itself: its error against the real
  // face is what the mask hides.
  const auto rows = read_lines(tmp / "none/metrics.csv");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(split_csv(rows[0]).back(), "changed_outside");

  // --mask-types keeps only the rows of those types.
  std::string type;
  for (const auto& line : read_lines(dataset() + "/manifest.csv"))
    if (line.rfind("id,", 0) != 0) {
      type = split_csv(line)[3];
      break;
    }
  int64_t of_type = 0;
  for (const auto& line : read_lines(dataset() + "/manifest.csv"))
    of_type += line.rfind("id,", 0) != 0 && split_csv(line)[3] == type;
  const std::string out = tmp / "typed";
  const std::string cmd = kBin + "/evaluate --checkpoint " + pinned_mask_checkpoint(50) +
                          " --data " + dataset() + " --split all --mask-types " + type +
                          " --device cpu --out " + out + " > " + out + ".log 2>&1";
  ASSERT_EQ(run(cmd), 0) << cmd;
  EXPECT_EQ(read_json(out + "/metrics.json")["count"], of_type);
  EXPECT_EQ(run(kBin + "/evaluate --checkpoint " + pinned_mask_checkpoint(50) + " --data " +
                dataset() + " --split all --mask-types nosuchtype --device cpu --out " + out +
                " > " + out + ".log 2>&1"),
            1);
  EXPECT_NE(read_lines(out + ".log").back().find("nosuchtype"), std::string::npos);
}

TEST(ToolsRemoveMask, AFaceWithNoPredictedMaskIsLeftUnchanged) {
  TempDir tmp;
  const auto photos = dt::dlib_example_photos();
  ASSERT_FALSE(photos.empty()) << "dlib's example photos are missing";
  const std::string photo = photos[0], out = tmp / "out.png";
  const std::string cmd = kBin + "/remove_mask --checkpoint " + pinned_mask_checkpoint(-50) +
                          " --input " + photo + " --output " + out + " --device cpu > " +
                          tmp / "log.txt 2>&1";
  ASSERT_EQ(run(cmd), 0) << cmd;
  const dt::Image before = dt::read_image(photo), after = dt::read_image(out);
  EXPECT_EQ(after.pixels, before.pixels);
  int unchanged = 0;
  for (const auto& l : read_lines(tmp / "log.txt"))
    unchanged += l.find("no mask on it, left unchanged") != std::string::npos;
  EXPECT_GT(unchanged, 0);
}

TEST(ToolsRemoveMask, PastesThePredictedMaskWithinTheLowerFace) {
  TempDir tmp;
  const auto photos = dt::dlib_example_photos();
  ASSERT_FALSE(photos.empty()) << "dlib's example photos are missing";
  const std::string photo = photos[0];
  // A mask predicted over the whole aligned face is cut to the lower face grown by
  // --mask-limit: a larger limit changes more pixels, none far from the faces.
  int64_t changed[2] = {0, 0};
  const double limits[2] = {0.0, 0.15};
  const dt::Image before = dt::read_image(photo);
  dt::FaceAnalyzer fa;
  const auto faces = fa.detect(before);
  ASSERT_FALSE(faces.empty());
  for (int k = 0; k < 2; ++k) {
    const std::string out = tmp / ("out" + std::to_string(k) + ".png");
    const std::string cmd = kBin + "/remove_mask --checkpoint " + pinned_mask_checkpoint(50) +
                            " --input " + photo + " --output " + out + " --mask-limit " +
                            std::to_string(limits[k]) + " --device cpu > " + tmp / "log.txt 2>&1";
    ASSERT_EQ(run(cmd), 0) << cmd;
    const dt::Image after = dt::read_image(out);
    for (int y = 0; y < before.height; ++y)
      for (int x = 0; x < before.width; ++x) {
        bool diff = false;
        for (int c = 0; c < 3; ++c) diff = diff || before.at(x, y, c) != after.at(x, y, c);
        if (!diff) continue;
        ++changed[k];
        bool near = false;
        for (const auto& b : faces) {
          const int mx = (b.right - b.left) * 3 / 10, my = (b.bottom - b.top) * 3 / 10;
          near = near ||
                 (x >= b.left - mx && x <= b.right + mx && y >= b.top - my && y <= b.bottom + my);
        }
        ASSERT_TRUE(near) << x << "," << y;
      }
  }
  EXPECT_GT(changed[0], 50 * static_cast<int64_t>(faces.size()));
  EXPECT_GT(changed[1], changed[0]);
}

TEST(ToolsRemoveMask, HandGivenFaceBoxAndOverlay) {
  TempDir tmp;
  const auto photos = dt::dlib_example_photos();
  ASSERT_FALSE(photos.empty()) << "dlib's example photos are missing";
  const std::string photo = photos[0], out = tmp / "out.png", ov = tmp / "overlay.png";
  const dt::Image before = dt::read_image(photo);
  dt::FaceAnalyzer fa;
  const auto faces = fa.detect(before);
  ASSERT_FALSE(faces.empty());
  const auto& b = faces[0];
  const std::string box = std::to_string(b.left) + "," + std::to_string(b.top) + "," +
                          std::to_string(b.right) + "," + std::to_string(b.bottom);
  const std::string cmd = kBin + "/remove_mask --checkpoint " + tiny_checkpoint(true) +
                          " --input " + photo + " --output " + out + " --overlay " + ov +
                          " --face " + box + " --device cpu > " + tmp / "log.txt 2>&1";
  ASSERT_EQ(run(cmd), 0) << cmd;
  const dt::Image after = dt::read_image(out), shown = dt::read_image(ov);
  ASSERT_EQ(after.width, before.width);
  ASSERT_EQ(shown.width, before.width);
  ASSERT_EQ(shown.height, before.height);
  // Only the one given face changes: every changed pixel lies near that box.
  const int mx = (b.right - b.left) * 3 / 10, my = (b.bottom - b.top) * 3 / 10;
  int64_t changed_inside = 0, changed_outside = 0, drawn = 0;
  for (int y = 0; y < before.height; ++y)
    for (int x = 0; x < before.width; ++x) {
      bool diff = false, marked = false;
      for (int c = 0; c < 3; ++c) diff = diff || before.at(x, y, c) != after.at(x, y, c);
      for (int c = 0; c < 3; ++c) marked = marked || before.at(x, y, c) != shown.at(x, y, c);
      const bool near =
          x >= b.left - mx && x <= b.right + mx && y >= b.top - my && y <= b.bottom + my;
      if (diff) (near ? changed_inside : changed_outside)++;
      drawn += marked;
    }
  EXPECT_EQ(changed_outside, 0);
  EXPECT_GT(changed_inside, 50);
  EXPECT_GT(drawn, changed_inside / 2);  // the region is tinted and the box and points drawn

  // A malformed box is refused, naming the option, and nothing is written.
  expect_remove_mask_refuses(photo, "--face 1,2,3", "--face", tmp);
}

// The CNN detector, the default: a photo of a person wearing a mask, its face found, pasted,
// timed, and drawn on the overlay with its score.
TEST(ToolsRemoveMask, FindsAMaskedFaceWithTheCnnDetectorByDefault) {
  const std::string shared = dt::shared_dir();
  if (shared.empty()) GTEST_SKIP() << "shared data folder not found (set MASKOFF_SHARED)";
  TempDir tmp;
  const std::string photo = shared + "/data/masked_real/mr_0001.jpg", out = tmp / "out.png",
                    ov = tmp / "ov.png";
  const std::string cmd = "env -u OMP_WAIT_POLICY " + kBin + "/remove_mask --checkpoint " +
                          tiny_checkpoint(true) + " --input " + photo + " --output " + out +
                          " --overlay " + ov + " --device cpu > " + tmp / "log.txt 2>&1";
  ASSERT_EQ(run(cmd), 0) << cmd;
  int faces = 0;
  bool cnn = false, timed = false;
  for (const auto& l : read_lines(tmp / "log.txt")) {
    faces += l.rfind("face ", 0) == 0;
    cnn = cnn || l.find("CNN detector") != std::string::npos;
    timed = timed || l.rfind("photo: ", 0) == 0;
  }
  EXPECT_EQ(faces, 1);
  EXPECT_TRUE(cnn);
  EXPECT_TRUE(timed);
  // It restarted itself with sleeping OpenMP waits (no policy was set by the caller).
  EXPECT_TRUE(mentions(tmp / "log.txt", "OMP_WAIT_POLICY=passive"));
  const dt::Image before = dt::read_image(photo), after = dt::read_image(out),
                  shown = dt::read_image(ov);
  ASSERT_EQ(after.width, before.width);
  ASSERT_EQ(shown.width, before.width);
  int64_t white = 0;  // the score's digits are drawn in pure white
  for (int y = 0; y < shown.height; ++y)
    for (int x = 0; x < shown.width; ++x)
      white += shown.at(x, y, 0) == 255 && shown.at(x, y, 1) == 255 && shown.at(x, y, 2) == 255;
  EXPECT_GT(white, 20);
  // A CNN threshold outside its range is refused, naming the option.
  expect_remove_mask_refuses(photo, "--min-score 0.1", "--min-score", tmp);
}

// Without the CNN's weights: the default falls back on dlib's detector and says so; asking
// for the CNN explicitly is an error naming the missing folder.
TEST(ToolsRemoveMask, WithoutTheCnnWeightsFallsBackOrNamesTheFolder) {
  TempDir tmp;
  const auto photos = dt::dlib_example_photos();
  ASSERT_FALSE(photos.empty()) << "dlib's example photos are missing";
  const std::string base = "MASKOFF_SHARED=" + tmp / "no_shared" + " " + kBin +
                           "/remove_mask --checkpoint " + tiny_checkpoint(true) + " --input " +
                           photos[0] + " --device cpu";
  ASSERT_EQ(run(base + " --output " + tmp / "a.png" + " > " + tmp / "a.txt 2>&1"), 0);
  EXPECT_TRUE(mentions(tmp / "a.txt", "using dlib's HOG detector"));
  EXPECT_TRUE(fs::exists(tmp / "a.png"));

  EXPECT_EQ(run(base + " --detector cnn --output " + tmp / "b.png" + " > " + tmp / "b.txt 2>&1"),
            1);
  EXPECT_FALSE(fs::exists(tmp / "b.png"));
  EXPECT_TRUE(mentions(tmp / "b.txt", tmp / "no_shared"));

  EXPECT_EQ(run(base + " --detector-weights " + tmp / "nowhere" + " --output " + tmp / "c.png" +
                " > " + tmp / "c.txt 2>&1"),
            1);
  EXPECT_TRUE(mentions(tmp / "c.txt", tmp / "nowhere"));
}

TEST(ToolsRemoveMask, PhotoWithoutAFaceExitsWithTwoAndWritesNothing) {
  TempDir tmp;
  dt::Image plain(200, 150, 3, 0);
  for (int y = 0; y < 150; ++y)
    for (int x = 0; x < 200; ++x)
      plain.at(x, y, 0) = static_cast<uint8_t>(x), plain.at(x, y, 2) = static_cast<uint8_t>(y);
  const std::string in = tmp / "plain.png", out = tmp / "out.png";
  dt::write_png(in, plain);
  const int rc = run(kBin + "/remove_mask --checkpoint " + tiny_checkpoint(true) + " --input " +
                     in + " --output " + out + " --device cpu > " + tmp / "log.txt 2>&1");
  EXPECT_EQ(rc, 2);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  bool named = false;
  for (const auto& l : read_lines(tmp / "log.txt"))
    named = named || (l.find("no face") != std::string::npos && l.find(in) != std::string::npos);
  EXPECT_TRUE(named);
}
