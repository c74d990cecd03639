// The RoPE table both attention kernel families read (attention.cu builds it once per call, in double, so that
// no kernel does trigonometry): (cos, sin) of pos·10000^(−2·pair/(d/2)) at tab[2·(pos·(d/4) + pair)].
#pragma once
#include "launch.h"

namespace ftc {

__device__ __forceinline__ void rope_cs(const float* __restrict__ tab, int pos, int pair, int d, float* c, float* s) {
  const int e = pos * (d / 4) + pair;
  *c = tab[2 * e];
  *s = tab[2 * e + 1];
}

}  // namespace ftc
