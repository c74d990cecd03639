#include "norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace ft {
namespace {

// Rows per task so that a task touches at least ~16K elements.
int64_t row_grain(int64_t D) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)); }

FT_INLINE_BODY void rms_fwd_body(const float* x, const float* scale, double eps, float* y, float* rstd, int64_t D,
                                 int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    const double rs = 1.0 / std::sqrt(sum_sq_d(xr, D) / (double)D + eps);
    const float rf = (float)rs;
    rstd[r] = rf;
    for (int64_t j = 0; j < D; ++j) yr[j] = xr[j] * rf * scale[j];
  }
}
FT_MULTI_ISA(rms_fwd,
             (const float* x, const float* scale, double eps, float* y, float* rstd, int64_t D, int64_t r0, int64_t r1),
             (x, scale, eps, y, rstd, D, r0, r1))

// The backward in one pass over the rows: dx, and (when part is given) each chunk's share of dscale,
// part[k, j] = Σ_{r in chunk k} dy[r, j]·x[r, j]·rstd[r] in double, in row order. The chunks are fixed
// (kChunk rows, whatever the thread count) and summed in chunk order afterwards, so dscale does not depend on
// the split. (A second pass down the columns re-read dy and x, 2 × N·D floats, after this one.)
constexpr int64_t kChunk = 16;
// Rows requested in software ahead of the one being worked on. A row takes two passes (its sums, then dx), and
// with the inputs out of cache (as in the step: dy comes from the previous GEMM, x from the forward) the
// hardware prefetchers alone left the loads waiting. Measured
// (Zen 5, 2 cores, N = 992, D = 512, both variants alternated in one process, caches flushed before each call):
// 0.25 -> 0.22 ms at 1 or 2 rows ahead, 7% at 4. The forward (one pass per row after its sum) measured 4%
// slower with it, so it has none. The results are unchanged.
constexpr int64_t kRmsBackwardAhead = 2;

// One row's products t_j = dy_j·x_j (exact in double: two floats' product has at most 48 significant bits) feed
// both sums of the row: gx = Σ t_j·scale_j and the chunk partial of dscale, t_j·rstd. Since t_j is exact,
// t_j·scale_j rounds the same exact triple product as (dy_j·scale_j)·x_j did when the two sums had passes of
// their own, so the results are bit for bit those of that earlier form. Fusing them saves a pass and a
// conversion per element: measured (Zen 5, 2 cores, N = 992, D = 512, both forms alternated in one process)
// 8% faster in cache and 15% faster with the caches flushed before each call.
template <int Partial>  // 0: no dscale; 1: the chunk's first row (writes the partial); 2: later rows (adds to it)
FT_INLINE_BODY double rms_bwd_row_sums(const float* dyr, const float* xr, const float* scale, double rs, double* pk,
                                       int64_t D) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  auto term = [&](int64_t j, double& a) FT_INLINE_LAMBDA {
    const double t = (double)dyr[j] * (double)xr[j];
    a += t * (double)scale[j];
    if constexpr (Partial == 1) pk[j] = t * rs;
    if constexpr (Partial == 2) pk[j] += t * rs;
  };
  int64_t j = 0;
  for (; j + 8 <= D; j += 8)
    for (int l = 0; l < 8; ++l) term(j + l, acc[l]);
  double gx = 0;
  for (; j < D; ++j) term(j, gx);
  for (int l = 0; l < 8; ++l) gx += acc[l];
  return gx;
}

FT_INLINE_BODY void rms_bwd_body(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                                 double* part, int64_t N, int64_t D, int64_t k0, int64_t k1) {
  for (int64_t k = k0; k < k1; ++k) {
    double* pk = part ? part + k * D : nullptr;
    const int64_t rb = k * kChunk, re = std::min(N, rb + kChunk);
    for (int64_t r = rb; r < re; ++r) {
      const float* xr = x + r * D;
      const float* dyr = dy + r * D;
      float* dxr = dx + r * D;
      if (r + kRmsBackwardAhead < N) {
        const int64_t ahead = kRmsBackwardAhead * D;
        for (int64_t j = 0; j < D; j += 16) {
          __builtin_prefetch(xr + ahead + j);
          __builtin_prefetch(dyr + ahead + j);
          __builtin_prefetch(dxr + ahead + j, 1);
        }
      }
      const double rs = rstd[r];
      const double gx = !pk       ? rms_bwd_row_sums<0>(dyr, xr, scale, rs, pk, D)
                         : r == rb ? rms_bwd_row_sums<1>(dyr, xr, scale, rs, pk, D)
                                   : rms_bwd_row_sums<2>(dyr, xr, scale, rs, pk, D);
      const float a = (float)rs;
      const float c = (float)(rs * rs * rs * gx / (double)D);
      for (int64_t j = 0; j < D; ++j) dxr[j] += a * dyr[j] * scale[j] - c * xr[j];
    }
  }
}
FT_MULTI_ISA(rms_bwd,
             (const float* dy, const float* x, const float* scale, const float* rstd, float* dx, double* part, int64_t N,
              int64_t D, int64_t k0, int64_t k1),
             (dy, x, scale, rstd, dx, part, N, D, k0, k1))

// dscale[j] += Σ_k part[k, j] for columns [c0, c1), in chunk order (column_reduce).
FT_INLINE_BODY void rms_dscale_body(const double* part, float* dscale, int64_t chunks, int64_t D, int64_t c0,
                                    int64_t c1) {
  column_reduce(chunks, c0, c1, dscale, [&](int64_t k, int64_t cb, int64_t w, double* acc) FT_INLINE_LAMBDA {
    const double* pk = part + k * D + cb;
    for (int64_t j = 0; j < w; ++j) acc[j] += pk[j];
  });
}
FT_MULTI_ISA(rms_dscale, (const double* part, float* dscale, int64_t chunks, int64_t D, int64_t c0, int64_t c1),
             (part, dscale, chunks, D, c0, c1))

// The chunk partials, owned by the calling thread (workers write them while it waits in parallel_for).
double* partials(size_t n) {
  thread_local std::vector<double> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// LayerNorm (the HR head's, over rows of S·D = 5,632 to 63,488 features): row sums in double over 8
// independent lanes (the same order on every ISA), multi-versioned like the RMSNorm kernels; compiled for the
// baseline, these double-precision loops ran two lanes wide (or one, where a single running sum forbade
// vectorising).
FT_INLINE_BODY void ln_fwd_body(const float* x, const float* gamma, const float* beta, double eps, float* y,
                                float* mean, float* rstd, int64_t C, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    const double mu = sum_d(xr, C) / (double)C;
    // Two-pass variance: exact enough even when |mean| ≫ std.
    const double rs = 1.0 / std::sqrt(sum_sq_d(xr, C, mu) / (double)C + eps);
    mean[r] = (float)mu;
    rstd[r] = (float)rs;
    for (int64_t j = 0; j < C; ++j) yr[j] = (float)(((double)xr[j] - mu) * rs * gamma[j] + beta[j]);
  }
}
FT_MULTI_ISA(ln_fwd,
             (const float* x, const float* gamma, const float* beta, double eps, float* y, float* mean, float* rstd,
              int64_t C, int64_t r0, int64_t r1),
             (x, gamma, beta, eps, y, mean, rstd, C, r0, r1))

FT_INLINE_BODY void ln_bwd_dx_body(const float* dy, const float* x, const float* gamma, const float* mean,
                                   const float* rstd, float* dx, int64_t C, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * C;
    const float* dyr = dy + r * C;
    float* dxr = dx + r * C;
    const double mu = mean[r], rs = rstd[r];
    double ag[8] = {0, 0, 0, 0, 0, 0, 0, 0}, agx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= C; j += 8)
      for (int l = 0; l < 8; ++l) {
        const double g = (double)dyr[j + l] * gamma[j + l];
        ag[l] += g;
        agx[l] += g * ((double)xr[j + l] - mu) * rs;
      }
    double sg = 0, sgx = 0;
    for (; j < C; ++j) {
      const double g = (double)dyr[j] * gamma[j];
      sg += g;
      sgx += g * ((double)xr[j] - mu) * rs;
    }
    for (int l = 0; l < 8; ++l) {
      sg += ag[l];
      sgx += agx[l];
    }
    const double mg = sg / (double)C, mgx = sgx / (double)C;
    for (j = 0; j < C; ++j) {
      const double xhat = ((double)xr[j] - mu) * rs;
      dxr[j] += (float)(rs * ((double)dyr[j] * gamma[j] - mg - xhat * mgx));
    }
  }
}
FT_MULTI_ISA(ln_bwd_dx,
             (const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx,
              int64_t C, int64_t r0, int64_t r1),
             (dy, x, gamma, mean, rstd, dx, C, r0, r1))

FT_INLINE_BODY void ln_dparams_body(const float* dy, const float* x, const float* mean, const float* rstd,
                                    float* dgamma, float* dbeta, int64_t N, int64_t C, int64_t c0, int64_t c1) {
  if (dgamma) {
    column_reduce(N, c0, c1, dgamma, [&](int64_t r, int64_t cb, int64_t w, double* acc) FT_INLINE_LAMBDA {
      const float* xr = x + r * C + cb;
      const float* dyr = dy + r * C + cb;
      const double mu = mean[r], rs = rstd[r];
      for (int64_t j = 0; j < w; ++j) acc[j] += (double)dyr[j] * (((double)xr[j] - mu) * rs);
    });
  }
  if (dbeta) {
    column_reduce(N, c0, c1, dbeta, [&](int64_t r, int64_t cb, int64_t w, double* acc) FT_INLINE_LAMBDA {
      const float* dyr = dy + r * C + cb;
      for (int64_t j = 0; j < w; ++j) acc[j] += (double)dyr[j];
    });
  }
}
FT_MULTI_ISA(ln_dparams,
             (const float* dy, const float* x, const float* mean, const float* rstd, float* dgamma, float* dbeta,
              int64_t N, int64_t C, int64_t c0, int64_t c1),
             (dy, x, mean, rstd, dgamma, dbeta, N, C, c0, c1))

}  // namespace

void rms_norm_forward(const float* x, const float* scale, double eps, float* y, float* rstd, int64_t N, int64_t D) {
  parallel_grain(N, row_grain(D), [&](int64_t r0, int64_t r1) { rms_fwd_dispatch(x, scale, eps, y, rstd, D, r0, r1); });
}

void rms_norm_backward(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                       float* dscale, int64_t N, int64_t D) {
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  double* part = dscale ? partials((size_t)(chunks * D)) : nullptr;
  parallel_grain(chunks, std::max<int64_t>(1, row_grain(D) / kChunk),
                 [&](int64_t k0, int64_t k1) { rms_bwd_dispatch(dy, x, scale, rstd, dx, part, N, D, k0, k1); });
  if (!dscale) return;
  parallel_grain(D, std::max<int64_t>(1, 16384 / std::max<int64_t>(chunks, 1)),
                 [&](int64_t c0, int64_t c1) { rms_dscale_dispatch(part, dscale, chunks, D, c0, c1); });
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, double eps, float* y, float* mean,
                        float* rstd, int64_t N, int64_t C) {
  parallel_grain(N, row_grain(C),
                 [&](int64_t r0, int64_t r1) { ln_fwd_dispatch(x, gamma, beta, eps, y, mean, rstd, C, r0, r1); });
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C) {
  parallel_grain(N, row_grain(C),
                 [&](int64_t r0, int64_t r1) { ln_bwd_dx_dispatch(dy, x, gamma, mean, rstd, dx, C, r0, r1); });
  if (!dgamma && !dbeta) return;
  parallel_grain(C, std::max<int64_t>(1, 16384 / std::max<int64_t>(N, 1)), [&](int64_t c0, int64_t c1) {
    ln_dparams_dispatch(dy, x, mean, rstd, dgamma, dbeta, N, C, c0, c1);
  });
}

}  // namespace ft
