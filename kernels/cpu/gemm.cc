#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include <unistd.h>

#include "dispatch.h"
#include "gemm_internal.h"
#include "isa.h"
#include "parallel.h"

// GEMM structure (the Goto / BLIS scheme, each panel packed once per call, when it is first needed):
//   1. A and B are packed into micro-panels (A: MR rows × KC, B: KC × NR, zero-padded, grouped by KC block),
//      each panel ONCE per call, by whichever thread needs it first, just before its first use (so the packed
//      copy is still in L1/L2 when the micro-kernel reads it). Packing per output tile (an earlier design)
//      repacked B for every row block and A for every column block: about 18% of the time at the model's
//      shapes. Packing everything in a pass before the tile loop (the design before this one) wrote the packed
//      copies out to L3 and read them back: 3-4% slower overall, up to 10% where A is packed (k = 2048).
//      Exceptions: A is not packed at all, the kernel reading it in place, when it is row-major in a small
//      product (n ≤ 768, k ≤ 4096), or column-major and the larger operand (m ≥ 2n, or m ≥ n with n ≤ 512)
//      with a column stride up to 4096; direct_a() says why, with what was measured.
//   2. C is cut into MC × NC tiles, scheduled dynamically (on a shared machine one core is often slower, and a
//      static split would leave the other idle at the end): with A packed, each thread first works through its
//      own share of the tiles, so that it mostly consumes panels it packed itself, then steals from the others'.
//   3. Per tile: for each KC block, for each NR micro-panel of B, for each MR micro-panel of A: the
//      register-blocked micro-kernel (block sizes: see KC and the tile loop).
// Every element of C sums its k terms in the same order (KC blocks in order, p in order inside a block)
// whatever the tiling or thread count, so results are bit-identical for any number of threads.
//
// bf16 compute mode (set_gemm_compute(Bf16), CPUs with AVX512_BF16): the packers round A and B to bfloat16
// (round to nearest even) and interleave consecutive k pairs; products are summed in fp32; C, the bias and
// accumulation across KC blocks stay fp32. Two kernels: AMX tiles (TDPBF16PS) where the CPU has AMX-BF16 and
// the OS grants the tile state, else AVX512_BF16 dot products (vdpbf16ps). Measured on the Xeon this was
// tuned on: fp32 FMA ~190 GFLOP/s per core, vdpbf16ps only ~90 (half rate on Intel; it doubles fp32 on Zen 4),
// AMX 600-850 at the model's shapes.
namespace ft {
using namespace gemm_detail;
namespace {

std::atomic<int> g_compute{(int)GemmCompute::Fp32};
std::atomic<bool> g_allow_amx{true};
// Column-major A read in place (see direct_a()): the default is decided by the CPU's maker, see there.
std::atomic<bool> g_direct_columns{cpu_made_by_amd()};
// Row-major A whose rows share an L1 set read in place by the 10-row kernel (see rows_share_l1_set): also AMD's
// default only, see there.
std::atomic<bool> g_direct_set_rows{cpu_made_by_amd()};
// Products whose rows all fit one row block packing each tile's B panels privately (see private_b in gemm()):
// the default is decided by the CPU's maker, see there.
std::atomic<bool> g_private_b_panels{!cpu_made_by_amd()};

// ---- AVX-512 fp32: MR × 32, MR = 14 (28 accumulators + 2 B vectors + broadcast operands in memory) ----

// One body for both A operands: the packed micro-panel (MR values per k step), or, when Direct, A read in place
// through its strides: A(i, p) at A + i·rs + p·cs (row-major A: rs = lda, cs = 1; column-major A, such as dyᵀ
// in dW: rs = 1, cs = lda). Both run the same FMAs in the same order on the same values, so their results are
// bit-identical.
template <int MR, bool Direct>
FT_TARGET_AVX512 inline __attribute__((always_inline)) void f32_tile(int64_t kc, const float* A, int64_t rs, int64_t cs,
                                                                    const float* Bp, float* C, int64_t ldc, int mr,
                                                                    int nr, bool load_c, const float* bias,
                                                                    const Epilogue* ep) {
  prefetch_tile_rows_unscheduled(C, ep, ldc, mr, kc);
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  // Direct, whole tiles: with 14 row pointers besides B's, the offset and the bound, the loop wanted more than
  // the 16 general registers, and GCC kept three row pointers on the stack or in a vector register, reloading
  // them every k step (seen in the disassembly; this kernel took 31% of a 19m fp32 step in perf). Rows i and
  // i + 7 share a pointer here (row i + 7 is 7·rs further on, one more offset register), and the single k loop
  // spilled nothing. Same FMAs in the same order: results are unchanged. Measured (Zen 5, 2 cores, builds
  // alternated 4 times): the 19m products with A read in place 1-3% faster (forward at k = 2048, dW), none
  // slower beyond the host's noise. With the k loop in runs for the C prefetch (gemm_internal.h), GCC again
  // reloads three row pointers from the stack per k step (L1 hits, beside the 16 loads the step makes); a form
  // that kept the runs to the first 14 and the rest of k in a plain loop, spill-free, measured the same (±2%,
  // 19m attention and MLP products with A in place, alternated in one process), so the simpler form stays.
  if constexpr (Direct && MR == 14) {
    if (mr == MR) {
      const float* r[7];
#pragma GCC unroll 8
      for (int i = 0; i < 7; ++i) r[i] = A + i * rs;
      const int64_t d7 = 7 * rs;
      int64_t o = 0;
      // k in runs of kTileRowPrefetchSteps, each starting with its row of C (and the gate): gemm_internal.h.
      for (int64_t p0 = 0; p0 < kc; p0 += kTileRowPrefetchSteps) {
        prefetch_tile_row_at(C, ep, ldc, mr, p0);
        for (int64_t p = p0, p1 = std::min(kc, p0 + kTileRowPrefetchSteps); p < p1; ++p) {
          const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
          const int64_t o7 = o + d7;
#pragma GCC unroll 8
          for (int i = 0; i < 7; ++i) {
            const __m512 a = _mm512_set1_ps(r[i][o]);
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
            const __m512 a7 = _mm512_set1_ps(r[i][o7]);
            c0[i + 7] = _mm512_fmadd_ps(a7, b0, c0[i + 7]);
            c1[i + 7] = _mm512_fmadd_ps(a7, b1, c1[i + 7]);
          }
          o += cs;
          Bp += 32;
        }
      }
      store_rows_avx512<MR>(c0, c1, C, ldc, mr, nr, load_c, bias, ep);
      return;
    }
  }
  // Direct: rows past mr read row mr - 1 again (memory that exists); their sums are never stored.
  const float* rows[MR];
  if constexpr (Direct) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) rows[i] = A + (i < mr ? i : mr - 1) * rs;
  }
  int64_t off = 0;  // Direct: offset of column p from each row's start
  for (int64_t p0 = 0; p0 < kc; p0 += kTileRowPrefetchSteps) {
    prefetch_tile_row_at(C, ep, ldc, mr, p0);
    for (int64_t p = p0, p1 = std::min(kc, p0 + kTileRowPrefetchSteps); p < p1; ++p) {
      const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512 a = _mm512_set1_ps(Direct ? rows[i][off] : A[i]);
        c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
      }
      if constexpr (Direct) off += cs;
      else A += MR;
      Bp += 32;
    }
  }
  store_rows_avx512<MR>(c0, c1, C, ldc, mr, nr, load_c, bias, ep);
}

template <int MR>
FT_TARGET_AVX512 void kernel_avx512_f32(int64_t kc, const void* Ap, const void* Bp, float* C, int64_t ldc, int mr,
                                        int nr, bool load_c, const float* bias, const Epilogue* ep) {
  f32_tile<MR, false>(kc, static_cast<const float*>(Ap), 0, 0, static_cast<const float*>(Bp), C, ldc, mr, nr, load_c,
                      bias, ep);
}

// The kernel with A read in place (DirectKernel contract: A points at A(i0, p0); rs, cs its row and column strides).
using DirectKernel = void (*)(int64_t kc, const float* A, int64_t rs, int64_t cs, const void* Bp, float* C, int64_t ldc,
                              int mr, int nr, bool load_c, const float* bias, const Epilogue* ep);
template <int MR>
FT_TARGET_AVX512 void kernel_avx512_f32_direct(int64_t kc, const float* A, int64_t rs, int64_t cs, const void* Bp,
                                               float* C, int64_t ldc, int mr, int nr, bool load_c, const float* bias,
                                               const Epilogue* ep) {
  f32_tile<MR, true>(kc, A, rs, cs, static_cast<const float*>(Bp), C, ldc, mr, nr, load_c, bias, ep);
}

// Writes an MR×NR register tile held in `tile` (row-major, NR per row) to the valid corner of C.
inline void store_tile(const float* tile, int NR, float* C, int64_t ldc, int mr, int nr, bool load_c,
                       const float* bias, const Epilogue* ep) {
  for (int i = 0; i < mr; ++i) {
    float* row = C + i * ldc;
    for (int j = 0; j < nr; ++j) {
      float v = tile[i * NR + j] + (bias ? bias[j] : 0.0f);
      if (load_c) v += row[j];
      if (ep && ep->relu) v = v > 0.0f ? v : 0.0f;
      if (ep && ep->gate) v = ep->gate[i * ldc + j] > 0.0f ? v * ep->gate_scale : 0.0f;
      if (ep && ep->addend) v = ep->addend[i * ldc + j] + v;
      row[j] = v;
    }
  }
}

// ---- AVX2 fp32: 6 × 16 (12 accumulators + 2 B vectors + the broadcast: 15 of the 16 ymm registers) ----

// Lane masks for _mm256_maskload_ps / _mm256_maskstore_ps: the first n lanes (0 ≤ n ≤ 8).
FT_TARGET_AVX2 inline __attribute__((always_inline)) __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// A 16-float row of the tile (64 bytes) spans one or two cache lines: request both.
inline __attribute__((always_inline)) void prefetch_tile_row16(float* C, const Epilogue* ep, int64_t ldc, int64_t i) {
  __builtin_prefetch(C + i * ldc, 1, 3);
  __builtin_prefetch(C + i * ldc + 15, 1, 3);
  if (ep && ep->gate) {
    __builtin_prefetch(ep->gate + i * ldc, 0, 3);
    __builtin_prefetch(ep->gate + i * ldc + 15, 0, 3);
  }
  if (ep && ep->addend) {
    __builtin_prefetch(ep->addend + i * ldc, 0, 3);
    __builtin_prefetch(ep->addend + i * ldc + 15, 0, 3);
  }
}

// The tile's store with the bias, C's old values, the ReLU and the gate applied in registers, masked to the
// valid nr columns: the same rules as store_tile (NaN through the ReLU or as a gate gives 0), vectorised. It
// had gone through store_tile's scalar loop whenever an epilogue or a ragged edge applied, which is every tile
// of the ReLU and gate products (the 19m linear1 forward and linear2 dx, k = 512: a single KC block).
// Measured with the AVX2 packers below against the previous build (AMD EPYC Zen 3, 2 cores, N = 992, caches
// flushed before each call, both alternated in one process): the 19m forward, dx and dW products 8-10% less
// time in all, the linear2 dx with its gate 25.3-25.7 -> 17.1-18.2 ms, linear1's forward with its ReLU 9-15%.
FT_TARGET_AVX2 inline __attribute__((always_inline)) void store_rows_avx2(const __m256* c0, const __m256* c1, float* C,
                                                                         int64_t ldc, int mr, int nr, bool load_c,
                                                                         const float* bias, const Epilogue* ep) {
  constexpr int MR = 6;
  const bool whole = nr >= 16;
  const __m256i m0 = first_lanes(nr < 8 ? nr : 8), m1 = first_lanes(nr < 8 ? 0 : nr - 8);
  __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
  if (bias) {
    bias0 = whole ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
    bias1 = whole ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, m1);
  }
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* row = C + i * ldc;
    __m256 r0 = _mm256_add_ps(c0[i], bias0), r1 = _mm256_add_ps(c1[i], bias1);
    if (load_c) {
      r0 = _mm256_add_ps(r0, whole ? _mm256_loadu_ps(row) : _mm256_maskload_ps(row, m0));
      r1 = _mm256_add_ps(r1, whole ? _mm256_loadu_ps(row + 8) : _mm256_maskload_ps(row + 8, m1));
    }
    if (ep) {
      // x > 0 is false for NaN, so the mask zeroes it, as the scalar rule does.
      if (ep->relu) {
        r0 = _mm256_and_ps(r0, _mm256_cmp_ps(r0, zero, _CMP_GT_OQ));
        r1 = _mm256_and_ps(r1, _mm256_cmp_ps(r1, zero, _CMP_GT_OQ));
      }
      if (ep->gate) {
        const float* g = ep->gate + i * ldc;
        const __m256 g0 = whole ? _mm256_loadu_ps(g) : _mm256_maskload_ps(g, m0);
        const __m256 g1 = whole ? _mm256_loadu_ps(g + 8) : _mm256_maskload_ps(g + 8, m1);
        const __m256 s = _mm256_set1_ps(ep->gate_scale);
        r0 = _mm256_and_ps(_mm256_mul_ps(r0, s), _mm256_cmp_ps(g0, zero, _CMP_GT_OQ));
        r1 = _mm256_and_ps(_mm256_mul_ps(r1, s), _mm256_cmp_ps(g1, zero, _CMP_GT_OQ));
      }
      if (ep->addend) {
        const float* a = ep->addend + i * ldc;
        r0 = _mm256_add_ps(whole ? _mm256_loadu_ps(a) : _mm256_maskload_ps(a, m0), r0);
        r1 = _mm256_add_ps(whole ? _mm256_loadu_ps(a + 8) : _mm256_maskload_ps(a + 8, m1), r1);
      }
    }
    if (whole) {
      _mm256_storeu_ps(row, r0);
      _mm256_storeu_ps(row + 8, r1);
    } else {
      _mm256_maskstore_ps(row, m0, r0);
      _mm256_maskstore_ps(row + 8, m1, r1);
    }
  }
}

// Packed A only, B's micro-panel outer. Tried on an AVX2-only CPU (AMD EPYC Zen 3, 2 cores, N = 992, forward,
// dx and dW of the 19m and 85m layer products, caches flushed before each call, variants alternated in one
// process): A read in place as the AVX-512 kernel does (direct_a) 3-9% slower overall with column-major A (the
// dW at m >= 2n took 1.4 times as long) and even (±3%) with row-major A only; A's micro-panel outer
// (a_stays_in_l1) even over the 19m set and 2.6% slower over the 85m one. So neither applies to this kernel.
FT_TARGET_AVX2 void kernel_avx2_6x16(int64_t kc, const void* Apv, const void* Bpv, float* C, int64_t ldc, int mr,
                                     int nr, bool load_c, const float* bias, const Epilogue* ep) {
  const float* Ap = static_cast<const float*>(Apv);
  const float* Bp = static_cast<const float*>(Bpv);
  constexpr int MR = 6, NR = 16;
  // The tile's rows of C (and the gate) requested during the k loop, one every kTileRowPrefetchSteps steps, as
  // the AVX-512 kernels do (gemm_internal.h); rows a short block does not reach, before it. Measured (Zen 3, as
  // above, with and without): the gated linear2 dx 9% faster (13.4 -> 12.2 ms), the 19m and 85m sets 0-3%.
  for (int64_t i = (kc + kTileRowPrefetchSteps - 1) >> kTileRowPrefetchShift; i < mr; ++i)
    prefetch_tile_row16(C, ep, ldc, i);
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t p0 = 0; p0 < kc; p0 += kTileRowPrefetchSteps) {
    if ((p0 >> kTileRowPrefetchShift) < mr) prefetch_tile_row16(C, ep, ldc, p0 >> kTileRowPrefetchShift);
    for (int64_t p = p0, p1 = std::min(kc, p0 + kTileRowPrefetchSteps); p < p1; ++p) {
      const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 a = _mm256_broadcast_ss(Ap + i);
        c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
      }
      Ap += MR;
      Bp += NR;
    }
  }
  store_rows_avx2(c0, c1, C, ldc, mr, nr, load_c, bias, ep);
}

void kernel_scalar_4x8(int64_t kc, const void* Apv, const void* Bpv, float* C, int64_t ldc, int mr, int nr,
                       bool load_c, const float* bias, const Epilogue* ep) {
  const float* Ap = static_cast<const float*>(Apv);
  const float* Bp = static_cast<const float*>(Bpv);
  constexpr int MR = 4, NR = 8;
  float tile[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const float a = Ap[i];
      for (int j = 0; j < NR; ++j) tile[i * NR + j] += a * Bp[j];
    }
    Ap += MR;
    Bp += NR;
  }
  store_tile(tile, NR, C, ldc, mr, nr, load_c, bias, ep);
}
// ---- packing ----
// A block: rows [i0, i0 + MR) × k range [p0, p0 + kc) of A → MR values per k step (bf16: MR pairs per k pair).
// B block: k range × cols [j0, j0 + NR) → NR values per k step (bf16: NR pairs per k pair).
// Out-of-range rows, columns and (bf16) the odd k tail are zero.
void pack_a_f32(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* outv) {
  float* dst = static_cast<float*>(outv);
  const int rows = (int)std::min<int64_t>(MR, m - i0);
  if (A.row_stride == 1) {
    // Column-major A (Aᵀ of a row-major matrix): the values of one k step are contiguous.
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = A.data + i0 + (p0 + p) * A.col_stride;
      float* d = dst + p * MR;
      int i = 0;
      for (; i < rows; ++i) d[i] = src[i];
      for (; i < MR; ++i) d[i] = 0.0f;
    }
    return;
  }
  // Row-major A: read each row contiguously and scatter with stride MR (a transpose of an MR × kc strip).
  for (int i = 0; i < MR; ++i) {
    if (i < rows) {
      const float* src = A.data + (i0 + i) * A.row_stride + p0 * A.col_stride;
      if (A.col_stride == 1) {
        for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = src[p * A.col_stride];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = 0.0f;
    }
  }
}

void pack_b_f32(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* outv) {
  float* dst = static_cast<float*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  if (B.col_stride == 1) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B.data + (p0 + p) * B.row_stride + j0;
      float* d = dst + p * NR;
      if (cols == NR) {
        std::memcpy(d, src, sizeof(float) * (size_t)NR);
      } else {
        int j = 0;
        for (; j < cols; ++j) d[j] = src[j];
        for (; j < NR; ++j) d[j] = 0.0f;
      }
    }
    return;
  }
  // Bᵀ row-major (the Linear weight W[M, K] in the forward): read each column of B contiguously.
  for (int j = 0; j < NR; ++j) {
    if (j < cols) {
      const float* src = B.data + p0 * B.row_stride + (j0 + j) * B.col_stride;
      if (B.row_stride == 1) {
        for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p * B.row_stride];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.0f;
    }
  }
}
// GCC 12's _mm512_undefined_ps() (inside the unpack/shuffle intrinsics) trips -Wmaybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// ---- AVX-512 packers: the transposing cases (row-major A, Bᵀ row-major) as 16 × 16 register transposes ----

// dst[p * ld_dst + r] = src[r * ld_src + p] for r < rows (≤ 16), p < kc; lanes rows..width-1 of each dst row
// are written as zeros (width ≤ 16 lanes are stored per row).
FT_TARGET_AVX512 void transpose_strip(const float* src, int64_t ld_src, int rows, int64_t kc, float* dst,
                                      int64_t ld_dst, int width) {
  const __mmask16 wmask = (__mmask16)((1u << width) - 1);
  __m512 r[16];
  for (int64_t p = 0; p < kc; p += 16) {
    const int64_t w = std::min<int64_t>(16, kc - p);
    const __mmask16 lmask = (__mmask16)((1u << w) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i)
      r[i] = i < rows ? _mm512_maskz_loadu_ps(lmask, src + i * ld_src + p) : _mm512_setzero_ps();
    transpose16(r);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j)
      if (j < w) _mm512_mask_storeu_ps(dst + (p + j) * ld_dst, wmask, r[j]);
  }
}

FT_TARGET_AVX512 void pack_a_f32_avx512(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR,
                                        void* outv) {
  if (A.col_stride == 1 && MR <= 16) {
    float* dst = static_cast<float*>(outv);
    const int rows = (int)std::min<int64_t>(MR, m - i0);
    transpose_strip(A.data + i0 * A.row_stride + p0, A.row_stride, rows, kc, dst, MR, MR);
    return;
  }
  if (A.row_stride == 1 && MR <= 16) {
    float* dst = static_cast<float*>(outv);
    const int rows = (int)std::min<int64_t>(MR, m - i0);
    const __mmask16 lm = (__mmask16)((1u << rows) - 1), sm = (__mmask16)((1u << MR) - 1);
    for (int64_t p = 0; p < kc; ++p)
      _mm512_mask_storeu_ps(dst + p * MR, sm, _mm512_maskz_loadu_ps(lm, A.data + i0 + (p0 + p) * A.col_stride));
    return;
  }
  pack_a_f32(A, m, i0, p0, kc, MR, outv);
}

// Row-major B (dx's weight, dW's activations): k row p of a panel is 32 floats at p·row_stride, and with the
// model's rows 8-12 KiB apart every row is in a page of its own. As in the bf16 packers, the row
// kPackPrefetchRows ahead is requested in software. Measured (AMD EPYC Zen 5, 2 cores, N = 992, linearBackward
// with and without it alternated in one process, 60 turns, caches flushed before each call): the 19m linear2 dW
// (B row stride 2048 floats) 6.35 -> 6.17 ms, its dx 6.30 -> 6.22 ms; at strides of 512-768 floats (linear1's
// dW, 512², the 85m linear1) even, ±1%.
FT_TARGET_AVX512 void pack_b_f32_avx512(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR,
                                        void* outv) {
  float* dst = static_cast<float*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  if (B.row_stride == 1 && NR % 16 == 0) {
    for (int s = 0; s < NR; s += 16) {
      const int rows = std::max(0, std::min(16, cols - s));
      transpose_strip(B.data + (j0 + s) * B.col_stride + p0, B.col_stride, rows, kc, dst + s, NR, 16);
    }
    return;
  }
  if (B.col_stride == 1 && NR == 32) {
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B.data + (p0 + p) * B.row_stride + j0;
      if (p + kPackPrefetchRows < kc) {
        // The panel's 32 floats of the row kPackPrefetchRows ahead: two lines, three when they straddle.
        const float* ahead = src + kPackPrefetchRows * B.row_stride;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 16);
        __builtin_prefetch(ahead + 31);
      }
      _mm512_store_ps(dst + p * 32, _mm512_maskz_loadu_ps(m0, src));
      _mm512_store_ps(dst + p * 32 + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
    return;
  }
  pack_b_f32(B, n, j0, p0, kc, NR, outv);
}
#pragma GCC diagnostic pop

// ---- AVX2 packers: the transposing cases as 8 × 8 register transposes, the others as vector copies ----
// The baseline packers (compiled for SSE2) move one float at a time, and the transposing ones write with a
// stride of MR or NR floats.

// Transposes 8 rows of 8 floats held in r[] in place (r[j] becomes column j).
FT_TARGET_AVX2 inline __attribute__((always_inline)) void transpose8(__m256* r) {
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // t[4h + c]: rows 4h..4h+3 interleaved in pairs; u[4h + c], 128-bit lane L: rows 4h..4h+3 of column 4L + c.
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// dst[p * ld_dst + r] = src[r * ld_src + p] for r < rows (≤ 8), p < kc; lanes rows..7 are zeros. Each dst row
// is written 8 lanes wide except the last, written `width` wide: when ld_dst < 8 (A's panels, MR = 6) a row's
// two extra lanes land on the next row's start, which the next store then overwrites, and the last row's
// would fall past the panel.
FT_TARGET_AVX2 void transpose_strip_avx2(const float* src, int64_t ld_src, int rows, int64_t kc, float* dst,
                                         int64_t ld_dst, int width) {
  const __m256i last = first_lanes(width);
  __m256 r[8];
  for (int64_t p = 0; p < kc; p += 8) {
    const int64_t w = std::min<int64_t>(8, kc - p);
    const __m256i lmask = first_lanes((int)w);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      r[i] = i >= rows ? _mm256_setzero_ps() : w == 8 ? _mm256_loadu_ps(src + i * ld_src + p)
                                                       : _mm256_maskload_ps(src + i * ld_src + p, lmask);
    transpose8(r);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      if (j >= w) break;
      if (p + j == kc - 1) _mm256_maskstore_ps(dst + (p + j) * ld_dst, last, r[j]);
      else _mm256_storeu_ps(dst + (p + j) * ld_dst, r[j]);
    }
  }
}

FT_TARGET_AVX2 void pack_a_f32_avx2(const Matrix& A, int64_t m, int64_t i0, int64_t p0, int64_t kc, int MR, void* outv) {
  float* dst = static_cast<float*>(outv);
  const int rows = (int)std::min<int64_t>(MR, m - i0);
  if (A.col_stride == 1 && MR <= 8) {
    transpose_strip_avx2(A.data + i0 * A.row_stride + p0, A.row_stride, rows, kc, dst, MR, MR);
    return;
  }
  if (A.row_stride == 1 && MR <= 8) {
    // Column-major A (dyᵀ in dW): a k step's MR values are contiguous, each step a whole column apart (a page of
    // its own at the model's sizes): the step kPackPrefetchRows ahead is requested in software, as in the
    // AVX-512 B packer. The same overlapping stores as transpose_strip_avx2.
    const __m256i lm = first_lanes(rows), sm = first_lanes(MR);
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = A.data + i0 + (p0 + p) * A.col_stride;
      if (p + kPackPrefetchRows < kc) __builtin_prefetch(src + kPackPrefetchRows * A.col_stride);
      const __m256 v = _mm256_maskload_ps(src, lm);
      if (p == kc - 1) _mm256_maskstore_ps(dst + p * MR, sm, v);
      else _mm256_storeu_ps(dst + p * MR, v);
    }
    return;
  }
  pack_a_f32(A, m, i0, p0, kc, MR, outv);
}

FT_TARGET_AVX2 void pack_b_f32_avx2(const Matrix& B, int64_t n, int64_t j0, int64_t p0, int64_t kc, int NR, void* outv) {
  float* dst = static_cast<float*>(outv);
  const int cols = (int)std::min<int64_t>(NR, n - j0);
  if (B.row_stride == 1 && NR % 8 == 0) {
    // Bᵀ row-major (W in the forward): 8 columns at a time, each a contiguous run of k.
    for (int s = 0; s < NR; s += 8) {
      const int strip = std::max(0, std::min(8, cols - s));
      transpose_strip_avx2(B.data + (j0 + s) * B.col_stride + p0, B.col_stride, strip, kc, dst + s, NR, 8);
    }
    return;
  }
  if (B.col_stride == 1 && NR == 16) {
    // Row-major B (W in dx, x in dW): 16 floats per k row, each row a page of its own at the model's sizes.
    const bool whole = cols == 16;
    const __m256i m0 = first_lanes(std::min(cols, 8)), m1 = first_lanes(std::max(0, cols - 8));
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B.data + (p0 + p) * B.row_stride + j0;
      if (p + kPackPrefetchRows < kc) {
        const float* ahead = src + kPackPrefetchRows * B.row_stride;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 15);
      }
      _mm256_store_ps(dst + p * 16, whole ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, m0));
      _mm256_store_ps(dst + p * 16 + 8, whole ? _mm256_loadu_ps(src + 8) : _mm256_maskload_ps(src + 8, m1));
    }
    return;
  }
  pack_b_f32(B, n, j0, p0, kc, NR, outv);
}

// KC, the k values per block. Longer blocks mean fewer passes over each C tile (every block but the first
// reloads and re-stores it) and fewer kernel calls; shorter ones keep the B micro-panel in L1. 256 (a 32 KiB fp32
// panel in the 48 KiB L1) was the textbook choice, but measured on Zen 5 (2 cores, N = 992, forward, dx and dW of
// every layer GEMM of the 19m, 85m and 345m models, builds alternated in one session) longer blocks won: fp32 at
// KC = 1024 took 4% less time than at 256 over the 19m shapes and 6% less over the 85m/345m ones (512: 4% and
// 3.5%); bf16 (vdpbf16ps) 9% less at 1024, and 2048 was no better. The B panel then streams from L2, which keeps
// up with 2 loads per 28 FMAs. The AVX2 kernel, run on the same Zen 5, took 6% less at 1024 and 4% less at 512.
// It had 512 on the guess that CPUs without AVX-512 (smaller L2) would want shorter blocks; measured on one
// (AMD EPYC Zen 3, 32 KiB L1, 512 KiB L2, 2 cores, N = 960-992, forward, dx and dW, caches flushed, 15-25
// turns alternated in one process, sums of medians and of minima): 1024 against 512 took 1.8-4.3% and 1.2-1.9%
// less over the 85m set (two runs), 1.5% and 1.2% less over the 345m one, 0.3% and 0.5% less over the 19m one
// (only its k = 2048 products have more than one block), and was even over the 1b set (-1.3% and +0.4%); 256
// and 384 took 2-5% more than 512. So the AVX2 kernel gets 1024 too. Scalar keeps 256.
// The fp32 AVX-512 kernel on Intel (a Xeon with AVX-512 and AMX, 48 KiB L1, 2 MiB L2, 2 cores, 2026-12-07):
// KC = 512 against 1024, both builds alternated call by call in one process (N = 992, forward, dx and dW of the
// 19m, 85m and 345m layer GEMMs, caches flushed before each call, 9-11 turns, three runs), took 2.1-3.7% less
// time over the 36 products (85m 1-2%, 345m 3%, 19m -1 to +4%); 256 took 0.7-1.8% more than 512; 32 A
// micro-panels per tile instead of 16 were even. In the 19m step (B = 32, `fairtune profile --ops`, the two
// builds alternated through FAIRTUNE_ADDON, 7 pairs) 512 was the slower in 6 pairs, medians 478 against 471 ms,
// its GEMM families moving ±3% either way. Not taken: Intel keeps 1024 too.
constexpr int64_t KC = 256, KC_AVX2 = 1024, KC_AVX512 = 1024;
// AMX bf16 tiles: a KC block of 1024 (32 tile steps of 32 k values) against 512, on the same Intel host and
// products in bf16 mode (two runs): 19m 2-3%, 85m 6-7%, 345m 9-10% less time; 2048 measured 0-2% slower than
// 1024. The 19m step in bf16 mode (B = 32, builds alternated through FAIRTUNE_ADDON): faster in all 8 pairs,
// medians 175.9 against 180.1 ms. Why was not isolated: not the per-call round trip of C through a stack buffer
// (C loaded into and stored from the tile registers directly measured even); each further block also reloads
// and re-stores every C tile. (512 dated from the fp32 blocks of 256, "longer" than those; no measurement of it
// was recorded.)
constexpr int64_t KC_AMX = 1024;
// Column-major A read in place (dW) re-reads its panel from cache for every B panel of a tile, at a stride of
// m floats per k step: past 512 steps it no longer fits L1 (the 19m MLP's dW took 8% longer at 1024).
constexpr int64_t KC_DIRECT_COLUMNS = 512;
// Largest n and k for which row-major A is read in place instead of packed (see direct_a()).
constexpr int64_t kDirectMaxN = 768, kDirectMaxK = 4096;
// Largest n for which a column-major A at least as tall as B is wide (m ≥ n) is read in place (see direct_a()).
constexpr int64_t kDirectColumnsMaxN = 512;
// Largest column stride (floats) at which a column-major A is read in place (see direct_a()).
constexpr int64_t kDirectColumnsMaxLd = 4096;

struct Spec {
  int mr, nr;
  MicroKernel kernel;
  PackFn pack_a, pack_b;
  int kstep;       // k values per packed step (bf16: 2, AMX: 32)
  size_t elem;     // bytes per packed value
  int64_t kc;      // k values per KC block
  DirectKernel direct = nullptr;  // the kernel reading A in place, where one exists (fp32 AVX-512)
};
Spec spec_for(Isa isa, GemmCompute mode) {
  switch (isa) {
    case Isa::Avx512:
      if (mode == GemmCompute::Bf16 && cpu_has_bf16()) {
        if (g_allow_amx.load(std::memory_order_relaxed) && amx_usable())
          return {32, 32, kernel_amx_bf16, pack_a_amx, pack_b_amx, 32, 2, KC_AMX};
        return {14, 32, kernel_avx512_bf16_14x32, pack_a_bf16_avx512, pack_b_bf16_avx512, 2, 2, KC_AVX512};
      }
      return {14, 32, kernel_avx512_f32<14>, pack_a_f32_avx512, pack_b_f32_avx512, 1, 4, KC_AVX512, kernel_avx512_f32_direct<14>};
    case Isa::Avx2: return {6, 16, kernel_avx2_6x16, pack_a_f32_avx2, pack_b_f32_avx2, 1, 4, KC_AVX2};
    default: return {4, 8, kernel_scalar_4x8, pack_a_f32, pack_b_f32, 1, 4, KC};
  }
}

// Row-major A read in place whose rows all fall in one L1 set: the fp32 AVX-512 kernel with 10 rows instead of
// 14. The kernel broadcasts one value from each of its MR rows per k step, so it keeps MR lines of A in L1; rows
// a multiple of the set period apart (L1 size / ways, 4 KiB on Zen 5's 48 KiB 12-way L1: row strides that are
// multiples of 1024 floats, the 19m's 2048 and the 85m's 3072) put all MR lines in one set, and 14 lines in 12
// ways evict each other every k step (the B panel's lines compete for the same ways). Measured (AMD EPYC Zen 5,
// 2 cores, m = 960-992, n = 512 and 768, k = 2048 and 3072: the 19m linear2 forward and linear1 dx, the 85m
// linear2 forward; both kernels alternated in one process, bit-identical results): 3-6% faster on a quiet
// host, 18% in a slower stretch of the host (the 14-row kernel fell to 284-316 GFLOP/s, the 10-row one held 381-401);
// 8, 9 and 10 rows were alike, 11 and 12 gained less (12: 4% and 10%). At strides that spread the rows over
// several sets (512, 768 floats) 10 rows measured even with 14 (±2%), so they keep 14. Only where the C library
// reports an L1 of at least 12 ways: the 8-way L1s (Zen 4's 32 KiB) were not measured. In `npm run bench`
// (BENCHMARKS.md, the same host, runs before and after): the 19m forward at K = 2048, M = 512 277-289 -> 335-360
// GFLOP/s, 0.87-0.99x -> 1.11-1.20x the best peer; the 85m forward at K = 3072, M = 768 340-342 -> 368-385
// GFLOP/s, 0.98-1.02x -> 1.02-1.12x. The 10-row kernel keeps B's panel outer in a tile (a_stays_in_l1 names
// the 14-row one); A outer measured alike.
// On Intel neither in-place kernel pays at these strides: on a Xeon (AMX host, 48 KiB 12-way L1, 2 MiB L2,
// 2 cores, 2026-12-07) the 19m linear2 forward (m = 992, n = 512, k = 2048) took 9.54 ms with the 10-row
// kernel, 9.24 with the 14-row one and 9.21 packed, and its linear1 backward (dx reads dy, rows 2048 floats
// long) 19.26, 19.35 and 18.30 ms (caches flushed before each call, 7 turns alternated). In the 19m fp32
// step (B = 32; both builds' kernels swapped step by step in one process, 24 pairs, two runs) packing those
// products took 1.1-1.4% less time per step, faster in 18 and 16 of the 24 pairs (an A/A run: 10 of 20,
// +0.1%). So they are packed there (g_direct_set_rows, AMD's default as g_direct_columns). In `npm run bench`
// (docs/benchmarks-intel-amx.md, the runs before and after) the 19m forward at K = 2048, M = 512 went from
// 0.88x to 1.05x the best peer and linear1's backward (K = 512, M = 2048) from 0.93x to 1.05x.
constexpr int kDirectConflictRows = 10;
bool rows_share_l1_set(int64_t row_stride) {
  static const int64_t period = [] {
    const long size = sysconf(_SC_LEVEL1_DCACHE_SIZE), ways = sysconf(_SC_LEVEL1_DCACHE_ASSOC);
    return size > 0 && ways >= 12 && size % ways == 0 ? (int64_t)(size / ways) : (int64_t)0;
  }();
  return period > 0 && ((int64_t)sizeof(float) * row_stride) % period == 0;
}
Spec direct_conflict_spec() {
  constexpr int R = kDirectConflictRows;
  return {R, 32, kernel_avx512_f32<R>, pack_a_f32_avx512, pack_b_f32_avx512, 1, 4, KC_AVX512, kernel_avx512_f32_direct<R>};
}


// A packing buffer owned by the calling thread, grown on demand and kept (allocation per call would dominate
// small GEMMs). Workers only read it while the caller waits in parallel_for.
struct PackBuffer {
  void* data = nullptr;
  size_t cap = 0;
  ~PackBuffer() { std::free(data); }
  void* get(size_t bytes) {
    if (bytes > cap) {
      std::free(data);
      const size_t rounded = ((bytes + 63) / 64) * 64;
      data = std::aligned_alloc(64, rounded);
      if (!data) {
        cap = 0;
        throw std::bad_alloc();
      }
      cap = rounded;
    }
    return data;
  }
};

thread_local PackBuffer tl_pack_a, tl_pack_b;
// A tile's own B panels (gemm()'s private_b), one per thread: pool workers keep theirs between calls.
thread_local PackBuffer tl_pack_b_tile;

// Who has packed which panel in the current call: 0 nobody, 1 being packed, 2 ready. Owned by the calling
// thread like the pack buffers. A thread claims a panel and packs it at once (it never waits while holding a
// claim), so a thread waiting on a panel always waits for a copy in progress.
class PanelStates {
 public:
  void reset(int64_t count) {
    if (count > cap_) {
      state_.reset(new std::atomic<uint8_t>[count]);
      cap_ = count;
    }
    for (int64_t u = 0; u < count; ++u) state_[u].store(kFree, std::memory_order_relaxed);
  }
  template <class Pack>
  void claim(int64_t u, const Pack& pack) {
    std::atomic<uint8_t>& s = state_[u];
    uint8_t expected = kFree;
    if (s.load(std::memory_order_relaxed) != kFree ||
        !s.compare_exchange_strong(expected, kBusy, std::memory_order_acquire, std::memory_order_relaxed))
      return;
    pack(u);
    s.store(kReady, std::memory_order_release);
  }
  void wait(int64_t u) const {
    const std::atomic<uint8_t>& s = state_[u];
    for (int spins = 0; s.load(std::memory_order_acquire) != kReady; ++spins) {
      // A packer descheduled by an oversubscribed machine: give up the core instead of spinning for a slice.
      if (spins < 4096) _mm_pause();
      else std::this_thread::yield();
    }
  }

 private:
  static constexpr uint8_t kFree = 0, kBusy = 1, kReady = 2;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
  int64_t cap_ = 0;
};
thread_local PanelStates tl_panel_states;

// A unit of the tile loop's work: micro-panel rows [r0, r1) of tile t (see the end of gemm()). The list is
// owned by the calling thread like the pack buffers.
struct Unit {
  int64_t t, r0, r1;
};
thread_local std::vector<Unit> tl_units;
thread_local std::vector<int64_t> tl_share_start;
constexpr int64_t kTailTiles = 2, kTailPieces = 4;

void bias_only(int64_t m, int64_t n, float* C, int64_t ldc, bool accumulate, const float* bias) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = C + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      const float b = bias ? bias[j] : 0.0f;
      row[j] = accumulate ? row[j] + b : b;
    }
  }
}

}  // namespace

void set_gemm_compute(GemmCompute mode) { g_compute.store((int)mode, std::memory_order_relaxed); }
GemmCompute gemm_compute() { return (GemmCompute)g_compute.load(std::memory_order_relaxed); }
bool gemm_bf16_supported() { return detected_isa() == Isa::Avx512 && cpu_has_bf16(); }
bool gemm_bf16_uses_amx() {
  return gemm_bf16_supported() && g_allow_amx.load(std::memory_order_relaxed) && amx_usable();
}
void set_gemm_bf16_amx(bool allow) { g_allow_amx.store(allow, std::memory_order_relaxed); }
bool gemm_direct_columns() { return g_direct_columns.load(std::memory_order_relaxed); }
void set_gemm_direct_columns(bool allow) { g_direct_columns.store(allow, std::memory_order_relaxed); }
bool gemm_direct_set_rows() { return g_direct_set_rows.load(std::memory_order_relaxed); }
void set_gemm_direct_set_rows(bool allow) { g_direct_set_rows.store(allow, std::memory_order_relaxed); }
bool gemm_private_b_panels() { return g_private_b_panels.load(std::memory_order_relaxed); }
void set_gemm_private_b_panels(bool allow) { g_private_b_panels.store(allow, std::memory_order_relaxed); }

namespace {

// C[i0, i1) × [j0, j1) = C > 0 ? C : 0 (the relu op's rule: NaN becomes 0).
void relu_rows(float* C, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float* row = C + i * ldc;
    for (int64_t j = j0; j < j1; ++j) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
  }
}

// C[i0, i1) × [j0, j1) = addend + C.
void add_rows(float* C, const float* addend, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float* row = C + i * ldc;
    const float* a = addend + i * ldc;
    for (int64_t j = j0; j < j1; ++j) row[j] = a[j] + row[j];
  }
}

// C[i0, i1) × [j0, j1) = gate > 0 ? C·scale : 0 (the reluBackward op's rule: a NaN gate gives 0).
void gate_rows(float* C, const float* gate, float scale, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t i = i0; i < i1; ++i) {
    float* row = C + i * ldc;
    const float* g = gate + i * ldc;
    for (int64_t j = j0; j < j1; ++j) row[j] = g[j] > 0.0f ? row[j] * scale : 0.0f;
  }
}

// Row-major A (x in the forward, dy for dx) is read in place in narrow products: packing it is a pass over
// memory that nothing overlaps, while the kernel's 14 row streams are fetched during the FMAs. In wide ones
// each A block, re-read from cache by every column tile, costs more than the pack saves. Measured with cold
// operands, builds alternated (Zen 5, 2 cores, N = 992): the 512² and 768² products (attention projections of
// 19m and 85m) 3-17% faster than packing. With KC blocks of 256 a long k (2048, 3072) did not gain; with the
// 1024-long blocks it does, as long as n stays narrow: n = 512, k = 2048 (19m linear2 forward and linear1 dx)
// 7-10% faster, n = 768, k = 3072 2-6%; n = 1536-4096 (k ≤ 1024) within ±4% either way, so n keeps its limit.
// Row strides that are a multiple of 1024 floats (4 KiB: the 19m's 2048, the 85m's 3072) put the 14 row streams
// in one set of the 12-way L1: the same products with rows 16 floats longer ran 4-9% faster. Such products
// take a 10-row kernel (rows_share_l1_set). Tried before it: a kernel copying each row's next line to a stack
// buffer every 16 k steps (0-2% slower), and copying A to a padded buffer first (cost what it saved).
//
// A column-major A (dyᵀ in dW) is read in place when it is the larger operand (m ≥ 2n): its MR values per k
// step are then contiguous, as in a packed panel, and skipping its pack outweighs the strided rows. Measured
// the same way against packing A on first use: dW at m = 2048, n = 512 (19m MLP) 5-6% faster, m = 3072,
// n = 768 (85m) 1-4%; at m < n (m = 512, n = 2048) 1-3% slower, so that keeps packing. Square products gain
// while B is narrow (few B panels re-read each A panel): dW at m = n (k = 992, packed A scheduled per thread,
// see gemm()) 384: 7-17% faster, 512 (the 19m attention projections): 4-14% (caches flushed first: 6%),
// 640-768 even, 896-1536 3-7% slower; so m ≥ n reads A in place up to n = 512.
// Not at a column stride past 4096 floats (the 1b model's linear1 dW, dyᵀ with lda = 8192): each k step's
// MR values then sit 32 KiB after the last, so every row of the panel falls in one L1 set and two L2 sets, and
// the panel, re-read for each B panel of the tile, came from L3 each time; packed, it is read once. Measured
// (Zen 5, 2 cores, packing and in-place alternated in one process): m, n, k = 8192, 2048, 248 4-13% faster
// packed over four runs, k = 992 13%; at lda = 4096 (345m, m, n = 4096, 1024) the two were even.
// All of that is Zen 5, whose prefetchers follow a stride of kilobytes across pages. Intel's do not (the L2
// streamer stays inside a 4 KiB page, and each k step of a column-major A is a new page from lda = 1024 on), so
// every row of the panel waits on L3: on an Intel Xeon (2 cores, AMX; 2 MiB L2) the same dW ran 2.2 times
// slower in place than packed at m = 2048, n = 512 (29 against 13 ms, three alternations) and 20% slower at
// m = n = 512, and the 19m step took 60-90 ms (7-9%) longer. Reading it in place is therefore AMD's default
// (g_direct_columns; the row-major case above measured even to 10% faster in place on that Intel too, except
// where its rows share an L1 set: see kDirectConflictRows).
bool direct_a(const Spec& spec, const Matrix& A, int64_t m, int64_t n, int64_t k, int64_t n_padded) {
  if (!spec.direct) return false;
  if (A.col_stride == 1)
    return n_padded <= kDirectMaxN && k <= kDirectMaxK &&
           (g_direct_set_rows.load(std::memory_order_relaxed) || !rows_share_l1_set(A.row_stride));
  return g_direct_columns.load(std::memory_order_relaxed) && A.row_stride == 1 && A.col_stride <= kDirectColumnsMaxLd &&
         (m >= 2 * n || (m >= n && n <= kDirectColumnsMaxN));
}

// Loop order inside a tile. The micro-kernel broadcasts MR values of A per k step (the latency-bound loads)
// and reads two vectors of B. The original order (B micro-panel outer, A inner) keeps B's panel for the sweep
// over the tile's A panels, but B's panel is 2.3 times A's (NR = 32 against MR = 14) and at the model's KC
// blocks it outgrows L1 (fp32: 128 KiB at KC = 1024), so both panels came from L2 on every call. With A outer,
// B inner, A's micro-panel stays in L1 while B's panels stream from L2, which keeps up with two loads per step.
// Chosen where A's micro-panel fits L1 (48 KiB on Zen 5) with room to spare, 32 KiB: every bf16 block
// (14 · 512 pairs · 4 bytes = 28 KiB at KC = 1024) and fp32 blocks up to k = 585; and for row-major A read in
// place (its MR rows' lines are the same bytes as a panel). Not for column-major A read in place (dW), whose
// rows are strided. Results are bit-identical (each C element sums the same terms in the same order).
// Measured (Zen 5, 2 cores, N = 992, 19m model, B = 32, runs alternated): bf16 mode GEMMs 2-7% less time
// per step (step 216-225 -> 209-219 ms over 7 pairs), the 19m shapes in isolation 0.5-5% faster; fp32
// GEMMs up to 3% less per step (one pair in three even), the isolated shapes 1-4% faster where it
// applies; fp32 panels over 32 KiB (dW, k = 992) measured no better in either order, so they keep B outer.
// Shorter fp32 blocks so that those panels fit too (KC = 496) measured 1-4% slower at k = 2048-4096.
// AMX takes A outer too, though its A micro-panel (32 rows · 1024 k · 2 bytes, 64 KiB at KC_AMX) is larger
// than the L1 (48 KiB). Measured (Intel Xeon with AMX, 2 cores, N = 992, forward, dx and dW of the 19m, 85m and
// 345m layer GEMMs in bf16 mode, caches flushed before each call, both orders alternated call by call in one
// process, 9 turns, two runs): 5-11% less time per direction over the 36 products (forward 9-11%, dx 5-8%,
// dW 6-7%), most products faster, a few even; the 19m step in bf16 mode (B = 32, `fairtune profile --ops`, the
// builds alternated through FAIRTUNE_ADDON, 6 pairs) faster in 5, medians 201.9 against 210.6 ms (its GEMMs 147
// against 156 ms). Why was not isolated: both panels come from L2 in either order; A outer sweeps the tile's
// 8 B panels (512 KiB) where B outer swept its 16 A panels (1 MiB). With A outer, KC_AMX = 512 (A's panel then
// fits L1) took 5-11% more time than 1024, and 2048 was mixed (forward 5% less, dW 1% more) within the noise of
// the products it does not change.
// AVX2 and scalar keep B outer (not measured).
bool a_stays_in_l1(const Spec& spec, bool direct, bool direct_columns, int64_t ksteps) {
  if (spec.kernel == kernel_amx_bf16) return true;
  if (spec.kernel != kernel_avx512_f32<14> && spec.kernel != kernel_avx512_bf16_14x32) return false;
  if (direct) return !direct_columns;
  return (int64_t)spec.mr * ksteps * spec.kstep * (int64_t)spec.elem <= 32768;
}

// A's row sums (gemm's a_sums): acc[r] += A(r, p) for rows r < mr of a column-major block (rows adjacent, columns
// cs apart), p = 0..kc-1 in order, in double: per row the additions column_sums_add makes, in its order, so the
// sums are bit-identical to it. The AMX panel's 32 rows in registers; other heights (a ragged last panel) in memory.
template <int R>
FT_INLINE_BODY void row_sums_fixed(const float* a, int64_t cs, int64_t kc, double* acc) {
  double s[R];
#pragma GCC unroll 32
  for (int r = 0; r < R; ++r) s[r] = acc[r];
  for (int64_t p = 0; p < kc; ++p) {
    const float* col = a + p * cs;
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) s[r] += (double)col[r];
  }
#pragma GCC unroll 32
  for (int r = 0; r < R; ++r) acc[r] = s[r];
}
FT_INLINE_BODY void row_sums_body(const float* a, int64_t cs, int mr, int64_t kc, double* acc) {
  if (mr == 32) return row_sums_fixed<32>(a, cs, kc, acc);
  for (int64_t p = 0; p < kc; ++p)
    for (int r = 0; r < mr; ++r) acc[r] += (double)a[p * cs + r];
}
FT_MULTI_ISA(row_sums, (const float* a, int64_t cs, int mr, int64_t kc, double* acc), (a, cs, mr, kc, acc))
thread_local std::vector<double> tl_row_sums;

}  // namespace

bool gemm(int64_t m, int64_t n, int64_t k, Matrix A, Matrix B, float* C, int64_t ldc, bool accumulate,
          const float* bias, bool relu, const float* gate, const Split* split, float gate_scale, const float* addend,
          float* a_sums, bool a_sums_accumulate) {
  if (gate_scale != 1.0f && !gate) throw std::invalid_argument("gemm: a gate scale needs a gate");
  if (!(gate_scale > 0.0f) || !std::isfinite(gate_scale))
    throw std::invalid_argument("gemm: the gate scale must be finite and positive");
  if (m <= 0 || n <= 0) return false;
  // Blocks of rows (of A and C) and of columns (of B and C): one block each unless split.
  const bool split_rows = split && split->dim == Split::Rows, split_cols = split && split->dim == Split::Cols;
  const bool split_depth = split && split->dim == Split::Depth;
  const int64_t msize = split_rows ? split->size : m, nsize = split_cols ? split->size : n;
  if (split && (split->size <= 0 || (split_rows ? m : split_cols ? n : k) % split->size != 0))
    throw std::invalid_argument("gemm: a split's block size must divide the split dimension");
  if (split_depth && (relu || gate)) throw std::invalid_argument("gemm: a depth split takes no relu or gate");
  if (split && addend) throw std::invalid_argument("gemm: a split product takes no addend");
  const int64_t a_block = split_rows ? split->stride : 0, c_block = split_cols ? split->stride : nsize;
  // The gate masks the whole of C, so it cannot apply to a sum with C's old values (callers check this).
  if (gate && accumulate) throw std::invalid_argument("gemm: a gate needs accumulate = false");
  // Likewise the addend: C = addend + the product, not a sum with C's old values too.
  if (addend && accumulate) throw std::invalid_argument("gemm: an addend needs accumulate = false");
  if (k <= 0) {
    for (int64_t g = 0; g < n / nsize; ++g) {
      float* Cg = C + g * c_block;
      const float* gate_g = gate ? gate + g * c_block : nullptr;
      bias_only(m, nsize, Cg, ldc, accumulate, bias ? bias + g * nsize : nullptr);
      if (relu) relu_rows(Cg, ldc, 0, m, 0, nsize);
      if (gate_g) gate_rows(Cg, gate_g, gate_scale, ldc, 0, m, 0, nsize);
      if (addend) add_rows(Cg, addend, ldc, 0, m, 0, nsize);  // unsplit (checked above): g = 0 only
    }
    return false;
  }
  Spec spec = spec_for(active_isa(), gemm_compute());
  const int NR = spec.nr;
  const int64_t nps = (nsize + NR - 1) / NR, np = (n / nsize) * nps;  // micro-panels per block, in all (columns)
  const bool direct = direct_a(spec, A, m, n, k, np * NR);
  if (direct && A.col_stride == 1 && spec.kernel == kernel_avx512_f32<14> && rows_share_l1_set(A.row_stride))
    spec = direct_conflict_spec();
  const int MR = spec.mr;
  const int64_t mps = (msize + MR - 1) / MR, mp = (m / msize) * mps;  // (rows)
  // Micro-panel ip: its block's A (rows of block g from A.data + g·a_block), its first row in the block and in
  // C, and its height; likewise jp's block of B (columns from g·nsize on), first column in the block, the
  // offset of that column in C (and the gate) and in the bias, and its width.
  struct APanel { Matrix A; int64_t r0, crow; int mr; };
  struct BPanel { Matrix B; int64_t c0, ccol, bcol; int nr; };
  auto a_panel = [&](int64_t ip) {
    const int64_t g = ip / mps, r0 = (ip % mps) * MR;
    return APanel{{A.data + g * a_block, A.row_stride, A.col_stride}, r0, g * msize + r0,
                  (int)std::min<int64_t>(MR, msize - r0)};
  };
  auto b_panel = [&](int64_t jp) {
    const int64_t g = jp / nps, c0 = (jp % nps) * NR;
    return BPanel{{B.data + g * nsize * B.col_stride, B.row_stride, B.col_stride}, c0, g * c_block + c0, g * nsize + c0,
                  (int)std::min<int64_t>(NR, nsize - c0)};
  };
  if (split_depth && (direct || split->size % 32 != 0)) {
    // As G products into C (see Split): the first honours accumulate and adds the bias.
    for (int64_t g = 0; g < k / split->size; ++g) {
      gemm(m, n, split->size, {A.data + g * split->stride, A.row_stride, A.col_stride},
           {B.data + g * split->size * B.row_stride, B.row_stride, B.col_stride}, C, ldc, accumulate || g > 0,
           g == 0 ? bias : nullptr);
    }
    return false;
  }
  const bool direct_columns = direct && A.row_stride == 1;
  const int64_t KCb = direct_columns ? std::min(spec.kc, KC_DIRECT_COLUMNS) : spec.kc;
  const int64_t kb = (k + KCb - 1) / KCb;                        // KC blocks
  // Packed sizes per KC block (the last may be shorter): A block b occupies MR·kcs(b) per micro-panel.
  auto kc_of = [&](int64_t b) { return std::min(KCb, k - b * KCb); };
  auto steps = [&](int64_t kc) { return (kc + spec.kstep - 1) / spec.kstep; };
  const int64_t ksteps_full = steps(std::min(KCb, k));  // a full block's steps (k itself when one block)
  const bool a_in_l1 = a_stays_in_l1(spec, direct, direct_columns, ksteps_full);
  // Offset (in packed values) of block b's panels: blocks before b are full; ks = steps(kc_of(b)), passed in so
  // that the tile loop, which knows it per block, takes no division per micro-kernel call.
  auto a_off = [&](int64_t b, int64_t ip, int64_t ks) { return (b * mp * ksteps_full + ip * ks) * MR * spec.kstep; };
  auto b_off = [&](int64_t b, int64_t jp, int64_t ks) { return (b * np * ksteps_full + jp * ks) * NR * spec.kstep; };
  char* Ap = direct ? nullptr : static_cast<char*>(tl_pack_a.get((size_t)(kb * mp * ksteps_full * MR * spec.kstep) * spec.elem));
  char* Bp = nullptr;  // the shared B panels, allocated below unless each tile packs its own (private_b)
  // A's row sums ride on its packing (see a_sums in gemm.h): packed column-major A, whose columns each pack has
  // just read, unsplit in depth (a depth block's columns are not the next block's), on AMX only. Each row's sum
  // is one chain of dependent double adds (column_sums_add's order), 4 cycles a step for the panel's 32 rows on
  // AMX and as long for the 14 of the AVX-512 kernels. Measured (Intel Xeon with AMX, 2 cores, results
  // bit-identical): the 19m linearBackward products with db in bf16 mode (caches flushed before each call, 5
  // turns, both orders) 0.5-10.6% less time, one of eight 0.4% more; the 19m step at B = 32 in bf16 mode (both
  // builds' kernels swapped step by step in one process; column sums were 2.5% of its perf samples) over five
  // runs of 40-60 pairs in both orders -3.9%, -2.2%, -1.6%, +0.8%, +0.9% per step (mean -1.2%). fp32 (14-row
  // panels, the same chains over fewer rows) 1.3% and 0.5% more per step (24 pairs each order): so the fp32 and
  // AVX512_BF16 packers keep the separate pass.
  const bool sums = a_sums && !direct && !split_depth && A.row_stride == 1 && spec.kernel == kernel_amx_bf16;
  double* row_acc = nullptr;
  if (sums) {
    tl_row_sums.assign((size_t)m, 0.0);
    row_acc = tl_row_sums.data();
  }

  // Small products are not worth waking the pool for.
  const double flops = (double)m * (double)n * (double)k;
  const bool serial = flops < 262144.0;

  // 1. Panels (units: one panel of one KC block; A's first, then B's) are packed on first use, in the tile loop.
  const int64_t a_units = direct ? 0 : kb * mp, b_units = kb * np;
  auto pack_unit = [&](int64_t u) {
    if (u < a_units) {
      const int64_t b = u / mp, ip = u % mp;
      const APanel a = a_panel(ip);
      char* dst = Ap + a_off(b, ip, steps(kc_of(b))) * spec.elem;
      if (!split_depth) {
        spec.pack_a(a.A, msize, a.r0, b * KCb, kc_of(b), MR, dst);
        // Block b of a row panel is packed only after block b - 1 is ready (a tile waits for every panel of a
        // block before it moves on), so each row's sum runs over k in order, as column_sums_add's.
        if (sums) row_sums_dispatch(a.A.data + a.r0 + b * KCb * A.col_stride, A.col_stride, a.mr, kc_of(b), row_acc + a.crow);
      } else {
        // The block's k range in pieces that end at the depth blocks' edges, each packed at its place in the
        // panel (k step s at s·MR·kstep values; the pieces are whole steps, their lengths multiples of 32).
        const int64_t p_end = b * KCb + kc_of(b), size = split->size;
        for (int64_t p = b * KCb; p < p_end;) {
          const int64_t g = p / size, q1 = std::min(p_end, (g + 1) * size);
          spec.pack_a({A.data + g * split->stride, A.row_stride, A.col_stride}, msize, a.r0, p - g * size, q1 - p, MR,
                      dst + (p - b * KCb) / spec.kstep * MR * spec.kstep * spec.elem);
          p = q1;
        }
      }
    } else {
      const int64_t v = u - a_units, b = v / np, jp = v % np;
      const BPanel bp = b_panel(jp);
      spec.pack_b(bp.B, nsize, bp.c0, b * KCb, kc_of(b), NR, Bp + b_off(b, jp, steps(kc_of(b))) * spec.elem);
    }
  };
  PanelStates& states = tl_panel_states;
  states.reset(a_units + b_units);
  auto a_unit = [&](int64_t b, int64_t ip) { return b * mp + ip; };
  auto b_unit = [&](int64_t b, int64_t jp) { return a_units + b * np + jp; };

  // 2. Tiles of C: MC rows (224: with fp32 KC = 1024 the A block, 900 KiB, about fills Zen 5's 1 MiB L2; 112
  //    measured no better) × NC columns; enough tiles for both cores to
  //    balance dynamically, but not so small that C traffic and the per-tile overhead show.
  //    AMX tiles take 8 micro-panels (256 rows): in the 19m step in bf16 mode (Intel Xeon with AMX, 2 cores,
  //    B = 32; both builds' kernels swapped step by step in one process, 40 pairs, both orders) 2.5% and 2.2%
  //    less time per step than 16, faster in 27 of 40 pairs each time (85m: 1.3%, 8 of 12); 4 measured 1.0%
  //    slower than 8 and 6 even. fp32 with 8 (112 rows) was 1.9% slower, so it keeps 16.
  constexpr int64_t kMaxMCp = 16, kMaxNCp = 8, kMaxMCpAmx = 8;
  const int64_t mc_cap = spec.kernel == kernel_amx_bf16 ? kMaxMCpAmx : kMaxMCp;
  // Where tiles pack their own B panels (below), rows up to a quarter past the cap stay one row block: the B = 8
  // products (m = 248, 18 fp32 micro-panels) would otherwise split 16 + 2, and the 2-panel tiles read each B
  // panel for 28 rows.
  const bool private_ok = g_private_b_panels.load(std::memory_order_relaxed);
  const int64_t MCp = private_ok && mp <= mc_cap + mc_cap / 4 ? mp : std::min<int64_t>(mp, mc_cap);  // per tile (rows)
  int64_t NCp = std::max<int64_t>(1, std::min<int64_t>(np, kMaxNCp));       // micro-panels per tile (columns)
  // With A's micro-panel outer (a_in_l1), the tile's B panels are swept once per A micro-panel, so they must
  // stay in L2 between sweeps, next to the A rows streaming through it. At fp32 KC = 1024 eight panels are
  // 1 MiB, all of Zen 5's L2, and they were re-read from L3 (exposed to whatever the host's other tenants do
  // to it). Capped at half of L2. Measured (Zen 5, 2 cores, both sides alternated 8 times in one process):
  // 85m N = 960, K = 3072, M = 768 4.6% faster (13.35 -> 12.76 ms), K = 768, M = 768 1.5-1.7%; products with
  // k <= 512 (the 19m forward shapes) and every bf16 product already had tiles within the cap (fp32 with packed
  // A and k in 513-585 now takes 7 panels). Results are bit-identical (same k order per element).
  if (a_in_l1) {
    const int64_t b_panel_bytes = (int64_t)NR * ksteps_full * spec.kstep * spec.elem;
    NCp = std::max<int64_t>(1, std::min<int64_t>(NCp, (512 * 1024) / b_panel_bytes));
  }
  const int64_t want = 6 * (int64_t)num_threads();
  while (NCp > 2 && ((mp + MCp - 1) / MCp) * ((np + NCp - 1) / NCp) < want) NCp = (NCp + 1) / 2;
  const int64_t mt = (mp + MCp - 1) / MCp, nt = (np + NCp - 1) / NCp;
  // One row block (m up to 280 rows in fp32, 320 on AMX: every B = 8 product but dW): each B panel then serves one
  // tile only, so the tile packs its panels into a buffer of its thread's, reused block after block and kept in L2,
  // instead of into the shared packed copy of B, which at the 1b shapes is 64 MiB written to memory and read back.
  // Measured (Intel Xeon with AMX, 2 cores, 2026-12-07; warm operands, builds run alternately): the 1b products at
  // N = 248 in fp32, forward 38-40 -> 30-31 ms and dx 40-42 -> 30-33 ms (201-219 -> 256-282 GFLOP/s; oneDNN's dx +
  // dW 58-60 ms, the engine's now 58-61), the 19m ones at B = 8 even to 16% faster; whole steps at B = 8 (both
  // builds' kernels swapped step by step in one process, ABBA): 1b fp32 10.0% and 13.4% less time per step (4 of 4
  // pairs, both orders), 1b bf16 (AMX) 4.3% (4 of 4), 19m fp32 faster in four runs of 30 pairs (paired medians
  // 1.1-6.0%, 16-20 of 30), 19m bf16 even within the host's noise (13 and 15 of 30 pairs, though the means were 3-6%
  // lower). Results are bit-identical. One row block with the shared copy took back only a third of it (forward
  // 36-39, dx 36-38 ms). Not on AMD: there (Zen 5, 2 cores, 1 MiB L2, the 1b dx at B = 8) private panels ran at
  // 270-273 GFLOP/s against 276-280 shared, alternated in one process (oneDNN: 308-317 in the same session); its
  // memory keeps up with the shared copy, and 18 fp32 A panels at KC = 1024 (1 MiB) fill its L2.
  const bool private_b = private_ok && mt == 1 && nt > 1 && !serial;
  if (!private_b) Bp = static_cast<char*>(tl_pack_b.get((size_t)(kb * np * ksteps_full * NR * spec.kstep) * spec.elem));
  // Tile numbering: row block by row block, so that consecutive tiles share A panels; column block by column
  // block when B is by far the larger packed operand (n ≥ 2m, A packed too), so that they share B panels (see
  // the scheduling below). At n just above m (m = 992, n = 1024) the row order measured 3-7% faster.
  const bool by_columns = !direct && n >= 2 * m;
  auto row_block = [&](int64_t t) { return by_columns ? t % mt : t / nt; };
  // One unit of work: tile t's micro-panel rows [r0, r1) of its MCp (a whole tile, or a piece of one; see below).
  auto tile = [&](int64_t t, int64_t r0, int64_t r1) {
    const int64_t rb = row_block(t), cb = by_columns ? t / mt : t % nt;
    const int64_t ip0 = rb * MCp + r0, ip1 = std::min(mp, rb * MCp + r1);
    const int64_t jp0 = cb * NCp, jp1 = std::min(np, jp0 + NCp);
    // The tile's micro-panels, and below each block's packed offsets, worked out once per tile and block rather
    // than per micro-kernel call: they take integer divisions by runtime values, several per call against the
    // ~3500 cycles of a full 14 × 32 × 512 call. perf (Zen 5, bf16 forward N, K, M = 992, 512, 2048): the tile
    // loop's own samples went from 3.7% to 2.0%, the micro-kernel's from 79% to 83%; call times moved within
    // the host's noise.
    APanel apn[kMaxMCp + kMaxMCp / 4];
    BPanel bpn[kMaxNCp];
    for (int64_t ip = ip0; ip < ip1; ++ip) apn[ip - ip0] = a_panel(ip);
    for (int64_t jp = jp0; jp < jp1; ++jp) bpn[jp - jp0] = b_panel(jp);
    // A private tile's B panels (private_b): its thread's buffer, holding one KC block's panels at a time.
    char* const Bt = private_b
        ? static_cast<char*>(tl_pack_b_tile.get((size_t)(NCp * ksteps_full * NR * spec.kstep) * spec.elem)) : nullptr;
    for (int64_t b = 0; b < kb; ++b) {
      const int64_t ks = steps(kc_of(b));
      const bool load_c = accumulate || b > 0;
      // Pack this block's panels that no thread has claimed yet: two tiles sharing a row (or column) block
      // then split its panels between them instead of one waiting while the other packs them all.
      // A private tile packs its B panels itself, all before its first call (its thread alone reads them).
      if (private_b) {
        for (int64_t jp = jp0; jp < jp1; ++jp) {
          const BPanel& bq = bpn[jp - jp0];
          spec.pack_b(bq.B, nsize, bq.c0, b * KCb, kc_of(b), NR, Bt + (jp - jp0) * ks * NR * spec.kstep * spec.elem);
        }
      } else {
        for (int64_t jp = jp0; jp < jp1; ++jp) states.claim(b_unit(b, jp), pack_unit);
      }
      if (!direct)
        for (int64_t ip = ip0; ip < ip1; ++ip) states.claim(a_unit(b, ip), pack_unit);
      // One micro-kernel call: rows of micro-panel ip by columns of micro-panel jp, KC block b.
      auto run = [&](int64_t ip, int64_t jp) {
        const APanel& a = apn[ip - ip0];
        const BPanel& bq = bpn[jp - jp0];
        const int64_t c_at = a.crow * ldc + bq.ccol;
        const float* bias_block = (b == 0 && bias) ? bias + bq.bcol : nullptr;
        // The ReLU, the gate and the addend go with the last KC block's store (see Epilogue).
        const Epilogue ep{relu, gate ? gate + c_at : nullptr, gate_scale, addend ? addend + c_at : nullptr};
        const Epilogue* epp = b == kb - 1 && (relu || gate || addend) ? &ep : nullptr;
        const char* bpanel =
            private_b ? Bt + (jp - jp0) * ks * NR * spec.kstep * spec.elem : Bp + b_off(b, jp, ks) * spec.elem;
        if (direct) {
          spec.direct(ks, a.A.data + a.r0 * A.row_stride + b * KCb * A.col_stride, A.row_stride, A.col_stride, bpanel,
                      C + c_at, ldc, a.mr, bq.nr, load_c, bias_block, epp);
        } else {
          spec.kernel(ks, Ap + a_off(b, ip, ks) * spec.elem, bpanel, C + c_at, ldc, a.mr, bq.nr, load_c, bias_block, epp);
        }
      };
      // Which micro-panel stays in L1 while the other sweeps past it (see a_stays_in_l1). The waits cost one
      // load once a panel is ready; each comes just before the panel's first use, so a panel the other thread
      // is still packing holds up only the calls that need it.
      if (a_in_l1) {
        for (int64_t ip = ip0; ip < ip1; ++ip) {
          if (!direct) states.wait(a_unit(b, ip));
          for (int64_t jp = jp0; jp < jp1; ++jp) {
            if (ip == ip0 && !private_b) states.wait(b_unit(b, jp));
            run(ip, jp);
          }
        }
      } else {
        for (int64_t jp = jp0; jp < jp1; ++jp) {
          if (!private_b) states.wait(b_unit(b, jp));
          for (int64_t ip = ip0; ip < ip1; ++ip) {
            if (!direct && jp == jp0) states.wait(a_unit(b, ip));
            run(ip, jp);
          }
        }
      }
    }
  };
  // When A is packed, each thread works through its own share of the tiles first (parallel_dynamic_shares): it
  // then mostly packs the panels it consumes, and they stay in its own caches. With the shared counter the two
  // threads alternated through every row block, each using panels the other had packed. Measured (Zen 5, 2
  // cores, N = 992, forward, dx and dW of the 19m, 85m and 345m layer products, builds alternated): bf16 mode
  // 5-10% faster on nearly every product (the 19m set, caches flushed before each call: 4-7%); fp32 with packed
  // A (n > 768, dW) 2-7% faster, except the wide dW (n = 2048-4096, m = 512-1024), 2-5% slower until its
  // tiles went column block by column block (n ≥ 2m). With A read in place there is no A panel to keep, and
  // the shared counter measured 2-4% faster (both threads then walk the same A rows together), so it stays;
  // also in sequence (forward and backward of six 19m MLP layers in a scratch harness, the two schedules
  // alternated by step): own shares 2% slower overall, the linear2 forward 6%; only the bias column sums that
  // read its output gained (8-17% of a 0.1-0.2 ms op).
  // The units handed out: whole tiles, except the last kTailTiles of each thread's share (of the whole list for
  // the shared counter), cut into up to kTailPieces pieces of rows. A thread that runs out of work then waits for
  // the other's last piece, not its last tile (a 19m tile is 0.1-0.5 ms of one core's work, and on a shared
  // host the two cores seldom run at one speed). Every element of C is computed as in a whole tile, so results
  // are unchanged. Cutting every tile in two measured 1.5-2% slower in fp32 (fewer rows share each B panel read).
  // Measured (Zen 5, 2 vCPUs, noisy host): the time the caller waited for the other thread at the end of the
  // GEMMs of seven 19m fp32 steps, two pairs of runs: 30 -> 25 ms and 59 -> 41 ms; forward and backward of six
  // 19m MLP layers in sequence (scratch harness, both schedules alternated by step): 0.3-2% faster overall in
  // fp32 and bf16 mode over twelve runs (one 0.9% slower), the backward products up to 4.5% faster, the forward
  // ones 0-1.5% slower.
  // The threads' shares of the unit list (local scheduling) are those of the tiles: share w starts at unit
  // share_start[w], so a thread's own share holds the pieces of its own tiles whatever their count.
  const int64_t tiles = mt * nt;
  const bool local = !direct;
  const int64_t shares = serial ? 1 : local ? std::min<int64_t>(num_threads(), tiles) : 1;
  std::vector<Unit>& units = tl_units;
  std::vector<int64_t>& share_start = tl_share_start;
  units.clear();
  share_start.clear();
  for (int64_t w = 0; w < shares; ++w) {
    share_start.push_back((int64_t)units.size());
    const int64_t t0 = w * tiles / shares, t1 = (w + 1) * tiles / shares;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t rows = std::min(mp - row_block(t) * MCp, MCp);
      // (Not a private tile's: each piece would pack the tile's B panels again.)
      const int64_t pieces = serial || private_b || t < t1 - kTailTiles ? 1 : std::min<int64_t>(kTailPieces, rows);
      for (int64_t q = 0; q < pieces; ++q) units.push_back({t, q * rows / pieces, (q + 1) * rows / pieces});
    }
  }
  share_start.push_back((int64_t)units.size());
  auto unit = [&](int64_t u) { tile(units[u].t, units[u].r0, units[u].r1); };
  if (local) parallel_dynamic_shares(shares, serial, unit, [&](int64_t w) { return share_start[w]; });
  else parallel_dynamic(share_start.back(), serial, unit);
  if (sums)
    for (int64_t i = 0; i < m; ++i) a_sums[i] = (a_sums_accumulate ? a_sums[i] : 0.0f) + (float)row_acc[i];
  return sums;
}

namespace {

// out[c0, c1) += Σ_rows x[r, c] in double (column_reduce: the same order on every ISA and for any split of the
// columns). Multi-versioned: compiled for the baseline, the double-precision loop ran two lanes wide.
// Each thread reads its share of every row (1-2 KiB of a 2-8 KiB row), a strided pattern, and in the step dy
// (db's input) has been evicted by the dx and dW products in between: the hardware prefetchers did not keep up.
// So the same columns kColumnSumsAhead rows on are requested in software. Measured (Zen 5, 2 cores, 992 rows,
// both variants alternated in one process, caches flushed before each call): 512 columns 0.25 -> 0.15 ms,
// 2048 columns 0.56 -> 0.28 ms; in cache 12-30% faster. 4, 8 and 16 rows ahead were alike. Same sums.
constexpr int64_t kColumnSumsAhead = 8;
FT_INLINE_BODY void column_sums_body(const float* x, int64_t rows, int64_t cols, float* out, int64_t c0, int64_t c1) {
  column_reduce(rows, c0, c1, out, [&](int64_t r, int64_t cb, int64_t w, double* acc) FT_INLINE_LAMBDA {
    const float* row = x + r * cols + cb;
    if (r + kColumnSumsAhead < rows)
      for (int64_t j = 0; j < w; j += 16) __builtin_prefetch(row + kColumnSumsAhead * cols + j);
    for (int64_t j = 0; j < w; ++j) acc[j] += row[j];
  });
}
FT_MULTI_ISA(column_sums, (const float* x, int64_t rows, int64_t cols, float* out, int64_t c0, int64_t c1),
             (x, rows, cols, out, c0, c1))

}  // namespace

void column_sums_add(const float* x, int64_t rows, int64_t cols, float* out, bool accumulate) {
  // Columns are split over threads; each sums its columns down the rows in double. Overwriting starts from
  // zero: one row of cols floats, against the rows × cols the sum reads.
  if (!accumulate) std::fill(out, out + cols, 0.0f);
  parallel_for(cols, [&](int64_t c0, int64_t c1) { column_sums_dispatch(x, rows, cols, out, c0, c1); });
}

}  // namespace ft
