// Internals shared by the GEMM sources (gemm.cc: driver, fp32 kernels and packers; gemm_bf16.cc: the bf16
// kernels and packers, AVX512_BF16 and AMX). Not part of the kernel API: include gemm.h for that.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm.h"
#include "isa.h"

#define FT_TARGET_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
#define FT_TARGET_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace ft {
namespace gemm_detail {

// What the store of a product's last KC block applies to the finished values, in registers: the ReLU
// (C > 0 ? C : 0, NaN becomes 0), then the gate (gate > 0 ? C : 0, a NaN gate gives 0; the gate's rows have
// C's stride and offsets), then the addend. Applied there rather than in a pass over C afterwards, which read
// C back from L2 and the gate from memory with nothing to overlap them: 19% of linear1's forward product and
// 28% of linear2's dx in bf16 mode (Zen 5), 4% and 12% in fp32.
struct Epilogue {
  bool relu = false;
  const float* gate = nullptr;
  // Where the gate passes, C times this (gate > 0 ? C·gate_scale : 0): dropout's 1/(1 − p) when the gate is
  // a dropout's output (see gemm.h). ×1 is exact, so the default changes nothing.
  float gate_scale = 1.0f;
  // Last, C = addend + C (the residual add of a pre-norm block: linear's residual; rows laid out as C's). In
  // the store, the finished value and the residual meet in registers: the separate add pass read the product
  // back from memory with nothing to overlap it.
  const float* addend = nullptr;
};

// Micro-kernel contract: Ap holds an MR × kc micro-panel, Bp a kc × NR micro-panel (both zero-padded, in the
// layout of their packer). It writes the valid mr × nr corner of C: C = acc (+ bias) when load_c is false,
// C += acc (+ bias) when true, then applies ep (null: nothing). bias (nr values) may be null. kc counts k
// steps of the packed format (bf16: pairs of k).
using MicroKernel = void (*)(int64_t kc, const void* Ap, const void* Bp, float* C, int64_t ldc, int mr, int nr,
                             bool load_c, const float* bias, const Epilogue* ep);

// Packers of operands whose k rows are a whole source row apart (row-major B, column-major A) request the row
// this many ahead in software: with the model's rows 2-12 KiB apart each row is in a page of its own, where the
// hardware prefetchers do not follow (measurements at the packers, gemm.cc and gemm_bf16.cc).
constexpr int64_t kPackPrefetchRows = 16;

// Packer contract: packs the micro-panel of rows (A) or columns (B) [r0, r0 + R) of an operand with that many
// rows / columns in total (extent), k range [p0, p0 + kc), into out in the layout its kernel reads.
using PackFn = void (*)(const Matrix& M, int64_t extent, int64_t r0, int64_t p0, int64_t kc, int R, void* out);

template <int MR>
FT_TARGET_AVX512 inline __attribute__((always_inline)) void store_rows_avx512(const __m512* c0, const __m512* c1,
                                                                             float* C, int64_t ldc, int mr, int nr,
                                                                             bool load_c, const float* bias,
                                                                             const Epilogue* ep) {
  const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
  __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
  if (bias) {
    bias0 = _mm512_maskz_loadu_ps(m0, bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* row = C + i * ldc;
    __m512 r0 = _mm512_add_ps(c0[i], bias0), r1 = _mm512_add_ps(c1[i], bias1);
    if (load_c) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, row));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    if (ep) {
      const __m512 zero = _mm512_setzero_ps();
      if (ep->relu) {
        r0 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r0, zero, _CMP_GT_OQ), r0);
        r1 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r1, zero, _CMP_GT_OQ), r1);
      }
      if (ep->gate) {
        const float* g = ep->gate + i * ldc;
        const __m512 s = _mm512_set1_ps(ep->gate_scale);
        r0 = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m0, g), zero, _CMP_GT_OQ), r0, s);
        r1 = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m1, g + 16), zero, _CMP_GT_OQ), r1, s);
      }
      if (ep->addend) {
        const float* a = ep->addend + i * ldc;
        r0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, a), r0);
        r1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, a + 16), r1);
      }
    }
    _mm512_mask_storeu_ps(row, m0, r0);
    _mm512_mask_storeu_ps(row + 16, m1, r1);
  }
}

// The C tile (mr rows of 128 bytes) is read or written only after the whole k loop, and with a gate the gate's
// rows too: fetching them during the loop, C with write intent, hides their cache misses behind the FMAs (they
// are often cold: gradients, fresh activations, the forward's ReLU outputs).
inline __attribute__((always_inline)) void prefetch_tile_row(float* C, const Epilogue* ep, int64_t ldc, int64_t i) {
  __builtin_prefetch(C + i * ldc, 1, 3);
  __builtin_prefetch(C + i * ldc + 16, 1, 3);
  if (ep && ep->gate) {
    __builtin_prefetch(ep->gate + i * ldc, 0, 3);
    __builtin_prefetch(ep->gate + i * ldc + 16, 0, 3);
  }
  if (ep && ep->addend) {
    __builtin_prefetch(ep->addend + i * ldc, 0, 3);
    __builtin_prefetch(ep->addend + i * ldc + 16, 0, 3);
  }
}

// Rows [i0, mr) at once (the rows a short k loop's schedule does not reach).
inline __attribute__((always_inline)) void prefetch_tile_rows(float* C, const Epilogue* ep, int64_t ldc, int64_t i0,
                                                             int mr) {
  for (int64_t i = i0; i < mr; ++i) prefetch_tile_row(C, ep, ldc, i);
}

// The AVX-512 kernels (fp32 and AVX512_BF16) spread the requests over the k loop: row i at k step
// i·kTileRowPrefetchSteps, so a 14-row tile has them all in flight by step 112 of its 256-1024. Requested all at
// once before the loop, the 28 lines of C and the 28 of the gate queued behind one another at the start of
// every call, more misses than the core keeps in flight, and the kernel waited for them (AMX likewise:
// gemm_bf16.cc). Measured (AMD EPYC Zen 5, 2 cores, N = 992, caches flushed before each call, both
// builds alternated in one process, results bit-identical): the 19m linear2 dx with its ReLU gate 3.32 -> 3.01 ms
// in bf16 mode (9.5%), 6.06 -> 5.59 ms in fp32 (7.7%); linear1's forward with bias and ReLU 3% in both; the other
// forward, dx and dW products of the 19m, 85m, 345m and 1b layers even or up to 2.6% faster, none slower beyond
// the host's noise. Every 16 steps measured like every 8.
constexpr int kTileRowPrefetchShift = 3;
constexpr int64_t kTileRowPrefetchSteps = int64_t{1} << kTileRowPrefetchShift;

// Before the k loop of ksteps steps: the rows its schedule does not reach (a short last KC block).
inline __attribute__((always_inline)) void prefetch_tile_rows_unscheduled(float* C, const Epilogue* ep, int64_t ldc,
                                                                         int mr, int64_t ksteps) {
  prefetch_tile_rows(C, ep, ldc, (ksteps + kTileRowPrefetchSteps - 1) >> kTileRowPrefetchShift, mr);
}

// At k step p of the loop (the kernels call it at every multiple of kTileRowPrefetchSteps): its row, if any.
inline __attribute__((always_inline)) void prefetch_tile_row_at(float* C, const Epilogue* ep, int64_t ldc, int mr,
                                                               int64_t p) {
  const int64_t i = p >> kTileRowPrefetchShift;
  if (i < mr) prefetch_tile_row(C, ep, ldc, i);
}

inline float a_at(const Matrix& A, int64_t i, int64_t p) { return A.data[i * A.row_stride + p * A.col_stride]; }

// GCC 12's _mm512_undefined_ps() (inside the unpack/shuffle intrinsics) trips -Wmaybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Transposes 16 rows of 16 floats held in r[] in place (r[j] becomes column j).
FT_TARGET_AVX512 inline __attribute__((always_inline)) void transpose16(__m512* r) {
  __m512 t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // u[4g + c], 128-bit lane L: rows 4g..4g+3 of column 4L + c.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44), w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}
#pragma GCC diagnostic pop

// fp32 → bf16 as vcvtne2ps2bf16 does it: round to nearest even, NaN stays a (quiet) NaN, denormal inputs
// count as zero; so the scalar packers (strided operands only) round exactly like the vector ones.
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40);
  if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
// ---- gemm_bf16.cc ----
// AVX512_BF16 present (CPUID; the OS state is that of AVX-512).
bool cpu_has_bf16();
// AMX-BF16 present and the tile state granted by the OS (requested once per process).
bool amx_usable();
// 14 × 32 tile with vdpbf16ps; A and B in the pair layout of the two packers below (steps of one k pair).
void kernel_avx512_bf16_14x32(int64_t kc2, const void* Ap, const void* Bp, float* C, int64_t ldc, int mr, int nr,
                              bool load_c, const float* bias, const Epilogue* ep);
void pack_a_bf16_avx512(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* out);
void pack_b_bf16_avx512(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* out);
// 32 × 32 tile on AMX (steps of 32 k values); its own A layout, B in the pair layout padded to whole steps.
void kernel_amx_bf16(int64_t steps, const void* Ap, const void* Bp, float* C, int64_t ldc, int mr, int nr,
                     bool load_c, const float* bias, const Epilogue* ep);
void pack_a_amx(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* out);
void pack_b_amx(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* out);

}  // namespace gemm_detail
}  // namespace ft
