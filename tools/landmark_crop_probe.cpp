// landmark_crop_probe: how well the 68-point landmark network agrees with dlib on the real
// faces of a make_masked_dataset folder, on the whole frame and on a grid of square crops.
// Prints, per crop, the mean NME (mean point distance over dlib's outer-eye-corner distance,
// points 36-45) overall and per facial region; the best crop is the one the landmark loss
// should feed the network (models::default_landmark_crop).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "data/dataset_writer.h"
#include "data/image.h"
#include "data/paths.h"
#include "layers/shape_ops.h"
#include "models/landmark_net.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

using namespace maskoff;

namespace {

struct Region {
  const char* name;
  int first, last;  // inclusive, dlib's 68-point order
};
constexpr std::array<Region, 5> kRegions = {
    {{"jaw", 0, 16}, {"brows", 17, 26}, {"nose", 27, 35}, {"eyes", 36, 47}, {"mouth", 48, 67}}};

struct Score {
  models::LandmarkCrop crop;
  bool full_frame = false;
  double nme = 0;
  std::array<double, kRegions.size()> region{};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Runs the 68-point landmark network on the real faces of a make_masked_dataset folder, on "
      "the\n"
      "whole frame and on square crops, and compares with the dataset's dlib landmarks: mean NME\n"
      "(mean point distance / distance between dlib points 36 and 45), overall and per region."};
  std::string data_dir, weights;
  int64_t limit = 300;
  int batch = 16;
  std::vector<double> sizes = {0.70, 0.725, 0.75, 0.775, 0.80, 0.825, 0.85};
  std::vector<double> shifts = {0.5, 0.625, 0.75, 0.875, 1};
  app.add_option("--data", data_dir, "dataset folder (manifest.csv, real/, landmarks/)")
      ->required();
  app.add_option("--limit", limit, "use the first N faces of the manifest")->capture_default_str();
  app.add_option("--weights", weights,
                 "landmark network folder (default: <shared>/weights/face_landmark_68)");
  app.add_option("--sizes", sizes, "comma list of crop sides, fractions of the image side")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--shifts", shifts,
                 "comma list of vertical crop positions: the share of the free space (1 - size) "
                 "above the crop; 0.5 is centred, 1 touches the bottom (crops are centred "
                 "horizontally)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--batch", batch, "images per network call")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    MASKOFF_CHECK(limit > 0 && batch > 0, "--limit and --batch must be positive");
    MASKOFF_CHECK(!sizes.empty() && !shifts.empty(),
                  "--sizes and --shifts need at least one value each");
    if (weights.empty()) {
      const std::string shared = data::shared_dir();
      MASKOFF_CHECK(!shared.empty(),
                    "no shared folder found; pass --weights or set MASKOFF_SHARED");
      weights = shared + "/weights/face_landmark_68";
    }
    auto net = models::load_landmark_net(weights);

    std::vector<Score> scores(1);
    scores[0].full_frame = true;
    for (double s : sizes)
      for (double t : shifts) {
        MASKOFF_CHECK(s > 0 && s <= 1 && t >= 0 && t <= 1,
                      "crop size " << s << " / shift " << t << " out of range");
        Score sc;
        sc.crop = {(1 - s) / 2, t * (1 - s), s};
        scores.push_back(sc);
      }

    std::vector<data::ManifestRow> rows = data::read_manifest(data_dir + "/manifest.csv");
    if (static_cast<int64_t>(rows.size()) > limit) rows.resize(static_cast<size_t>(limit));
    MASKOFF_CHECK(!rows.empty(), data_dir << "/manifest.csv lists no faces");
    std::fprintf(stderr, "landmark_crop_probe: %zu faces, %zu crops, %d threads (CPU)\n",
                 rows.size(), scores.size(), num_threads());

    const auto t0 = std::chrono::steady_clock::now();
    int64_t side = 0, faces = 0;
    autograd::NoGradGuard no_grad;
    for (size_t b0 = 0; b0 < rows.size(); b0 += static_cast<size_t>(batch)) {
      const size_t b1 = std::min(rows.size(), b0 + static_cast<size_t>(batch));
      std::vector<Tensor> imgs;
      std::vector<data::Landmarks> truth;
      for (size_t i = b0; i < b1; ++i) {
        const data::Image img = data::read_image(data_dir + "/" + rows[i].real);
        MASKOFF_CHECK(img.width == img.height && (side == 0 || img.width == side),
                      rows[i].real << ": " << img.width << " x " << img.height
                                   << " (expected square images of one size)");
        side = img.width;
        imgs.push_back(data::image_to_tensor(img));
        truth.push_back(data::read_landmarks(data_dir + "/" + rows[i].landmarks));
      }
      const Tensor x = concat(imgs, 0);
      for (Score& sc : scores) {
        const std::vector<double> p =
            models::landmarks_on_image(*net, x, sc.full_frame ? models::LandmarkCrop{} : sc.crop)
                .to_vector<double>();
        for (size_t k = 0; k < truth.size(); ++k) {
          const data::Landmarks& d = truth[k];
          const double iod = std::hypot(d[36].x - d[45].x, d[36].y - d[45].y);
          std::array<double, 68> dist;
          for (size_t j = 0; j < 68; ++j)
            dist[j] = std::hypot(p[(k * 68 + j) * 2] * double(side) - d[j].x,
                                 p[(k * 68 + j) * 2 + 1] * double(side) - d[j].y) /
                      iod;
          double all = 0;
          for (double e : dist) all += e;
          sc.nme += all / 68;
          for (size_t r = 0; r < kRegions.size(); ++r) {
            double s = 0;
            for (int j = kRegions[r].first; j <= kRegions[r].last; ++j) s += dist[size_t(j)];
            sc.region[r] += s / (kRegions[r].last - kRegions[r].first + 1);
          }
        }
      }
      faces += static_cast<int64_t>(truth.size());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("%lld faces of %s (%lldx%lld), %.0f s\n", static_cast<long long>(faces),
                data_dir.c_str(), static_cast<long long>(side), static_cast<long long>(side), secs);
    std::printf("%-8s %-8s %-8s %-18s %-8s", "size", "x0", "y0", "pixels (x0,y0,side)", "NME");
    for (const Region& r : kRegions) std::printf(" %-7s", r.name);
    std::printf("\n");
    const Score* best = nullptr;
    for (Score& sc : scores) {
      sc.nme /= double(faces);
      for (double& r : sc.region) r /= double(faces);
      const models::LandmarkCrop c = sc.full_frame ? models::LandmarkCrop{} : sc.crop;
      char px[40];
      std::snprintf(px, sizeof px, "%lld,%lld,%lld", std::llround(c.x0 * side),
                    std::llround(c.y0 * side), std::llround(c.size * side));
      std::printf("%-8.4f %-8.4f %-8.4f %-18s %-8.4f", c.size, c.x0, c.y0, px, sc.nme);
      for (double r : sc.region) std::printf(" %-7.4f", r);
      std::printf("%s\n", sc.full_frame ? "  (full frame)" : "");
      if (!sc.full_frame && (!best || sc.nme < best->nme)) best = &sc;
    }
    if (best)
      std::printf("best crop: x0 %.4f, y0 %.4f, size %.4f: NME %.4f (full frame %.4f)\n",
                  best->crop.x0, best->crop.y0, best->crop.size, best->nme, scores[0].nme);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "landmark_crop_probe: error: %s\n", message_of(e).c_str());
    return 1;
  }
}
