// Multi-tensor Adam. The parameters are cut into chunks of kChunk elements; block b
// updates chunk b, looking up which parameter it belongs to in a chunk table uploaded with
// the parameter table (two small host-to-device copies through the pinned ring). Each
// element reads p, g, m, v and writes p, m, v: 28 bytes, so the 54M parameters of the
// pix2pix U-Net take ~0.5 ms at 3 TB/s (predicted; cuda_ops_bench's AdamUNet256 measures it
// on a GPU), in one launch instead of ~100.
#include <vector>

#include "cuda/adam.h"
#include "cuda/device_buffer.h"
#include "cuda/kernel_util.cuh"

namespace maskoff::cuda {

namespace {

constexpr int64_t kChunk = 16384;

struct Chunk {
  int64_t slot;
  int64_t start;
};

__global__ void adam_multi_kernel(const AdamSlot* __restrict__ slots,
                                  const Chunk* __restrict__ chunks, float b1, float b2, float eps,
                                  float wd) {
  const Chunk ch = chunks[blockIdx.x];
  const AdamSlot s = slots[ch.slot];
  const int64_t end = min(ch.start + kChunk, s.n);
  for (int64_t i = ch.start + threadIdx.x; i < end; i += blockDim.x) {
    const float gi = s.g[i] + wd * s.p[i];
    const float m = b1 * s.m[i] + (1.f - b1) * gi;
    const float v = b2 * s.v[i] + (1.f - b2) * gi * gi;
    s.m[i] = m;
    s.v[i] = v;
    s.p[i] -= s.step_size * m / (sqrtf(v) / s.sqrt_bc2 + eps);
  }
}

}  // namespace

void adam_update_multi(const AdamSlot* slots, int count, float beta1, float beta2, float eps,
                       float weight_decay) {
  std::vector<Chunk> chunks;
  for (int k = 0; k < count; ++k)
    for (int64_t start = 0; start < slots[k].n; start += kChunk) chunks.push_back({k, start});
  if (chunks.empty()) return;
  const size_t slot_bytes = (static_cast<size_t>(count) * sizeof(AdamSlot) + 255) / 256 * 256;
  DeviceBuffer table(slot_bytes + chunks.size() * sizeof(Chunk));
  AdamSlot* dslots = table.as<AdamSlot>();
  Chunk* dchunks = reinterpret_cast<Chunk*>(table.as<char>() + slot_bytes);
  upload_async(dslots, slots, static_cast<size_t>(count) * sizeof(AdamSlot));
  upload_async(dchunks, chunks.data(), chunks.size() * sizeof(Chunk));
  MASKOFF_LAUNCH(adam_multi_kernel, static_cast<unsigned>(chunks.size()), kThreads, 0, dslots,
                 dchunks, beta1, beta2, eps, weight_decay);
}

}  // namespace maskoff::cuda
