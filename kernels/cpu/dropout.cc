#include "dropout.h"

#include <immintrin.h>

#include <cstring>

#include "dispatch.h"

// GCC 12's _mm512_undefined_* (inside the shift and multiply intrinsics) trips -Wmaybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ft {
namespace {

// y = drop(x), or with Add y = a + drop(x) (the residual add after a dropout, in the same pass), over the
// elements of Philox blocks [b0, b1). drop(x) = keep ? x·scale : +0.
// Scalar path: one Philox block yields the words of 4 consecutive elements [4·blk, 4·blk + 4).
template <bool Add>
void apply_blocks_scalar(const float* x, const float* a, float* y, int64_t n, int64_t b0, int64_t b1, uint32_t threshold,
                         float scale, const DropoutKey& key) {
  const uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  for (int64_t blk = b0; blk < b1; ++blk) {
    const Philox4 w = philox4x32_10((uint32_t)blk, 0u, key.step, key.site, k0, k1);
    const int64_t base = blk * 4;
    for (int l = 0; l < 4 && base + l < n; ++l) {
      const int64_t i = base + l;
      const float v = (w.v[l] >> 8) >= threshold ? x[i] * scale : 0.0f;
      if (Add) y[i] = a[i] + v;
      else y[i] = v;
    }
  }
}

// AVX-512 path: 16 Philox blocks at once, i.e. 64 elements. Each block's four words live in the low dwords of
// 64-bit lanes (two registers of 8 blocks per word), so one vpmuludq yields a round's whole 64-bit product: its
// low dword is the lo word as it stands and a shift brings down the hi word; the xor of three terms is one
// vpternlogd. The high dwords carry leftovers that nothing reads (vpmuludq reads low dwords only, and the
// words are taken from the low dwords at the end). Per round and 8 blocks: 2 multiplies, 2 shifts, 2 ternary
// xors (6 operations), against 8 when 16 blocks sat in 32-bit lanes: a multiply for the even and one for the
// odd lanes of each product, shifts to line them up, two blends to put the halves back, two xors per sum.
// Measured (Zen 5, both forms alternated in one process, results bit-identical on 20,000 random keys, bases
// and lengths, the 2^32 counter wrap included): 1M attention multipliers 0.47 -> 0.33 ms on one thread;
// dropout over [992, 2048] 0.53 -> 0.43 ms in cache on 2 threads (even with the cache flushed: then memory
// bound); attention fwd+bwd with dropout 0.1 2-5% faster (B = 32, S = 31; B = 8, S = 257).
// The four output words become per-element keep bits by interleaving their lane masks with pdep. Same words,
// same comparisons, same x·scale: bit-identical to the scalar path.
#define FT_TARGET_AVX512_BMI2 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,bmi2")))

// Keep bits of the 64 elements of Philox blocks [blk, blk + 16): bit e is element 4·blk + e.
FT_TARGET_AVX512_BMI2 inline __attribute__((always_inline)) uint64_t keep_bits_16(uint32_t blk, __m512i thr,
                                                                                  const DropoutKey& key) {
  const __m512i M0 = _mm512_set1_epi64(0xD2511F53), M1 = _mm512_set1_epi64(0xCD9E8D57);
  // Counters wrap at 2^32 as the scalar path's (uint32_t) block index does (a 32-bit add on the low dwords).
  const __m512i start = _mm512_set1_epi32((int)blk);
  __m512i a0 = _mm512_add_epi32(start, _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));   // blocks blk + 0..7
  __m512i b0 = _mm512_add_epi32(start, _mm512_setr_epi64(8, 9, 10, 11, 12, 13, 14, 15));  // blk + 8..15
  __m512i a1 = _mm512_setzero_si512(), b1 = a1;
  __m512i a2 = _mm512_set1_epi32((int)key.step), b2 = a2;
  __m512i a3 = _mm512_set1_epi32((int)key.site), b3 = a3;
  uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    const __m512i kk0 = _mm512_set1_epi32((int)k0), kk1 = _mm512_set1_epi32((int)k1);
    const __m512i pa0 = _mm512_mul_epu32(a0, M0), pa1 = _mm512_mul_epu32(a2, M1);
    const __m512i pb0 = _mm512_mul_epu32(b0, M0), pb1 = _mm512_mul_epu32(b2, M1);
    // c0 = hi1 ^ c1 ^ k0, c2 = hi0 ^ c3 ^ k1, c1 = lo1, c3 = lo0 (0x96: the xor of the three operands).
    a0 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pa1, 32), a1, kk0, 0x96);
    a2 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pa0, 32), a3, kk1, 0x96);
    b0 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pb1, 32), b1, kk0, 0x96);
    b2 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pb0, 32), b3, kk1, 0x96);
    a1 = pa1; a3 = pa0; b1 = pb1; b3 = pb0;
  }
  // The low dwords of a (blocks 0..7) then b (8..15), in block order.
  const __m512i low = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const uint64_t k0m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(_mm512_permutex2var_epi32(a0, low, b0), 8), thr);
  const uint64_t k1m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(_mm512_permutex2var_epi32(a1, low, b1), 8), thr);
  const uint64_t k2m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(_mm512_permutex2var_epi32(a2, low, b2), 8), thr);
  const uint64_t k3m = _mm512_cmpge_epu32_mask(_mm512_srli_epi32(_mm512_permutex2var_epi32(a3, low, b3), 8), thr);
  return _pdep_u64(k0m, 0x1111111111111111ull) | _pdep_u64(k1m, 0x2222222222222222ull) |
         _pdep_u64(k2m, 0x4444444444444444ull) | _pdep_u64(k3m, 0x8888888888888888ull);
}

template <bool Add>
FT_TARGET_AVX512_BMI2 void apply_blocks_avx512(const float* x, const float* a, float* y, int64_t n, int64_t b0,
                                               int64_t b1, uint32_t threshold, float scale, const DropoutKey& key) {
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
      _mm512_storeu_ps(y + base + 16 * q, Add ? _mm512_add_ps(_mm512_loadu_ps(a + base + 16 * q), v) : v);
    }
  }
  if (blk < b1) apply_blocks_scalar<Add>(x, a, y, n, blk, b1, threshold, scale, key);
}

// AVX2 path: 8 Philox blocks at once, i.e. 32 elements, for CPUs without AVX-512 (the attention dropout mask
// and the activation dropout otherwise ran the scalar rounds: on an AMD EPYC Zen 3, attention dropout 0.1
// doubled the forward at S = 257). The same lane layout as the AVX-512 path: each block's words in the low
// dwords of 64-bit lanes, four blocks per register, so vpmuludq gives a round's product whole. AVX2 has no
// ternary logic (two xors) and no unsigned compare: (word >> 8) < 2^24 and threshold <= 2^24, so the signed
// (word >> 8) > threshold - 1 is the same test. No pdep either (microcoded, hundreds of cycles, on Zen 1 and 2):
// the four words go to element order by shuffles (words_in_order). Same words, same comparisons, same x·scale:
// bit-identical to the scalar path (test/native/attention_test.cc checks every ISA path against dropout_keep).
// Measured against the scalar rounds (AMD EPYC Zen 3, 2 cores, builds alternated): attention fwd+bwd with
// dropout 0.1 at B = 8, S = 257 (probabilities recomputed) 40.9 and 46.3 -> 28.8 and 23.9 ms (without dropout
// 20-25 ms); the 19m step at B = 32 with the model's dropout 0.1 (`fairtune profile --dropout 0.1 --ops`, three
// alternations) 961-1144 -> 906-1023 ms, its dropout family 97-102 -> 22-25 ms and attention fwd 10-12 -> 8-9 ms.
#define FT_TARGET_AVX2_ONLY __attribute__((target("avx2,fma")))

// Four blocks' words (low dwords of w0..w3, block b in 64-bit lane b) to element order as keep masks: words 0
// and 1 (and 2 and 3) of each block side by side in a 64-bit lane, then per 128-bit half the two pairs of one
// block, then the halves to block order. o[0] = blocks 0 and 1, o[1] = blocks 2 and 3.
FT_TARGET_AVX2_ONLY inline __attribute__((always_inline)) void words_in_order(__m256i w0, __m256i w1, __m256i w2,
                                                                              __m256i w3, __m256i thr_minus_1,
                                                                              __m256i* o) {
  const __m256i t01 = _mm256_blend_epi32(w0, _mm256_slli_epi64(w1, 32), 0xAA);
  const __m256i t23 = _mm256_blend_epi32(w2, _mm256_slli_epi64(w3, 32), 0xAA);
  const __m256i lo = _mm256_unpacklo_epi64(t01, t23), hi = _mm256_unpackhi_epi64(t01, t23);  // blocks 0,2 / 1,3
  const __m256i e0 = _mm256_permute2x128_si256(lo, hi, 0x20), e1 = _mm256_permute2x128_si256(lo, hi, 0x31);
  o[0] = _mm256_cmpgt_epi32(_mm256_srli_epi32(e0, 8), thr_minus_1);
  o[1] = _mm256_cmpgt_epi32(_mm256_srli_epi32(e1, 8), thr_minus_1);
}

// Keep masks (all ones: kept) of the 32 elements of Philox blocks [blk, blk + 8), in element order: out[q]
// holds elements 4·blk + 8q .. 4·blk + 8q + 7.
FT_TARGET_AVX2_ONLY inline __attribute__((always_inline)) void keep_masks_8(uint32_t blk, __m256i thr_minus_1,
                                                                            const DropoutKey& key, __m256i out[4]) {
  const __m256i M0 = _mm256_set1_epi64x(0xD2511F53), M1 = _mm256_set1_epi64x(0xCD9E8D57);
  // Counters wrap at 2^32 as the scalar path's (uint32_t) block index does (a 32-bit add on the low dwords).
  const __m256i start = _mm256_set1_epi32((int)blk);
  __m256i a0 = _mm256_add_epi32(start, _mm256_setr_epi64x(0, 1, 2, 3));  // blocks blk + 0..3
  __m256i b0 = _mm256_add_epi32(start, _mm256_setr_epi64x(4, 5, 6, 7));  // blk + 4..7
  __m256i a1 = _mm256_setzero_si256(), b1 = a1;
  __m256i a2 = _mm256_set1_epi32((int)key.step), b2 = a2;
  __m256i a3 = _mm256_set1_epi32((int)key.site), b3 = a3;
  uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    const __m256i kk0 = _mm256_set1_epi32((int)k0), kk1 = _mm256_set1_epi32((int)k1);
    const __m256i pa0 = _mm256_mul_epu32(a0, M0), pa1 = _mm256_mul_epu32(a2, M1);
    const __m256i pb0 = _mm256_mul_epu32(b0, M0), pb1 = _mm256_mul_epu32(b2, M1);
    // c0 = hi1 ^ c1 ^ k0, c2 = hi0 ^ c3 ^ k1, c1 = lo1, c3 = lo0.
    a0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa1, 32), a1), kk0);
    a2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa0, 32), a3), kk1);
    b0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb1, 32), b1), kk0);
    b2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb0, 32), b3), kk1);
    a1 = pa1; a3 = pa0; b1 = pb1; b3 = pb0;
  }
  words_in_order(a0, a1, a2, a3, thr_minus_1, out);
  words_in_order(b0, b1, b2, b3, thr_minus_1, out + 2);
}

template <bool Add>
FT_TARGET_AVX2_ONLY void apply_blocks_avx2(const float* x, const float* a, float* y, int64_t n, int64_t b0, int64_t b1,
                                           uint32_t threshold, float scale, const DropoutKey& key) {
  const __m256i thr = _mm256_set1_epi32((int)threshold - 1);
  const __m256 sc = _mm256_set1_ps(scale);
  int64_t blk = b0;
  // Full groups of 8 blocks whose 32 elements all lie inside [0, n).
  for (; blk + 8 <= b1 && (blk + 8) * 4 <= n; blk += 8) {
    __m256i keep[4];
    keep_masks_8((uint32_t)blk, thr, key, keep);
    const int64_t base = blk * 4;
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      // A dropped element is +0 (the mask clears x·scale's bits), as the scalar path's 0.0f.
      const __m256 v = _mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(x + base + 8 * q), sc), _mm256_castsi256_ps(keep[q]));
      _mm256_storeu_ps(y + base + 8 * q, Add ? _mm256_add_ps(_mm256_loadu_ps(a + base + 8 * q), v) : v);
    }
  }
  if (blk < b1) apply_blocks_scalar<Add>(x, a, y, n, blk, b1, threshold, scale, key);
}

// As multipliers_avx512, 32 elements per batch: a batch starts at the block of the current element.
FT_TARGET_AVX2_ONLY void multipliers_avx2(const DropoutKey& key, uint32_t threshold, float kept, uint64_t base,
                                          int64_t n, float* mult) {
  const __m256i thr = _mm256_set1_epi32((int)threshold - 1);
  const __m256 kv = _mm256_set1_ps(kept);
  alignas(32) float batch[32];
  int64_t c = 0;
  uint64_t idx = base;
  while (c < n) {
    const int first = (int)(idx & 3);  // element idx's place in the batch
    __m256i keep[4];
    keep_masks_8((uint32_t)(idx >> 2), thr, key, keep);
    const int64_t take = (32 - first) < (n - c) ? (32 - first) : (n - c);
    if (first == 0 && take == 32) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) _mm256_storeu_ps(mult + c + 8 * q, _mm256_and_ps(kv, _mm256_castsi256_ps(keep[q])));
    } else {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) _mm256_store_ps(batch + 8 * q, _mm256_and_ps(kv, _mm256_castsi256_ps(keep[q])));
      std::memcpy(mult + c, batch + first, (size_t)take * sizeof(float));
    }
    c += take;
    idx += (uint64_t)take;
  }
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

template <bool Add>
void apply(const float* x, const float* a, float* y, int64_t n, double p, const DropoutKey& key) {
  const uint32_t threshold = dropout_threshold(p);
  const float scale = (float)(1.0 / (1.0 - p));
  const int64_t blocks = (n + 3) / 4;
  const bool vec512 = active_isa() == Isa::Avx512 && has_bmi2(), vec256 = !vec512 && active_isa() >= Isa::Avx2;
  parallel_grain(blocks, 4096, [&](int64_t b0, int64_t b1) {
    if (vec512) apply_blocks_avx512<Add>(x, a, y, n, b0, b1, threshold, scale, key);
    else if (vec256) apply_blocks_avx2<Add>(x, a, y, n, b0, b1, threshold, scale, key);
    else apply_blocks_scalar<Add>(x, a, y, n, b0, b1, threshold, scale, key);
  });
}

}  // namespace

void dropout_multipliers(const DropoutKey& key, uint32_t threshold, float kept, uint64_t base, int64_t n, float* mult) {
  if (active_isa() == Isa::Avx512 && has_bmi2()) {
    multipliers_avx512(key, threshold, kept, base, n, mult);
    return;
  }
  if (active_isa() >= Isa::Avx2) {
    multipliers_avx2(key, threshold, kept, base, n, mult);
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
  apply<false>(x, nullptr, y, n, p, key);
}

void dropout_backward(const float* dy, float* dx, int64_t n, double p, const DropoutKey& key) {
  // The backward is the same mask and scale: dx = dy·mask/(1 − p), overwritten like the activations' backward.
  apply<false>(dy, nullptr, dx, n, p, key);
}

void dropout_add_forward(const float* a, const float* x, float* y, int64_t n, double p, const DropoutKey& key) {
  apply<true>(x, a, y, n, p, key);
}

}  // namespace ft
