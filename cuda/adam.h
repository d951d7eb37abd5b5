// The CUDA Adam update: every parameter in one kernel launch. The host passes a table of
// parameters (pointers, sizes and each one's bias-correction factors, which differ when
// parameters have taken different numbers of steps); the kernel applies the same fused
// update as the CPU's cpu::adam_update to all of them.
#pragma once
#include <cstdint>

namespace maskoff::cuda {

struct AdamSlot {
  float* p;
  const float* g;
  float* m;
  float* v;
  int64_t n;
  float step_size;  // lr / (1 - beta1^t)
  float sqrt_bc2;   // sqrt(1 - beta2^t)
};

// `slots` is a host array of `count` entries.
void adam_update_multi(const AdamSlot* slots, int count, float beta1, float beta2, float eps,
                       float weight_decay);

}  // namespace maskoff::cuda
