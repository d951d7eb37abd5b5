// Differentiable inverted dropout driven by the counter-based generator (tensor/random.h).
#pragma once
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace maskoff {

// Keeps each element with probability 1 - p and scales the survivors by 1 / (1 - p); the
// identity (x itself, no draw) when !training or p == 0, and all zeros when p == 1.
// Element i is kept when rng_uniform(gen.seed, base + i) >= p, with base = gen.take(numel),
// so a given generator state always gives the same mask, on any device. Backward
// regenerates the mask from (seed, base) rather than keeping it.
Tensor dropout(const Tensor& x, double p, Generator& gen, bool training);

}  // namespace maskoff
