// Losses (DESIGN.md section 3): the fused HR loss (weighted L1 on the median prediction + λ·logit-Laplace
// NLL, with per-group sums), the next-patch pretraining NLL, and BCE with logits. Batch-sized losses use
// one block (B is small, and a single block keeps Σ w·ℓ and the group sums, block reductions, in one fixed
// order); the next-patch, BCE and cross-entropy means use block
// sums that the last block adds in block order (reduce.cuh last_block_total): no float atomics, so the losses
// are bitwise reproducible whatever order the blocks run in.
#include "launch.h"
#include "ops.h"
#include "reduce.cuh"

namespace ftc {
namespace {

constexpr int THREADS = kGridThreads;
// At most 1024 blocks for the block-sum means: one partial per block, added in block order by the last block.
constexpr long long MAX_BLOCKS = 1024;
constexpr float HR_MIN = 30.0f, HR_RANGE = 200.0f;

__device__ __forceinline__ float sigmoidf_safe(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

__device__ __forceinline__ float signf(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f); }

struct Target {
  float logit, log_jac;
};

// u = (1 − 2ε)·clamp(v, 0, 1) + ε; logit(u) and log(u(1 − u)).
__device__ __forceinline__ Target laplace_target(float v, float eps) {
  const float vc = fminf(fmaxf(v, 0.0f), 1.0f);
  const float u = (1.0f - 2.0f * eps) * vc + eps;
  Target t;
  t.logit = logf(u / (1.0f - u));
  t.log_jac = logf(u * (1.0f - u));
  return t;
}

__device__ __forceinline__ float laplace_nll(Target t, float mu, float logb) {
  return 0.69314718055994531f + logb + t.log_jac + fabsf(t.logit - mu) * expf(-logb);
}

__device__ __forceinline__ Target hr_target(float hr, float eps) {
  const float c = fminf(fmaxf(hr, HR_MIN), HR_MIN + HR_RANGE);
  return laplace_target((c - HR_MIN) / HR_RANGE, eps);
}

__device__ __forceinline__ float hr_pred(float mu, float eps) {
  return HR_MIN + HR_RANGE * (sigmoidf_safe(mu) - eps) / (1.0f - 2.0f * eps);
}

__global__ void __launch_bounds__(THREADS) hr_loss_kernel(const float* __restrict__ out, const float* __restrict__ hr,
                                                          const float* __restrict__ w,
                                                          const float* __restrict__ group, HrParams p,
                                                          float* __restrict__ pred, float* __restrict__ sample_loss,
                                                          float* __restrict__ loss, float* __restrict__ group_sum,
                                                          float* __restrict__ group_count, long long B, long long G) {
  __shared__ float scratch[32];
  float num = 0.0f;
  for (long long i = threadIdx.x; i < B; i += blockDim.x) {
    const float mu = out[2 * i], logb = out[2 * i + 1];
    const float pr = hr_pred(mu, p.eps);
    const float l = fabsf(pr - hr[i]) + p.lambda * laplace_nll(hr_target(hr[i], p.eps), mu, logb);
    pred[i] = pr;
    sample_loss[i] = l;
    num += w[i] * l;
  }
  num = block_sum(num, scratch);
  if (threadIdx.x == 0) loss[0] = num;
  // Group sums by block reductions, one group at a time (each thread re-reads the samples it wrote): a fixed
  // order of additions, where atomics from the block's threads would add in whatever order they ran.
  for (long long g = 0; g < G; ++g) {
    float sum = 0.0f, count = 0.0f;
    for (long long i = threadIdx.x; i < B; i += blockDim.x) {
      if ((long long)group[i] == g) {
        sum += sample_loss[i];
        count += 1.0f;
      }
    }
    sum = block_sum(sum, scratch);
    count = block_sum(count, scratch);
    if (threadIdx.x == 0) {
      group_sum[g] = sum;
      group_count[g] = count;
    }
  }
}

__global__ void __launch_bounds__(THREADS) hr_loss_backward_kernel(const float* __restrict__ out,
                                                                   const float* __restrict__ hr,
                                                                   const float* __restrict__ w, HrParams p,
                                                                   float* __restrict__ dout, float scale, long long B) {
  for (long long i = threadIdx.x; i < B; i += blockDim.x) {
    const float mu = out[2 * i], logb = out[2 * i + 1];
    const Target t = hr_target(hr[i], p.eps);
    const float s = sigmoidf_safe(mu);
    const float dpred = HR_RANGE * s * (1.0f - s) / (1.0f - 2.0f * p.eps);
    const float ib = expf(-logb);
    const float dmu = signf(hr_pred(mu, p.eps) - hr[i]) * dpred + p.lambda * (-signf(t.logit - mu) * ib);
    const float dlogb = p.lambda * (1.0f - fabsf(t.logit - mu) * ib);
    const float f = scale * w[i];
    dout[2 * i] += f * dmu;
    dout[2 * i + 1] += f * dlogb;
  }
}

// The mean over the grid: block sums reduced in block order by the last block (reduce.cuh), which writes loss[0].
__global__ void __launch_bounds__(THREADS) next_patch_kernel(const float* __restrict__ params,
                                                             const float* __restrict__ x, float eps,
                                                             float* __restrict__ loss, float* partials, unsigned* done,
                                                             long long B, long long S, long long T, long long P) {
  __shared__ float scratch[32];
  const long long n = B * T * P;
  float s = 0.0f;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    const long long j = e % P, bt = e / P, t = bt % T, b = bt / T;
    const long long po = (b * S + t) * 2 * P;
    s += laplace_nll(laplace_target(x[e], eps), params[po + j], params[po + P + j]);
  }
  s = block_sum(s, scratch);
  float total;
  if (last_block_total(s, partials, done, &total)) loss[0] = total / (float)n;
}

__global__ void next_patch_backward_kernel(const float* __restrict__ params, const float* __restrict__ x, float eps,
                                           float* __restrict__ dparams, float f, long long B, long long S, long long T,
                                           long long P) {
  const long long n = B * T * P;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    const long long j = e % P, bt = e / P, t = bt % T, b = bt / T;
    const long long po = (b * S + t) * 2 * P;
    const Target tg = laplace_target(x[e], eps);
    const float mu = params[po + j], logb = params[po + P + j];
    const float ib = expf(-logb);
    dparams[po + j] += f * (-signf(tg.logit - mu) * ib);
    dparams[po + P + j] += f * (1.0f - fabsf(tg.logit - mu) * ib);
  }
}

__global__ void __launch_bounds__(THREADS) bce_kernel(const float* __restrict__ z, const float* __restrict__ t,
                                                      float* __restrict__ loss, float* partials, unsigned* done, long long n) {
  __shared__ float scratch[32];
  float s = 0.0f;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    s += fmaxf(z[i], 0.0f) - z[i] * t[i] + log1pf(expf(-fabsf(z[i])));
  }
  s = block_sum(s, scratch);
  float total;
  if (last_block_total(s, partials, done, &total)) loss[0] = total / (float)n;
}

__global__ void bce_backward_kernel(const float* __restrict__ z, const float* __restrict__ t,
                                    float* __restrict__ dz, float f, long long n) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    dz[i] += f * (sigmoidf_safe(z[i]) - t[i]);
  }
}

// One thread per row (C, the number of groups, is small): max, log Σ exp, then the row's cross-entropy.
__device__ float softmax_ce_row(const float* z, const float* t, long long C) {
  float mx = -INFINITY;
  for (long long c = 0; c < C; ++c) mx = fmaxf(mx, z[c]);
  float sum = 0.0f;
  for (long long c = 0; c < C; ++c) sum += expf(z[c] - mx);
  const float lse = mx + logf(sum);
  float l = 0.0f;
  for (long long c = 0; c < C; ++c) l -= t[c] * (z[c] - lse);
  return l;
}

__global__ void __launch_bounds__(THREADS) softmax_ce_kernel(const float* __restrict__ z, const float* __restrict__ t,
                                                             float* __restrict__ loss, float* partials, unsigned* done,
                                                             long long N, long long C) {
  __shared__ float scratch[32];
  float s = 0.0f;
  for (long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x; n < N; n += (long long)gridDim.x * blockDim.x) {
    s += softmax_ce_row(z + n * C, t + n * C, C);
  }
  s = block_sum(s, scratch);
  float total;
  if (last_block_total(s, partials, done, &total)) loss[0] = total / (float)N;
}

__global__ void softmax_ce_backward_kernel(const float* __restrict__ z, const float* __restrict__ t,
                                           float* __restrict__ dz, float f, long long N, long long C) {
  for (long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x; n < N; n += (long long)gridDim.x * blockDim.x) {
    const float* zr = z + n * C;
    const float* tr = t + n * C;
    float mx = -INFINITY, sum = 0.0f, mass = 0.0f;
    for (long long c = 0; c < C; ++c) mx = fmaxf(mx, zr[c]);
    for (long long c = 0; c < C; ++c) {
      sum += expf(zr[c] - mx);
      mass += tr[c];
    }
    for (long long c = 0; c < C; ++c) dz[n * C + c] += f * (mass * expf(zr[c] - mx) / sum - tr[c]);
  }
}

}  // namespace

void hr_loss_forward(const float* out, const float* hr, const float* w, const float* group, HrParams p, float* pred,
                     float* sample_loss, float* loss, float* group_sum, float* group_count, int64_t B, int64_t G) {
  FT_LAUNCH(hr_loss_kernel, dim3(1), dim3(THREADS), 0, out, hr, w, group, p, pred, sample_loss, loss, group_sum,
            group_count, (long long)B, (long long)G);
}

void hr_loss_backward(const float* out, const float* hr, const float* w, HrParams p, float* dout, float scale,
                      int64_t B) {
  FT_LAUNCH(hr_loss_backward_kernel, dim3(1), dim3(THREADS), 0, out, hr, w, p, dout, scale, (long long)B);
}

void next_patch_nll_forward(const float* params, const float* x, float eps, float* loss, int64_t B, int64_t S,
                            int64_t T, int64_t P) {
  static GridSumScratch<float> red;
  if (!red.ensure(MAX_BLOCKS)) return;
  FT_LAUNCH(next_patch_kernel, blocks_for(B * T * P, MAX_BLOCKS), dim3(THREADS), 0, params, x, eps, loss, red.partials, red.done,
            (long long)B, (long long)S, (long long)T, (long long)P);
}

void next_patch_nll_backward(const float* params, const float* x, float eps, float* dparams, float scale, int64_t B,
                             int64_t S, int64_t T, int64_t P) {
  const float f = (float)((double)scale / (double)(B * T * P));
  FT_LAUNCH(next_patch_backward_kernel, blocks_for(B * T * P, MAX_BLOCKS), dim3(THREADS), 0, params, x, eps, dparams, f,
            (long long)B, (long long)S, (long long)T, (long long)P);
}

void bce_forward(const float* logits, const float* targets, float* loss, int64_t n) {
  static GridSumScratch<float> red;
  if (!red.ensure(MAX_BLOCKS)) return;
  FT_LAUNCH(bce_kernel, blocks_for(n, MAX_BLOCKS), dim3(THREADS), 0, logits, targets, loss, red.partials, red.done, (long long)n);
}

void bce_backward(const float* logits, const float* targets, float* dlogits, float scale, int64_t n) {
  const float f = (float)((double)scale / (double)n);
  FT_LAUNCH(bce_backward_kernel, blocks_for(n, MAX_BLOCKS), dim3(THREADS), 0, logits, targets, dlogits, f, (long long)n);
}

void softmax_ce_forward(const float* logits, const float* targets, float* loss, int64_t N, int64_t C) {
  static GridSumScratch<float> red;
  if (!red.ensure(MAX_BLOCKS)) return;
  FT_LAUNCH(softmax_ce_kernel, blocks_for(N, MAX_BLOCKS), dim3(THREADS), 0, logits, targets, loss, red.partials, red.done,
            (long long)N, (long long)C);
}

void softmax_ce_backward(const float* logits, const float* targets, float* dlogits, float scale, int64_t N, int64_t C) {
  const float f = (float)((double)scale / (double)N);
  FT_LAUNCH(softmax_ce_backward_kernel, blocks_for(N, MAX_BLOCKS), dim3(THREADS), 0, logits, targets, dlogits, f,
            (long long)N, (long long)C);
}

}  // namespace ftc
