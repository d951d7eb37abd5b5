#include "data/face_shape.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>

#include "tensor/error.h"

namespace maskoff::data {
namespace {

using C = std::complex<double>;
inline C cz(const Point2& p) { return {p.x, p.y}; }
inline Point2 pt(C z) { return {z.real(), z.imag()}; }

// Least-squares similarity (rotation, uniform scale, translation) taking src[i] to dst[i]
// over `idx`: dst ~ a * src + t with a, t complex.
struct Similarity {
  C a{1, 0}, t{0, 0};
  C operator()(C z) const { return a * z + t; }
};
Similarity fit_similarity(const Landmarks& src, const Landmarks& dst, const std::vector<int>& idx) {
  C ms{0, 0}, md{0, 0};
  for (int i : idx) ms += cz(src[i]), md += cz(dst[i]);
  ms /= static_cast<double>(idx.size()), md /= static_cast<double>(idx.size());
  C num{0, 0};
  double den = 0;
  for (int i : idx) {
    const C s = cz(src[i]) - ms, d = cz(dst[i]) - md;
    num += std::conj(s) * d;
    den += std::norm(s);
  }
  MASKOFF_CHECK(den > 1e-18, "face shape: the reference points coincide");
  Similarity f;
  f.a = num / den;
  f.t = md - f.a * ms;
  return f;
}

}  // namespace

const std::vector<int>& mask_visible_points() {
  static const std::vector<int> v = [] {
    std::vector<int> p;
    for (int i = 17; i <= 30; ++i) p.push_back(i);
    for (int i = 36; i <= 47; ++i) p.push_back(i);
    return p;
  }();
  return v;
}

FaceShapeModel FaceShapeModel::fit(const std::vector<Landmarks>& shapes_in, int num_modes,
                                   const int* flip68) {
  MASKOFF_CHECK(shapes_in.size() >= 4,
                "face shape model: need at least 4 faces, got " << shapes_in.size());
  MASKOFF_CHECK(num_modes >= 0 && num_modes <= 40,
                "face shape model: num_modes must be in [0, 40], got " << num_modes);
  std::vector<Landmarks> shapes = shapes_in;
  if (flip68)
    for (const Landmarks& s : shapes_in) {
      Landmarks m;
      for (int i = 0; i < 68; ++i) m[i] = Point2{1.0 - s[flip68[i]].x, s[flip68[i]].y};
      shapes.push_back(m);
    }
  const std::vector<int>& vis = mask_visible_points();
  const size_t n = shapes.size();
  FaceShapeModel model;
  auto mean_of = [&](const std::vector<Landmarks>& v) {
    Landmarks m{};
    for (const Landmarks& s : v)
      for (int i = 0; i < 68; ++i) m[i].x += s[i].x / v.size(), m[i].y += s[i].y / v.size();
    return m;
  };
  // Generalised Procrustes on the visible points: each shape mapped onto the mean by the
  // similarity of its visible points, the mean recomputed, a few rounds.
  model.mean = mean_of(shapes);
  std::vector<Landmarks> norm(n);
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < n; ++k) {
      const Similarity f = fit_similarity(shapes[k], model.mean, vis);
      for (int i = 0; i < 68; ++i) norm[k][i] = pt(f(cz(shapes[k][i])));
    }
    model.mean = mean_of(norm);
  }
  Eigen::MatrixXd X(n, 136);
  for (size_t k = 0; k < n; ++k)
    for (int i = 0; i < 68; ++i) {
      X(k, 2 * i) = norm[k][i].x - model.mean[i].x;
      X(k, 2 * i + 1) = norm[k][i].y - model.mean[i].y;
    }
  const Eigen::MatrixXd cov = X.transpose() * X / static_cast<double>(n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  MASKOFF_CHECK(eig.info() == Eigen::Success, "face shape model: eigen decomposition failed");
  const int k = std::min<int>(num_modes, static_cast<int>(n) - 1);
  for (int m = 0; m < k; ++m) {
    const int col = 135 - m;  // eigenvalues ascend
    Landmarks mode;
    for (int i = 0; i < 68; ++i)
      mode[i] = Point2{eig.eigenvectors()(2 * i, col), eig.eigenvectors()(2 * i + 1, col)};
    model.modes.push_back(mode);
    model.variances.push_back(std::max(eig.eigenvalues()(col), 1e-12));
  }
  return model;
}

Landmarks FaceShapeModel::complete(const Landmarks& detected, const std::vector<int>& visible,
                                   double* rms_error) const {
  MASKOFF_CHECK(!empty(), "face shape model: empty model");
  MASKOFF_CHECK(visible.size() >= 2, "face shape model: need at least 2 visible points");
  const int k = static_cast<int>(modes.size());
  const int v = static_cast<int>(visible.size());
  Landmarks shape = mean;
  Eigen::MatrixXd A(2 * v, k);
  for (int j = 0; j < v; ++j)
    for (int m = 0; m < k; ++m) {
      A(2 * j, m) = modes[m][visible[j]].x;
      A(2 * j + 1, m) = modes[m][visible[j]].y;
    }
  Eigen::MatrixXd H = A.transpose() * A;
  for (int m = 0; m < k; ++m) H(m, m) += noise * noise / variances[m];
  const Eigen::LDLT<Eigen::MatrixXd> solver(H);
  for (int round = 0; k > 0 && round < 6; ++round) {
    // The detected points brought into the model's frame by the inverse of the similarity
    // that currently places the model on them.
    const Similarity f = fit_similarity(shape, detected, visible);
    Eigen::VectorXd r(2 * v);
    for (int j = 0; j < v; ++j) {
      const C q = (cz(detected[visible[j]]) - f.t) / f.a;
      r(2 * j) = q.real() - mean[visible[j]].x;
      r(2 * j + 1) = q.imag() - mean[visible[j]].y;
    }
    Eigen::VectorXd c = solver.solve(A.transpose() * r);
    for (int m = 0; m < k; ++m) {
      const double lim = 3 * std::sqrt(variances[m]);
      c(m) = std::clamp(c(m), -lim, lim);
    }
    shape = mean;
    for (int m = 0; m < k; ++m)
      for (int i = 0; i < 68; ++i)
        shape[i].x += c(m) * modes[m][i].x, shape[i].y += c(m) * modes[m][i].y;
  }
  const Similarity f = fit_similarity(shape, detected, visible);
  Landmarks out;
  for (int i = 0; i < 68; ++i) out[i] = pt(f(cz(shape[i])));
  if (rms_error) {
    double ss = 0;
    for (int i : visible) ss += std::norm(cz(out[i]) - cz(detected[i]));
    const double iod = inter_ocular_distance(out);
    *rms_error = iod > 0 ? std::sqrt(ss / visible.size()) / iod : INFINITY;
  }
  for (int i : visible) out[i] = detected[i];
  return out;
}

std::vector<double> FaceShapeModel::pack() const {
  std::vector<double> v{static_cast<double>(modes.size()), noise};
  for (const Point2& p : mean) v.push_back(p.x), v.push_back(p.y);
  for (const Landmarks& m : modes)
    for (const Point2& p : m) v.push_back(p.x), v.push_back(p.y);
  v.insert(v.end(), variances.begin(), variances.end());
  return v;
}

FaceShapeModel FaceShapeModel::unpack(const std::vector<double>& v) {
  MASKOFF_CHECK(v.size() >= 2 + 136, "face shape model: " << v.size() << " numbers, too few");
  const double km = v[0];
  MASKOFF_CHECK(km >= 0 && km <= 40 && km == std::floor(km),
                "face shape model: bad mode count " << km);
  const size_t k = static_cast<size_t>(km);
  MASKOFF_CHECK(v.size() == 2 + 136 * (1 + k) + k,
                "face shape model: " << v.size() << " numbers, expected " << 2 + 136 * (1 + k) + k
                                     << " for " << k << " modes");
  FaceShapeModel m;
  m.noise = v[1];
  MASKOFF_CHECK(m.noise > 0, "face shape model: noise must be positive");
  size_t o = 2;
  for (int i = 0; i < 68; ++i, o += 2) m.mean[i] = Point2{v[o], v[o + 1]};
  for (size_t j = 0; j < k; ++j) {
    Landmarks mode;
    for (int i = 0; i < 68; ++i, o += 2) mode[i] = Point2{v[o], v[o + 1]};
    m.modes.push_back(mode);
  }
  for (size_t j = 0; j < k; ++j, ++o) {
    MASKOFF_CHECK(v[o] > 0, "face shape model: mode " << j << " has variance " << v[o]);
    m.variances.push_back(v[o]);
  }
  return m;
}

}  // namespace maskoff::data
