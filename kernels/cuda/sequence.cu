// Token-row ops: the learned start token (h[:,0] = token, h[:,1:] = e) and mean pooling over S.
#include "launch.h"
#include "ops.h"

namespace ftc {
namespace {

constexpr int THREADS = kGridThreads;

__global__ void start_token_kernel(const float* e, const float* token, float* h, long long B, long long T, long long D) {
  const long long S = T + 1;
  FT_GRID_STRIDE(i, B * S * D) {
    const long long b = i / (S * D), r = i % (S * D);
    h[i] = r < D ? token[r] : e[b * T * D + (r - D)];
  }
}

__global__ void start_token_de_kernel(const float* dh, float* de, long long B, long long T, long long D) {
  const long long S = T + 1;
  FT_GRID_STRIDE(i, B * T * D) {
    const long long b = i / (T * D), r = i % (T * D);
    de[i] += dh[b * S * D + D + r];
  }
}

__global__ void start_token_dtoken_kernel(const float* dh, float* dtoken, long long B, long long T, long long D) {
  const long long S = T + 1;
  FT_GRID_STRIDE(c, D) {
    float s = 0.0f;
    for (long long b = 0; b < B; ++b) s += dh[b * S * D + c];
    dtoken[c] += s;
  }
}

__global__ void mean_pool_kernel(const float* h, float* z, long long B, long long S, long long D) {
  FT_GRID_STRIDE(i, B * D) {
    const long long b = i / D, c = i % D;
    float s = 0.0f;
    for (long long t = 0; t < S; ++t) s += h[(b * S + t) * D + c];
    z[i] = s / (float)S;
  }
}

__global__ void mean_pool_backward_kernel(const float* dz, float* dh, long long B, long long S, long long D) {
  FT_GRID_STRIDE(i, B * S * D) {
    const long long b = i / (S * D), c = i % D;
    dh[i] += dz[b * D + c] / (float)S;
  }
}

}  // namespace

void start_token_forward(const float* e, const float* token, float* h, int64_t B, int64_t T, int64_t D) {
  FT_LAUNCH(start_token_kernel, blocks_for(B * (T + 1) * D), THREADS, 0, e, token, h, (long long)B, (long long)T,
            (long long)D);
}

void start_token_backward(const float* dh, float* de, float* dtoken, int64_t B, int64_t T, int64_t D) {
  if (de != nullptr && T > 0) {
    FT_LAUNCH(start_token_de_kernel, blocks_for(B * T * D), THREADS, 0, dh, de, (long long)B, (long long)T,
              (long long)D);
  }
  if (dtoken != nullptr) {
    FT_LAUNCH(start_token_dtoken_kernel, blocks_for(D), THREADS, 0, dh, dtoken, (long long)B, (long long)T,
              (long long)D);
  }
}

void mean_pool_forward(const float* h, float* z, int64_t B, int64_t S, int64_t D) {
  FT_LAUNCH(mean_pool_kernel, blocks_for(B * D), THREADS, 0, h, z, (long long)B, (long long)S, (long long)D);
}

void mean_pool_backward(const float* dz, float* dh, int64_t B, int64_t S, int64_t D) {
  FT_LAUNCH(mean_pool_backward_kernel, blocks_for(B * S * D), THREADS, 0, dz, dh, (long long)B, (long long)S,
            (long long)D);
}

}  // namespace ftc
