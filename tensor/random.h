// Counter-based random numbers: value i of a draw is a pure function of (seed, offset + i).
// The same formula runs on the CPU and in CUDA kernels, so a seeded dropout mask or a
// weight initialisation is identical on both devices, and the generator's whole state is
// two integers, which makes checkpoints and resumed runs exact.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"

namespace maskoff {

// A strong 64-bit mixer (splitmix64 finaliser); two rounds keyed by the seed.
MASKOFF_HD uint64_t rng_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

MASKOFF_HD uint64_t rng_bits(uint64_t seed, uint64_t counter) {
  return rng_mix64(rng_mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (counter * 0xd1b54a32d192ed03ULL));
}

// Uniform in [0, 1) with 24 bits (exactly representable as float).
MASKOFF_HD float rng_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<float>(rng_bits(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

// Uniform in [0, 1) with 53 bits.
MASKOFF_HD double rng_uniform_f64(uint64_t seed, uint64_t counter) {
  return static_cast<double>(rng_bits(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller. It needs two uniforms but uses one counter: the second
// uniform comes from a second stream keyed by the seed, so a draw of n normals reserves
// exactly n counters and never overlaps the next draw.
MASKOFF_HD double rng_normal(uint64_t seed, uint64_t counter) {
  double u1 = rng_uniform_f64(seed, counter);
  double u2 = rng_uniform_f64(rng_mix64(seed ^ 0x6a09e667f3bcc909ULL), counter);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

// A stream of draws: each call to take(n) reserves n counters and advances the offset.
struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;

  Generator() = default;
  explicit Generator(uint64_t s) : seed(s) {}
  uint64_t take(uint64_t n) {
    uint64_t start = offset;
    offset += n;
    return start;
  }
  // Uniform double in [0,1) drawn from the stream (for host-side choices such as crops).
  double uniform() { return rng_uniform_f64(seed, take(1)); }
  // Integer in [0, n), n > 0 (the modulo bias is below 2^-40 for the n used here).
  uint64_t below(uint64_t n) { return n ? rng_bits(seed, take(1)) % n : 0; }
};

}  // namespace maskoff
