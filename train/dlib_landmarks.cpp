#include "train/dlib_landmarks.h"

#include <cmath>
#include <memory>

#include "data/face.h"
#include "data/image.h"
#include "layers/shape_ops.h"

namespace maskoff::train {

LandmarkDistanceFn dlib_landmark_distance() {
  auto dlib = std::make_shared<data::FaceAnalyzer>();
  return [dlib](const Tensor& fake, const Tensor& target_landmarks) {
    const Tensor f = fake.detach().cpu();
    const Tensor lm = target_landmarks.cpu();
    const int64_t N = f.size(0), R = f.size(2);
    const float* t = lm.data<float>();
    double total = 0;
    for (int64_t n = 0; n < N; ++n) {
      data::Image img = data::tensor_to_image(slice(f, 0, n, n + 1));
      data::Landmarks real;
      for (int i = 0; i < 68; ++i) real[i] = {t[(n * 68 + i) * 2] * R, t[(n * 68 + i) * 2 + 1] * R};
      const data::Landmarks got = dlib->landmarks(img, data::landmark_box(real));
      double s = 0;
      for (int i = 0; i < 68; ++i) {
        const double dx = got[i].x / R - t[(n * 68 + i) * 2];
        const double dy = got[i].y / R - t[(n * 68 + i) * 2 + 1];
        s += std::sqrt(dx * dx + dy * dy);
      }
      total += s / 68;
    }
    return total / static_cast<double>(N);
  };
}

}  // namespace maskoff::train
