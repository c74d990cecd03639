// Helpers shared by the CPU kernels: ISA multi-versioning of a loop body and grain-aware parallel loops.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

#include "isa.h"
#include "parallel.h"

// Defines name##_avx512 / name##_avx2 / name##_base wrappers around `name##_body` (an FT_INLINE_BODY
// function written once in plain C++) and name##_dispatch, which calls the one for ft::active_isa().
// Inlining the body into each target-attributed wrapper lets the vectoriser compile it for that ISA.
#define FT_MULTI_ISA(name, params, args)                                   \
  FT_TARGET_AVX512 static void name##_avx512 params { name##_body args; } \
  FT_TARGET_AVX2 static void name##_avx2 params { name##_body args; }     \
  static void name##_base params { name##_body args; }                     \
  static void name##_dispatch params {                                     \
    switch (::ft::active_isa()) {                                          \
      case ::ft::Isa::Avx512: name##_avx512 args; return;                  \
      case ::ft::Isa::Avx2: name##_avx2 args; return;                      \
      default: name##_base args; return;                                   \
    }                                                                      \
  }

// Marks a lambda passed to an FT_INLINE_BODY helper: inlined with it into each ISA wrapper (a lambda is a
// function of its own, compiled for the baseline unless it is inlined).
#define FT_INLINE_LAMBDA __attribute__((always_inline))

namespace ft {

// parallel_for when there is enough work (grain = units per thread worth waking the pool for), else inline.
inline void parallel_grain(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n < 2 * grain || num_threads() <= 1) fn(0, n);
  else parallel_for(n, fn);
}

// Σ (x[i] - center)² and Σ x[i] in double with 8 independent lanes (sum_sq_d: Lanes), vectorisable without
// reassociation and in the same order on every ISA, so results do not depend on the path taken. center = 0
// gives Σ x[i]² exactly (x - 0 is x in double). Lane l takes the elements i ≡ l mod Lanes; 8 are one vector of
// doubles, one chain of dependent adds, which long sums outrun (see optim.cc's sum of squares).
template <int Lanes = 8>
FT_INLINE_BODY double sum_sq_d(const float* x, int64_t n, double center = 0.0) {
  double acc[Lanes] = {};
  int64_t i = 0;
  for (; i + Lanes <= n; i += Lanes)
    for (int l = 0; l < Lanes; ++l) {
      const double d = (double)x[i + l] - center;
      acc[l] += d * d;
    }
  double s = 0;
  for (; i < n; ++i) s += ((double)x[i] - center) * ((double)x[i] - center);
  for (int l = 0; l < Lanes; ++l) s += acc[l];
  return s;
}

FT_INLINE_BODY double sum_d(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += (double)x[i + l];
  double s = 0;
  for (; i < n; ++i) s += (double)x[i];
  for (int l = 0; l < 8; ++l) s += acc[l];
  return s;
}

// out[j] += Σ_r f(r, j) for columns [c0, c1): f(r, cb, w, acc) adds row r's terms of columns [cb, cb + w) into
// acc[0, w); each column is summed in double down the rows in order, so the result depends neither on the ISA
// nor on how the columns are split between threads.
template <class F>
FT_INLINE_BODY void column_reduce(int64_t N, int64_t c0, int64_t c1, float* out, F f) {
  constexpr int64_t CB = 512;
  double acc[CB];
  for (int64_t cb = c0; cb < c1; cb += CB) {
    const int64_t w = std::min(CB, c1 - cb);
    for (int64_t j = 0; j < w; ++j) acc[j] = 0.0;
    for (int64_t r = 0; r < N; ++r) f(r, cb, w, acc);
    for (int64_t j = 0; j < w; ++j) out[cb + j] += (float)acc[j];
  }
}

}  // namespace ft
