#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "isa.h"
#include "parallel.h"

namespace ft {
namespace {

// Micro-kernel contract: Ap holds an MR×kc micro-panel (MR values per p), Bp a kc×NR micro-panel (NR values
// per p), both zero-padded. It writes the valid mr×nr corner of C: C = acc (+ bias) when load_c is false,
// C += acc (+ bias) when true. bias (nr values) may be null.
using MicroKernel = void (*)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                             bool load_c, const float* bias);

FT_TARGET_AVX512 void kernel_avx512_8x32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                                         int mr, int nr, bool load_c, const float* bias) {
  constexpr int MR = 8;
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(Bp), b1 = _mm512_loadu_ps(Bp + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    Ap += MR;
    Bp += 32;
  }
  const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
  __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
  if (bias) {
    bias0 = _mm512_maskz_loadu_ps(m0, bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* row = C + i * ldc;
    __m512 r0 = _mm512_add_ps(c0[i], bias0), r1 = _mm512_add_ps(c1[i], bias1);
    if (load_c) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, row));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, r0);
    _mm512_mask_storeu_ps(row + 16, m1, r1);
  }
}

// Writes an MR×NR register tile held in `tile` (row-major, NR per row) to the valid corner of C.
inline void store_tile(const float* tile, int NR, float* C, int64_t ldc, int mr, int nr, bool load_c,
                       const float* bias) {
  for (int i = 0; i < mr; ++i) {
    float* row = C + i * ldc;
    for (int j = 0; j < nr; ++j) {
      float v = tile[i * NR + j] + (bias ? bias[j] : 0.0f);
      row[j] = load_c ? row[j] + v : v;
    }
  }
}

FT_TARGET_AVX2 void kernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr,
                                     int nr, bool load_c, const float* bias) {
  constexpr int MR = 6, NR = 16;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 a = _mm256_broadcast_ss(Ap + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias) {
      bias0 = _mm256_loadu_ps(bias);
      bias1 = _mm256_loadu_ps(bias + 8);
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float* row = C + i * ldc;
      __m256 r0 = _mm256_add_ps(c0[i], bias0), r1 = _mm256_add_ps(c1[i], bias1);
      if (load_c) {
        r0 = _mm256_add_ps(r0, _mm256_loadu_ps(row));
        r1 = _mm256_add_ps(r1, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, r0);
      _mm256_storeu_ps(row + 8, r1);
    }
    return;
  }
  alignas(32) float tile[MR * NR];
  // Fully unrolled so that the accumulators stay in registers (a runtime index would force them to memory).
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    _mm256_store_ps(tile + i * NR, c0[i]);
    _mm256_store_ps(tile + i * NR + 8, c1[i]);
  }
  store_tile(tile, NR, C, ldc, mr, nr, load_c, bias);
}

void kernel_scalar_4x8(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                       bool load_c, const float* bias) {
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
  store_tile(tile, NR, C, ldc, mr, nr, load_c, bias);
}

struct Spec {
  int mr, nr;
  MicroKernel kernel;
};

Spec spec_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return {8, 32, kernel_avx512_8x32};
    case Isa::Avx2: return {6, 16, kernel_avx2_6x16};
    default: return {4, 8, kernel_scalar_4x8};
  }
}

constexpr int64_t KC = 256;

// Packs rows [i0, i0 + mc) × cols [p0, p0 + kc) of A into ceil(mc / MR) micro-panels of MR×kc.
void pack_a(const Matrix& A, int64_t i0, int64_t p0, int64_t mc, int64_t kc, int MR, float* out) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    float* dst = out + ir * kc;
    const int rows = (int)std::min<int64_t>(MR, mc - ir);
    if (A.col_stride == 1 || A.row_stride != 1) {
      // Read each row contiguously (row-major A), scatter with stride MR.
      for (int i = 0; i < MR; ++i) {
        if (i < rows) {
          const float* src = A.data + (i0 + ir + i) * A.row_stride + p0 * A.col_stride;
          for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = src[p * A.col_stride];
        } else {
          for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = 0.0f;
        }
      }
    } else {
      // Column-major A (Aᵀ of a row-major matrix): the MR values of one p are contiguous.
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = A.data + (i0 + ir) + (p0 + p) * A.col_stride;
        int i = 0;
        for (; i < rows; ++i) dst[p * MR + i] = src[i];
        for (; i < MR; ++i) dst[p * MR + i] = 0.0f;
      }
    }
  }
}

// Packs rows [p0, p0 + kc) × cols [j0, j0 + nc) of B into ceil(nc / NR) micro-panels of kc×NR.
void pack_b(const Matrix& B, int64_t p0, int64_t j0, int64_t kc, int64_t nc, int NR, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    float* dst = out + jr * kc;
    const int cols = (int)std::min<int64_t>(NR, nc - jr);
    if (B.col_stride == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = B.data + (p0 + p) * B.row_stride + (j0 + jr);
        int j = 0;
        for (; j < cols; ++j) dst[p * NR + j] = src[j];
        for (; j < NR; ++j) dst[p * NR + j] = 0.0f;
      }
    } else {
      // Bᵀ row-major (the Linear weight W[M, K] in the forward): read each column of B contiguously.
      for (int j = 0; j < NR; ++j) {
        if (j < cols) {
          const float* src = B.data + p0 * B.row_stride + (j0 + jr + j) * B.col_stride;
          for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p * B.row_stride];
        } else {
          for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.0f;
        }
      }
    }
  }
}

// Per-thread packing buffers, grown on demand and kept (allocation per call would dominate small GEMMs).
struct PackBuffer {
  float* data = nullptr;
  size_t cap = 0;
  ~PackBuffer() { std::free(data); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(data);
      size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data) {
        cap = 0;
        throw std::bad_alloc();
      }
      cap = n;
    }
    return data;
  }
};

thread_local PackBuffer tl_pack_a, tl_pack_b;

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

void gemm(int64_t m, int64_t n, int64_t k, Matrix A, Matrix B, float* C, int64_t ldc, bool accumulate,
          const float* bias) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    bias_only(m, n, C, ldc, accumulate, bias);
    return;
  }
  const Spec spec = spec_for(active_isa());
  const int MR = spec.mr, NR = spec.nr;
  // Tile C into independent MC×NC blocks (each a task with its own packing); shrink the tiles until
  // there are enough tasks to keep every thread busy, but not below a few micro-tiles.
  // Measured here (N=960, K=512, M=2048): MC 384 beats 128 by ~15%; KC 256 and NC 512 near the best.
  int64_t MC = (384 / MR) * MR, NC = 512;
  const int64_t want = 2 * (int64_t)num_threads();
  auto tasks = [&] { return ((m + MC - 1) / MC) * ((n + NC - 1) / NC); };
  while (tasks() < want && (NC > 4 * NR || MC > 4 * MR)) {
    if (NC > 4 * NR && (NC >= MC || MC <= 4 * MR)) NC = std::max<int64_t>(4 * NR, ((NC / 2) / NR) * NR);
    else MC = std::max<int64_t>(4 * MR, ((MC / 2) / MR) * MR);
  }
  const int64_t mt = (m + MC - 1) / MC, nt = (n + NC - 1) / NC;
  // Small products are not worth waking the pool for.
  const bool serial = (double)m * (double)n * (double)k < 262144.0;
  auto run = [&](int64_t t0, int64_t t1) {
    float* ap = tl_pack_a.get((size_t)MC * KC);
    float* bp = tl_pack_b.get((size_t)NC * KC);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t ic = (t / nt) * MC, jc = (t % nt) * NC;
      const int64_t mc = std::min(MC, m - ic), nc = std::min(NC, n - jc);
      for (int64_t pc = 0; pc < k; pc += KC) {
        const int64_t kc = std::min(KC, k - pc);
        pack_b(B, pc, jc, kc, nc, NR, bp);
        pack_a(A, ic, pc, mc, kc, MR, ap);
        const bool load_c = accumulate || pc > 0;
        const float* bias_block = (pc == 0 && bias) ? bias + jc : nullptr;
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = (int)std::min<int64_t>(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = (int)std::min<int64_t>(MR, mc - ir);
            spec.kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, load_c,
                        bias_block ? bias_block + jr : nullptr);
          }
        }
      }
    }
  };
  if (serial) run(0, mt * nt);
  else parallel_for(mt * nt, run);
}

void column_sums_add(const float* x, int64_t rows, int64_t cols, float* out) {
  // Columns are split over threads; each sums its columns down the rows in double.
  parallel_for(cols, [&](int64_t c0, int64_t c1) {
    constexpr int64_t CB = 256;
    double acc[CB];
    for (int64_t cb = c0; cb < c1; cb += CB) {
      const int64_t w = std::min(CB, c1 - cb);
      for (int64_t j = 0; j < w; ++j) acc[j] = 0.0;
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * cols + cb;
        for (int64_t j = 0; j < w; ++j) acc[j] += row[j];
      }
      for (int64_t j = 0; j < w; ++j) out[cb + j] += (float)acc[j];
    }
  });
}

}  // namespace ft
