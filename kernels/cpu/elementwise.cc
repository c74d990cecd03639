#include "elementwise.h"

#include <cmath>

#include "dispatch.h"

namespace ft {
namespace {

constexpr int64_t GRAIN = 1 << 15;

FT_INLINE_BODY void relu_fwd_body(const float* x, float* y, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
FT_MULTI_ISA(relu_fwd, (const float* x, float* y, int64_t b, int64_t e), (x, y, b, e))

FT_INLINE_BODY void relu_bwd_body(const float* dy, const float* y, float* dx, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
FT_MULTI_ISA(relu_bwd, (const float* dy, const float* y, float* dx, int64_t b, int64_t e), (dy, y, dx, b, e))

FT_INLINE_BODY void add_body(const float* a, const float* c, float* y, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) y[i] = a[i] + c[i];
}
FT_MULTI_ISA(add, (const float* a, const float* c, float* y, int64_t b, int64_t e), (a, c, y, b, e))

FT_INLINE_BODY void axpy_body(const float* src, float* dst, float alpha, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) dst[i] += alpha * src[i];
}
FT_MULTI_ISA(axpy, (const float* src, float* dst, float alpha, int64_t b, int64_t e), (src, dst, alpha, b, e))

FT_INLINE_BODY void scale_body(float* x, float s, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) x[i] *= s;
}
FT_MULTI_ISA(scale, (float* x, float s, int64_t b, int64_t e), (x, s, b, e))

// GELU needs erf, which no vector ISA has: computed in double per element (exact to float precision).
constexpr double INV_SQRT2 = 0.70710678118654752440;
constexpr double INV_SQRT_2PI = 0.39894228040143267794;

}  // namespace

void relu_forward(const float* x, float* y, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { relu_fwd_dispatch(x, y, b, e); });
}

void relu_backward(const float* dy, const float* y, float* dx, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { relu_bwd_dispatch(dy, y, dx, b, e); });
}

void gelu_forward(const float* x, float* y, int64_t n) {
  parallel_grain(n, GRAIN / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double v = x[i];
      y[i] = (float)(0.5 * v * (1.0 + std::erf(v * INV_SQRT2)));
    }
  });
}

void gelu_backward(const float* dy, const float* x, float* dx, int64_t n) {
  parallel_grain(n, GRAIN / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double v = x[i];
      const double cdf = 0.5 * (1.0 + std::erf(v * INV_SQRT2));
      const double pdf = INV_SQRT_2PI * std::exp(-0.5 * v * v);
      dx[i] = (float)((double)dy[i] * (cdf + v * pdf));
    }
  });
}

void add_forward(const float* a, const float* b, float* y, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t s, int64_t e) { add_dispatch(a, b, y, s, e); });
}

void axpy(const float* src, float* dst, float alpha, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { axpy_dispatch(src, dst, alpha, b, e); });
}

void scale_inplace(float* x, float s, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { scale_dispatch(x, s, b, e); });
}

}  // namespace ft
