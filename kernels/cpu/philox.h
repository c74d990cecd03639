// Philox4x32-10, bit-identical to src/engine/philox.ts: key = (seed lo, seed hi), counter =
// (i / 4, 0, step, site), element i takes word i % 4; keep iff (word >> 8) >= threshold,
// threshold = ceil(p * 2^24) computed once in double (dropout_threshold), so every backend agrees exactly.
#pragma once
#include <cstdint>

namespace ft {

struct Philox4 {
  uint32_t v[4];
};

inline Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k0 += W0; k1 += W1; }
    uint64_t p0 = (uint64_t)M0 * c0;
    uint64_t p1 = (uint64_t)M1 * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t y0 = hi1 ^ c1 ^ k0;
    uint32_t y2 = hi0 ^ c3 ^ k1;
    c0 = y0; c1 = lo1; c2 = y2; c3 = lo0;
  }
  return Philox4{{c0, c1, c2, c3}};
}

struct DropoutKey {
  uint64_t seed;
  uint32_t step;
  uint32_t site;
};

inline uint32_t dropout_threshold(double p) {
  double t = p * 16777216.0;
  uint32_t ti = (uint32_t)t;
  return (double)ti < t ? ti + 1 : ti;  // ceil without <cmath>
}

// Keep flag of element i of the mask identified by key.
inline bool dropout_keep(const DropoutKey& key, uint32_t threshold, uint64_t i) {
  Philox4 w = philox4x32_10((uint32_t)(i >> 2), 0u, key.step, key.site, (uint32_t)key.seed, (uint32_t)(key.seed >> 32));
  return (w.v[i & 3] >> 8) >= threshold;
}

}  // namespace ft
