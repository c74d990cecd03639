// The vector layer of the CPU kernels written once for every ISA (attention.cc, elementwise.cc): W = 1 is
// plain float (the scalar path); W = 8 / 16 are GCC vector types that become ymm / zmm registers when the
// always_inline templates below are inlined into functions carrying target("avx2,fma") or
// target("avx512f...") attributes (isa.h), so one source becomes AVX-512, AVX2 or scalar code and the file
// using it still compiles for baseline x86-64.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#define FT_INLINE inline __attribute__((always_inline))

// The vector helpers pass 32/64-byte vectors by value; GCC warns that such a signature would have a different
// ABI without AVX. They are always inlined into AVX2/AVX-512 functions, so no such call boundary exists.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace ft {
namespace vec {
// Internal linkage for every includer (an unnamed namespace in a header, on purpose): with these helpers in a
// named namespace GCC 12 compiled the attention forward around them differently and 5-14% slower (measured
// in one process against the same code with the helpers file-local).
namespace {

template <int W>
struct VecTypes;
template <>
struct VecTypes<8> {
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
};
template <>
struct VecTypes<16> {
  typedef float V __attribute__((vector_size(64)));
  typedef int32_t I __attribute__((vector_size(64)));
};

template <int W>
struct VecOps {
  using V = typename VecTypes<W>::V;
  using I = typename VecTypes<W>::I;
  static FT_INLINE V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static FT_INLINE void store(float* p, const V& v) { std::memcpy(p, &v, sizeof v); }
  // Broadcasts and lane permutations are written as shuffles with constant masks. GCC 12 builds the other
  // spellings (V{} + x; a mask filled in a loop, even a fully unrolled one) lane by lane inside the
  // target-attributed entry points: the disassembly showed 16 masked vpbroadcastd per permutation and a vaddss
  // before every broadcast of the micro-kernel, and a cpu-clock profile (perf; B = 32, S = 31) put about a
  // quarter of the forward in them. These become one vbroadcastss / vpermilps / vshuff32x4 each.
  static FT_INLINE V set1(float x) { return __builtin_shuffle(V{x}, I{}); }
  // Lane permutation l -> l ^ step.
  template <int step, size_t... L>
  static FT_INLINE V xor_lanes(const V& v, std::index_sequence<L...>) {
    return __builtin_shuffle(v, I{(int32_t)(L ^ step)...});
  }
  template <int step>
  static FT_INLINE V xor_lanes(const V& v) {
    return xor_lanes<step>(v, std::make_index_sequence<W>{});
  }
  // (x0, x1, x2, x3, ...) -> (x1, x0, x3, x2, ...): the partner of each feature in its RoPE pair.
  static FT_INLINE V swap_pairs(const V& v) { return xor_lanes<1>(v); }
  // Lane 0 of the tree reduction pairing lanes l and l ^ W/2, then l ^ W/4, ..., then l ^ 1.
  template <int step = W / 2>
  static FT_INLINE V tree_sum(const V& v) {
    if constexpr (step == 0) return v;
    else return tree_sum<step / 2>(v + xor_lanes<step>(v));
  }
  template <int step = W / 2>
  static FT_INLINE V tree_max(const V& v) {
    if constexpr (step == 0) return v;
    else return tree_max<step / 2>(vmax(v, xor_lanes<step>(v)));
  }
  // r[i][l] -> r[l][i] for a W x W block held in W vectors: at each level h = W/2, ..., 1 the off-diagonal
  // h x h blocks of every 2h x 2h block swap (two-source shuffles: vpermt2ps / vshufps, not scalar moves).
  template <int h = W / 2>
  static FT_INLINE void transpose(V* r) {
    if constexpr (h > 0) {
#pragma GCC unroll 16
      for (int i = 0; i < W; ++i)
        if ((i & h) == 0) {
          const V a = r[i], b = r[i + h];
          r[i] = swap_blocks<h, false>(a, b, std::make_index_sequence<W>{});
          r[i + h] = swap_blocks<h, true>(a, b, std::make_index_sequence<W>{});
        }
      transpose<h / 2>(r);
    }
  }
  // Lanes with bit h clear (upper = false) keep a's and take b's from h lanes down; upper: the reverse.
  template <int h, bool upper, size_t... L>
  static FT_INLINE V swap_blocks(const V& a, const V& b, std::index_sequence<L...>) {
    return __builtin_shuffle(a, b, I{(int32_t)(upper ? ((L & h) ? W + L : L + h) : ((L & h) ? W + L - h : L))...});
  }
  static FT_INLINE float hsum(const V& x) { return tree_sum(x)[0]; }
  static FT_INLINE float hmax(const V& x) { return tree_max(x)[0]; }
  static FT_INLINE V vmax(const V& a, const V& b) { return a > b ? a : b; }
  // The sign bit cleared (no comparison: see elementwise.cc's GELU).
  static FT_INLINE V abs(const V& v) { return (V)((I)v & 0x7FFFFFFF); }
  // exp(x): Cephes-style range reduction x = n ln2 + r and a degree-6 polynomial (relative error ~1e-7).
  // x < -87 (including -inf, the masked scores) gives exactly 0; NaN stays NaN.
  static FT_INLINE V exp(const V& x) {
    const V lo = set1(-87.0f), hi = set1(88.0f);
    V xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    const V magic = set1(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    V n = (xc * 1.44269504088896341f + magic) - magic;
    V r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    V p = set1(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    I bits = (I)p + (__builtin_convertvector(n, I) << 23);
    V res = (V)bits;
    res = x == x ? res : x;
    return x < lo ? V{} : res;
  }
};

template <>
struct VecOps<1> {
  typedef float V;
  static FT_INLINE V load(const float* p) { return *p; }
  static FT_INLINE void store(float* p, V v) { *p = v; }
  static FT_INLINE V set1(float x) { return x; }
  static FT_INLINE float hsum(const V& v) { return v; }
  static FT_INLINE float hmax(const V& v) { return v; }
  static FT_INLINE V swap_pairs(const V& v) { return v; }  // not used: the scalar path indexes c ^ 1
  static FT_INLINE V vmax(V a, V b) { return std::max(a, b); }
  static FT_INLINE V abs(V v) { return std::fabs(v); }
  // As the vector exp below -87: exactly 0 (std::exp would return denormals down to -103), so every path agrees.
  static FT_INLINE V exp(V x) { return x < -87.0f ? 0.0f : std::exp(x); }
};

}  // namespace
}  // namespace vec
}  // namespace ft
