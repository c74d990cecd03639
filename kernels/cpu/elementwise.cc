#include "elementwise.h"

#include <cmath>

#include "dispatch.h"
#include "vec.h"

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

// GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)). No vector ISA has erf, and computing it per element in double with
// std::erf (the kernel before this one) cost about 5 ns an element: 4-5 ms of a 19m training step for the HR
// head's two calls. Here 1 + erf(z) = erfc(-z) comes from erfc(u), u = |z|: erfc(u) = t·exp(-u² + S(t)),
// t = 1 / (1 + u/2), S a degree-9 polynomial fitted to log(erfc(u)) + u² - log(t) for 0 <= u <= 10
// (scripts/fit-erfc.py makes and checks it). Relative error of erfc in float arithmetic: below 4e-7 for
// u <= 1, 1.6e-6 for u <= 4 (the rounding of u² in the exponent); past u = 10 erfc is below every float.
// So 1 + erf(z) = erfc(u) for z < 0 keeps its relative accuracy deep into the negative tail, and
// 2 - erfc(u) for z >= 0. Every element, the tail of a span included, goes through the vector code of the
// active ISA, so results do not depend on how the array is split between threads.
constexpr float kInvSqrt2 = 0.70710678118654752440f, kInvSqrt2Pi = 0.39894228040143267794f;

// 2Φ(x) = 1 + erf(x/√2), and u² = x²/2.
template <int W>
FT_INLINE typename vec::VecOps<W>::V twice_cdf(const typename vec::VecOps<W>::V& x, typename vec::VecOps<W>::V& u2) {
  using X = vec::VecOps<W>;
  using V = typename X::V;
  const V zero = X::set1(0.f), ten = X::set1(10.f);
  // (|x| as a bit operation: a second comparison with zero here made GCC 12 lower both to one scalar compare
  // per lane in the backward, seen in the disassembly.)
  V u = X::abs(x) * kInvSqrt2;
  u = u > ten ? ten : u;  // erfc(10) is already below every float; keeps t in the fitted range (NaN passes)
  u2 = u * u;
  const V t = X::set1(1.f) / (u * 0.5f + 1.f);
  V s = X::set1(0.146567002f);
  s = s * t - 0.686162353f;
  s = s * t + 1.16099727f;
  s = s * t - 0.691139698f;
  s = s * t - 0.0931465551f;
  s = s * t + 0.0124910027f;
  s = s * t + 0.0293818731f;
  s = s * t + 0.38800332f;
  s = s * t + 0.998445868f;
  s = s * t - 1.2654376f;
  const V erfc = t * X::exp(s - u2);  // exactly 0 past the clamp, on every path (vec.h's exp: 0 below -87)
  return x < zero ? erfc : 2.f - erfc;
}

// body(i, n): elements [i, i + n) with n = W, the last (n < W) through a zero-padded copy.
template <int W, class F>
FT_INLINE void vector_spans(int64_t b, int64_t e, F body) {
  int64_t i = b;
  for (; i + W <= e; i += W) body(i, W);
  if (i < e) body(i, e - i);
}

template <int W>
FT_INLINE void gelu_fwd_span(const float* x, float* y, int64_t b, int64_t e) {
  using X = vec::VecOps<W>;
  vector_spans<W>(b, e, [&](int64_t i, int64_t n) FT_INLINE_LAMBDA {
    float xb[W] = {}, yb[W];
    const bool whole = n == W;
    if (!whole) std::copy(x + i, x + i + n, xb);
    const typename X::V xv = X::load(whole ? x + i : xb);
    typename X::V u2;
    X::store(whole ? y + i : yb, xv * twice_cdf<W>(xv, u2) * 0.5f);
    if (!whole) std::copy(yb, yb + n, y + i);
  });
}

template <int W>
FT_INLINE void gelu_bwd_span(const float* dy, const float* x, float* dx, int64_t b, int64_t e) {
  using X = vec::VecOps<W>;
  vector_spans<W>(b, e, [&](int64_t i, int64_t n) FT_INLINE_LAMBDA {
    float xb[W] = {}, db[W] = {}, ob[W];
    const bool whole = n == W;
    if (!whole) {
      std::copy(x + i, x + i + n, xb);
      std::copy(dy + i, dy + i + n, db);
    }
    const typename X::V xv = X::load(whole ? x + i : xb), dv = X::load(whole ? dy + i : db);
    typename X::V u2;
    const typename X::V cdf2 = twice_cdf<W>(xv, u2);
    // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = exp(-x²/2) / √(2π) (exactly 0 past the clamp, u² = 100).
    X::store(whole ? dx + i : ob, dv * (cdf2 * 0.5f + xv * X::exp(-u2) * kInvSqrt2Pi));
    if (!whole) std::copy(ob, ob + n, dx + i);
  });
}

FT_TARGET_AVX512 void gelu_fwd_avx512(const float* x, float* y, int64_t b, int64_t e) { gelu_fwd_span<16>(x, y, b, e); }
FT_TARGET_AVX2 void gelu_fwd_avx2(const float* x, float* y, int64_t b, int64_t e) { gelu_fwd_span<8>(x, y, b, e); }
void gelu_fwd_base(const float* x, float* y, int64_t b, int64_t e) { gelu_fwd_span<1>(x, y, b, e); }
FT_TARGET_AVX512 void gelu_bwd_avx512(const float* dy, const float* x, float* dx, int64_t b, int64_t e) {
  gelu_bwd_span<16>(dy, x, dx, b, e);
}
FT_TARGET_AVX2 void gelu_bwd_avx2(const float* dy, const float* x, float* dx, int64_t b, int64_t e) {
  gelu_bwd_span<8>(dy, x, dx, b, e);
}
void gelu_bwd_base(const float* dy, const float* x, float* dx, int64_t b, int64_t e) { gelu_bwd_span<1>(dy, x, dx, b, e); }

}  // namespace

void relu_forward(const float* x, float* y, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { relu_fwd_dispatch(x, y, b, e); });
}

void relu_backward(const float* dy, const float* y, float* dx, int64_t n) {
  parallel_grain(n, GRAIN, [&](int64_t b, int64_t e) { relu_bwd_dispatch(dy, y, dx, b, e); });
}

void gelu_forward(const float* x, float* y, int64_t n) {
  const Isa isa = active_isa();
  parallel_grain(n, GRAIN / 4, [&](int64_t b, int64_t e) {
    if (isa == Isa::Avx512) gelu_fwd_avx512(x, y, b, e);
    else if (isa == Isa::Avx2) gelu_fwd_avx2(x, y, b, e);
    else gelu_fwd_base(x, y, b, e);
  });
}

void gelu_backward(const float* dy, const float* x, float* dx, int64_t n) {
  const Isa isa = active_isa();
  parallel_grain(n, GRAIN / 4, [&](int64_t b, int64_t e) {
    if (isa == Isa::Avx512) gelu_bwd_avx512(dy, x, dx, b, e);
    else if (isa == Isa::Avx2) gelu_bwd_avx2(dy, x, dx, b, e);
    else gelu_bwd_base(dy, x, dx, b, e);
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
