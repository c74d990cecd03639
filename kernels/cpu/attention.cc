// Fused RoPE causal attention, forward and backward (FlashAttention-2 scheme), for the CPU backend.
// Contract: attention.h. Structure:
//   - one task per (batch, head) pair, in groups the pool's threads claim dynamically (each task writes
//     disjoint output slices);
//   - per task, q and k are rotated once into small per-thread buffers (q pre-multiplied by 1/sqrt(d)), k is
//     also kept transposed so that a tile of scores is a plain "broadcast a, multiply a row of vectors" GEMM;
//   - query rows go in blocks of kBr, keys in tiles of kBc, only up to the diagonal (causal), with an online
//     softmax in the forward and probabilities recomputed from lse in the backward. Nothing S x S is kept;
//   - except for sequences up to kShortS = 320 tokens (the fine-tuning windows, T = 256 included), where a
//     head's whole score matrix fits in a buffer and is handled at once, transposed (see "Short sequences");
//   - and, at any S, when the caller gives a reserve (attention.h): the forward then keeps each head's
//     probabilities there and the backward reads them back instead of recomputing the scores (both on the
//     whole-matrix path).
// The arithmetic is written once, as templates over the vector width W on the vector layer of vec.h; the
// templates are always_inline and instantiated inside functions carrying target("avx512f...") or
// target("avx2,fma") attributes, so the same source becomes AVX-512, AVX2 or scalar code and the file still
// compiles for baseline x86-64. The path is the engine's one ISA policy (isa.h: ft::active_isa(), lowered by
// setIsa / FAIRTUNE_ISA like every other kernel), and the entry points carry the same target attributes as
// the GEMM's, so a path labelled "avx2" or "scalar" in a test is the path that ran.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "dropout.h"
#include "isa.h"
#include "parallel.h"

#include "vec.h"

namespace ft {
namespace {
using vec::VecOps;

constexpr int kBr = 8;    // query rows per block in the forward: small, so the causal triangle is followed closely
constexpr int kBrB = 16;  // in the backward, where the block is also the inner dimension of the dV and dK products
constexpr int kBc = 64;   // keys per tile: a multiple of every vector width (1, 8, 16)

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// ---------------------------------------------------------------------------------------------------------
// C[m x n] (+)= A[m x k] * B[k x n]: B and C row-major with leading dimensions, n a multiple of W; A(r, p) at
// A[r * lda + p * acs] (acs = 1: row-major; lda = 1: the transpose of a row-major matrix, read in place, since
// the kernel only broadcasts single elements of A). The micro-kernel keeps MR x NV accumulator vectors in
// registers and broadcasts one element of A per row. Its loops over rows and vectors must unroll fully (up to
// 6 x 4): with "unroll 4" the 6-row kernel kept its accumulators on the stack, 1.7 times slower.

// Vectors of accumulators per row of the micro-kernel (4 x 16 floats with 32 registers, 2 x 8 with 16).
template <int W>
constexpr int kNV = W == 16 ? 4 : 2;

template <int W, int MR, int NV, bool ACC>
FT_INLINE void micro(int64_t k, const float* A, int64_t lda, int64_t acs, const float* B, int64_t ldb, float* C,
                     int64_t ldc) {
  using X = VecOps<W>;
  using V = typename X::V;
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = ACC ? X::load(C + r * ldc + v * W) : X::set1(0.f);
  for (int64_t kk = 0; kk < k; ++kk) {
    V b[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) b[v] = X::load(B + kk * ldb + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      V a = X::set1(A[r * lda + kk * acs]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = a * b[v] + acc[r][v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) X::store(C + r * ldc + v * W, acc[r][v]);
}

template <int W, int MR, int NV, bool ACC>
FT_INLINE void micro_nv(int nv, int64_t k, const float* A, int64_t lda, int64_t acs, const float* B, int64_t ldb,
                        float* C, int64_t ldc) {
  if constexpr (NV >= 1) {
    if (nv == NV) {
      micro<W, MR, NV, ACC>(k, A, lda, acs, B, ldb, C, ldc);
    } else {
      micro_nv<W, MR, NV - 1, ACC>(nv, k, A, lda, acs, B, ldb, C, ldc);
    }
  }
}

// The last mr < MR rows of a product.
template <int W, int MR, bool ACC>
FT_INLINE void micro_rows(int mr, int nv, int64_t k, const float* A, int64_t lda, int64_t acs, const float* B,
                          int64_t ldb, float* C, int64_t ldc) {
  if constexpr (MR >= 1) {
    if (mr == MR) micro_nv<W, MR, kNV<W>, ACC>(nv, k, A, lda, acs, B, ldb, C, ldc);
    else micro_rows<W, MR - 1, ACC>(mr, nv, k, A, lda, acs, B, ldb, C, ldc);
  }
}

template <int W, bool ACC, int MR = 4>
FT_INLINE void gemm(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, int64_t acs, const float* B,
                    int64_t ldb, float* C, int64_t ldc) {
  // Register blocking of the micro-kernel: MR rows (4 on the tiled path, kRB on the short one) x NV vectors.
  constexpr int NV = kNV<W>;
  for (int64_t j = 0; j < n; j += NV * W) {
    const int nv = (int)std::min<int64_t>(NV, (n - j) / W);
    int64_t i = 0;
    for (; i + MR <= m; i += MR)
      micro_nv<W, MR, NV, ACC>(nv, k, A + i * lda, lda, acs, B + j, ldb, C + i * ldc + j, ldc);
    if (i < m) micro_rows<W, MR - 1, ACC>((int)(m - i), nv, k, A + i * lda, lda, acs, B + j, ldb, C + i * ldc + j, ldc);
  }
}

// ---------------------------------------------------------------------------------------------------------
// RoPE tables, expanded per feature so the rotation is two vector multiply-adds: for position pos and feature
// c of a head, y[c] = x[c] * cs[c] + x[c ^ 1] * sn[c], with for c < r = d/2 (pair j = c/2, angle
// a = pos * 10000^(-2j/r)): cs = cos a, sn = -sin a (c even) or +sin a (c odd); for r <= c < d: cs = 1, sn = 0;
// and for padding features c >= d: cs = sn = 0. Rows have stride rope_stride(d) = d rounded up to 16, which
// covers every vector width. Computed in double once per (S, d) and cached (every layer and step of a model
// calls the kernel with the same shape).

int64_t rope_stride(int64_t d) { return round_up(d, 16); }

// Both tables start on a 64-byte cache line, as the scratch does (see scratch()): their rows are whole lines.
struct RopeTable {
  int64_t S = 0, d = 0;
  std::vector<float> storage;                // cs and sn, with room to align each
  const float *cs = nullptr, *sn = nullptr;  // [S x rope_stride(d)]
};

float* line_aligned(float* p) {
  const auto at = reinterpret_cast<uintptr_t>(p) % 64;
  return p + (at == 0 ? 0 : (64 - at) / sizeof(float));
}

std::shared_ptr<const RopeTable> rope_table(int64_t S, int64_t d) {
  static std::mutex mu;
  static std::shared_ptr<const RopeTable> last;
  std::lock_guard<std::mutex> lk(mu);
  if (last && last->S == S && last->d == d) return last;
  const int64_t r = d / 2, st = rope_stride(d);
  auto t = std::make_shared<RopeTable>();
  t->S = S;
  t->d = d;
  // S·st is a multiple of 16 floats, so sn, one table past the aligned cs, is aligned too.
  t->storage.assign((size_t)(2 * S * st + 16), 0.f);
  float* cs0 = line_aligned(t->storage.data());
  float* sn0 = cs0 + S * st;
  t->cs = cs0;
  t->sn = sn0;
  for (int64_t pos = 0; pos < S; ++pos) {
    float* cs = cs0 + pos * st;
    float* sn = sn0 + pos * st;
    for (int64_t j = 0; j < r / 2; ++j) {
      const double a = (double)pos * std::pow(10000.0, -2.0 * (double)j / (double)r);
      const float c = (float)std::cos(a), s = (float)std::sin(a);
      cs[2 * j] = c;
      cs[2 * j + 1] = c;
      sn[2 * j] = -s;
      sn[2 * j + 1] = s;
    }
    for (int64_t c = r; c < d; ++c) cs[c] = 1.f;
  }
  last = t;
  return last;
}

// y[0, dp) = rot(x) * mul, where x has dp readable floats whose padding (c >= d) is finite.
template <int W>
FT_INLINE void rope_row(const float* x, const float* cs, const float* sn, int64_t dp, float mul, float* y) {
  using X = VecOps<W>;
  if constexpr (W == 1) {
    for (int64_t c = 0; c < dp; ++c) y[c] = (x[c] * cs[c] + x[c ^ 1] * sn[c]) * mul;
  } else {
    const auto m = X::set1(mul);
    for (int64_t c = 0; c < dp; c += W) {
      const auto xv = X::load(x + c);
      X::store(y + c, (xv * X::load(cs + c) + X::swap_pairs(xv) * X::load(sn + c)) * m);
    }
  }
}

// dx[0, d) += rot^T(dy) * mul (the transpose of the rotation turns by -angle: dx = dy*cs - swap(dy)*sn).
// dy is zero-padded to a multiple of W; tmp is scratch of W floats.
template <int W>
// dx (+)= R(−θ)·dy·mul: added, or written when overwrite (dx is then never read).
FT_INLINE void rope_row_backward_add(const float* dy, const float* cs, const float* sn, int64_t d, float mul,
                                     float* dx, float* tmp, bool overwrite) {
  using X = VecOps<W>;
  if constexpr (W == 1) {
    for (int64_t c = 0; c < d; ++c) {
      const float g = (dy[c] * cs[c] - dy[c ^ 1] * sn[c]) * mul;
      dx[c] = overwrite ? g : dx[c] + g;
    }
  } else {
    const auto m = X::set1(mul);
    const int64_t full = d / W * W;
    for (int64_t c = 0; c < full; c += W) {
      const auto yv = X::load(dy + c);
      const auto g = (yv * X::load(cs + c) - X::swap_pairs(yv) * X::load(sn + c)) * m;
      X::store(dx + c, overwrite ? g : X::load(dx + c) + g);
    }
    if (full < d) {
      const auto yv = X::load(dy + full);
      X::store(tmp, (yv * X::load(cs + full) - X::swap_pairs(yv) * X::load(sn + full)) * m);
      for (int64_t c = full; c < d; ++c) dx[c] = overwrite ? tmp[c - full] : dx[c] + tmp[c - full];
    }
  }
}

// Row x[0, d) of a strided input, readable as dp floats: the input itself when d == dp, else a zero-padded
// copy in tmp (reading past d could run off the end of the tensor).
FT_INLINE const float* padded_row(const float* x, int64_t d, int64_t dp, float* tmp) {
  if (d == dp) return x;
  std::memcpy(tmp, x, sizeof(float) * (size_t)d);
  std::fill(tmp + d, tmp + dp, 0.f);
  return tmp;
}

// T[c * ldt + i] = M[i * ldm + c] for i < rows, c < cols, and T[c * ldt + i] = 0 for rows <= i <
// round_up(rows, W): W x W blocks go through vector transposes, the columns past the last whole vector scalar.
template <int W>
FT_INLINE void transpose_into(const float* M, int64_t ldm, int64_t rows, int64_t cols, float* T, int64_t ldt) {
  using X = VecOps<W>;
  const int64_t rows_p = round_up(rows, W), full = W > 1 ? cols / W * W : 0;
  if constexpr (W > 1) {
    for (int64_t i0 = 0; i0 < rows_p; i0 += W)
      for (int64_t c0 = 0; c0 < full; c0 += W) {
        typename X::V r[W];
#pragma GCC unroll 16
        for (int i = 0; i < W; ++i) r[i] = i0 + i < rows ? X::load(M + (i0 + i) * ldm + c0) : X::set1(0.f);
        X::transpose(r);
#pragma GCC unroll 16
        for (int c = 0; c < W; ++c) X::store(T + (c0 + c) * ldt + i0, r[c]);
      }
  }
  for (int64_t c = full; c < cols; ++c)
    for (int64_t i = 0; i < rows_p; ++i) T[c * ldt + i] = i < rows ? M[i * ldm + c] : 0.f;
}

// ---------------------------------------------------------------------------------------------------------

struct Problem {
  const float *q, *k, *v, *out, *dout, *lse_in;
  float *o, *lse, *dq, *dk, *dv;
  int64_t B, S, H, D, d, rs;  // rs: row stride of the RoPE tables
  int64_t dp, Sp;  // d and S rounded up to the vector width (zero-padded in the buffers)
  float scale;
  bool dropout;
  uint32_t threshold;
  DropoutKey key;
  float inv_keep;  // 1 / (1 - p)
  const RopeTable* rope;
  bool overwrite;  // backward: write dq, dk, dv instead of adding into them
  // The probabilities kept from the forward for the backward (attention.h): written by the forward when
  // probs_out is set, read by the backward instead of recomputing them when probs_in is set.
  float* probs_out;
  const float* probs_in;
  bool prefetch_next;  // request the next head's rows while this one computes (see kPrefetchMaxS and NextHead)
};

// mult[c] = keep(element base + c) ? inv_keep : 0 for c < n (dropout.cc: 16 Philox blocks per AVX-512 batch).
FT_INLINE void dropout_row(const Problem& P, uint64_t base, int64_t n, float* mult) {
  dropout_multipliers(P.key, P.threshold, P.inv_keep, base, n, mult);
}

// Per-thread scratch that only grows: the pool's threads are persistent, so steady-state calls allocate nothing.
// It starts on a 64-byte cache line. Its rows (dp and Sp floats: whole lines at AVX-512) are then read and
// written a line per vector; from the vector's own 16-byte alignment each access straddled two lines. Measured
// (Zen 5, scratch harness alternating the two in one process, B = 32, S = 31, D = 512, H = 8): forward and
// backward 4-9% faster on 2 threads, 7% on one thread with the operands in cache (B = 1).
float* scratch(size_t n) {
  constexpr size_t kLine = 64 / sizeof(float);
  thread_local std::vector<float> buf;
  if (buf.size() < n + kLine) buf.resize(n + kLine);
  return line_aligned(buf.data());
}

// The rotations of whole rows, for d a whole number of vectors (every model: d = 64): q and k (and dq and dk)
// of a row go through one loop, read and written in place, with the same arithmetic as rope_row and
// rope_row_backward_add (same expressions, so the same results). The general pair (a padded copy of each row,
// a partial last vector, the overwrite choice per vector), inlined into the head functions, compiled into
// loops that kept pointers on the stack. Measured (Zen 5, 2 cores, H = 8, D = 512, scratch harness, both
// variants in one process, results bit-identical): per-phase cycle counters of the backward at B = 32, S = 31
// put the rotation of q and k (with the transpose of Qs) at 1940-1990 -> 1380-1450 TSC cycles per head and the
// rotation back into dq and dk at 1830-1920 -> 1070-1100; end to end, forward+backward 3.5-4.5% faster at
// S = 31 (B = 32) and 5% at S = 257 (B = 8).
template <int W>
FT_INLINE void rotate_qk_whole(const Problem& P, const float* qh, const float* kh, float* Qs, float* Kr) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t dp = P.dp, D = P.D, rs = P.rs;
  const float* cs = P.rope->cs;
  const float* sn = P.rope->sn;
  const V m = X::set1(P.scale);
  for (int64_t i = 0; i < P.S; ++i) {
    const float *qr = qh + i * D, *kr = kh + i * D, *ci = cs + i * rs, *si = sn + i * rs;
    float *qo = Qs + i * dp, *ko = Kr + i * dp;
#pragma GCC unroll 4
    for (int64_t c = 0; c < dp; c += W) {
      const V cv = X::load(ci + c), sv = X::load(si + c), xq = X::load(qr + c), xk = X::load(kr + c);
      X::store(qo + c, (xq * cv + X::swap_pairs(xq) * sv) * m);
      X::store(ko + c, xk * cv + X::swap_pairs(xk) * sv);
    }
  }
}

// dq (+)= R(−θ)·dQa·scale and dk (+)= R(−θ)·dKa over the S rows of one head (d == dp).
template <int W, bool Overwrite>
FT_INLINE void store_dqk_whole(const Problem& P, int64_t off, const float* dQa, const float* dKa) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t dp = P.dp, D = P.D, rs = P.rs;
  const float* cs = P.rope->cs;
  const float* sn = P.rope->sn;
  const V m = X::set1(P.scale);
  for (int64_t i = 0; i < P.S; ++i) {
    const float *qa = dQa + i * dp, *ka = dKa + i * dp, *ci = cs + i * rs, *si = sn + i * rs;
    float *dq = P.dq + off + i * D, *dk = P.dk + off + i * D;
#pragma GCC unroll 4
    for (int64_t c = 0; c < dp; c += W) {
      const V cv = X::load(ci + c), sv = X::load(si + c), yq = X::load(qa + c), yk = X::load(ka + c);
      const V gq = (yq * cv - X::swap_pairs(yq) * sv) * m, gk = yk * cv - X::swap_pairs(yk) * sv;
      X::store(dq + c, Overwrite ? gq : X::load(dq + c) + gq);
      X::store(dk + c, Overwrite ? gk : X::load(dk + c) + gk);
    }
  }
}

// Rotated q rows pre-multiplied by the score scale, Qs [S x dp], and rotated k rows, Kr [S x dp]; padding is
// zeroed (padded key columns meet zero probabilities, and 0 * garbage could be NaN). tmp: scratch of dp floats.
template <int W>
FT_INLINE void rotate_qk(const Problem& P, const float* qh, const float* kh, float* Qs, float* Kr, float* tmp) {
  const int64_t d = P.d, dp = P.dp, D = P.D, rs = P.rs;
  if constexpr (W > 1) {
    if (d == dp) return rotate_qk_whole<W>(P, qh, kh, Qs, Kr);
  }
  for (int64_t i = 0; i < P.S; ++i) {
    const float* cs = P.rope->cs + i * rs;
    const float* sn = P.rope->sn + i * rs;
    rope_row<W>(padded_row(qh + i * D, d, dp, tmp), cs, sn, dp, P.scale, Qs + i * dp);
    rope_row<W>(padded_row(kh + i * D, d, dp, tmp), cs, sn, dp, 1.0f, Kr + i * dp);
  }
}

// The tiled path's operands: Qs and Kr, and Kr transposed, KT [d x Sp].
template <int W>
FT_INLINE void prepare_qk(const Problem& P, const float* qh, const float* kh, float* Qs, float* Kr, float* KT,
                          float* tmp) {
  rotate_qk<W>(P, qh, kh, Qs, Kr, tmp);
  transpose_into<W>(Kr, P.dp, P.S, P.d, KT, P.Sp);
}

// Rows x[i * ld, + d) for i < S copied into dst [S x dp], zero-padded to dp (the products read dp floats a row).
FT_INLINE void padded_rows(const Problem& P, const float* x, int64_t ld, float* dst) {
  const int64_t d = P.d, dp = P.dp;
  for (int64_t i = 0; i < P.S; ++i) {
    std::memcpy(dst + i * dp, x + i * ld, sizeof(float) * (size_t)d);
    std::fill(dst + i * dp + d, dst + (i + 1) * dp, 0.f);
  }
}

template <int W>
FT_INLINE void forward_head(const Problem& P, int64_t bh) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t S = P.S, d = P.d, dp = P.dp, Sp = P.Sp, D = P.D;
  const int64_t b = bh / P.H, h = bh % P.H;
  const int64_t off = b * S * D + h * d;

  float* ws = scratch((size_t)(3 * S * dp + d * Sp + kBr * kBc + kBr * dp + kBc + dp));
  float* Qs = ws;
  float* Kr = Qs + S * dp;
  float* Vc = Kr + S * dp;
  float* KT = Vc + S * dp;
  float* Sb = KT + d * Sp;  // scores / probabilities of one block x tile [kBr x kBc]
  float* Ob = Sb + kBr * kBc;  // unnormalised output rows of the block [kBr x dp]
  float* mult = Ob + kBr * dp;  // dropout multipliers of one row of a tile [kBc]
  float* tmp = mult + kBc;      // [dp]

  prepare_qk<W>(P, P.q + off, P.k + off, Qs, Kr, KT, tmp);
  // V rows are read in place when d is a whole number of vectors (the P·V product reads dp floats per row);
  // else from a zero-padded copy (reading past d could run off the end of the tensor).
  const bool v_in_place = d == dp;
  const float* Vb = v_in_place ? P.v + off : Vc;
  const int64_t ldv = v_in_place ? D : dp;
  if (!v_in_place) padded_rows(P, P.v + off, D, Vc);

  const float neg_inf = -INFINITY;
  for (int64_t i0 = 0; i0 < S; i0 += kBr) {
    const int64_t mr = std::min<int64_t>(kBr, S - i0);
    const int64_t kend = i0 + mr;  // keys this block can see (causal)
    float m[kBr], l[kBr];
    for (int r = 0; r < kBr; ++r) { m[r] = neg_inf; l[r] = 0.f; }
    std::fill(Ob, Ob + kBr * dp, 0.f);

    for (int64_t j0 = 0; j0 < kend; j0 += kBc) {
      const int64_t nc = std::min<int64_t>(kBc, kend - j0), ncp = round_up(nc, W);
      gemm<W, false>(mr, ncp, d, Qs + i0 * dp, dp, 1, KT + j0, Sp, Sb, kBc);
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t i = i0 + r;
        const int64_t valid = std::min<int64_t>(nc, i - j0 + 1);
        float* s = Sb + r * kBc;
        if (valid <= 0) {  // the whole tile lies above the diagonal for this row
          std::fill(s, s + ncp, 0.f);
          continue;
        }
        for (int64_t c = valid; c < ncp; ++c) s[c] = neg_inf;
        V mv = X::load(s);
        for (int64_t c = W; c < ncp; c += W) mv = X::vmax(mv, X::load(s + c));
        const float m_new = std::max(m[r], X::hmax(mv));
        const float alpha = std::exp(m[r] - m_new);
        const V mn = X::set1(m_new);
        V sum = X::set1(0.f);
        for (int64_t c = 0; c < ncp; c += W) {
          const V p = X::exp(X::load(s + c) - mn);
          sum = sum + p;
          X::store(s + c, p);
        }
        l[r] = l[r] * alpha + X::hsum(sum);
        m[r] = m_new;
        if (alpha != 1.0f) {
          const V av = X::set1(alpha);
          float* orow = Ob + r * dp;
          for (int64_t c = 0; c < dp; c += W) X::store(orow + c, X::load(orow + c) * av);
        }
        if (P.dropout) {
          dropout_row(P, (uint64_t)((bh * S + i) * S + j0), valid, mult);
          for (int64_t c = 0; c < valid; ++c) s[c] *= mult[c];
        }
      }
      gemm<W, true>(mr, dp, nc, Sb, kBc, 1, Vb + j0 * ldv, ldv, Ob, dp);
    }

    const int64_t full = d / W * W;
    for (int64_t r = 0; r < mr; ++r) {
      const int64_t i = i0 + r;
      const float inv = 1.0f / l[r];
      const V iv = X::set1(inv);
      float* orow = P.o + off + i * D;
      const float* obr = Ob + r * dp;
      for (int64_t c = 0; c < full; c += W) X::store(orow + c, X::load(obr + c) * iv);
      for (int64_t c = full; c < d; ++c) orow[c] = obr[c] * inv;
      P.lse[bh * S + i] = m[r] + std::log(l[r]);
    }
  }
}

// The backward's dO rows: read in place when d is a whole number of vectors (the products read dp floats per
// row), else zero-padded copies in dOc [S x dp]; *ldo is their row stride. Also D_i = rowsum(dO o O) into Di.
// Di is null on the short path, which gets D_i from the probabilities instead (backward_head_short).
template <int W>
FT_INLINE const float* dout_rows(const Problem& P, int64_t off, float* dOc, float* Di, float* tmp, int64_t* ldo) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t S = P.S, d = P.d, dp = P.dp, D = P.D;
  const bool in_place = d == dp;
  const float* dOb = in_place ? P.dout + off : dOc;
  *ldo = in_place ? D : dp;
  if (!in_place) padded_rows(P, P.dout + off, D, dOc);
  if (!Di) return dOb;
  for (int64_t i = 0; i < S; ++i) {
    const float* dorow = dOb + i * *ldo;
    const float* op = padded_row(P.out + off + i * D, d, dp, tmp);
    V acc = X::set1(0.f);
    for (int64_t c = 0; c < dp; c += W) acc = X::load(dorow + c) * X::load(op + c) + acc;
    Di[i] = X::hsum(acc);
  }
  return dOb;
}

// dq and dk (+)= the rotation back of the accumulated dQa and dKa (dq also scaled by 1/sqrt(d)), and dv (+)=
// dVa, unless dVa is null (the products wrote dv in place). Written instead of added when P.overwrite.
template <int W>
FT_INLINE void backward_store(const Problem& P, int64_t off, const float* dQa, const float* dKa, const float* dVa,
                              float* tmp) {
  const int64_t d = P.d, dp = P.dp, D = P.D, rs = P.rs;
  bool whole = false;
  if constexpr (W > 1) {
    whole = d == dp;
    if (whole && P.overwrite) store_dqk_whole<W, true>(P, off, dQa, dKa);
    else if (whole) store_dqk_whole<W, false>(P, off, dQa, dKa);
  }
  if (whole && !dVa) return;
  for (int64_t i = 0; i < P.S; ++i) {
    if (!whole) {
      const float* cs = P.rope->cs + i * rs;
      const float* sn = P.rope->sn + i * rs;
      rope_row_backward_add<W>(dQa + i * dp, cs, sn, d, P.scale, P.dq + off + i * D, tmp, P.overwrite);
      rope_row_backward_add<W>(dKa + i * dp, cs, sn, d, 1.0f, P.dk + off + i * D, tmp, P.overwrite);
    }
    if (!dVa) continue;
    float* dvrow = P.dv + off + i * D;
    if (P.overwrite) std::memcpy(dvrow, dVa + i * dp, sizeof(float) * (size_t)d);
    else for (int64_t c = 0; c < d; ++c) dvrow[c] += dVa[i * dp + c];
  }
}

template <int W>
FT_INLINE void backward_head(const Problem& P, int64_t bh) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t S = P.S, d = P.d, dp = P.dp, Sp = P.Sp, D = P.D;
  const int64_t b = bh / P.H, h = bh % P.H;
  const int64_t off = b * S * D + h * d;

  float* ws = scratch((size_t)(6 * S * dp + 2 * d * Sp + S + 2 * kBrB * kBc + kBc + dp));
  float* Qs = ws;
  float* Kr = Qs + S * dp;
  float* dOc = Kr + S * dp;
  float* dQa = dOc + S * dp;
  float* dKa = dQa + S * dp;
  float* dVa = dKa + S * dp;
  float* KT = dVa + S * dp;
  float* VT = KT + d * Sp;
  float* Di = VT + d * Sp;
  float* Pb = Di + S;          // probabilities (then dropped probabilities) [kBrB x kBc]
  float* dPb = Pb + kBrB * kBc;  // dP, then dS [kBrB x kBc]
  float* mult = dPb + kBrB * kBc;
  float* tmp = mult + kBc;  // [dp]

  prepare_qk<W>(P, P.q + off, P.k + off, Qs, Kr, KT, tmp);
  int64_t ldo;
  const float* dOb = dout_rows<W>(P, off, dOc, Di, tmp, &ldo);
  transpose_into<W>(P.v + off, D, S, d, VT, Sp);

  const float* lse = P.lse_in + bh * S;
  const float neg_inf = -INFINITY;
  for (int64_t i0 = 0; i0 < S; i0 += kBrB) {
    const int64_t mr = std::min<int64_t>(kBrB, S - i0);
    const int64_t kend = i0 + mr;
    for (int64_t j0 = 0; j0 < kend; j0 += kBc) {
      const int64_t nc = std::min<int64_t>(kBc, kend - j0), ncp = round_up(nc, W);
      gemm<W, false>(mr, ncp, d, Qs + i0 * dp, dp, 1, KT + j0, Sp, Pb, kBc);
      gemm<W, false>(mr, ncp, d, dOb + i0 * ldo, ldo, 1, VT + j0, Sp, dPb, kBc);
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t i = i0 + r;
        const int64_t valid = std::min<int64_t>(nc, i - j0 + 1);
        float* s = Pb + r * kBc;
        float* dpr = dPb + r * kBc;
        if (valid <= 0) {
          std::fill(s, s + ncp, 0.f);
          std::fill(dpr, dpr + ncp, 0.f);
          continue;
        }
        for (int64_t c = valid; c < ncp; ++c) s[c] = neg_inf;
        const V lv = X::set1(lse[i]), dvec = X::set1(Di[i]);
        if (P.dropout) {
          dropout_row(P, (uint64_t)((bh * S + i) * S + j0), valid, mult);
          std::fill(mult + valid, mult + ncp, 0.f);
          for (int64_t c = 0; c < ncp; c += W) {
            const V p = X::exp(X::load(s + c) - lv);
            const V mk = X::load(mult + c);
            X::store(dpr + c, p * (X::load(dpr + c) * mk - dvec));
            X::store(s + c, p * mk);
          }
        } else {
          for (int64_t c = 0; c < ncp; c += W) {
            const V p = X::exp(X::load(s + c) - lv);
            X::store(dpr + c, p * (X::load(dpr + c) - dvec));
            X::store(s + c, p);
          }
        }
      }
      // Pᵀ and dSᵀ are read in place through their strides (lda 1, column stride kBc).
      // No zero pass over dQa, dKa, dVa: each row's first contribution writes it. dQ rows of this block first
      // meet the tile at j0 = 0. Key row j first appears in the block holding query row j (causal), and a block
      // never straddles a tile (kBrB divides kBc): in this tile, rows below i0 accumulate, rows from i0 write.
      const int64_t f = std::min(nc, std::max<int64_t>(0, i0 - j0));
      // dV += P_dropᵀ dO and dK_rot += dSᵀ Q_rot·scale
      gemm<W, true>(f, dp, mr, Pb, 1, kBc, dOb + i0 * ldo, ldo, dVa + j0 * dp, dp);
      gemm<W, false>(nc - f, dp, mr, Pb + f, 1, kBc, dOb + i0 * ldo, ldo, dVa + (j0 + f) * dp, dp);
      gemm<W, true>(f, dp, mr, dPb, 1, kBc, Qs + i0 * dp, dp, dKa + j0 * dp, dp);
      gemm<W, false>(nc - f, dp, mr, dPb + f, 1, kBc, Qs + i0 * dp, dp, dKa + (j0 + f) * dp, dp);
      // dQ_rot += dS K_rot
      if (j0 == 0) gemm<W, false>(mr, dp, nc, dPb, kBc, 1, Kr, dp, dQa + i0 * dp, dp);
      else gemm<W, true>(mr, dp, nc, dPb, kBc, 1, Kr + j0 * dp, dp, dQa + i0 * dp, dp);
    }
  }

  backward_store<W>(P, off, dQa, dKa, dVa, tmp);
}

// ---------------------------------------------------------------------------------------------------------
// Short sequences (S <= kShortS: the fine-tuning windows have S = 31). The tiled path above spends most of its
// time there outside the products: per query row a horizontal max and sum, a scalar rescale factor and
// partial-width products (a tile of 31 keys fills 2 of 4 accumulator vectors). Here a head's whole score
// matrix is one buffer, kept transposed, keys by queries (ST[j][i] = k_j · q_i): a vector holds W queries,
// so the softmax over keys is a vertical max, exp and sum across at most S vectors with no horizontal step,
// and no online rescaling is needed because every key is seen at once. The products run in blocks of kRB
// rows, each over only the range the causal mask leaves (keys j <= i), written so that every score a later
// product reads was produced and masked:
//   - ST row block j0 covers the query vectors from the one holding j0 on;
//   - the softmax of query vector c runs over keys j < jend(c) = min(S, round_up(c + W, kRB)), which are
//     exactly the rows the first step produced at c and the keys the query rows of c read later.
// Measured (Zen 5, 2 cores, B = 32, H = 8, D = 512, scratch harness calling both paths alternately): forward
// and backward at S = 31 1.80 -> 1.31-1.40 ms (forward 0.64 -> 0.41), with dropout 0.1 1.72-1.85 -> 1.47-1.51
// ms; S = 17, 48 and 64 17-20% faster. Its buffers grow as S² (at S = 320, 2.3 MB per thread in the backward
// at d = 64, 3.0 MB at d = 128), so long sequences stay on the tiled path, whose memory grows only linearly in
// S. Where it pays: once the backward got D_i from P and dP here (no read of O), the whole-matrix path measured
// (same machine, scratch harness, builds alternated, B chosen for equal work) forward+backward 14% faster at
// S = 65, 13% at 128, 8% at 200, 6% at 257 (the T = 256 windows: forward 3.03 -> 2.64 ms, B = 8), 4% at 320,
// even at 420 and 1% slower at 513: so up to S = 320.
constexpr int64_t kShortS = 320;
// Rows per product block, the micro-kernel's MR there: 4 with AVX-512 (4 x 4 accumulator vectors of its 32
// registers), 6 with AVX2 (6 x 2 of 16 registers, as in the GEMM's 6 x 16 kernel; the tiled path's 4 x 2 had
// the FMAs of only 8 accumulators to overlap their latency). Any block size keeps the causal reasoning above.
// Measured (AMD EPYC Zen 3, 1 and 2 threads, scratch harness alternating 4 and 6 rows, results bit-identical),
// forward+backward: S = 31 (B = 32) 0-3% faster (the forward 5-12%, the backward -3 to +3%), S = 61 0-2%,
// S = 129 3-5%, S = 257 (B = 8) 8-11%. The tiled path keeps 4: its blocks of kBr = 8 rows became 6 + 2 and
// the pair ran 4% slower at S = 513.
template <int W>
constexpr int kRB = W == 8 ? 6 : 4;

// W lanes whose first t (0 <= t <= W) are -inf and the rest 0: added to the scores of key j at query vector
// c (t = j - c) it hides the queries that come before the key.
template <int W>
FT_INLINE typename VecOps<W>::V causal_mask(int64_t t) {
  constexpr float ninf = -std::numeric_limits<float>::infinity();
  alignas(64) static const float tab[32] = {ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf,
                                            ninf, ninf, ninf, ninf, ninf, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f,
                                            0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  return VecOps<W>::load(tab + 16 - std::min<int64_t>(t, W));
}

// The keys the softmax of query vector c runs over: all the score rows short_scores produced at c.
template <int W>
FT_INLINE int64_t short_jend(int64_t c, int64_t S) { return std::min<int64_t>(S, round_up(c + W, kRB<W>)); }

// Rotated, scaled queries Qs [S x dp] and their transpose QT [d x Sp]; rotated keys Kr [S x dp].
template <int W>
FT_INLINE void prepare_short(const Problem& P, const float* qh, const float* kh, float* Qs, float* QT, float* Kr,
                             float* tmp) {
  rotate_qk<W>(P, qh, kh, Qs, Kr, tmp);
  transpose_into<W>(Qs, P.dp, P.S, P.d, QT, P.Sp);
}

// The next head's rows (see kPrefetchMaxS), requested a share at a time at this head's row blocks rather than all
// before it. The head functions take it as null when the CPU or S takes no prefetch.
struct NextHead {
  const char* base[8];
  bool write[8];
  int n = 0;
  int64_t rows = 0, stride = 0, row_bytes = 0, done = 0, total = 0, quota = 0;
  // Tensor t's rows of head bh; ticks: how many times the head will call some() (each then requests an equal
  // share; rest() takes what is left).
  NextHead(const Problem& P, int64_t bh, std::initializer_list<std::pair<const float*, bool>> tensors, int64_t ticks) {
    const int64_t b = bh / P.H, h = bh % P.H;
    for (const auto& [t, w] : tensors) {
      base[n] = reinterpret_cast<const char*>(t + b * P.S * P.D + h * P.d);
      write[n++] = w;
    }
    rows = P.S;
    stride = P.D * (int64_t)sizeof(float);
    row_bytes = P.d * (int64_t)sizeof(float);
    total = n * rows;
    quota = (total + ticks - 1) / ticks;
  }
  FT_INLINE void some() { request(quota); }
  void rest() { request(total - done); }
  void request(int64_t count) {
    for (const int64_t end = std::min(total, done + count); done < end; ++done) {
      const int64_t t = done / rows;
      const char* row = base[t] + (done % rows) * stride;
      for (int64_t c = 0; c < row_bytes; c += 64) {
        if (write[t]) __builtin_prefetch(row + c, 1, 2);
        else __builtin_prefetch(row + c, 0, 2);
      }
    }
  }
};

// OT[j][i] = A_j · B_i over the causal blocks (ST = Kr·Qsᵀ, dPT = V·dOᵀ): key rows in blocks of kRB, each
// over the query vectors from the one holding its first key on. BT is Bᵀ [d x Sp]; A rows are read in place
// (k = d). Blocks of 8 rows by 2 vectors (16 accumulators) measured 2-12% slower over the whole forward and
// backward at S = 31.
template <int W>
FT_INLINE void short_scores(const Problem& P, const float* A, int64_t lda, const float* BT, float* OT, NextHead* next) {
  const int64_t S = P.S, Sp = P.Sp, d = P.d;
  for (int64_t j0 = 0; j0 < S; j0 += kRB<W>) {
    if (next) next->some();
    const int64_t mr = std::min<int64_t>(kRB<W>, S - j0), c0 = j0 / W * W;
    gemm<W, false, kRB<W>>(mr, Sp - c0, d, A + j0 * lda, lda, 1, BT + c0, Sp, OT + j0 * Sp + c0, Sp);
  }
}

// MT[j][i] = the dropout multiplier of probability (i, j). A head's mask is the contiguous index range
// (bh·S + i)·S + j, so all S² multipliers come from one call (a row at a time cost a 64-element Philox batch per
// row, four times the elements needed at S = 31) into M [S x S], then vector transposes. Entries above the
// diagonal are kept or dropped like any other (or zeros, on the rows path below): finite, and they only ever meet
// probabilities that are 0.
// From S = kDropoutRowsS on, the multipliers are drawn row by row over the causal part only (row i: keys 0..i,
// the rest of the row zeroed): half the Philox draws of the square, at the cost of a batch started per row, which
// wins once rows are long. On an Intel Xeon (AMX host, 2 cores, D = 512, H = 8, dropout 0.1, B chosen for equal
// work, the two builds alternated three times, results bit-identical) forward+backward: S = 257 (B = 8)
// 16.0-16.3 -> 15.2-15.6 ms, S = 129 16.9-18.0 against 18.1-18.9 ms; S = 65 and 97 even; S = 31 5-7% slower
// (a 64-element batch per row of up to 31 elements), so short rows keep the one call over the square.
constexpr int64_t kDropoutRowsS = 128;
template <int W>
FT_INLINE void short_dropout(const Problem& P, int64_t bh, float* M, float* MT) {
  const int64_t S = P.S;
  if (S < kDropoutRowsS) {
    dropout_multipliers(P.key, P.threshold, P.inv_keep, (uint64_t)(bh * S * S), S * S, M);
  } else {
    for (int64_t i = 0; i < S; ++i) {
      float* row = M + i * S;
      dropout_multipliers(P.key, P.threshold, P.inv_keep, (uint64_t)((bh * S + i) * S), i + 1, row);
      std::fill(row + i + 1, row + S, 0.f);
    }
  }
  transpose_into<W>(M, S, S, S, MT, P.Sp);
}

template <int W>
FT_INLINE void forward_head_short(const Problem& P, int64_t bh, NextHead* next) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t S = P.S, d = P.d, dp = P.dp, Sp = P.Sp, D = P.D;
  const int64_t b = bh / P.H, h = bh % P.H;
  const int64_t off = b * S * D + h * d;

  float* ws = scratch((size_t)(3 * S * dp + d * Sp + 3 * S * Sp + dp));
  float* Qs = ws;
  float* Kr = Qs + S * dp;
  float* Vc = Kr + S * dp;
  float* QT = Vc + S * dp;
  float* PT = QT + d * Sp;  // scores, then probabilities, transposed [S x Sp]
  float* MT = PT + S * Sp;  // dropout multipliers, transposed
  float* M = MT + S * Sp;   // and before the transpose
  float* tmp = M + S * Sp;  // [dp]

  prepare_short<W>(P, P.q + off, P.k + off, Qs, QT, Kr, tmp);
  short_scores<W>(P, Kr, P.dp, QT, PT, next);
  if (P.dropout) short_dropout<W>(P, bh, M, MT);

  alignas(64) float mx_l[16], sum_l[16];
  for (int64_t c = 0; c < Sp; c += W) {
    const int64_t jend = short_jend<W>(c, S);
    V mx = X::set1(-INFINITY);
    for (int64_t j = 0; j < jend; ++j) {
      V s = X::load(PT + j * Sp + c);
      if (j > c) {
        s = s + causal_mask<W>(j - c);
        X::store(PT + j * Sp + c, s);
      }
      mx = X::vmax(mx, s);
    }
    V sum = X::set1(0.f);
    for (int64_t j = 0; j < jend; ++j) {
      const V p = X::exp(X::load(PT + j * Sp + c) - mx);
      sum = sum + p;
      X::store(PT + j * Sp + c, p);
    }
    // 1/l is folded into the probabilities, so the P·V product below writes the finished output rows.
    const V inv = X::set1(1.f) / sum;
    if (P.dropout && !P.probs_out) {
      for (int64_t j = 0; j < jend; ++j)
        X::store(PT + j * Sp + c, X::load(PT + j * Sp + c) * inv * X::load(MT + j * Sp + c));
    } else {
      for (int64_t j = 0; j < jend; ++j) X::store(PT + j * Sp + c, X::load(PT + j * Sp + c) * inv);
    }
    X::store(mx_l, mx);
    X::store(sum_l, sum);
    for (int64_t l = 0; l < W && c + l < S; ++l) P.lse[bh * S + c + l] = mx_l[l] + std::log(sum_l[l]);
  }

  // Kept for the backward (before dropout): the causal part of each key row, queries j..S-1. With dropout the
  // mask goes along in the sign (probabilities are >= 0): a dropped one is kept negated, so the backward needs
  // neither the Philox draws nor their transpose again. A dropped 0 reads back as kept, which changes nothing:
  // every use of the mask multiplies it by that probability.
  if (P.probs_out) {
    float* kept = P.probs_out + bh * S * S;
    if (!P.dropout) {
      for (int64_t j = 0; j < S; ++j) std::memcpy(kept + j * S + j, PT + j * Sp + j, sizeof(float) * (size_t)(S - j));
    } else {
      // One vector pass per key row over the query vectors from the one holding j on (all produced, and zero
      // before j): the row's signed copy, and P∘M in place for the product below. A row's last vector can
      // reach past S; its copy goes through tail so that it stays inside the row. Against a scalar loop for the
      // copy and a second pass for P∘M: forward with dropout 0.1 2.5% faster (Zen 5, B = 32, S = 31, alternated).
      alignas(64) float tail[16];
      for (int64_t j = 0; j < S; ++j) {
        float* pr = PT + j * Sp;
        const float* mr = MT + j * Sp;
        float* kr = kept + j * S;
        for (int64_t c = j / W * W; c < Sp; c += W) {
          const V p = X::load(pr + c), m = X::load(mr + c);
          const V signed_p = m > X::set1(0.f) ? p : X::set1(0.f) - p;
          if (c + W <= S) {
            X::store(kr + c, signed_p);
          } else {
            X::store(tail, signed_p);
            std::memcpy(kr + c, tail, sizeof(float) * (size_t)(S - c));
          }
          X::store(pr + c, p * m);
        }
      }
    }
  }

  // O = P·V, query rows in blocks, each over the keys it can see. V and O rows are used in place when d is a
  // whole number of vectors; else through zero-padded copies (Vc; Qs, no longer needed, holds O).
  const bool in_place = d == dp;
  if (!in_place) padded_rows(P, P.v + off, D, Vc);
  const float* Vb = in_place ? P.v + off : Vc;
  float* Ob = in_place ? P.o + off : Qs;
  const int64_t ld = in_place ? D : dp;
  for (int64_t i0 = 0; i0 < S; i0 += kRB<W>) {
    if (next) next->some();
    const int64_t mr = std::min<int64_t>(kRB<W>, S - i0), kk = std::min<int64_t>(S, i0 + kRB<W>);
    gemm<W, false, kRB<W>>(mr, dp, kk, PT + i0, 1, Sp, Vb, ld, Ob + i0 * ld, ld);
  }
  if (!in_place)
    for (int64_t i = 0; i < S; ++i) std::memcpy(P.o + off + i * D, Qs + i * dp, sizeof(float) * (size_t)d);
}

// The kept probabilities (the forward's "Kept for the backward": key row j holds queries j..S-1) back into the
// transposed buffer the backward works on: PT[j][i] for i < j (the queries the causal mask hides) and the padding
// i >= S are zeros, as the recomputed scores' exp gives them. With dropout the multipliers come back from the
// signs into MT (zeros where PT is zero).
template <int W>
FT_INLINE void unpack_kept(const Problem& P, const float* kept, float* PT, float* MT) {
  const int64_t S = P.S, Sp = P.Sp;
  for (int64_t j = 0; j < S; ++j) {
    float* row = PT + j * Sp;
    const float* kr = kept + j * S;
    std::fill(row, row + j, 0.f);
    std::fill(row + S, row + Sp, 0.f);
    if (!P.dropout) {
      std::memcpy(row + j, kr + j, sizeof(float) * (size_t)(S - j));
      continue;
    }
    float* mrow = MT + j * Sp;
    std::fill(mrow, mrow + j, 0.f);
    std::fill(mrow + S, mrow + Sp, 0.f);
    const float keep = P.inv_keep;
    for (int64_t i = j; i < S; ++i) {
      const float v = kr[i];
      row[i] = std::fabs(v);
      mrow[i] = v < 0.f ? 0.f : keep;
    }
  }
}

template <int W>
FT_INLINE void backward_head_short(const Problem& P, int64_t bh, NextHead* next) {
  using X = VecOps<W>;
  using V = typename X::V;
  const int64_t S = P.S, d = P.d, dp = P.dp, Sp = P.Sp, D = P.D;
  const int64_t b = bh / P.H, h = bh % P.H;
  const int64_t off = b * S * D + h * d;

  float* ws = scratch((size_t)(6 * S * dp + 2 * d * Sp + 4 * S * Sp + Sp + dp));
  float* Qs = ws;
  float* Kr = Qs + S * dp;
  float* dOc = Kr + S * dp;
  float* dQa = dOc + S * dp;
  float* dKa = dQa + S * dp;
  float* dVa = dKa + S * dp;
  float* QT = dVa + S * dp;
  float* dOT = QT + d * Sp;
  float* PT = dOT + d * Sp;   // probabilities, then dropped probabilities, transposed [S x Sp]
  float* dST = PT + S * Sp;   // dP, then dS, transposed
  float* MT = dST + S * Sp;   // dropout multipliers, transposed
  float* M = MT + S * Sp;     // dropout multipliers before the transpose
  float* lsev = M + S * Sp;   // [Sp]
  float* tmp = lsev + Sp;     // [dp]

  // With the forward's probabilities at hand the scores are not recomputed, so Qᵀ (their operand) is not needed.
  const bool kept = P.probs_in != nullptr;
  if (kept) rotate_qk<W>(P, P.q + off, P.k + off, Qs, Kr, tmp);
  else prepare_short<W>(P, P.q + off, P.k + off, Qs, QT, Kr, tmp);
  const bool in_place = d == dp;
  int64_t ldo;
  const float* dOb = dout_rows<W>(P, off, dOc, nullptr, tmp, &ldo);
  if (!kept) {  // only the recomputed probabilities need lse
    std::copy(P.lse_in + bh * S, P.lse_in + (bh + 1) * S, lsev);
    std::fill(lsev + S, lsev + Sp, 0.f);
  }
  transpose_into<W>(dOb, ldo, S, d, dOT, Sp);

  // Scores and dP = dO·Vᵀ, both transposed, over the causal blocks; v rows are read in place (k = d).
  if (kept) unpack_kept<W>(P, P.probs_in + bh * S * S, PT, MT);
  else short_scores<W>(P, Kr, P.dp, QT, PT, next);
  short_scores<W>(P, P.v + off, D, dOT, dST, next);
  if (P.dropout && !kept) short_dropout<W>(P, bh, M, MT);
  // D_i = dO_i · O_i = sum_j P_ij M_ij dP_ij (O_i = sum_j P_ij M_ij V_j, M the dropout multipliers, 1 without
  // dropout): the whole row of P is at hand here, transposed, so the sum is vertical across key rows and the
  // output O is never read (the tiled path, which sees a row's keys one tile at a time, reads it). P is
  // renormalised by its own sum l: the rounding of the stored lse (up to 2e-6 absolute at |lse| ~ 50) is a
  // relative error common to the whole row of exp(s - lse); through this D it would not cancel in
  // dS = P∘(M∘dP - D) where the softmax saturates (dP_j - D -> 0), and divided by l it does, as with O.
  // (Without the division, the harness's saturated case, q x 30, failed at rtol 1e-4.)
  for (int64_t c = 0; c < Sp; c += W) {
    const int64_t jend = short_jend<W>(c, S);
    V dsum = X::set1(0.f), l = X::set1(0.f);
    if (kept) {
      // Renormalised like the recomputed ones (below): the forward's division by its sum leaves a row summing to
      // 1 only within rounding, and where the softmax saturates that rounding would not cancel in dS.
      for (int64_t j = 0; j < jend; ++j) {
        const V p = X::load(PT + j * Sp + c), dpv = X::load(dST + j * Sp + c);
        l = l + p;
        dsum = (P.dropout ? p * X::load(MT + j * Sp + c) : p) * dpv + dsum;
      }
    } else {
      const V lv = X::load(lsev + c);  // loaded once per column block: the stores to PT may alias it
      for (int64_t j = 0; j < jend; ++j) {
        V s = X::load(PT + j * Sp + c);
        if (j > c) s = s + causal_mask<W>(j - c);
        const V p = X::exp(s - lv), dpv = X::load(dST + j * Sp + c);
        l = l + p;
        dsum = (P.dropout ? p * X::load(MT + j * Sp + c) : p) * dpv + dsum;
        X::store(PT + j * Sp + c, p);
      }
    }
    // (l is about 1 for the lse of these scores; the floor keeps a foreign lse from giving 0 * inf.)
    const V inv = X::set1(1.f) / X::vmax(l, X::set1(std::numeric_limits<float>::min()));
    dsum = dsum * inv;
    // dS = P∘(M∘dP - D), and P becomes the (dropped) probabilities that the dV product reads.
    for (int64_t j = 0; j < jend; ++j) {
      const V p = X::load(PT + j * Sp + c) * inv, dpv = X::load(dST + j * Sp + c);
      if (P.dropout) {
        const V mk = X::load(MT + j * Sp + c);
        X::store(dST + j * Sp + c, p * (dpv * mk - dsum));
        X::store(PT + j * Sp + c, p * mk);
      } else {
        X::store(dST + j * Sp + c, p * (dpv - dsum));
        X::store(PT + j * Sp + c, p);
      }
    }
  }

  // dV = P_dropᵀ dO and dK_rot = dSᵀ Q_rot·scale: key rows in blocks, each over the queries that see them
  // (i >= j0). Each key row is produced by one block, so dV is written (or added) straight into the output
  // when d is a whole number of vectors.
  float* dVb = in_place ? P.dv + off : dVa;
  const int64_t ldv = in_place ? D : dp;
  for (int64_t j0 = 0; j0 < S; j0 += kRB<W>) {
    if (next) next->some();
    const int64_t mr = std::min<int64_t>(kRB<W>, S - j0), kk = S - j0;
    if (in_place && !P.overwrite)
      gemm<W, true, kRB<W>>(mr, dp, kk, PT + j0 * Sp + j0, Sp, 1, dOb + j0 * ldo, ldo, dVb + j0 * ldv, ldv);
    else
      gemm<W, false, kRB<W>>(mr, dp, kk, PT + j0 * Sp + j0, Sp, 1, dOb + j0 * ldo, ldo, dVb + j0 * ldv, ldv);
    gemm<W, false, kRB<W>>(mr, dp, kk, dST + j0 * Sp + j0, Sp, 1, Qs + j0 * dp, dp, dKa + j0 * dp, dp);
  }
  // dQ_rot = dS K_rot: query rows in blocks, each over the keys it sees (dS read transposed in place).
  for (int64_t i0 = 0; i0 < S; i0 += kRB<W>) {
    if (next) next->some();
    const int64_t mr = std::min<int64_t>(kRB<W>, S - i0), kk = std::min<int64_t>(S, i0 + kRB<W>);
    gemm<W, false, kRB<W>>(mr, dp, kk, dST + i0, 1, Sp, Kr, dp, dQa + i0 * dp, dp);
  }

  backward_store<W>(P, off, dQa, dKa, in_place ? nullptr : dVa, tmp);
}

// ---------------------------------------------------------------------------------------------------------
// Heads one after another. Software prefetch of the next head's rows, short windows only, Intel only. With each
// thread walking its own contiguous share (run_heads) the next head's rows are the adjacent 256 bytes of the rows
// just read, and Zen 5's prefetchers fetch them: there the prefetch cost time (both builds
// alternated in one process, 2 cores, H = 8, D = 512: forward+backward 3-7% slower at B = 32, S = 31, warm or
// with the cache flushed; 1-3% at S = 257 and 513; in the 19m step's op profile, 9 runs each, backward 5.66 ->
// 6.05 ms with it). Intel's L2 streamer does not follow rows 2 KiB apart (one or two rows per 4 KiB page), and
// in a training step the backward's eight tensors come out of cache: on the Intel Xeon (AMX host, 2 cores,
// builds alternated) the backward with it, at B = 32, S = 31, took 0.79 against 0.83-0.94 ms with a 64 MB sweep
// before each call, and in the 19m step's op profile (B = 32, 4 pairs) 8.2-9.7 against 9.9-12.0 ms per step;
// with the operands in cache it is 1-5% slower. The forward was left without it on the same measure (1-5% slower
// warm and even swept), until timing it inside the step showed that neither stands for the step: the forward
// there took 0.77-0.86 ms a call against 0.44-0.50 back to back and 0.52-0.59 after a 64 MB sweep, its inputs
// copied into fresh tensors just before (so in cache) 0.70-0.77 ms. (One thread: 1.28-1.48 in the step against
// 0.89 back to back; a 10 ms scalar stretch or three GEMMs before a call slow it the same way; not pinned down.)
// With the prefetch of q, k, v and o (Intel Xeon with AMX, 2 cores, B = 32, S = 31, builds alternated): in the
// step 0.66-0.75 against 0.76-0.86 ms a call; back to back 4-10% slower, swept even; in the 19m step's op profile
// (bf16 mode, 9 pairs) the forward's 6 calls 4.0-5.6 (median 4.22) against 4.6-6.5 (5.10) ms, faster in 8 pairs.
// Every other line only (the spatial prefetcher fetching the pair) kept none of the gain. Longer windows do
// enough work per head for the hardware alone (the backward measured): S = 65 and 129 were even, S = 257 (B = 8)
// 5-8% slower swept. Hence up to kPrefetchMaxS, on CPUs not made by AMD.
// The requests were first made all at once before the head (4 tensors' rows in the forward, 7 in the backward:
// 500-870 lines at S = 31), and perf (cpu-clock, B = 32, S = 31, back to back) put 14% of the attention's samples
// on that loop: the lines wait for fill buffers, and the head's own first loads wait behind them. So the head now
// asks for a share at each of its row blocks (NextHead: the scores and P·V loops in the forward, the scores, dV/dK
// and dQ loops in the backward), as the AMX kernel spreads its C prefetch. Measured (Intel Xeon with AMX, 2 cores,
// B = 32, H = 8, D = 512; both builds' kernels in one process, alternated in blocks of 30 calls, 10-16 blocks each,
// results bit-identical): back to back 3.9-5.3% less time per forward+backward at S = 31 (either order; an A/A
// run 0.8%), now level with no prefetch at all (0.9%); with a 64 MB sweep before each call, as in the step, the
// forward 8.4% and the backward 3.0% less (no prefetch: 16% and 26% more), with dropout 4.2% less; S = 61 swept
// 10.0% and 5.6%, back to back 3.3%. Finishing the requests within the first loop instead was 5.6% slower back to
// back and no better swept.
constexpr int64_t kPrefetchMaxS = 64;
static_assert(kPrefetchMaxS <= kShortS, "the prefetch covers the whole-matrix path's operands only");

template <int W>
FT_INLINE void forward_heads(const Problem& P, int64_t b, int64_t e) {
  for (int64_t bh = b; bh < e; ++bh) {
    const int64_t blocks = (P.S + kRB<W> - 1) / kRB<W>;
    if (P.prefetch_next && bh + 1 < e) {
      // Two loops of row blocks (scores, P·V) tick.
      NextHead next(P, bh + 1, {{P.q, false}, {P.k, false}, {P.v, false}, {P.o, true}}, 2 * blocks);
      forward_head_short<W>(P, bh, &next);
      next.rest();
    } else if (P.S <= kShortS || P.probs_out) {
      forward_head_short<W>(P, bh, nullptr);
    } else {
      forward_head<W>(P, bh);
    }
  }
}

template <int W>
FT_INLINE void backward_heads(const Problem& P, int64_t b, int64_t e) {
  for (int64_t bh = b; bh < e; ++bh) {
    const int64_t blocks = (P.S + kRB<W> - 1) / kRB<W>;
    if (P.prefetch_next && bh + 1 < e) {
      // The whole-matrix path's inputs (it reads no output: D_i comes from the probabilities) and outputs.
      // Its row-block loops tick: one or two of scores, the dV and dK loop, the dQ loop.
      NextHead next(P, bh + 1,
                    {{P.q, false}, {P.k, false}, {P.v, false}, {P.dout, false}, {P.dq, true}, {P.dk, true}, {P.dv, true}},
                    (P.probs_in ? 3 : 4) * blocks);
      backward_head_short<W>(P, bh, &next);
      next.rest();
    } else if (P.S <= kShortS || P.probs_in) {
      backward_head_short<W>(P, bh, nullptr);
    } else {
      backward_head<W>(P, bh);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// ISA entry points: the always_inline templates above are compiled into each with that function's target.

FT_TARGET_AVX512 void forward_avx512(const Problem& P, int64_t b, int64_t e) { forward_heads<16>(P, b, e); }
FT_TARGET_AVX2 void forward_avx2(const Problem& P, int64_t b, int64_t e) { forward_heads<8>(P, b, e); }
void forward_scalar(const Problem& P, int64_t b, int64_t e) { forward_heads<1>(P, b, e); }
FT_TARGET_AVX512 void backward_avx512(const Problem& P, int64_t b, int64_t e) { backward_heads<16>(P, b, e); }
FT_TARGET_AVX2 void backward_avx2(const Problem& P, int64_t b, int64_t e) { backward_heads<8>(P, b, e); }
void backward_scalar(const Problem& P, int64_t b, int64_t e) { backward_heads<1>(P, b, e); }

// Heads in groups of kHeadGrain, spread over the pool's threads by parallel_dynamic_local: each thread first
// works through its own contiguous share (thread 0 the first half of the batch), then takes groups from the
// other's end, so a slower core is still helped (a static split left one core idle whenever the other ran
// slower: backward 5-9% slower with cold caches, B = 32, S = 31). Each task writes only its own head's slices,
// so the results do not depend on who ran it. With the shared counter used before, a group went to whichever
// thread asked first, so from one call to the next a thread wrote the lines of o, dq, dk and dv that the other
// core had written last and had to take them over (per-phase cycle counters: those stores took three times as
// long on 2 threads as on 1, with everything in cache); with own shares it mostly writes its own lines again.
// Measured (Zen 5, 2 cores, H = 8, D = 512, both variants alternated in one process, results bit-identical):
// forward+backward 25% faster at B = 32, S = 31 (backward 30%), 3% at B = 8, S = 257; in the 19m training
// step (op profile, 3 runs each, alternated) attention forward+backward 10.5 -> 9.0 ms per step.
constexpr int64_t kHeadGrain = 8;
template <class F>
void run_heads(int64_t heads, F run) {
  parallel_dynamic_local((heads + kHeadGrain - 1) / kHeadGrain, false,
                         [&](int64_t c) { run(c * kHeadGrain, std::min(heads, (c + 1) * kHeadGrain)); });
}

// 0 scalar, 1 AVX2, 2 AVX-512: the vector width of the path the engine's ISA policy selects now.
int active_level() { return (int)active_isa(); }

Problem make_problem(int64_t B, int64_t S, int64_t H, int64_t D, const AttnDropout* drop, int isa) {
  Problem P{};
  P.B = B;
  P.S = S;
  P.H = H;
  P.D = D;
  P.d = D / H;
  P.rs = rope_stride(P.d);
  const int64_t W = isa == 2 ? 16 : isa == 1 ? 8 : 1;
  P.dp = round_up(P.d, W);
  P.Sp = round_up(S, W);
  P.scale = (float)(1.0 / std::sqrt((double)P.d));
  P.dropout = drop != nullptr && drop->p > 0.f;
  if (P.dropout) {
    P.threshold = drop->threshold;
    P.key = drop->key;
    P.inv_keep = (float)(1.0 / (1.0 - (double)drop->p));
  }
  return P;
}

}  // namespace

void rope_attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, int64_t B,
                            int64_t S, int64_t H, int64_t D, const AttnDropout* drop, float* probs) {
  const int isa = active_level();
  Problem P = make_problem(B, S, H, D, drop, isa);
  const auto rope = rope_table(S, P.d);
  P.rope = rope.get();
  P.q = q;
  P.k = k;
  P.v = v;
  P.o = out;
  P.lse = lse;
  P.probs_out = probs;
  P.prefetch_next = S <= kPrefetchMaxS && !cpu_made_by_amd();
  auto run = isa == 2 ? forward_avx512 : isa == 1 ? forward_avx2 : forward_scalar;
  run_heads(B * H, [&](int64_t b, int64_t e) { run(P, b, e); });
}

void rope_attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                             const float* lse, float* dq, float* dk, float* dv, int64_t B, int64_t S, int64_t H,
                             int64_t D, const AttnDropout* drop, bool overwrite, const float* probs) {
  const int isa = active_level();
  Problem P = make_problem(B, S, H, D, drop, isa);
  const auto rope = rope_table(S, P.d);
  P.rope = rope.get();
  P.q = q;
  P.k = k;
  P.v = v;
  P.out = out;
  P.dout = dout;
  P.lse_in = lse;
  P.dq = dq;
  P.dk = dk;
  P.dv = dv;
  P.overwrite = overwrite;
  P.probs_in = probs;
  P.prefetch_next = S <= kPrefetchMaxS && !cpu_made_by_amd();
  auto run = isa == 2 ? backward_avx512 : isa == 1 ? backward_avx2 : backward_scalar;
  run_heads(B * H, [&](int64_t b, int64_t e) { run(P, b, e); });
}

}  // namespace ft
