// normalize_channels: the forward and backward kernels, templated on the scalar type so the
// gradient check runs in double, and the autograd record around them.
#include "metrics/channel_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "layers/dispatch.h"
#include "tensor/parallel.h"

namespace maskoff::metrics {

namespace {

// Images run in parallel only when there is enough work to pay for starting threads.
int64_t grain(int64_t c, int64_t hw) { return kParallelGrain / std::max<int64_t>(1, c * hw); }

// Norms of the feature vectors of one image: nrm[p] = sqrt(sum_c x[c, p]^2), walking the
// channels in memory order.
template <class T>
void channel_norms(const T* x, int64_t c, int64_t hw, std::vector<double>& nrm) {
  nrm.assign(static_cast<size_t>(hw), 0.0);
  for (int64_t k = 0; k < c; ++k)
    for (int64_t p = 0; p < hw; ++p) {
      const double v = x[k * hw + p];
      nrm[static_cast<size_t>(p)] += v * v;
    }
  for (double& v : nrm) v = std::sqrt(v);
}

template <class T>
void normalize_forward(const T* x, T* y, int64_t n, int64_t c, int64_t hw, double eps) {
  parallel_for(
      n,
      [&](int64_t i) {
        std::vector<double> nrm;
        channel_norms(x + i * c * hw, c, hw, nrm);
        for (int64_t k = 0; k < c; ++k)
          for (int64_t p = 0; p < hw; ++p) {
            const int64_t at = (i * c + k) * hw + p;
            y[at] = static_cast<T>(x[at] / (nrm[static_cast<size_t>(p)] + eps));
          }
      },
      grain(c, hw));
}

// With s = |x| and d = s + eps, y = x / d has dy_c/dx_k = delta_ck / d - x_c x_k / (d^2 s),
// so gx_k = g_k / d - x_k (g . x) / (d^2 s). At s = 0 the second term is absent: there
// y(t v) = t v / (t |v| + eps) has derivative v / eps in every direction v.
template <class T>
void normalize_backward(const T* x, const T* gy, T* gx, int64_t n, int64_t c, int64_t hw,
                        double eps) {
  parallel_for(
      n,
      [&](int64_t i) {
        std::vector<double> nrm, dot(static_cast<size_t>(hw), 0.0);
        channel_norms(x + i * c * hw, c, hw, nrm);
        for (int64_t k = 0; k < c; ++k)
          for (int64_t p = 0; p < hw; ++p) {
            const int64_t at = (i * c + k) * hw + p;
            dot[static_cast<size_t>(p)] += double(gy[at]) * double(x[at]);
          }
        for (int64_t k = 0; k < c; ++k)
          for (int64_t p = 0; p < hw; ++p) {
            const int64_t at = (i * c + k) * hw + p;
            const double s = nrm[static_cast<size_t>(p)], d = s + eps;
            double g = gy[at] / d;
            if (s > 0) g -= double(x[at]) * dot[static_cast<size_t>(p)] / (d * d * s);
            gx[at] = static_cast<T>(g);
          }
      },
      grain(c, hw));
}

}  // namespace

Tensor normalize_channels(const Tensor& x, double eps) {
  const char* op = "normalize_channels";
  check_dim(x, 4, op, "input");
  MASKOFF_CHECK(eps > 0, op << ": eps " << eps << " must be positive");
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  Tensor y = empty_like(x);
  dispatch(x, op, [&](auto p) { normalize_forward(p(x), p(y), n, c, hw, eps); });
  Tensor xd = x.detach();
  return autograd::record(
      y, op, {x}, [xd, n, c, hw, eps](const Tensor& gy, const std::vector<bool>&) {
        Tensor gx = empty_like(xd);
        dispatch(gy, "normalize_channels_backward",
                 [&](auto p) { normalize_backward(p(xd), p(gy), p(gx), n, c, hw, eps); });
        return std::vector<Tensor>{gx};
      });
}

}  // namespace maskoff::metrics
