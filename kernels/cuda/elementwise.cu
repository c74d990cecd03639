// Elementwise kernels: ReLU, exact GELU, Philox dropout, the residual add, accumulate, scale. Grid-stride
// loops (at most 4096 blocks of 256), each element read before it is written, so in-place use is safe.
#include "launch.h"
#include "ops.h"

namespace ftc {
namespace {

constexpr int THREADS = kGridThreads;

__global__ void relu_kernel(const float* x, float* y, long long n) {
  FT_GRID_STRIDE(i, n) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void relu_backward_kernel(const float* dy, const float* y, float* dx, long long n) {
  FT_GRID_STRIDE(i, n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// Φ(x) through erfc so the left tail keeps its relative precision (as the reference does).
__device__ __forceinline__ float normal_cdf(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }

__global__ void gelu_kernel(const float* x, float* y, long long n) {
  FT_GRID_STRIDE(i, n) y[i] = x[i] * normal_cdf(x[i]);
}

__global__ void gelu_backward_kernel(const float* dy, const float* x, float* dx, long long n) {
  FT_GRID_STRIDE(i, n) {
    const float v = x[i];
    dx[i] = dy[i] * (normal_cdf(v) + v * 0.3989422804014327f * expf(-0.5f * v * v));
  }
}

__global__ void dropout_kernel(const float* x, float* y, long long n, DropKey key) {
  FT_GRID_STRIDE(i, n) y[i] = x[i] * drop_factor(key, (uint64_t)i);
}

__global__ void dropout_backward_kernel(const float* dy, float* dx, long long n, DropKey key) {
  FT_GRID_STRIDE(i, n) dx[i] = dy[i] * drop_factor(key, (uint64_t)i);
}

__global__ void add_kernel(const float* a, const float* b, float* y, long long n) {
  FT_GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}

// y = a + dropout(b), as dropout_kernel into a buffer and then add_kernel would give.
__global__ void add_dropout_kernel(const float* a, const float* b, float* y, long long n, DropKey key) {
  FT_GRID_STRIDE(i, n) y[i] = a[i] + b[i] * drop_factor(key, (uint64_t)i);
}

__global__ void accumulate_kernel(const float* src, float* dst, float alpha, long long n) {
  FT_GRID_STRIDE(i, n) dst[i] += alpha * src[i];
}

__global__ void scale_kernel(float* x, float s, long long n) {
  FT_GRID_STRIDE(i, n) x[i] *= s;
}

// One thread per element of out[B,G]: 1 where the row's id equals the column. Ids are compared, never used
// as an index, so a bad id gives a zero row rather than a stray write.
__global__ void one_hot_kernel(const float* ids, float* out, long long B, long long G) {
  FT_GRID_STRIDE(i, B * G) out[i] = ids[i / G] == (float)(i % G) ? 1.0f : 0.0f;
}

}  // namespace

void one_hot(const float* ids, float* out, int64_t B, int64_t G) {
  FT_LAUNCH(one_hot_kernel, blocks_for(B * G), THREADS, 0, ids, out, (long long)B, (long long)G);
}
void relu_forward(const float* x, float* y, int64_t n) {
  FT_LAUNCH(relu_kernel, blocks_for(n), THREADS, 0, x, y, (long long)n);
}
void relu_backward(const float* dy, const float* y, float* dx, int64_t n) {
  FT_LAUNCH(relu_backward_kernel, blocks_for(n), THREADS, 0, dy, y, dx, (long long)n);
}
void gelu_forward(const float* x, float* y, int64_t n) {
  FT_LAUNCH(gelu_kernel, blocks_for(n), THREADS, 0, x, y, (long long)n);
}
void gelu_backward(const float* dy, const float* x, float* dx, int64_t n) {
  FT_LAUNCH(gelu_backward_kernel, blocks_for(n), THREADS, 0, dy, x, dx, (long long)n);
}
void dropout_forward(const float* x, float* y, int64_t n, const DropKey& key) {
  FT_LAUNCH(dropout_kernel, blocks_for(n), THREADS, 0, x, y, (long long)n, key);
}
void dropout_backward(const float* dy, float* dx, int64_t n, const DropKey& key) {
  FT_LAUNCH(dropout_backward_kernel, blocks_for(n), THREADS, 0, dy, dx, (long long)n, key);
}
void add(const float* a, const float* b, float* y, int64_t n) {
  FT_LAUNCH(add_kernel, blocks_for(n), THREADS, 0, a, b, y, (long long)n);
}
void add_dropout(const float* a, const float* b, float* y, int64_t n, const DropKey& key) {
  FT_LAUNCH(add_dropout_kernel, blocks_for(n), THREADS, 0, a, b, y, (long long)n, key);
}
void accumulate(const float* src, float* dst, float alpha, int64_t n) {
  FT_LAUNCH(accumulate_kernel, blocks_for(n), THREADS, 0, src, dst, alpha, (long long)n);
}
void scale(float* x, float s, int64_t n) { FT_LAUNCH(scale_kernel, blocks_for(n), THREADS, 0, x, s, (long long)n); }

}  // namespace ftc
