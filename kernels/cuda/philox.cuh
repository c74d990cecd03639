// Philox4x32-10 dropout masks on the device, bit-identical to kernels/cpu/philox.h and src/engine/philox.ts:
// key = (seed lo, seed hi), counter = (i / 4 mod 2^32, 0, step, site), element i takes word i % 4, kept iff
// (word >> 8) ≥ threshold = ceil(p·2^24) (computed once on the host, so every backend agrees exactly).
// A separate copy because the CPU header has no __device__ qualifiers; test/cuda/emu_test.cc checks the two
// agree element by element.
#pragma once
#include <stdint.h>

#include "launch.h"

namespace ftc {

struct DropKey {
  uint32_t k0, k1, step, site;
  uint32_t threshold;  // keep iff (word >> 8) >= threshold
  float scale;         // 1 / (1 − p)
  int active;          // 0: no dropout
};

__host__ __device__ __forceinline__ uint32_t philox_word(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                                         uint32_t k1, uint32_t which) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += W0;
      k1 += W1;
    }
    const uint64_t p0 = (uint64_t)M0 * c0;
    const uint64_t p1 = (uint64_t)M1 * c2;
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    const uint32_t y0 = hi1 ^ c1 ^ k0;
    const uint32_t y2 = hi0 ^ c3 ^ k1;
    c0 = y0;
    c1 = lo1;
    c2 = y2;
    c3 = lo0;
  }
  return which == 0 ? c0 : which == 1 ? c1 : which == 2 ? c2 : c3;
}

// Keep flag of element i of the mask.
__host__ __device__ __forceinline__ bool drop_keep(const DropKey& k, uint64_t i) {
  const uint32_t w = philox_word((uint32_t)(i >> 2), 0u, k.step, k.site, k.k0, k.k1, (uint32_t)(i & 3));
  return (w >> 8) >= k.threshold;
}

// The multiplier of element i: 1/(1 − p) when kept, 0 when dropped, 1 without dropout.
__host__ __device__ __forceinline__ float drop_factor(const DropKey& k, uint64_t i) {
  if (!k.active) return 1.0f;
  return drop_keep(k, i) ? k.scale : 0.0f;
}

// Host-side construction (p in [0, 1), seed < 2^53): the threshold as kernels/cpu/philox.h computes it.
inline DropKey make_drop_key(double p, uint64_t seed, uint32_t step, uint32_t site) {
  DropKey k;
  k.k0 = (uint32_t)seed;
  k.k1 = (uint32_t)(seed >> 32);
  k.step = step;
  k.site = site;
  const double t = p * 16777216.0;
  uint32_t ti = (uint32_t)t;
  k.threshold = (double)ti < t ? ti + 1 : ti;
  k.scale = (float)(1.0 / (1.0 - p));
  k.active = p > 0.0 ? 1 : 0;
  return k;
}

}  // namespace ftc
