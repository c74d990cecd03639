#include "optim.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace ft {
namespace {

FT_INLINE_BODY void adamw_body(float* param, const float* grad, float* m, float* v, int64_t b, int64_t e, float decay,
                               float beta1, float beta2, float step_size, float inv_sqrt_bc2, float eps, float grad_scale) {
  const float one_m_b1 = 1.0f - beta1, one_m_b2 = 1.0f - beta2;
  for (int64_t i = b; i < e; ++i) {
    const float g = grad_scale * grad[i];
    const float mi = beta1 * m[i] + one_m_b1 * g;
    const float vi = beta2 * v[i] + one_m_b2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}
FT_MULTI_ISA(adamw,
             (float* param, const float* grad, float* m, float* v, int64_t b, int64_t e, float decay, float beta1,
              float beta2, float step_size, float inv_sqrt_bc2, float eps, float grad_scale),
             (param, grad, m, v, b, e, decay, beta1, beta2, step_size, inv_sqrt_bc2, eps, grad_scale))

// Σ x² over a block in double with 32 independent lanes. sum_sq_d's default 8 lanes are one vector of doubles,
// so each block ran as one chain of dependent adds, 2 floats per cycle: the 19m step's gradient norm (19M
// floats) read 48-50 GB/s while AdamW, after it, moved 86-99 GB/s. Measured (AMD EPYC Zen 5, 2 cores, the
// 19M-float arena): built with -march=native, forms alternated in one process, 8 lanes 1.45-1.51 ms, 16 lanes
// 1.01-1.17, 32 lanes 0.82-0.90; with the addon's flags (multi-versioned), builds alternated, 1.49-1.60 ms
// against 1.14-1.49. The sums agree to 1e-14.
FT_INLINE_BODY void sumsq_body(const float* x, int64_t b, int64_t e, double* out) { *out = sum_sq_d<32>(x + b, e - b); }
FT_MULTI_ISA(sumsq, (const float* x, int64_t b, int64_t e, double* out), (x, b, e, out))

// sum_sq_d<32> written out for AVX-512 with a software prefetch 2 KiB ahead: the same 32 lanes (lane l takes
// i ≡ l mod 32, four vectors of 8 doubles), the same FMAs and the same final order, so the same bits. In the
// step the norm reads the gradients right after the backward, with the caches full of dirty lines; there GCC's
// vectorisation of sum_sq_d<32> read 18-19 GB/s and this loop 30-33. Measured on an Intel Xeon with AMX, 2
// cores, 19M floats: after a pass that writes 228 MB (a standalone loop, forms alternated) 4.0-4.2 ms against
// 2.3-2.5 (2.7-2.9 without the prefetch), with clean caches 1.8 against 1.5; in the addon after a 228 MB copy
// (both builds in one process, alternated, both orders) 4.1-4.2 against 2.7; in the 19m B = 8 step's op profile
// 4.0 against 2.2-2.5. Not on AMD, whose Zen 5 measurement of sum_sq_d<32> (0.82-0.90 ms, about 90 GB/s) this
// was not measured against.
FT_TARGET_AVX512 double sumsq_prefetch_avx512(const float* x, int64_t n) {
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(x + i) + 2048, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(x + i) + 2048 + 64, _MM_HINT_T0);
    // (The all-ones zero-masked form: GCC 12's plain _mm512_cvtps_pd warns of an uninitialised temporary.)
    const __m512d d0 = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i));
    const __m512d d1 = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i + 8));
    const __m512d d2 = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i + 16));
    const __m512d d3 = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i + 24));
    a0 = _mm512_fmadd_pd(d0, d0, a0);
    a1 = _mm512_fmadd_pd(d1, d1, a1);
    a2 = _mm512_fmadd_pd(d2, d2, a2);
    a3 = _mm512_fmadd_pd(d3, d3, a3);
  }
  alignas(64) double acc[32];
  _mm512_store_pd(acc, a0);
  _mm512_store_pd(acc + 8, a1);
  _mm512_store_pd(acc + 16, a2);
  _mm512_store_pd(acc + 24, a3);
  double s = 0;
  for (; i < n; ++i) s += (double)x[i] * (double)x[i];
  for (int l = 0; l < 32; ++l) s += acc[l];
  return s;
}

std::atomic<bool> g_stream_prefetch{!cpu_made_by_amd()};

void sumsq_block(const float* x, int64_t b, int64_t e, double* out, bool prefetch) {
  if (prefetch && active_isa() == Isa::Avx512) *out = sumsq_prefetch_avx512(x + b, e - b);
  else sumsq_dispatch(x, b, e, out);
}

// adamw_body over 64-float pieces, each preceded by a software prefetch of its four streams (gradient,
// parameter, both moments) 2 KiB ahead; the same per-element arithmetic as adamw_body, so the same bits.
// Measured on an Intel Xeon with AMX, 2 cores, 19M floats: a standalone loop (forms alternated) 10.5-10.9 ms
// against 9.1-9.5 (about 50 against 56-58 GB/s); in the addon after a 228 MB copy (both builds in one process,
// alternated, both orders) 11.1-11.2 against 10.4-10.5; the 19m B = 8 step's op profile (AdamW 10.3-11.2 ms)
// is too noisy to show it. Not on AMD (not measured there).
FT_TARGET_AVX512 void adamw_prefetch_avx512(float* param, const float* grad, float* m, float* v, int64_t b, int64_t e,
                                            float decay, float beta1, float beta2, float step_size, float inv_sqrt_bc2,
                                            float eps, float grad_scale) {
  constexpr int64_t kPiece = 64, kAhead = 2048;
  int64_t i = b;
  for (; i + kPiece <= e; i += kPiece) {
    for (int64_t line = 0; line < kPiece * 4; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(grad + i) + kAhead + line, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(param + i) + kAhead + line, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(m + i) + kAhead + line, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(v + i) + kAhead + line, _MM_HINT_T0);
    }
    adamw_body(param, grad, m, v, i, i + kPiece, decay, beta1, beta2, step_size, inv_sqrt_bc2, eps, grad_scale);
  }
  adamw_body(param, grad, m, v, i, e, decay, beta1, beta2, step_size, inv_sqrt_bc2, eps, grad_scale);
}

}  // namespace

bool stream_prefetch() { return g_stream_prefetch.load(std::memory_order_relaxed); }
void set_stream_prefetch(bool on) { g_stream_prefetch.store(on, std::memory_order_relaxed); }

void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWParams& prm) {
  const float decay = (float)(1.0 - (double)prm.lr * (double)prm.weight_decay);
  const float step_size = (float)((double)prm.lr / prm.bias_correction1);
  const float inv_sqrt_bc2 = (float)(1.0 / std::sqrt(prm.bias_correction2));
  const bool prefetch = stream_prefetch();
  parallel_grain(n, 1 << 14, [&](int64_t b, int64_t e) {
    if (prefetch && active_isa() == Isa::Avx512)
      return adamw_prefetch_avx512(param, grad, m, v, b, e, decay, prm.beta1, prm.beta2, step_size, inv_sqrt_bc2,
                                   prm.eps, prm.grad_scale);
    adamw_dispatch(param, grad, m, v, b, e, decay, prm.beta1, prm.beta2, step_size, inv_sqrt_bc2, prm.eps, prm.grad_scale);
  });
}

void group_dro_update(float* q, const float* group_loss_sum, const float* group_count, double eta,
                      const float* group, float* w, int64_t G, int64_t B) {
  // In log space, shifted by the largest exponent, so that a large η·L cannot overflow exp.
  std::vector<double> lq((size_t)G);
  double mx = -HUGE_VAL;
  for (int64_t g = 0; g < G; ++g) {
    const double boost = group_count[g] > 0 ? eta * (double)group_loss_sum[g] / (double)group_count[g] : 0.0;
    lq[(size_t)g] = std::log((double)q[g]) + boost;
    mx = std::max(mx, lq[(size_t)g]);
  }
  double total = 0;
  for (int64_t g = 0; g < G; ++g) {
    lq[(size_t)g] = std::exp(lq[(size_t)g] - mx);
    total += lq[(size_t)g];
  }
  for (int64_t g = 0; g < G; ++g) q[g] = (float)(lq[(size_t)g] / total);
  for (int64_t i = 0; i < B; ++i) {
    const int64_t g = (int64_t)group[i];
    w[i] = (float)((double)q[g] / (double)group_count[g]);
  }
}

void group_loss_reweight(const float* group_loss_sum, const float* group_count, double eta, const float* group,
                         float* gw, float* w, int64_t G, int64_t B) {
  double total = 0;
  int64_t present = 0;
  for (int64_t g = 0; g < G; ++g) {
    if (group_count[g] > 0.0f) {
      total += (double)group_loss_sum[g] / (double)group_count[g];
      ++present;
    }
  }
  double mass = 0;
  for (int64_t g = 0; g < G; ++g) {
    if (!(group_count[g] > 0.0f)) continue;
    const double share = total > 0 ? (double)group_loss_sum[g] / (double)group_count[g] / total : 1.0 / (double)present;
    gw[g] = (float)(1.0 + eta * share);
    mass += (double)group_count[g] * (double)gw[g];
  }
  for (int64_t i = 0; i < B; ++i) w[i] = (float)((double)gw[(int64_t)group[i]] / mass);
}

double sum_squares(const float* x, int64_t n) {
  // Fixed-size blocks summed in block order: the result is the same for any thread count.
  constexpr int64_t BLOCK = 1 << 16;
  const int64_t blocks = (n + BLOCK - 1) / BLOCK;
  std::vector<double> partial((size_t)blocks, 0.0);
  const bool prefetch = stream_prefetch();
  parallel_grain(blocks, 2, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t s = blk * BLOCK, e = std::min(n, s + BLOCK);
      sumsq_block(x, s, e, &partial[(size_t)blk], prefetch);
    }
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

}  // namespace ft
