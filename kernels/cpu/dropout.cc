#include "dropout.h"

#include <immintrin.h>

#include "dispatch.h"

// GCC 12's _mm512_undefined_* (inside the shift and multiply intrinsics) trips -Wmaybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ft {
namespace {

// Scalar path: one Philox block yields the words of 4 consecutive elements [4·blk, 4·blk + 4).
template <bool Accumulate>
void apply_blocks_scalar(const float* x, float* y, int64_t n, int64_t b0, int64_t b1, uint32_t threshold, float scale,
                         const DropoutKey& key) {
  const uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  for (int64_t blk = b0; blk < b1; ++blk) {
    const Philox4 w = philox4x32_10((uint32_t)blk, 0u, key.step, key.site, k0, k1);
    const int64_t base = blk * 4;
    for (int l = 0; l < 4 && base + l < n; ++l) {
      const int64_t i = base + l;
      const float v = (w.v[l] >> 8) >= threshold ? x[i] * scale : 0.0f;
      if (Accumulate) y[i] += v;
      else y[i] = v;
    }
  }
}

// AVX-512 path: 16 Philox blocks at once (one per lane), i.e. 64 elements. The 32×32 → 64-bit products use
// vpmuludq on the even and the odd lanes; the four output words become per-element keep bits by interleaving
// their lane masks with pdep. Same words, same comparisons, same x·scale: bit-identical to the scalar path.
#define FT_TARGET_AVX512_BMI2 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,bmi2")))

FT_TARGET_AVX512_BMI2 inline __attribute__((always_inline)) void mul_hilo(__m512i a, __m512i m, __m512i* hi,
                                                                          __m512i* lo) {
  const __m512i even = _mm512_mul_epu32(a, m);                                             // lanes 0, 2, ...
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(m, 32));  // lanes 1, 3, ...
  // lo: low halves (even's low dword in even lanes, odd's low dword moved up); hi: high halves.
  *lo = _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
  *hi = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

// Keep bits of the 64 elements of Philox blocks [blk, blk + 16): bit e is element 4·blk + e.
FT_TARGET_AVX512_BMI2 inline __attribute__((always_inline)) uint64_t keep_bits_16(uint32_t blk, __m512i thr,
                                                                                  const DropoutKey& key) {
  const __m512i M0 = _mm512_set1_epi32((int)0xD2511F53u), M1 = _mm512_set1_epi32((int)0xCD9E8D57u);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Counters wrap at 2^32 as the scalar path's (uint32_t) block index does.
  __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32((int)blk), lane);
  __m512i c1 = _mm512_setzero_si512();
  __m512i c2 = _mm512_set1_epi32((int)key.step), c3 = _mm512_set1_epi32((int)key.site);
  uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    __m512i hi0, lo0, hi1, lo1;
    mul_hilo(c0, M0, &hi0, &lo0);
    mul_hilo(c2, M1, &hi1, &lo1);
    const __m512i y0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32((int)k0));
    const __m512i y2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32((int)k1));
    c0 = y0; c1 = lo1; c2 = y2; c3 = lo0;
  }
  const uint64_t k0m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(c0, 8), thr);
  const uint64_t k1m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(c1, 8), thr);
  const uint64_t k2m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(c2, 8), thr);
  const uint64_t k3m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(c3, 8), thr);
  return _pdep_u64(k0m, 0x1111111111111111ull) | _pdep_u64(k1m, 0x2222222222222222ull) |
         _pdep_u64(k2m, 0x4444444444444444ull) | _pdep_u64(k3m, 0x8888888888888888ull);
}

template <bool Accumulate>
FT_TARGET_AVX512_BMI2 void apply_blocks_avx512(const float* x, float* y, int64_t n, int64_t b0, int64_t b1,
                                               uint32_t threshold, float scale, const DropoutKey& key) {
  const __m512i thr = _mm512_set1_epi32((int)threshold);
  const __m512 sc = _mm512_set1_ps(scale);
  int64_t blk = b0;
  // Full groups of 16 blocks whose 64 elements all lie inside [0, n).
  for (; blk + 16 <= b1 && (blk + 16) * 4 <= n; blk += 16) {
    const uint64_t keep = keep_bits_16((uint32_t)blk, thr, key);
    const int64_t base = blk * 4;
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const __mmask16 km = (__mmask16)(keep >> (16 * q));
      const __m512 v = _mm512_maskz_mul_ps(km, _mm512_loadu_ps(x + base + 16 * q), sc);
      float* out = y + base + 16 * q;
      _mm512_storeu_ps(out, Accumulate ? _mm512_add_ps(_mm512_loadu_ps(out), v) : v);
    }
  }
  if (blk < b1) apply_blocks_scalar<Accumulate>(x, y, n, blk, b1, threshold, scale, key);
}

// mult[c] = keep(base + c) ? kept : 0 for c < n, from any start (attention rows begin anywhere in the mask).
// Each step takes the 16 blocks from the block of the current element: up to 64 elements per Philox batch,
// fewer at the row's ends (a row of 31 costs one batch where the scalar path runs 8 or 9 blocks).
FT_TARGET_AVX512_BMI2 void multipliers_avx512(const DropoutKey& key, uint32_t threshold, float kept, uint64_t base,
                                              int64_t n, float* mult) {
  const __m512i thr = _mm512_set1_epi32((int)threshold);
  const __m512 kv = _mm512_set1_ps(kept);
  int64_t c = 0;
  uint64_t idx = base;
  while (c < n) {
    const int first = (int)(idx & 3);  // bit of element idx in the batch
    const uint64_t keep = keep_bits_16((uint32_t)(idx >> 2), thr, key) >> first;
    const int64_t take = (64 - first) < (n - c) ? (64 - first) : (n - c);
    for (int64_t q = 0; q < take; q += 16) {
      const int64_t left = take - q;
      const __mmask16 valid = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
      _mm512_mask_storeu_ps(mult + c + q, valid, _mm512_maskz_mov_ps((__mmask16)(keep >> q), kv));
    }
    c += take;
    idx += (uint64_t)take;
  }
}

bool has_bmi2() {
  __builtin_cpu_init();
  static const bool ok = __builtin_cpu_supports("bmi2");
  return ok;
}

template <bool Accumulate>
void apply(const float* x, float* y, int64_t n, double p, const DropoutKey& key) {
  const uint32_t threshold = dropout_threshold(p);
  const float scale = (float)(1.0 / (1.0 - p));
  const int64_t blocks = (n + 3) / 4;
  const bool vec = active_isa() == Isa::Avx512 && has_bmi2();
  parallel_grain(blocks, 4096, [&](int64_t b0, int64_t b1) {
    if (vec) apply_blocks_avx512<Accumulate>(x, y, n, b0, b1, threshold, scale, key);
    else apply_blocks_scalar<Accumulate>(x, y, n, b0, b1, threshold, scale, key);
  });
}

}  // namespace

void dropout_multipliers(const DropoutKey& key, uint32_t threshold, float kept, uint64_t base, int64_t n, float* mult) {
  if (active_isa() == Isa::Avx512 && has_bmi2()) {
    multipliers_avx512(key, threshold, kept, base, n, mult);
    return;
  }
  const uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  uint64_t idx = base;
  int64_t c = 0;
  while (c < n) {
    const Philox4 w = philox4x32_10((uint32_t)(idx >> 2), 0u, key.step, key.site, k0, k1);
    for (unsigned lane = (unsigned)(idx & 3); lane < 4 && c < n; ++lane, ++c, ++idx) {
      mult[c] = (w.v[lane] >> 8) >= threshold ? kept : 0.f;
    }
  }
}

void dropout_forward(const float* x, float* y, int64_t n, double p, const DropoutKey& key) {
  apply<false>(x, y, n, p, key);
}

void dropout_backward(const float* dy, float* dx, int64_t n, double p, const DropoutKey& key) {
  // The backward is the same mask and scale: dx = dy·mask/(1 − p), overwritten like the activations' backward.
  apply<false>(dy, dx, n, p, key);
}

}  // namespace ft
