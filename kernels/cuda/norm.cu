// RMSNorm (the blocks) and LayerNorm (the HR head) over the last dimension: one block of 128 threads per
// row, statistics by block reductions (warp shuffles, then one shared slot per warp). The parameter
// gradients (dscale, dγ, dβ) are column sums over rows, done by a second kernel: per block 32 columns,
// 16 row groups whose partials are added in a fixed order (reduce.cuh sum_row_groups: coalesced,
// deterministic, no atomics).
#include "launch.h"
#include "ops.h"
#include "reduce.cuh"

namespace ftc {
namespace {

constexpr int ROW_THREADS = 128;

__global__ void __launch_bounds__(ROW_THREADS) rms_forward_kernel(const float* __restrict__ x,
                                                                  const float* __restrict__ scale, float eps,
                                                                  float* __restrict__ y, float* __restrict__ rstd,
                                                                  long long D) {
  __shared__ float scratch[32];
  const long long o = (long long)blockIdx.x * D;
  float ss = 0.0f;
  for (long long c = threadIdx.x; c < D; c += blockDim.x) ss += x[o + c] * x[o + c];
  ss = block_sum(ss, scratch);
  const float r = rsqrtf(ss / (float)D + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (long long c = threadIdx.x; c < D; c += blockDim.x) y[o + c] = x[o + c] * r * scale[c];
}

__global__ void __launch_bounds__(ROW_THREADS) rms_backward_kernel(const float* __restrict__ dy,
                                                                   const float* __restrict__ x,
                                                                   const float* __restrict__ scale,
                                                                   const float* __restrict__ rstd,
                                                                   float* __restrict__ dx, long long D) {
  __shared__ float scratch[32];
  const long long o = (long long)blockIdx.x * D;
  const float r = rstd[blockIdx.x];
  float dot = 0.0f;
  for (long long c = threadIdx.x; c < D; c += blockDim.x) dot += dy[o + c] * scale[c] * x[o + c];
  const float mean_dot = block_sum(dot, scratch) * r / (float)D;
  for (long long c = threadIdx.x; c < D; c += blockDim.x) {
    const float xh = x[o + c] * r;
    dx[o + c] += r * (dy[o + c] * scale[c] - xh * mean_dot);
  }
}

// dscale[c] += Σ_n dy[n,c]·x[n,c]·rstd[n]
__global__ void __launch_bounds__(COL_SUM_THREADS) rms_dscale_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                                                     const float* __restrict__ rstd,
                                                                     float* __restrict__ dscale, long long N, long long D) {
  const int group = threadIdx.x / COL_SUM_COLS;
  const long long c = (long long)blockIdx.x * COL_SUM_COLS + threadIdx.x % COL_SUM_COLS;
  float v[1] = {0.0f};
  if (c < D)
    for (long long n = group; n < N; n += COL_SUM_GROUPS) v[0] += dy[n * D + c] * x[n * D + c] * rstd[n];
  sum_row_groups<1>(v);
  if (group == 0 && c < D) dscale[c] += v[0];
}

__global__ void __launch_bounds__(ROW_THREADS) ln_forward_kernel(const float* __restrict__ x,
                                                                 const float* __restrict__ gamma,
                                                                 const float* __restrict__ beta, float eps,
                                                                 float* __restrict__ y, float* __restrict__ mean,
                                                                 float* __restrict__ rstd, long long C) {
  __shared__ float scratch[32];
  const long long o = (long long)blockIdx.x * C;
  float s = 0.0f;
  for (long long c = threadIdx.x; c < C; c += blockDim.x) s += x[o + c];
  const float mu = block_sum(s, scratch) / (float)C;
  float v = 0.0f;  // two passes: no E[x²] − E[x]² cancellation
  for (long long c = threadIdx.x; c < C; c += blockDim.x) v += (x[o + c] - mu) * (x[o + c] - mu);
  const float r = rsqrtf(block_sum(v, scratch) / (float)C + eps);
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = r;
  }
  for (long long c = threadIdx.x; c < C; c += blockDim.x) y[o + c] = (x[o + c] - mu) * r * gamma[c] + beta[c];
}

__global__ void __launch_bounds__(ROW_THREADS) ln_backward_kernel(const float* __restrict__ dy,
                                                                  const float* __restrict__ x,
                                                                  const float* __restrict__ gamma,
                                                                  const float* __restrict__ mean,
                                                                  const float* __restrict__ rstd,
                                                                  float* __restrict__ dx, long long C) {
  __shared__ float scratch[32];
  const long long o = (long long)blockIdx.x * C;
  const float mu = mean[blockIdx.x], r = rstd[blockIdx.x];
  float sg = 0.0f, sgx = 0.0f;
  for (long long c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = dy[o + c] * gamma[c];
    sg += g;
    sgx += g * (x[o + c] - mu) * r;
  }
  const float mg = block_sum(sg, scratch) / (float)C;
  const float mgx = block_sum(sgx, scratch) / (float)C;
  for (long long c = threadIdx.x; c < C; c += blockDim.x) {
    const float xh = (x[o + c] - mu) * r;
    dx[o + c] += r * (dy[o + c] * gamma[c] - mg - xh * mgx);
  }
}

// dgamma[c] += Σ_n dy·x̂, dbeta[c] += Σ_n dy (either may be null).
__global__ void __launch_bounds__(COL_SUM_THREADS) ln_dparams_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                  const float* __restrict__ mean, const float* __restrict__ rstd,
                                  float* __restrict__ dgamma, float* __restrict__ dbeta, long long N, long long C) {
  const int group = threadIdx.x / COL_SUM_COLS;
  const long long c = (long long)blockIdx.x * COL_SUM_COLS + threadIdx.x % COL_SUM_COLS;
  float v[2] = {0.0f, 0.0f};  // Σ dy·x̂, Σ dy
  if (c < C) {
    for (long long n = group; n < N; n += COL_SUM_GROUPS) {
      const float g = dy[n * C + c];
      v[0] += g * (x[n * C + c] - mean[n]) * rstd[n];
      v[1] += g;
    }
  }
  sum_row_groups<2>(v);
  if (group != 0 || c >= C) return;
  if (dgamma != nullptr) dgamma[c] += v[0];
  if (dbeta != nullptr) dbeta[c] += v[1];
}

}  // namespace

void rms_norm_forward(const float* x, const float* scale, float eps, float* y, float* rstd, int64_t N, int64_t D) {
  FT_LAUNCH(rms_forward_kernel, dim3((unsigned)N), dim3(ROW_THREADS), 0, x, scale, eps, y, rstd, (long long)D);
}

void rms_norm_backward(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                       float* dscale, int64_t N, int64_t D) {
  FT_LAUNCH(rms_backward_kernel, dim3((unsigned)N), dim3(ROW_THREADS), 0, dy, x, scale, rstd, dx, (long long)D);
  if (dscale != nullptr) {
    FT_LAUNCH(rms_dscale_kernel, dim3(col_sum_blocks(D)), dim3(COL_SUM_THREADS), 0, dy, x, rstd, dscale, (long long)N,
              (long long)D);
  }
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,
                        float* rstd, int64_t N, int64_t C) {
  FT_LAUNCH(ln_forward_kernel, dim3((unsigned)N), dim3(ROW_THREADS), 0, x, gamma, beta, eps, y, mean, rstd,
            (long long)C);
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C) {
  FT_LAUNCH(ln_backward_kernel, dim3((unsigned)N), dim3(ROW_THREADS), 0, dy, x, gamma, mean, rstd, dx, (long long)C);
  if (dgamma != nullptr || dbeta != nullptr) {
    FT_LAUNCH(ln_dparams_kernel, dim3(col_sum_blocks(C)), dim3(COL_SUM_THREADS), 0, dy, x, mean, rstd, dgamma, dbeta,
              (long long)N, (long long)C);
  }
}

}  // namespace ftc
