// Standalone check of kernels/cpu/attention.cc (the fused RoPE causal attention) against a naive float64
// implementation written here from the contract in attention.h: it materialises the S x S scores, applies the
// rotary embedding explicitly and draws the dropout mask element by element with ft::dropout_keep.
// The naive implementation's own gradients are first checked by central finite differences, so the oracle
// is known to be right before the kernel is compared with it.
// Usage: attention_test            run all checks, exit status 0 iff all pass
//        attention_test --bench    print forward/backward timings of the model's shapes, and fwd+bwd with and
//                                  without a reserve (not a test)
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <algorithm>

#include "../../kernels/cpu/attention.h"
#include "../../kernels/cpu/dropout.h"
#include "../../kernels/cpu/isa.h"
#include "../../kernels/cpu/parallel.h"

// The engine's one ISA policy (kernels/cpu/isa.h): the harness lowers it as setIsa / FAIRTUNE_ISA do.
static void force_isa(int level) {
  if (!ft::set_isa(level < 0 ? ft::detected_isa() : (ft::Isa)std::min(level, (int)ft::detected_isa())))
    std::abort();
}
static int active_level() { return (int)ft::active_isa(); }

namespace {

using Vec = std::vector<double>;

struct Shape {
  int64_t B, S, H, d;
  int64_t D() const { return H * d; }
};

struct Drop {
  double p = 0.0;
  ft::DropoutKey key{0x123456789abcdefULL, 7u, 3u};
  uint32_t thr = 0;
  uint32_t threshold() const { return thr; }
};

// ---- naive float64 reference ----------------------------------------------------------------------------

struct Naive {
  Vec out, lse;        // [B,S,D], [B,H,S]
  Vec dq, dk, dv;      // [B,S,D]
};

// Rotation of one head row in place (sign = +1 forward, -1 the transpose, for gradients).
void rope(double* x, int64_t d, int64_t pos, double sign) {
  const int64_t r = d / 2;
  for (int64_t j = 0; j < r / 2; ++j) {
    const double a = (double)pos * std::pow(10000.0, -2.0 * (double)j / (double)r);
    const double c = std::cos(a), s = sign * std::sin(a);
    const double x0 = x[2 * j], x1 = x[2 * j + 1];
    x[2 * j] = x0 * c - x1 * s;
    x[2 * j + 1] = x1 * c + x0 * s;
  }
}

Naive naive(const Shape& sh, const Vec& q, const Vec& k, const Vec& v, const Vec* dout, const Drop& dr) {
  const int64_t B = sh.B, S = sh.S, H = sh.H, d = sh.d, D = sh.D();
  const double scale = 1.0 / std::sqrt((double)d), inv_keep = 1.0 / (1.0 - dr.p);
  Naive n;
  n.out.assign((size_t)(B * S * D), 0.0);
  n.lse.assign((size_t)(B * H * S), 0.0);
  n.dq.assign(n.out.size(), 0.0);
  n.dk.assign(n.out.size(), 0.0);
  n.dv.assign(n.out.size(), 0.0);
  Vec rq((size_t)(S * d)), rk((size_t)(S * d)), P((size_t)(S * S)), M((size_t)(S * S)), dP((size_t)(S * S));
  Vec drq((size_t)(S * d)), drk((size_t)(S * d));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      auto at = [&](int64_t i, int64_t c) { return (size_t)((b * S + i) * D + h * d + c); };
      for (int64_t i = 0; i < S; ++i) {
        for (int64_t c = 0; c < d; ++c) {
          rq[(size_t)(i * d + c)] = q[at(i, c)];
          rk[(size_t)(i * d + c)] = k[at(i, c)];
        }
        rope(&rq[(size_t)(i * d)], d, i, 1.0);
        rope(&rk[(size_t)(i * d)], d, i, 1.0);
      }
      for (int64_t i = 0; i < S; ++i) {
        double mx = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          double s = 0;
          for (int64_t c = 0; c < d; ++c) s += rq[(size_t)(i * d + c)] * rk[(size_t)(j * d + c)];
          P[(size_t)(i * S + j)] = s * scale;
          mx = std::max(mx, s * scale);
        }
        double sum = 0;
        for (int64_t j = 0; j <= i; ++j) sum += std::exp(P[(size_t)(i * S + j)] - mx);
        const double lse = mx + std::log(sum);
        n.lse[(size_t)((b * H + h) * S + i)] = lse;
        for (int64_t j = 0; j < S; ++j) {
          const uint64_t idx = (uint64_t)(((b * H + h) * S + i) * S + j);
          P[(size_t)(i * S + j)] = j <= i ? std::exp(P[(size_t)(i * S + j)] - lse) : 0.0;
          M[(size_t)(i * S + j)] = dr.p > 0 ? (ft::dropout_keep(dr.key, dr.threshold(), idx) ? inv_keep : 0.0) : 1.0;
        }
        for (int64_t c = 0; c < d; ++c) {
          double o = 0;
          for (int64_t j = 0; j <= i; ++j) o += P[(size_t)(i * S + j)] * M[(size_t)(i * S + j)] * v[at(j, c)];
          n.out[at(i, c)] = o;
        }
      }
      if (!dout) continue;
      const Vec& g = *dout;
      // out_i = sum_j P_ij M_ij v_j  =>  dv_j = sum_i P_ij M_ij g_i, dP_ij = M_ij g_i . v_j
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j <= i; ++j) {
          double s = 0;
          for (int64_t c = 0; c < d; ++c) s += g[at(i, c)] * v[at(j, c)];
          dP[(size_t)(i * S + j)] = s * M[(size_t)(i * S + j)];
          for (int64_t c = 0; c < d; ++c) n.dv[at(j, c)] += P[(size_t)(i * S + j)] * M[(size_t)(i * S + j)] * g[at(i, c)];
        }
      // softmax backward written directly (not via rowsum(dO o O)): dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
      std::fill(drq.begin(), drq.end(), 0.0);
      std::fill(drk.begin(), drk.end(), 0.0);
      for (int64_t i = 0; i < S; ++i) {
        double dot = 0;
        for (int64_t j = 0; j <= i; ++j) dot += P[(size_t)(i * S + j)] * dP[(size_t)(i * S + j)];
        for (int64_t j = 0; j <= i; ++j) {
          const double ds = P[(size_t)(i * S + j)] * (dP[(size_t)(i * S + j)] - dot) * scale;
          for (int64_t c = 0; c < d; ++c) {
            drq[(size_t)(i * d + c)] += ds * rk[(size_t)(j * d + c)];
            drk[(size_t)(j * d + c)] += ds * rq[(size_t)(i * d + c)];
          }
        }
      }
      for (int64_t i = 0; i < S; ++i) {
        rope(&drq[(size_t)(i * d)], d, i, -1.0);
        rope(&drk[(size_t)(i * d)], d, i, -1.0);
        for (int64_t c = 0; c < d; ++c) {
          n.dq[at(i, c)] = drq[(size_t)(i * d + c)];
          n.dk[at(i, c)] = drk[(size_t)(i * d + c)];
        }
      }
    }
  return n;
}

// ---- helpers ---------------------------------------------------------------------------------------------

int g_failures = 0, g_checks = 0;

void expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// |got - want| <= rtol * |want| + atol * max|want| + 1e-6 (+ the float rounding of base + result when the
// kernel added into base). The scale-relative floor is there because gradients of a saturated softmax are
// differences of nearly equal terms; the absolute 1e-6 (inputs are O(1)) covers tensors whose exact value is
// zero, e.g. dq and dk when S = 1, where float rounding leaves ~1e-8. dk passes floor = 1e-6·qmul: it is
// dSᵀ·Q, so the float rounding of dS (a difference of nearly equal terms where the softmax saturates) reaches it
// multiplied by q's size. With q × 30 (S = 9, d = 4) 13 of 199 seeds exceeded 1e-6 there (one by 5x) on every
// ISA path alike, scalar included (dq = dS·K, with K of size 1, stayed inside).
bool close(const std::vector<float>& got, const Vec& want, double rtol, double atol, const std::string& what,
           const std::vector<float>* base = nullptr, double floor = 1e-6) {
  double scale = 1e-30, worst = 0;
  size_t worst_i = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  bool ok = got.size() == want.size();
  for (size_t i = 0; ok && i < want.size(); ++i) {
    const double g = (double)got[i] - (base ? (double)(*base)[i] : 0.0);
    const double err = std::fabs(g - want[i]);
    const double lim = rtol * std::fabs(want[i]) + atol * scale + floor + (base ? 1.2e-7 * std::fabs(got[i]) : 0.0);
    if (!(err <= lim)) ok = false;
    if (!(err / lim <= worst)) { worst = err / lim; worst_i = i; }
  }
  if (!ok) {
    const double g = (double)got[worst_i] - (base ? (double)(*base)[worst_i] : 0.0);
    std::printf("  %s: element %zu got %.9g want %.9g (scale %.3g)\n", what.c_str(), worst_i, g, want[worst_i],
                scale);
  }
  return ok;
}

std::vector<float> random_floats(std::mt19937& rng, size_t n, double mul) {
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<float> x(n);
  for (auto& e : x) e = (float)(nd(rng) * mul);
  return x;
}

Vec to_double(const std::vector<float>& x) { return Vec(x.begin(), x.end()); }

const char* isa_name(int l) { return l == 2 ? "avx512" : l == 1 ? "avx2" : "scalar"; }

// ---- finite-difference check of the naive implementation -------------------------------------------------

void check_oracle_gradients(double p) {
  const Shape sh{1, 5, 2, 8};
  const size_t n = (size_t)(sh.B * sh.S * sh.D());
  std::mt19937 rng(11);
  std::normal_distribution<double> nd(0.0, 1.0);
  Vec q(n), k(n), v(n), g(n);
  for (size_t i = 0; i < n; ++i) { q[i] = nd(rng); k[i] = nd(rng); v[i] = nd(rng); g[i] = nd(rng); }
  Drop dr;
  dr.p = p;
  dr.thr = ft::dropout_threshold(p);
  const Naive an = naive(sh, q, k, v, &g, dr);
  auto loss = [&](const Vec& qq, const Vec& kk, const Vec& vv) {
    const Naive f = naive(sh, qq, kk, vv, nullptr, dr);
    double L = 0;
    for (size_t i = 0; i < n; ++i) L += f.out[i] * g[i];
    return L;
  };
  const double eps = 1e-5;
  double worst = 0;
  Vec* ins[3] = {&q, &k, &v};
  const Vec* grads[3] = {&an.dq, &an.dk, &an.dv};
  for (int t = 0; t < 3; ++t)
    for (size_t i = 0; i < n; ++i) {
      Vec& x = *ins[t];
      const double x0 = x[i];
      x[i] = x0 + eps;
      const double lp = loss(q, k, v);
      x[i] = x0 - eps;
      const double lm = loss(q, k, v);
      x[i] = x0;
      const double fd = (lp - lm) / (2 * eps);
      worst = std::max(worst, std::fabs(fd - (*grads[t])[i]) / (1e-3 + std::fabs(fd)));
    }
  char buf[128];
  std::snprintf(buf, sizeof buf, "oracle finite differences (p=%.1f): worst relative error %.2e", p, worst);
  expect(worst < 1e-6, buf);
  // The gradient must not be trivially zero, otherwise the check above proves nothing.
  double gnorm = 0;
  for (size_t i = 0; i < n; ++i) gnorm += an.dq[i] * an.dq[i] + an.dk[i] * an.dk[i] + an.dv[i] * an.dv[i];
  expect(gnorm > 1e-2, "oracle gradients are non-trivial");
}

// ---- kernel vs oracle ------------------------------------------------------------------------------------

struct Case {
  Shape sh;
  double qmul;  // q is multiplied by this (30 saturates the softmax)
  double p;
};

void check_case(const Case& cs, int isa, uint32_t seed) {
  const Shape& sh = cs.sh;
  const size_t n = (size_t)(sh.B * sh.S * sh.D()), nl = (size_t)(sh.B * sh.H * sh.S);
  std::mt19937 rng(seed);
  const auto q = random_floats(rng, n, cs.qmul), k = random_floats(rng, n, 1.0), v = random_floats(rng, n, 1.0);
  const auto dout = random_floats(rng, n, 1.0);
  Drop dr;
  dr.key.seed = 0x9e3779b97f4a7c15ULL ^ seed;
  dr.thr = ft::dropout_threshold(cs.p);
  const ft::AttnDropout ad{(float)cs.p, dr.thr, dr.key};
  dr.p = (double)ad.p;  // the kernel sees the float p; scale the oracle identically

  const Vec dd = to_double(dout);
  const Naive want = naive(sh, to_double(q), to_double(k), to_double(v), &dd, dr);

  // Gradient buffers start non-zero: the backward must add into them.
  const auto dq0 = random_floats(rng, n, 1.0), dk0 = random_floats(rng, n, 1.0), dv0 = random_floats(rng, n, 1.0);
  force_isa(isa);
  // Without and with the reserve (attention.h: the forward keeps its probabilities there, the backward reads
  // them instead of recomputing). The reserve starts as NaN: an entry read but never written shows.
  for (const bool keep : {false, true}) {
    std::vector<float> out(n, NAN), lse(nl, NAN), reserve(keep ? (size_t)(sh.B * sh.H * sh.S * sh.S) : 0, NAN);
    float* res = keep ? reserve.data() : nullptr;
    ft::rope_attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), sh.B, sh.S, sh.H, sh.D(),
                               cs.p > 0 ? &ad : nullptr, res);
    auto dq = dq0, dk = dk0, dv = dv0;
    ft::rope_attention_backward(dout.data(), q.data(), k.data(), v.data(), out.data(), lse.data(), dq.data(),
                                dk.data(), dv.data(), sh.B, sh.S, sh.H, sh.D(), cs.p > 0 ? &ad : nullptr, false, res);

    char name[180];
    std::snprintf(name, sizeof name, "%s B=%lld S=%lld H=%lld d=%lld qx%g p=%.1f%s", isa_name(isa), (long long)sh.B,
                  (long long)sh.S, (long long)sh.H, (long long)sh.d, cs.qmul, cs.p, keep ? " reserve" : "");
    const std::string nm(name);
    const double rtol = 1e-4, atol = 1e-5;
    expect(close(out, want.out, rtol, atol, nm + " out"), nm + " out");
    expect(close(lse, want.lse, rtol, atol, nm + " lse"), nm + " lse");
    expect(close(dq, want.dq, rtol, 2 * atol, nm + " dq", &dq0), nm + " dq");
    expect(close(dk, want.dk, rtol, 2 * atol, nm + " dk", &dk0, 1e-6 * cs.qmul), nm + " dk");
    expect(close(dv, want.dv, rtol, atol, nm + " dv", &dv0), nm + " dv");
  }
}

// The same inputs through every path and thread count give the same answer; the kernel with p = 0 and with
// no dropout argument agree exactly; with p = 0.3 the output really changes (the mask is applied) while lse
// does not (it is taken before dropout). `single` is the output computed earlier on one thread.
const Shape kConsistencyShape{3, 19, 2, 12};

struct Inputs {
  std::vector<float> q, k, v;
};

Inputs consistency_inputs() {
  const size_t n = (size_t)(kConsistencyShape.B * kConsistencyShape.S * kConsistencyShape.D());
  std::mt19937 rng(99);
  Inputs in;
  in.q = random_floats(rng, n, 1.0);
  in.k = random_floats(rng, n, 1.0);
  in.v = random_floats(rng, n, 1.0);
  return in;
}

std::vector<float> forward_out(const Inputs& in, const ft::AttnDropout* drop, std::vector<float>* lse_out = nullptr) {
  const Shape& sh = kConsistencyShape;
  std::vector<float> o((size_t)(sh.B * sh.S * sh.D())), l((size_t)(sh.B * sh.H * sh.S));
  ft::rope_attention_forward(in.q.data(), in.k.data(), in.v.data(), o.data(), l.data(), sh.B, sh.S, sh.H, sh.D(),
                             drop);
  if (lse_out) *lse_out = l;
  return o;
}

// The dropout mask's vector paths (dropout.cc: AVX-512 16 Philox blocks per batch, AVX2 8) against
// ft::dropout_keep element by element, bit for bit, on every ISA path: multipliers from any start and length
// (the attention rows' ranges, batches cut at both ends), the 2^32 wrap of the block counter, thresholds at
// both ends (p = 0 keeps everything, p near 1 almost nothing), and dropout_forward/backward over whole
// tensors (group tails, NaN and infinities: a dropped element is +0, a kept one x·scale).
void check_dropout_paths(int best) {
  std::mt19937_64 rng(20261206);
  const double ps[] = {0.0, 0.1, 0.3, 0.5, 0.999};
  for (int isa = 0; isa <= best; ++isa) {
    force_isa(isa);
    int bad_mult = 0, bad_apply = 0;
    for (int t = 0; t < 3000; ++t) {
      const double p = ps[t % 5];
      const uint32_t thr = ft::dropout_threshold(p);
      const float kept = (float)(1.0 / (1.0 - p));
      const ft::DropoutKey key{rng(), (uint32_t)rng(), (uint32_t)rng()};
      // A quarter of the starts just below the block counter's wrap (element 4 * 2^32).
      const uint64_t base = t % 4 == 0 ? (4ull << 32) - 1 - rng() % 200 : rng() % (1ull << 36);
      const int64_t n = (int64_t)(rng() % 300);
      std::vector<float> mult((size_t)n + 1, -7.f);
      ft::dropout_multipliers(key, thr, kept, base, n, mult.data());
      for (int64_t c = 0; c < n; ++c)
        if (mult[(size_t)c] != (ft::dropout_keep(key, thr, base + (uint64_t)c) ? kept : 0.f)) ++bad_mult;
      if (mult[(size_t)n] != -7.f) ++bad_mult;  // nothing written past n
    }
    for (int t = 0; t < 200; ++t) {
      const double p = ps[t % 5];
      const uint32_t thr = ft::dropout_threshold(p);
      const float scale = (float)(1.0 / (1.0 - p));
      const ft::DropoutKey key{rng(), (uint32_t)rng(), (uint32_t)rng()};
      const int64_t n = t < 190 ? (int64_t)(rng() % 700) : 70000 + (int64_t)(rng() % 100);  // small, and past the grain
      std::vector<float> x((size_t)n), y((size_t)n + 1, -7.f), dx((size_t)n + 1, -7.f);
      for (auto& v : x) v = (float)((double)(rng() % 2000001) / 1e3 - 1e3);
      if (n > 3) { x[0] = NAN; x[1] = INFINITY; x[2] = -INFINITY; x[3] = -0.f; }
      ft::dropout_forward(x.data(), y.data(), n, p, key);
      ft::dropout_backward(x.data(), dx.data(), n, p, key);
      for (int64_t i = 0; i < n; ++i) {
        const float want = p == 0.0 ? x[(size_t)i] : ft::dropout_keep(key, thr, (uint64_t)i) ? x[(size_t)i] * scale : 0.f;
        if (std::memcmp(&y[(size_t)i], &want, 4) != 0 || std::memcmp(&dx[(size_t)i], &want, 4) != 0) ++bad_apply;
      }
      if (y[(size_t)n] != -7.f || dx[(size_t)n] != -7.f) ++bad_apply;
    }
    expect(bad_mult == 0, std::string(isa_name(isa)) + ": dropout multipliers equal dropout_keep bit for bit (" +
                              std::to_string(bad_mult) + " differ)");
    expect(bad_apply == 0, std::string(isa_name(isa)) + ": dropout forward/backward equal the scalar rule bit for bit (" +
                               std::to_string(bad_apply) + " differ)");
  }
}

void check_consistency(int best, const std::vector<float>& single) {
  const Inputs in = consistency_inputs();
  force_isa(best);
  std::vector<float> l1, l3;
  const auto o1 = forward_out(in, nullptr, &l1);
  const ft::AttnDropout zero{0.f, 0u, {1, 2, 3}};
  expect(forward_out(in, &zero) == o1, "p = 0 equals no dropout");
  const ft::AttnDropout some{0.3f, ft::dropout_threshold(0.3f), {5, 6, 7}};
  expect(forward_out(in, &some, &l3) != o1, "dropout changes the output");
  expect(l1 == l3, "lse is taken before dropout");
  expect(single == o1, "one thread equals the pool");
}

// ---- timing (not a test) ---------------------------------------------------------------------------------

void bench() {
  struct B { int64_t B, S, H, D; };
  const B shapes[] = {{32, 31, 8, 512}, {8, 257, 8, 512}, {32, 61, 8, 512}, {8, 129, 8, 512}};
  std::printf("threads %d\n", ft::num_threads());
  for (int isa = active_level(); isa >= 0; --isa) {
    force_isa(isa);
    for (const B& s : shapes) {
      const size_t n = (size_t)(s.B * s.S * s.D), nl = (size_t)(s.B * s.H * s.S);
      std::mt19937 rng(1);
      const auto q = random_floats(rng, n, 1.0), k = random_floats(rng, n, 1.0), v = random_floats(rng, n, 1.0);
      const auto g = random_floats(rng, n, 1.0);
      std::vector<float> o(n), l(nl), dq(n), dk(n), dv(n);
      // Best of 5 wall times, and the CPU time of that repetition (all threads): on a shared, loaded machine the
      // CPU time per call is the steadier measure of the kernel itself.
      double cpu_of_best = 0;
      auto time = [&](auto&& fn) {
        fn();
        double best = 1e30;
        for (int rep = 0; rep < 5; ++rep) {
          const int iters = 5;
          const auto t0 = std::chrono::steady_clock::now();
          const std::clock_t c0 = std::clock();
          for (int it = 0; it < iters; ++it) fn();
          const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
          const double ct = (double)(std::clock() - c0) / CLOCKS_PER_SEC / iters;
          if (dt < best) { best = dt; cpu_of_best = ct; }
        }
        return best;
      };
      const double tf = time([&] {
        ft::rope_attention_forward(q.data(), k.data(), v.data(), o.data(), l.data(), s.B, s.S, s.H, s.D, nullptr);
      });
      const double cf = cpu_of_best;
      const double tb = time([&] {
        ft::rope_attention_backward(g.data(), q.data(), k.data(), v.data(), o.data(), l.data(), dq.data(),
                                    dk.data(), dv.data(), s.B, s.S, s.H, s.D, nullptr);
      });
      const double d = (double)(s.D / s.H);
      const double ff = 4.0 * s.B * s.H * (double)s.S * s.S * d / 2.0, fb = 2.5 * ff;
      const double cb = cpu_of_best;
      std::printf("%-6s B=%-3lld S=%-4lld D=%lld H=%lld  forward %7.3f ms %6.1f GFLOP/s (%5.1f per CPU-s)   "
                  "backward %7.3f ms %6.1f GFLOP/s (%5.1f per CPU-s)\n",
                  isa_name(isa), (long long)s.B, (long long)s.S, (long long)s.D, (long long)s.H, tf * 1e3,
                  ff / tf * 1e-9, ff / cf * 1e-9, tb * 1e3, fb / tb * 1e-9, fb / cb * 1e-9);
      if (isa != (int)ft::detected_isa()) continue;
      // Forward+backward recomputing the probabilities against keeping them in a reserve (attention.h), the two
      // alternated (best of 8 turns each), without and with dropout 0.1: the figures behind the model's choice
      // of when to pass one (src/model/attention-reserve.ts).
      std::vector<float> res((size_t)(s.B * s.H * s.S * s.S));
      const ft::AttnDropout ad{0.1f, ft::dropout_threshold(0.1f), {1, 2, 3}};
      for (const bool dropout : {false, true}) {
        const ft::AttnDropout* dr = dropout ? &ad : nullptr;
        auto pass = [&](float* r) {
          const auto t0 = std::chrono::steady_clock::now();
          for (int it = 0; it < 5; ++it) {
            ft::rope_attention_forward(q.data(), k.data(), v.data(), o.data(), l.data(), s.B, s.S, s.H, s.D, dr, r);
            ft::rope_attention_backward(g.data(), q.data(), k.data(), v.data(), o.data(), l.data(), dq.data(),
                                        dk.data(), dv.data(), s.B, s.S, s.H, s.D, dr, true, r);
          }
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 5;
        };
        pass(nullptr);
        pass(res.data());
        double recompute = 1e30, kept = 1e30;
        for (int turn = 0; turn < 8; ++turn) {
          recompute = std::min(recompute, pass(nullptr));
          kept = std::min(kept, pass(res.data()));
        }
        std::printf("       fwd+bwd%s: recomputing %.3f ms, with a reserve %.3f ms (%.2fx)\n",
                    dropout ? " with dropout 0.1" : "", recompute * 1e3, kept * 1e3, recompute / kept);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--bench") == 0) {
    bench();
    return 0;
  }
  // One-thread result first, before the pool has run anything: parallel.cc's Pool::resize starts new workers
  // with seen = 0, so after a multi-threaded run they would replay the stale generation (reported to the lead).
  const int threads = ft::num_threads();
  ft::set_num_threads(1);
  force_isa(-1);
  const std::vector<float> single = forward_out(consistency_inputs(), nullptr);
  ft::set_num_threads(threads);

  check_oracle_gradients(0.0);
  check_oracle_gradients(0.3);

  force_isa(-1);
  const int best = active_level();
  const Case cases[] = {
      {{1, 1, 1, 4}, 1, 0.0},    {{1, 1, 2, 8}, 1, 0.3},    {{2, 2, 1, 4}, 1, 0.0},   {{2, 2, 3, 4}, 1, 0.3},
      {{1, 7, 3, 12}, 1, 0.0},   {{2, 7, 2, 12}, 1, 0.3},   {{1, 11, 4, 8}, 1, 0.0},  {{2, 31, 8, 64}, 1, 0.0},
      {{2, 31, 8, 64}, 1, 0.3},  {{1, 33, 2, 16}, 1, 0.0},  {{1, 33, 2, 68}, 1, 0.3}, {{1, 65, 1, 64}, 1, 0.0},
      {{1, 65, 2, 68}, 1, 0.3},  {{1, 130, 1, 16}, 1, 0.3}, {{3, 17, 5, 20}, 1, 0.0}, {{2, 31, 2, 64}, 30, 0.0},
      {{1, 33, 2, 16}, 30, 0.3}, {{1, 9, 1, 4}, 30, 0.0},
      // Whole numbers of the whole-matrix path's row blocks (6 with AVX2, 4 otherwise) and of vectors.
      {{2, 6, 2, 8}, 1, 0.3},    {{1, 24, 2, 16}, 1, 0.0},  {{1, 48, 2, 64}, 1, 0.3},
      // Either side of the switch from the whole-matrix path (S <= 320) to the tiled one, and a saturated
      // softmax on the whole-matrix path at a long S (D_i there comes from P and dP, renormalised).
      {{1, 320, 1, 16}, 1, 0.3}, {{1, 321, 1, 16}, 1, 0.3}, {{1, 330, 2, 24}, 1, 0.0}, {{1, 257, 1, 16}, 30, 0.0},
      // The tiled path at the models' head sizes (64, 128) and with a padded d under dropout.
      {{2, 330, 2, 68}, 1, 0.3}, {{1, 321, 2, 128}, 1, 0.0}, {{1, 333, 2, 64}, 1, 0.3},
      // The dropout multipliers drawn row by row (S >= kDropoutRowsS = 128) for several (batch, head) pairs,
      // whose rows start at (bh·S + i)·S; and just below the switch.
      {{2, 129, 2, 64}, 1, 0.3}, {{2, 127, 2, 64}, 1, 0.3},
  };
  uint32_t seed = 1;
  for (int isa = 0; isa <= best; ++isa)
    for (const Case& c : cases) check_case(c, isa, seed++);
  check_consistency(best, single);
  check_dropout_paths(best);
  force_isa(-1);

  std::printf("attention_test: %d checks, %d failed (paths tested: scalar..%s)\n", g_checks, g_failures,
              isa_name(best));
  return g_failures == 0 ? 0 : 1;
}
