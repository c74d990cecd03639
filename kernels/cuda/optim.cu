// Optimiser and fairness kernels: fused AdamW (PyTorch semantics), Σ x² for the global norm (accumulated
// in a device double so that only one scalar returns to the host), and the online GroupDRO update.
#include "launch.h"
#include "ops.h"
#include "reduce.cuh"

namespace ftc {
namespace {

constexpr int THREADS = kGridThreads;
// At most 1024 blocks: each block's partial sum of squares is one atomic add into the accumulator.
constexpr long long MAX_BLOCKS = 1024;

// p ← p·(1 − lr·wd) − lr·(m̂)/(sqrt(v̂) + eps), m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t).
// With a norm (globalNorm's output, on the device): the gradient is clipped to p.max_norm without a host
// read, the factor formed in double as on the other backends; a norm that is not finite updates nothing.
__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                             float* __restrict__ v, long long n, AdamWParams p, const float* __restrict__ norm) {
  const float decay = 1.0f - p.lr * p.weight_decay;
  float scale = p.grad_scale;
  if (norm != nullptr) {
    const float nv = norm[0];
    if (!isfinite(nv)) return;
    if (p.max_norm > 0.0f && (double)nv > (double)p.max_norm) scale = (float)((double)p.grad_scale * ((double)p.max_norm / (double)nv));
  }
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    const float g = scale * grad[i];
    const float mi = p.beta1 * m[i] + (1.0f - p.beta1) * g;
    const float vi = p.beta2 * v[i] + (1.0f - p.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - p.lr * (mi / p.bias_correction1) / (sqrtf(vi / p.bias_correction2) + p.eps);
  }
}

// acc += Σ x²: block sums added in block order by the last block (deterministic, unlike an atomicAdd per block,
// so the gradient norm and the clip factor are bitwise reproducible).
__global__ void __launch_bounds__(THREADS) sum_squares_kernel(const float* __restrict__ x, long long n,
                                                              double* __restrict__ acc, double* partials, unsigned* done) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    s += (double)x[i] * (double)x[i];
  }
  s = block_sum_d(s, scratch);
  double total;
  if (last_block_total(s, partials, done, &total)) acc[0] += total;
}

// A group id as an index into the G-long group arrays, or -1 when it is not an integer in [0, G). The ids are
// checked by the TypeScript layer (on the host shadow of the uploaded batch, so without a device read); the
// kernels guard them again so that a wrong id can never index outside an array: its sample's weight becomes
// NaN, which the loss, the gradient norm and AdamW's refusal then surface.
__device__ __forceinline__ long long group_index(float id, long long G) {
  return id >= 0.0f && id < (float)G && id == floorf(id) ? (long long)id : -1;
}

// One block: thread 0 updates q in log space (the largest exponent subtracted, so exp cannot overflow),
// then every thread writes its samples' weights w_i = q_{g_i}/count_{g_i}.
__global__ void group_dro_kernel(float* __restrict__ q, const float* __restrict__ gsum,
                                 const float* __restrict__ gcnt, float eta, const float* __restrict__ group,
                                 float* __restrict__ w, long long G, long long B) {
  if (threadIdx.x == 0) {
    double mx = -INFINITY;
    for (long long g = 0; g < G; ++g) {
      const double boost = gcnt[g] > 0.0f ? (double)eta * gsum[g] / gcnt[g] : 0.0;
      mx = fmax(mx, log((double)q[g]) + boost);
    }
    double total = 0.0;
    for (long long g = 0; g < G; ++g) {
      const double boost = gcnt[g] > 0.0f ? (double)eta * gsum[g] / gcnt[g] : 0.0;
      total += exp(log((double)q[g]) + boost - mx);
    }
    for (long long g = 0; g < G; ++g) {
      const double boost = gcnt[g] > 0.0f ? (double)eta * gsum[g] / gcnt[g] : 0.0;
      q[g] = (float)(exp(log((double)q[g]) + boost - mx) / total);
    }
  }
  __syncthreads();  // q is final before any weight reads it
  for (long long i = threadIdx.x; i < B; i += blockDim.x) {
    const long long g = group_index(group[i], G);
    w[i] = g >= 0 ? q[g] / gcnt[g] : NAN;
  }
}

// One block; thread 0 computes gw (G is small), then every thread writes its samples' weights.
__global__ void group_reweight_kernel(const float* __restrict__ gsum, const float* __restrict__ gcnt, float eta,
                                      const float* __restrict__ group, float* __restrict__ gw, float* __restrict__ w,
                                      long long G, long long B) {
  __shared__ double mass;
  if (threadIdx.x == 0) {
    double total = 0.0;
    long long present = 0;
    for (long long g = 0; g < G; ++g) {
      if (gcnt[g] > 0.0f) {
        total += (double)gsum[g] / gcnt[g];
        ++present;
      }
    }
    mass = 0.0;
    for (long long g = 0; g < G; ++g) {
      if (!(gcnt[g] > 0.0f)) continue;
      const double share = total > 0.0 ? (double)gsum[g] / gcnt[g] / total : 1.0 / (double)present;
      gw[g] = (float)(1.0 + (double)eta * share);
      mass += (double)gcnt[g] * gw[g];
    }
  }
  __syncthreads();  // gw and mass are final before any weight reads them
  for (long long i = threadIdx.x; i < B; i += blockDim.x) {
    const long long g = group_index(group[i], G);
    w[i] = g >= 0 ? (float)(gw[g] / mass) : NAN;
  }
}

// out[0] = sqrt(acc[0]): the accumulated Σ x² becomes the float norm AdamW reads on the device.
__global__ void store_norm_kernel(const double* __restrict__ acc, float* __restrict__ out) {
  if (threadIdx.x == 0) out[0] = (float)sqrt(acc[0]);
}

}  // namespace

void store_norm(const double* acc, float* out) { FT_LAUNCH(store_norm_kernel, dim3(1), dim3(32), 0, acc, out); }

void group_loss_reweight(const float* group_sum, const float* group_count, float eta, const float* group, float* gw,
                         float* w, int64_t G, int64_t B) {
  FT_LAUNCH(group_reweight_kernel, dim3(1), dim3(128), 0, group_sum, group_count, eta, group, gw, w, (long long)G,
            (long long)B);
}

void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWParams& p, const float* norm) {
  FT_LAUNCH(adamw_kernel, blocks_for(n, MAX_BLOCKS), dim3(THREADS), 0, param, grad, m, v, (long long)n, p, norm);
}

void sum_squares_add(const float* x, int64_t n, double* acc) {
  static GridSumScratch<double> red;
  if (!red.ensure(MAX_BLOCKS)) return;
  FT_LAUNCH(sum_squares_kernel, blocks_for(n, MAX_BLOCKS), dim3(THREADS), 0, x, (long long)n, acc, red.partials, red.done);
}

void group_dro_update(float* q, const float* group_sum, const float* group_count, float eta, const float* group,
                      float* w, int64_t G, int64_t B) {
  FT_LAUNCH(group_dro_kernel, dim3(1), dim3(128), 0, q, group_sum, group_count, eta, group, w, (long long)G,
            (long long)B);
}

}  // namespace ftc
