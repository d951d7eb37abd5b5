// dropout: draws the counter range, runs the mask kernel forward and again in backward.
#include "layers/dropout.h"

#include "autograd/node.h"
#include "cuda/dropout.h"
#include "layers/cpu/dropout.h"
#include "layers/dispatch.h"

namespace maskoff {

namespace {
Tensor apply_mask(const Tensor& x, uint64_t seed, uint64_t base, double p, const char* op) {
  Tensor y = empty_like(x);
  dispatch(
      x, op,
      [&](auto ptr) {
        using T = typename decltype(ptr)::Scalar;
        const T scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
        cpu::dropout_mask(ptr(x), ptr(y), x.numel(), seed, base, static_cast<float>(p), scale);
      },
      [&] {
        const float scale = p < 1.0 ? static_cast<float>(1.0 / (1.0 - p)) : 0.f;
        cuda::dropout_mask(f32(x), f32(y), x.numel(), seed, base, static_cast<float>(p), scale);
      });
  return y;
}
}  // namespace

Tensor dropout(const Tensor& x, double p, Generator& gen, bool training) {
  MASKOFF_CHECK(x.defined(), "dropout: input is undefined");
  MASKOFF_CHECK(p >= 0.0 && p <= 1.0,
                "dropout: p must be in [0, 1], got " << p << " for input " << x.str());
  if (!training || p == 0.0) return x;
  const uint64_t seed = gen.seed;
  const uint64_t base = gen.take(static_cast<uint64_t>(x.numel()));
  Tensor y = apply_mask(x, seed, base, p, "dropout");
  return autograd::record(
      y, "dropout", {x}, [seed, base, p](const Tensor& gy, const std::vector<bool>&) {
        return std::vector<Tensor>{apply_mask(gy, seed, base, p, "dropout_backward")};
      });
}

}  // namespace maskoff
