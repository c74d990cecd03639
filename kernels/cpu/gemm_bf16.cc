// The bf16 GEMM kernels and packers (contract: gemm_internal.h; the blocking: gemm.cc). Inputs are rounded
// to bfloat16 (round to nearest even, as vcvtne2ps2bf16), k pairs are interleaved as 32-bit words, products
// are summed in fp32.
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "gemm_internal.h"

namespace ft {
namespace gemm_detail {
namespace {

// ---- AVX-512 BF16: the same register tile; one step consumes a k pair (A: MR pairs, B: 32 columns × pair) ----

template <int MR>
FT_TARGET_AVX512BF16 void kernel_avx512_bf16(int64_t kc2, const void* Apv, const void* Bpv, float* C, int64_t ldc,
                                            int mr, int nr, bool load_c, const float* bias, const Epilogue* ep) {
  const uint32_t* Ap = static_cast<const uint32_t*>(Apv);  // one bf16 pair per row and k pair
  const uint16_t* Bp = static_cast<const uint16_t*>(Bpv);  // 32 columns × 2 bf16 per k pair
  prefetch_tile_rows_unscheduled(C, ep, ldc, mr, kc2);
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  // k pairs in runs of kTileRowPrefetchSteps, each run starting with its row of C (and the gate).
  for (int64_t p0 = 0; p0 < kc2; p0 += kTileRowPrefetchSteps) {
    prefetch_tile_row_at(C, ep, ldc, mr, p0);
    for (int64_t p = p0, p1 = std::min(kc2, p0 + kTileRowPrefetchSteps); p < p1; ++p) {
      const __m512bh b0 = (__m512bh)_mm512_load_si512(Bp), b1 = (__m512bh)_mm512_load_si512(Bp + 32);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512bh a = (__m512bh)_mm512_set1_epi32((int)Ap[i]);
        c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
        c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
      }
      Ap += MR;
      Bp += 64;
    }
  }
  store_rows_avx512<MR>(c0, c1, C, ldc, mr, nr, load_c, bias, ep);
}

}  // namespace

void kernel_avx512_bf16_14x32(int64_t kc2, const void* Ap, const void* Bp, float* C, int64_t ldc, int mr, int nr,
                              bool load_c, const float* bias, const Epilogue* ep) {
  kernel_avx512_bf16<14>(kc2, Ap, Bp, C, ldc, mr, nr, load_c, bias, ep);
}

bool cpu_has_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  static const bool ok = __builtin_cpu_supports("avx512bf16");
  return ok;
#else
  return false;
#endif
}

namespace {

// bf16 A: for k pair q, row i: (A(i, 2q), A(i, 2q+1)) at dst[(q * MR + i) * 2 + {0, 1}].
void pack_a_bf16(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* outv) {
  uint16_t* dst = static_cast<uint16_t*>(outv);
  const int rows = (int)std::min<int64_t>(MR, m - i0);
  const int64_t kc2 = (kc + 1) / 2;
  for (int i = 0; i < MR; ++i) {
    for (int64_t q = 0; q < kc2; ++q) {
      uint16_t* d = dst + (q * MR + i) * 2;
      const int64_t p = 2 * q;
      d[0] = i < rows ? to_bf16(a_at(A, i0 + i, p0 + p)) : 0;
      d[1] = i < rows && p + 1 < kc ? to_bf16(a_at(A, i0 + i, p0 + p + 1)) : 0;
    }
  }
}

// bf16 B: for k pair q, column j: (B(2q, j), B(2q+1, j)) at dst[(q * NR + j) * 2 + {0, 1}].
void pack_b_bf16(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* outv) {
  uint16_t* dst = static_cast<uint16_t*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  const int64_t kc2 = (kc + 1) / 2;
  for (int64_t q = 0; q < kc2; ++q) {
    const int64_t p = 2 * q;
    for (int j = 0; j < NR; ++j) {
      uint16_t* d = dst + (q * NR + j) * 2;
      d[0] = j < cols ? to_bf16(B.data[(p0 + p) * B.row_stride + (j0 + j) * B.col_stride]) : 0;
      d[1] = j < cols && p + 1 < kc ? to_bf16(B.data[(p0 + p + 1) * B.row_stride + (j0 + j) * B.col_stride]) : 0;
    }
  }
}

// ---- AVX512_BF16 packers: convert with vcvtne2ps2bf16, then place the (k, k+1) pairs as 32-bit words ----

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// 32 floats of a row (w valid, the rest read as zero) → 16 words, word i = bf16 pair (x[2i], x[2i+1]).
FT_TARGET_AVX512BF16 inline __attribute__((always_inline)) __m512 cvt_pairs(const float* src, int64_t w) {
  const __mmask16 lo = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __mmask16 hi = w >= 32 ? (__mmask16)0xFFFF : w <= 16 ? (__mmask16)0 : (__mmask16)((1u << (w - 16)) - 1);
  const __m512 a = _mm512_maskz_loadu_ps(lo, src), b = _mm512_maskz_loadu_ps(hi, src + 16);
  return (__m512)_mm512_cvtne2ps_pbh(b, a);
}

// Operand whose k pairs are contiguous (row-major A, Bᵀ row-major): row r (< rows ≤ 16) at src + r·ld_src.
// Word (q·ld_dst + r) of dst = pair q of row r; lanes rows..width-1 are zeros.
// pad: also write the zero pairs that fill the last 32-value chunk (the AMX layout works in steps of 16 pairs).
FT_TARGET_AVX512BF16 void pair_transpose_strip(const float* src, int64_t ld_src, int rows, int64_t kc, uint32_t* dst,
                                               int64_t ld_dst, int width, bool pad = false) {
  const __mmask16 wmask = (__mmask16)((1u << width) - 1);
  __m512 r[16];
  for (int64_t p = 0; p < kc; p += 32) {
    const int64_t w = std::min<int64_t>(32, kc - p), nq = pad ? 16 : (w + 1) / 2;
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? cvt_pairs(src + i * ld_src + p, w) : _mm512_setzero_ps();
    transpose16(r);
    float* d = reinterpret_cast<float*>(dst + (p / 2) * ld_dst);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j)
      if (j < nq) _mm512_mask_storeu_ps(d + j * ld_dst, wmask, r[j]);
  }
}

// Operand whose columns are contiguous along the other index (col-major A, row-major B): k row p at
// src + p·ld_src, cols (≤ 16) values each. Word (q·ld_dst + c) of dst = (src[2q][c], src[2q+1][c]).
// qpad: the number of pairs to write (≥ ceil(kc / 2); pairs past kc are zeros).
// The rows are a whole row of the source matrix apart (2-8 KiB in the model's dW, whose operands are dyᵀ and
// the activations), and each contributes one or two cache lines: the hardware prefetchers did not keep up, and
// this packer took 17% of the 19m MLP's dW in bf16 mode (perf, Zen 5). So the rows kPackPrefetchRows ahead
// are requested in software. Measured (Zen 5, 2 cores, N = 992, builds alternated 4 times): dW at K, M = 512, 2048
// and 2048, 512 4-9% faster with the operands hot, and at 512, 2048 10% with the cache flushed before each
// call; 512² even; 8, 16 and 32 rows ahead were alike within the host's noise.
FT_TARGET_AVX512BF16 void pair_interleave_strip(const float* src, int64_t ld_src, int cols, int64_t kc, uint32_t* dst,
                                                int64_t ld_dst, int width, int64_t qpad = 0) {
  const __mmask16 wmask = (__mmask16)((1u << width) - 1);
  const __mmask16 cmask = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
  const __m512i idx_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i idx_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int64_t nq = std::max(qpad, (kc + 1) / 2);
  for (int64_t q = 0; q < nq; ++q) {
    if (2 * q + kPackPrefetchRows + 1 < kc) {
      // Rows 2q + kPackPrefetchRows and the next: both lines of each, since 16 floats can straddle two.
      const char* ahead = reinterpret_cast<const char*>(src + (2 * q + kPackPrefetchRows) * ld_src);
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 63);
      __builtin_prefetch(ahead + ld_src * 4);
      __builtin_prefetch(ahead + ld_src * 4 + 63);
    }
    const __m512 r0 = 2 * q < kc ? _mm512_maskz_loadu_ps(cmask, src + 2 * q * ld_src) : _mm512_setzero_ps();
    const __m512 r1 = 2 * q + 1 < kc ? _mm512_maskz_loadu_ps(cmask, src + (2 * q + 1) * ld_src) : _mm512_setzero_ps();
    const __m512 lo = _mm512_permutex2var_ps(r0, idx_lo, r1), hi = _mm512_permutex2var_ps(r0, idx_hi, r1);
    _mm512_mask_storeu_ps(reinterpret_cast<float*>(dst + q * ld_dst), wmask, (__m512)_mm512_cvtne2ps_pbh(hi, lo));
  }
}

// pair_interleave_strip for a whole 32-column panel (the AVX512_BF16 kernel's NR): both 16-column halves of
// each k row pair in one sweep. Done as two strips, the second sweep came back for the other line of every
// row after the first had gone through all kc rows, and its software prefetches were issued for rows whose
// first line was long since read. Words (q·32 + c) of dst as there; columns cols..31 are zeros;
// pairs from ceil(kc / 2) up to qpad (the AMX layout's whole steps) are written as zeros. Measured (AMD
// EPYC Zen 5, 2 cores, N = 992, linearBackward in bf16 mode, both forms alternated in one process, 60 turns,
// results bit-identical): the 19m linear2 dW (B = the [992, 2048] activations) 3.22-3.36 -> 3.09-3.22 ms
// (4.0-4.4%) in three runs, its dx (B = W, rows 2048 floats long) 2-3%, linear1's dW (rows 512 floats) 0.5-1.5%.
FT_TARGET_AVX512BF16 void pair_interleave_strip32(const float* src, int64_t ld_src, int cols, int64_t kc,
                                                  uint32_t* dst, int64_t qpad = 0) {
  const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1);
  const __m512i idx_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i idx_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int64_t nq = (kc + 1) / 2;
  for (int64_t q = 0; q < nq; ++q) {
    if (2 * q + kPackPrefetchRows + 1 < kc) {
      const float* ahead = src + (2 * q + kPackPrefetchRows) * ld_src;
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 16);
      __builtin_prefetch(ahead + 31);
      __builtin_prefetch(ahead + ld_src);
      __builtin_prefetch(ahead + ld_src + 16);
      __builtin_prefetch(ahead + ld_src + 31);
    }
    const float* r0p = src + 2 * q * ld_src;
    const bool two = 2 * q + 1 < kc;
    const __m512 a0 = _mm512_maskz_loadu_ps(m0, r0p), b0 = _mm512_maskz_loadu_ps(m1, r0p + 16);
    const __m512 a1 = two ? _mm512_maskz_loadu_ps(m0, r0p + ld_src) : _mm512_setzero_ps();
    const __m512 b1 = two ? _mm512_maskz_loadu_ps(m1, r0p + ld_src + 16) : _mm512_setzero_ps();
    const __m512 alo = _mm512_permutex2var_ps(a0, idx_lo, a1), ahi = _mm512_permutex2var_ps(a0, idx_hi, a1);
    const __m512 blo = _mm512_permutex2var_ps(b0, idx_lo, b1), bhi = _mm512_permutex2var_ps(b0, idx_hi, b1);
    float* d = reinterpret_cast<float*>(dst + q * 32);
    _mm512_storeu_ps(d, (__m512)_mm512_cvtne2ps_pbh(ahi, alo));
    _mm512_storeu_ps(d + 16, (__m512)_mm512_cvtne2ps_pbh(bhi, blo));
  }
  for (int64_t q = nq; q < qpad; ++q) {
    _mm512_storeu_ps(reinterpret_cast<float*>(dst + q * 32), _mm512_setzero_ps());
    _mm512_storeu_ps(reinterpret_cast<float*>(dst + q * 32 + 16), _mm512_setzero_ps());
  }
}

#pragma GCC diagnostic pop

}  // namespace

FT_TARGET_AVX512BF16 void pack_a_bf16_avx512(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR,
                                             void* outv) {
  uint32_t* dst = static_cast<uint32_t*>(outv);
  const int rows = (int)std::min<int64_t>(MR, m - i0);
  if (MR <= 16 && A.col_stride == 1) {
    pair_transpose_strip(A.data + i0 * A.row_stride + p0, A.row_stride, rows, kc, dst, MR, MR);
  } else if (MR <= 16 && A.row_stride == 1) {
    pair_interleave_strip(A.data + i0 + p0 * A.col_stride, A.col_stride, rows, kc, dst, MR, MR);
  } else {
    pack_a_bf16(A, m, i0, p0, kc, MR, outv);
  }
}

FT_TARGET_AVX512BF16 void pack_b_bf16_avx512(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR,
                                             void* outv) {
  uint32_t* dst = static_cast<uint32_t*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  // Row-major B in one sweep per 32-wide panel (this packer's only NR: the AVX512_BF16 kernel's); Bᵀ row-major
  // in 16-column strips of register transposes; anything else element by element.
  if (NR == 32 && B.col_stride == 1) {
    pair_interleave_strip32(B.data + p0 * B.row_stride + j0, B.row_stride, cols, kc, dst);
  } else if (NR % 16 == 0 && B.row_stride == 1) {
    for (int s = 0; s < NR; s += 16) {
      const int c = std::max(0, std::min(16, cols - s));
      pair_transpose_strip(B.data + (j0 + s) * B.col_stride + p0, B.col_stride, c, kc, dst + s, NR, 16);
    }
  } else {
    pack_b_bf16(B, n, j0, p0, kc, NR, outv);
  }
}


// ---- AMX-BF16 (Sapphire Rapids and later): 32 × 32 C tiles as 2 × 2 tiles of 16 × 16 fp32 in tmm0-3 ----
// One step is 32 k values (16 pairs). A (32 rows) is packed row-major per step: row r of step s at
// ((s·32 + r)·32) bf16, so a 16-row tile loads with stride 64 bytes. B keeps the pair layout of the
// AVX512_BF16 path (word q·32 + j), padded to whole steps: a tile is 16 pair rows of 16 columns, stride 128.
// TDPBF16PS sums each row's 32 products in fp32 (round to nearest even, denormals flushed), on a unit that
// does ~1000 multiply-adds per cycle against the 32 of AVX-512 FMA: far faster, at bf16 input precision.
// What bounds it here is the tile loads, not the unit. Measured in isolation (Intel Xeon with AMX, one core,
// 3.8 TFLOP/s peak, 2026-12-07; one 32 × 32 block called over and over on the same panels): the tile products
// alone run at 77-86% of peak; the four tile loads per step alone take as long as the products at 52-69%; the
// loop as written 43-49%, and 37-39% at the model's KC blocks (A and B panels of 32-64 KiB each, together
// past the 48 KiB L1, so both come from L2: about 32 bytes per cycle). With B held in tiles and only A loaded,
// 72% from L1 and 53% from L2. So two operands streamed per step cap the kernel near half of peak whatever the
// order; measured and left out: software prefetch of the next step's A and B (1 and 2 steps ahead, 1-4%
// slower), KC 256 or 512 (A's panel then stays in L1) with C kept in the tiles between blocks (loaded and
// stored with tileloadd / tilestored at ldc): even with 1024 over the 19m products, 512 slower.

struct TileConfig {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

thread_local bool tl_amx_configured = false;

FT_TARGET_AMX void kernel_amx_bf16(int64_t steps, const void* Apv, const void* Bpv, float* C, int64_t ldc, int mr,
                                   int nr, bool load_c, const float* bias, const Epilogue* ep) {
  if (!tl_amx_configured) {
    TileConfig cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) {
      cfg.rows[t] = 16;
      cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
    tl_amx_configured = true;
  }
  const uint16_t* Ap = static_cast<const uint16_t*>(Apv);
  const uint16_t* Bp = static_cast<const uint16_t*>(Bpv);
  // C's rows (and the gate's) two per step, as the AVX-512 kernels spread theirs (gemm_internal.h); the rows a
  // short block's steps do not reach, before the loop. All 32 requested before the loop (64-128 lines, more
  // than the core keeps in flight) stalled the first tile loads behind them: perf put 17% of this kernel's
  // samples on those prefetches. Measured (Intel Xeon with AMX, 2 cores, bf16 mode, back to back, forms
  // alternated by process, two rounds): the 19m and 85m forward products 1-24% less time (992x512x2048 1.75 ->
  // 1.56-1.62 ms), their linearBackward (dx and dW) 0-11% less, one of ten pairs 3% more; the 19m step in bf16
  // mode (B = 32, 10 alternated pairs) faster in 7, medians 203.7 -> 200.4 ms. No prefetch at all measured
  // between the two.
  prefetch_tile_rows(C, ep, ldc, std::min<int64_t>(mr, 2 * steps), mr);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t s = 0; s < steps; ++s) {
    const uint16_t* a = Ap + s * 32 * 32;
    const uint16_t* b = Bp + s * 16 * 64;
    if (2 * s < mr) {
      prefetch_tile_row(C, ep, ldc, 2 * s);
      if (2 * s + 1 < mr) prefetch_tile_row(C, ep, ldc, 2 * s + 1);
    }
    _tile_loadd(4, a, 64);
    _tile_loadd(6, b, 128);
    _tile_loadd(7, b + 32, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, a + 16 * 32, 64);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float acc[32 * 32];
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 16, 128);
  _tile_stored(2, acc + 16 * 32, 128);
  _tile_stored(3, acc + 16 * 32 + 16, 128);
  __m512 c0[16], c1[16];
  for (int h = 0; h < 2 && h * 16 < mr; ++h) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      c0[i] = _mm512_load_ps(acc + (h * 16 + i) * 32);
      c1[i] = _mm512_load_ps(acc + (h * 16 + i) * 32 + 16);
    }
    // The lower half's gate and addend rows start 16 rows down, like its C rows.
    const Epilogue half =
        ep ? Epilogue{ep->relu, ep->gate ? ep->gate + h * 16 * ldc : nullptr, ep->gate_scale,
                      ep->addend ? ep->addend + h * 16 * ldc : nullptr}
           : Epilogue{};
    store_rows_avx512<16>(c0, c1, C + h * 16 * ldc, ldc, std::min(16, mr - h * 16), nr, load_c, bias,
                          ep ? &half : nullptr);
  }
}

// A for AMX: rows [i0, i0 + 32), steps of 32 k values, row-major inside a step (see above).
FT_TARGET_AVX512BF16 void pack_a_amx(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* outv) {
  uint16_t* dst = static_cast<uint16_t*>(outv);
  const int rows = (int)std::min<int64_t>(MR, m - i0);
  const int64_t steps = (kc + 31) / 32;
  if (A.col_stride == 1) {
    for (int r = 0; r < MR; ++r) {
      const float* src = A.data + (i0 + r) * A.row_stride + p0;
      for (int64_t s = 0; s < steps; ++s) {
        const __m512 v = r < rows ? cvt_pairs(src + s * 32, std::min<int64_t>(32, kc - s * 32)) : _mm512_setzero_ps();
        _mm512_store_ps(reinterpret_cast<float*>(dst + (s * 32 + r) * 32), v);
      }
    }
    return;
  }
  if (A.row_stride == 1) {
    // Column-major A: interleave k pairs of 16 rows (words [q][row]), then transpose to [row][q]. Both 16-row
    // groups per step, so each k row's 128 bytes are read in one visit (the groups in the outer loop came back
    // for the second line of every row after the first group had gone through the whole panel, as the two
    // strips of pair_interleave_strip32's note did). Measured (Intel Xeon with AMX, 2 cores, N = 992, bf16 mode,
    // a 64 MB sweep before each call, builds alternated 4 times): dW of the 19m layers 3-5% less time.
    __m512 t[16];
    for (int64_t s = 0; s < steps; ++s) {
      for (int g = 0; g < MR; g += 16) {
        const int grow = std::max(0, std::min(16, rows - g));
        alignas(64) uint32_t words[16 * 16];
        pair_interleave_strip(A.data + i0 + g + (p0 + s * 32) * A.col_stride, A.col_stride, grow,
                              std::min<int64_t>(32, kc - s * 32), words, 16, 16, 16);
#pragma GCC unroll 16
        for (int q = 0; q < 16; ++q) t[q] = _mm512_load_ps(reinterpret_cast<const float*>(words + q * 16));
        transpose16(t);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) _mm512_store_ps(reinterpret_cast<float*>(dst + (s * 32 + g + i) * 32), t[i]);
      }
    }
    return;
  }
  for (int64_t s = 0; s < steps; ++s)
    for (int r = 0; r < MR; ++r)
      for (int c = 0; c < 32; ++c) {
        const int64_t p = s * 32 + c;
        dst[(s * 32 + r) * 32 + c] = r < rows && p < kc ? to_bf16(a_at(A, i0 + r, p0 + p)) : 0;
      }
}

// B for AMX: the pair layout of pack_b_bf16_avx512, padded with zero pairs to whole steps of 16.
FT_TARGET_AVX512BF16 void pack_b_amx(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* outv) {
  uint32_t* dst = static_cast<uint32_t*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  const int64_t qpad = (kc + 31) / 32 * 16;
  // Row-major B (dx's W, dW's activations) in one sweep over both 16-column halves, as the AVX512_BF16 packer
  // (pair_interleave_strip32, same words plus the zero pairs to a whole step). Measured against the two strips
  // (Intel Xeon with AMX, 2 cores, N = 992, a 64 MB sweep before each call, builds alternated 4 times): dx of
  // the 19m layers 4-6% less time, dW 4-7%; with the column-major A above, the 19m step in bf16 mode (B = 32,
  // `fairtune profile --ops`, 3 pairs through FAIRTUNE_ADDON) 152.8-155.6 -> 145.8-148.4 ms, its backward
  // GEMMs 77.8-81.5 -> 71.4-71.5 ms.
  // Bᵀ row-major (the forward's W) in 16-column strips of register transposes; anything else element by element.
  if (NR == 32 && B.col_stride == 1) {
    pair_interleave_strip32(B.data + p0 * B.row_stride + j0, B.row_stride, cols, kc, dst, qpad);
    return;
  }
  if (NR % 16 == 0 && B.row_stride == 1) {
    for (int s = 0; s < NR; s += 16) {
      const int c = std::max(0, std::min(16, cols - s));
      pair_transpose_strip(B.data + (j0 + s) * B.col_stride + p0, B.col_stride, c, kc, dst + s, NR, 16, true);
    }
    return;
  }
  uint16_t* d16 = static_cast<uint16_t*>(outv);
  for (int64_t q = 0; q < qpad; ++q)
    for (int j = 0; j < NR; ++j)
      for (int h = 0; h < 2; ++h) {
        const int64_t p = 2 * q + h;
        d16[(q * NR + j) * 2 + h] =
            j < cols && p < kc ? to_bf16(B.data[(p0 + p) * B.row_stride + (j0 + j) * B.col_stride]) : 0;
      }
}

// AMX needs the CPU feature (CPUID.7.0:EDX bits 22, 24) and the kernel's permission for the 8 KiB tile state
// (arch_prctl ARCH_REQ_XCOMP_PERM, Linux ≥ 5.16), requested once for the whole process.
bool amx_usable() {
  static const bool ok = [] {
#if defined(__x86_64__) && defined(__linux__)
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!((d >> 22) & 1u) || !((d >> 24) & 1u)) return false;
    constexpr long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return false;
#endif
  }();
  return ok;
}

}  // namespace gemm_detail
}  // namespace ft
