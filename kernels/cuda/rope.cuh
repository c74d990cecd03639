// The RoPE table both attention kernel families read (attention.cu builds it once per (S, d) and keeps it, in
// double, so that no kernel does trigonometry): (cos, sin) of pos·10000^(−2·pair/(d/2)) at tab[2·(pos·(d/4) + pair)].
#pragma once
#include "launch.h"

namespace ftc {

__device__ __forceinline__ void rope_cs(const float* __restrict__ tab, int pos, int pair, int d, float* c, float* s) {
  const int e = pos * (d / 4) + pair;
  *c = tab[2 * e];
  *s = tab[2 * e + 1];
}

// (x0, x1), features 2·pair and 2·pair + 1 of position pos, rotated in place when the pair is one RoPE turns
// (pair < d/4).
__device__ __forceinline__ void rope_rotate(const float* __restrict__ tab, int pos, int pair, int d, float* x0, float* x1) {
  if (pair >= d / 4) return;
  float c, s;
  rope_cs(tab, pos, pair, d, &c, &s);
  const float y0 = *x0 * c - *x1 * s, y1 = *x1 * c + *x0 * s;
  *x0 = y0;
  *x1 = y1;
}

}  // namespace ftc
