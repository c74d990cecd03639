// Stress harness of the CPU GEMM's threading (kernels/cpu/gemm.cc): panels are packed by whichever thread
// needs them first while the other threads wait for them, so a missing wait, a claim taken twice or a panel
// nobody packs would give wrong (or racy) results only with several threads. For every shape (direct and
// packed A, transposed A, several KC blocks, tiles sharing row and column blocks, ragged edges, tiny serial
// products), every ISA level and both compute modes the CPU has, and 2 to 4 threads: C must be bit-identical
// to the 1-thread result (every element sums its terms in one order whatever the tiling) and within rounding
// of a double-precision reference: for bf16 mode, the reference on the bf16-rounded operands, so that only the
// fp32 accumulation differs and a packer that misplaces or drops a value (a ragged panel's columns, an odd k)
// fails as surely as in fp32. A column-major A's row sums (gemm's a_sums) must equal column_sums_add's bit for
// bit wherever the GEMM takes them. Built and run by run-gemm-test.sh, also under ThreadSanitizer, which reports a
// pack written by one thread and read by another without the release/acquire hand-off.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "gemm.h"
#include "gemm_internal.h"
#include "isa.h"
#include "parallel.h"

namespace {

int failures = 0, checks = 0;

struct Shape {
  int64_t m, n, k;
  int a_layout;  // 0: row-major A (x, dy), 1: transposed A read column-wise (dyᵀ in dW)
  int b_layout;  // 0: row-major B (W in dx, x in dW), 1: Bᵀ (W in the forward)
  bool accumulate, bias;
  int epilogue = 0;  // 0: none, 1: ReLU, 2: gate, 3: gate with kGateScale (2, 3: accumulate must be false);
                     // applied by the last KC block's store
  bool addend = false;  // then C = addend + C, after the epilogue (linear's residual; accumulate must be false)
};
// The gate's scale in epilogue 3: dropout's 1/(1 − p) at p = 0.1, as linearBackward's reluScale passes it.
const float kGateScale = (float)(1.0 / (1.0 - 0.1));

void expect(bool ok, const char* what, const Shape& s, const char* isa, int mode, int threads) {
  ++checks;
  if (!ok && ++failures <= 20)
    std::printf("FAIL %s (m %lld n %lld k %lld, A %d, B %d, isa %s, bf16 %d, threads %d, direct columns %d, direct "
                "set rows %d, private B panels %d)\n",
                what, (long long)s.m, (long long)s.n, (long long)s.k, s.a_layout, s.b_layout, isa, mode, threads,
                (int)ft::gemm_direct_columns(), (int)ft::gemm_direct_set_rows(), (int)ft::gemm_private_b_panels());
}

std::vector<float> run(const Shape& s, const std::vector<float>& a, const std::vector<float>& b,
                       const std::vector<float>& c0, const std::vector<float>& bias, const std::vector<float>& gate,
                       const std::vector<float>& addend, std::vector<float>* sums = nullptr, bool* took = nullptr) {
  const ft::Matrix A = s.a_layout == 0 ? ft::Matrix{a.data(), s.k, 1} : ft::Matrix{a.data(), 1, s.m};
  const ft::Matrix B = s.b_layout == 0 ? ft::Matrix{b.data(), s.n, 1} : ft::Matrix{b.data(), 1, s.k};
  std::vector<float> c = c0;
  const bool t = ft::gemm(s.m, s.n, s.k, A, B, c.data(), s.n, s.accumulate, s.bias ? bias.data() : nullptr,
                          s.epilogue == 1, s.epilogue >= 2 ? gate.data() : nullptr, nullptr,
                          s.epilogue == 3 ? kGateScale : 1.0f, s.addend ? addend.data() : nullptr,
                          sums ? sums->data() : nullptr, s.accumulate);
  if (took) *took = t;
  return c;
}

void check_shape(const Shape& s, std::mt19937& rng, int max_threads) {
  std::normal_distribution<float> nd;
  std::vector<float> a(s.m * s.k), b(s.k * s.n), c0(s.m * s.n), bias(s.n), addend(s.m * s.n);
  for (float& v : addend) v = nd(rng);
  for (float& v : a) v = nd(rng);
  for (float& v : b) v = nd(rng);
  for (float& v : c0) v = nd(rng);
  for (float& v : bias) v = nd(rng);
  // The gate: about half positive, with a NaN every 37 elements and a zero every 41 (both give 0).
  std::vector<float> gate(s.m * s.n);
  for (size_t e = 0; e < gate.size(); ++e) gate[e] = e % 37 == 5 ? NAN : e % 41 == 7 ? 0.0f : nd(rng);
  // The operands as the bf16 kernels see them (the bias and C stay fp32).
  auto rounded = [](const std::vector<float>& v) {
    std::vector<float> r(v.size());
    for (size_t e = 0; e < v.size(); ++e) {
      const uint32_t u = (uint32_t)ft::gemm_detail::to_bf16(v[e]) << 16;
      std::memcpy(&r[e], &u, 4);
    }
    return r;
  };
  const std::vector<float> a16 = rounded(a), b16 = rounded(b);
  // Reference in double, and the bound of each element's rounding error (k products of magnitude |a||b|).
  struct Reference {
    std::vector<double> value, mag;
  };
  auto reference = [&](const std::vector<float>& av, const std::vector<float>& bv) {
    auto at = [&](int64_t i, int64_t p) { return s.a_layout == 0 ? av[i * s.k + p] : av[p * s.m + i]; };
    auto bt = [&](int64_t p, int64_t j) { return s.b_layout == 0 ? bv[p * s.n + j] : bv[j * s.k + p]; };
    Reference r{std::vector<double>(s.m * s.n), std::vector<double>(s.m * s.n)};
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double acc = (s.accumulate ? c0[i * s.n + j] : 0.0) + (s.bias ? bias[j] : 0.0), m = std::fabs(acc);
        for (int64_t p = 0; p < s.k; ++p) {
          acc += (double)at(i, p) * bt(p, j);
          m += std::fabs((double)at(i, p) * bt(p, j));
        }
        if (s.epilogue == 1) acc = acc > 0 ? acc : 0;
        if (s.epilogue >= 2) acc = gate[i * s.n + j] > 0 ? acc * (s.epilogue == 3 ? kGateScale : 1.0f) : 0;  // NaN: 0
        if (s.addend) {
          acc += addend[i * s.n + j];
          m += std::fabs((double)addend[i * s.n + j]);
        }
        r.value[i * s.n + j] = acc;
        r.mag[i * s.n + j] = m;
      }
    return r;
  };
  const Reference ref32 = reference(a, b);
  // A's row sums (a_sums: dW's db from the pack of dyᵀ), asked of every column-major A: Σ_p A(i, p) in double,
  // p in order, rounded once (and added to the old value with accumulate), as column_sums_add sums dy's columns.
  std::vector<float> sums0(s.m), sums_ref(s.m);
  for (float& v : sums0) v = nd(rng);
  for (int64_t i = 0; i < s.m; ++i) {
    double acc = 0.0;
    for (int64_t p = 0; p < s.k; ++p) acc += (double)a[p * s.m + i];
    sums_ref[i] = (s.accumulate ? sums0[i] : 0.0f) + (float)acc;
  }
  const Reference ref16 = ft::gemm_bf16_supported() ? reference(a16, b16) : Reference{};
  const ft::Isa levels[] = {ft::Isa::Avx512, ft::Isa::Avx2, ft::Isa::Scalar};
  for (ft::Isa isa : levels) {
    if (!ft::set_isa(isa)) continue;
    for (int mode = 0; mode < 2; ++mode) {
      if (mode == 1 && !(isa == ft::Isa::Avx512 && ft::gemm_bf16_supported())) continue;
      ft::set_gemm_compute(mode ? ft::GemmCompute::Bf16 : ft::GemmCompute::Fp32);
      ft::set_num_threads(1);
      const std::vector<float> one = run(s, a, b, c0, bias, gate, addend);
      const Reference& ref = mode ? ref16 : ref32;
      bool close = true;
      for (size_t e = 0; e < one.size(); ++e)
        close = close && std::fabs(one[e] - ref.value[e]) <= 1e-5 * ref.mag[e] + 1e-6;
      expect(close, "1-thread result differs from the double reference", s, ft::isa_name(isa), mode, 1);
      for (int t = 2; t <= max_threads; ++t) {
        ft::set_num_threads(t);
        expect(run(s, a, b, c0, bias, gate, addend) == one, "not bit-identical to the 1-thread result", s, ft::isa_name(isa), mode, t);
      }
      if (s.a_layout == 1) {
        // Where the GEMM takes the sums they equal column_sums_add's bit for bit, on 1 to 4 threads, and C is
        // unchanged; where it does not, the sums are left alone. AMX packs every such A, so it must take them.
        std::vector<float> cs = sums0;
        ft::column_sums_add(a.data(), s.k, s.m, cs.data(), s.accumulate);
        expect(cs == sums_ref, "column_sums_add differs from the in-order double sums", s, ft::isa_name(isa), mode, 1);
        for (int t = 1; t <= max_threads; ++t) {
          ft::set_num_threads(t);
          std::vector<float> sums = sums0;
          bool took = false;
          expect(run(s, a, b, c0, bias, gate, addend, &sums, &took) == one, "C differs when asked for A's row sums", s,
                 ft::isa_name(isa), mode, t);
          expect(sums == (took ? sums_ref : sums0),
                 took ? "A's row sums differ from column_sums_add" : "A's row sums written though not taken", s,
                 ft::isa_name(isa), mode, t);
          if (mode == 1 && ft::gemm_bf16_uses_amx() && s.k > 0)
            expect(took, "AMX packed a column-major A without its row sums", s, ft::isa_name(isa), mode, t);
        }
      }
    }
  }
  ft::set_isa(ft::detected_isa());
  ft::set_gemm_compute(ft::GemmCompute::Fp32);
}

}  // namespace

int main() {
  // GEMM_TEST_SCALE < 1 shrinks the shapes (ThreadSanitizer runs the FMAs ~100x slower).
  const char* scale_env = std::getenv("GEMM_TEST_SCALE");
  const double scale = scale_env ? std::atof(scale_env) : 1.0;
  auto sz = [&](int64_t v) { return std::max<int64_t>(1, (int64_t)(v * scale)); };
  std::mt19937 rng(7);
  const Shape shapes[] = {
      // Many tiles sharing row blocks (n large) and column blocks (m large); k over several KC blocks.
      {sz(300), sz(700), sz(900), 0, 1, false, true},
      {sz(700), sz(300), sz(900), 1, 0, true, false},
      // k over several of the AVX-512 kernels' 1024-long KC blocks: row-major A read in place (n ≤ 768) with Bᵀ,
      // packed row-major A (n > 768), packed column-major A (m < 2n).
      {sz(230), sz(300), sz(2300), 0, 1, false, true},
      {sz(150), sz(1700), sz(1100), 0, 0, true, true},
      {sz(300), sz(400), sz(2100), 1, 0, true, false},
      // Row-major A in place with a k past one block, ragged edges everywhere.
      {sz(211), sz(97), sz(1030), 0, 0, true, true},
      // Direct A (n ≤ 768, k ≤ 4096).
      {sz(250), sz(130), sz(300), 0, 1, false, true},
      // ... with rows a multiple of 1024 floats apart (k unscaled: lda = k), all in one L1 set: the 10-row kernel
      // where the L1 has 12 or more ways (rows_share_l1_set); ragged m against 10 rows and n against 32.
      {sz(123), sz(70), 2048, 0, 1, true, true},
      {sz(57), sz(45), 1024, 0, 0, false, true},
      // Column-major A read in place where direct columns are on (m ≥ 2n), ragged m, one and several KC blocks
      // (512 long on AVX-512 here).
      {sz(1000), sz(300), sz(700), 1, 0, true, false},
      {sz(431), sz(50), sz(200), 1, 0, false, true},
      // ... and when about square with a narrow B (m ≥ n, n ≤ 512: the 19m attention projections' dW).
      {sz(520), sz(400), sz(990), 1, 0, true, false},
      // ... but packed past a column stride of 4096 (the 1b model's linear1 dW): m unscaled to keep lda = m there.
      {4200, 40, sz(70), 1, 0, true, false},
      // Row-major B whose last panel is 17 columns wide (its second 16-column half one column wide), odd k (at
      // scale 1: the ThreadSanitizer run's halved shapes end in panels of 8 and 24 columns and an even k).
      {sz(300), sz(81), sz(531), 1, 0, false, true},
      {sz(260), sz(113), sz(77), 0, 0, true, false},
      // One column of tiles, one row of tiles.
      {sz(600), 31, sz(520), 0, 0, false, false},
      {13, sz(900), sz(520), 1, 1, true, true},
      // Tiny: runs serially.
      {5, 7, 3, 0, 0, true, true},
      // The ReLU and gate epilogues (the MLP's linear1 forward and linear2 dx), ragged edges, one and several KC
      // blocks, every A and B layout; the ReLU over accumulated C too.
      {sz(211), sz(97), sz(300), 0, 1, false, true, 1},
      {sz(130), sz(75), sz(1100), 0, 0, true, true, 1},
      {sz(211), sz(97), sz(300), 0, 0, false, false, 2},
      {sz(300), sz(81), sz(1100), 1, 0, false, true, 2},
      {sz(77), sz(45), sz(531), 1, 1, false, false, 2},
      // The gate with a scale (the relu backward through a dropout: linearBackward's reluScale).
      {sz(211), sz(97), sz(300), 0, 0, false, true, 3},
      {sz(300), sz(81), sz(1100), 1, 0, false, false, 3},
      // The addend (linear's residual, the forward's Bᵀ): one and several KC blocks, ragged edges, with the
      // bias and the ReLU, direct and packed A, both B layouts; k = 0 (the bias alone, then the addend).
      {sz(211), sz(97), sz(300), 0, 1, false, true, 0, true},
      {sz(230), sz(300), sz(2300), 0, 1, false, true, 0, true},
      {sz(150), sz(1700), sz(1100), 0, 1, false, true, 1, true},
      {sz(123), sz(70), 2048, 0, 1, false, false, 0, true},
      {sz(300), sz(81), sz(531), 1, 0, false, true, 2, true},
      {sz(77), sz(45), sz(531), 0, 0, false, true, 3, true},
      {13, 7, 0, 0, 1, false, true, 0, true},
      // One row block of 248 rows (the B = 8 products: 18 fp32 micro-panels, 8 AMX ones) over several KC blocks,
      // where each tile packs its own B panels (private_b): dx's row-major B, the forward's Bᵀ with the ReLU.
      // (ThreadSanitizer's halved run takes 124 rows: still one row block, at a quarter of the cost.)
      {sz(248), sz(1100), sz(2300), 0, 0, true, true},
      {sz(248), sz(700), sz(1100), 0, 1, false, true, 1},
  };
  // A column-major A takes both routes on any CPU: read in place (AMD's default) and packed (everyone else's);
  // so does a row-major A whose rows share an L1 set (the 10-row kernel in place on AMD, packed elsewhere).
  // Products of up to 320 rows (one row block on some kernel) run with the tiles' B panels shared (AMD's
  // default) and private (everyone else's). The shrunken ThreadSanitizer run, ~100x slower per FMA, runs both
  // ways only the shapes that end the list (the B = 8 products) and alternates the others between the two, so
  // each route meets every kind of shape without doubling the run (CI's harness timeout).
  const bool direct_columns = ft::gemm_direct_columns(), direct_set_rows = ft::gemm_direct_set_rows();
  const bool private_b = ft::gemm_private_b_panels();
  const size_t n_shapes = sizeof(shapes) / sizeof(shapes[0]);
  for (size_t i = 0; i < n_shapes; ++i) {
    const Shape& s = shapes[i];
    // (Row-major A: lda = k, so only k a multiple of 1024 floats can put its rows in one set.)
    const int routes = s.a_layout == 1 || s.k % 1024 == 0 ? 2 : 1;
    const bool both = scale >= 1.0 || i + 2 >= n_shapes;
    for (int route = 0; route < routes; ++route) {
      ft::set_gemm_direct_columns(s.a_layout == 1 ? route == 0 : direct_columns);
      ft::set_gemm_direct_set_rows(s.a_layout == 0 ? route == 0 : direct_set_rows);
      for (int priv = 0; priv < (s.m <= 320 ? 2 : 1); ++priv) {
        if (s.m <= 320 && !both && priv != (int)((i + route) % 2)) continue;
        ft::set_gemm_private_b_panels(s.m <= 320 ? priv == 1 : private_b);
        check_shape(s, rng, 4);
      }
    }
  }
  ft::set_gemm_direct_columns(direct_columns);
  ft::set_gemm_direct_set_rows(direct_set_rows);
  ft::set_gemm_private_b_panels(private_b);
  // Private and shared B panels give the same bits (each element sums the same k terms in the same order).
  for (const Shape& s : shapes) {
    if (s.m > 320) continue;
    std::normal_distribution<float> nd;
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c0(s.m * s.n), bias(s.n), gate(s.m * s.n), addend(s.m * s.n);
    for (auto* v : {&a, &b, &c0, &bias, &gate, &addend})
      for (float& x : *v) x = nd(rng);
    for (int mode = 0; mode < 2; ++mode) {
      if (mode == 1 && !ft::gemm_bf16_supported()) continue;
      ft::set_gemm_compute(mode ? ft::GemmCompute::Bf16 : ft::GemmCompute::Fp32);
      for (int t = 1; t <= 2; ++t) {
        ft::set_num_threads(t);
        ft::set_gemm_private_b_panels(false);
        const std::vector<float> shared = run(s, a, b, c0, bias, gate, addend);
        ft::set_gemm_private_b_panels(true);
        expect(run(s, a, b, c0, bias, gate, addend) == shared, "private B panels differ from shared ones", s,
               "detected", mode, t);
      }
    }
  }
  ft::set_gemm_compute(ft::GemmCompute::Fp32);
  ft::set_gemm_private_b_panels(private_b);
  // A's row sums through a row split (linearFanoutBackward's dW and db: G blocks of dyᵀ, db [G, M]): block g's sums
  // land at g·M, equal to column_sums_add over each block, or are left alone where the GEMM does not take them.
  {
    const int64_t G = 3, M = sz(200), N = sz(1100), K = sz(130);
    std::normal_distribution<float> nd;
    std::vector<float> dy(G * N * M), x(N * K), dw(G * M * K), want(G * M, 0.5f), got(G * M, 0.5f);
    for (float& v : dy) v = nd(rng);
    for (float& v : x) v = nd(rng);
    for (int64_t g = 0; g < G; ++g) ft::column_sums_add(dy.data() + g * N * M, N, M, want.data() + g * M, true);
    const Shape s{G * M, K, N, 1, 0, true, false};
    for (int mode = 0; mode < 2; ++mode) {
      if (mode == 1 && !ft::gemm_bf16_supported()) continue;
      ft::set_gemm_compute(mode ? ft::GemmCompute::Bf16 : ft::GemmCompute::Fp32);
      for (int t = 1; t <= 4; t += 3) {
        ft::set_num_threads(t);
        std::vector<float> sums = got;
        const ft::Split rows{ft::Split::Rows, M, N * M};
        const bool took = ft::gemm(G * M, K, N, {dy.data(), 1, M}, {x.data(), K, 1}, dw.data(), K, false, nullptr, false,
                                   nullptr, &rows, 1.0f, nullptr, sums.data(), true);
        expect(sums == (took ? want : got), took ? "split A's row sums differ from column_sums_add" :
               "split A's row sums written though not taken", s, "detected", mode, t);
        if (mode == 1 && ft::gemm_bf16_uses_amx())
          expect(took, "AMX packed a split column-major A without its row sums", s, "detected", mode, t);
      }
    }
    ft::set_gemm_compute(ft::GemmCompute::Fp32);
  }
  // A gate scale without a gate, or one that is not finite and positive, is refused rather than ignored.
  {
    std::vector<float> a(6, 1.0f), b(6, 1.0f), c(4, 0.0f), g(4, 1.0f);
    const Shape s{2, 2, 3, 0, 0, false, false};
    auto refused = [&](const float* gate, float scale) {
      try {
        ft::gemm(2, 2, 3, {a.data(), 3, 1}, {b.data(), 2, 1}, c.data(), 2, false, nullptr, false, gate, nullptr, scale);
      } catch (const std::invalid_argument&) {
        return true;
      }
      return false;
    };
    expect(refused(nullptr, 2.0f), "a gate scale without a gate was accepted", s, "any", 0, 1);
    expect(refused(g.data(), 0.0f), "a zero gate scale was accepted", s, "any", 0, 1);
    expect(refused(g.data(), NAN), "a NaN gate scale was accepted", s, "any", 0, 1);
    expect(!refused(g.data(), 2.0f), "a gate with a scale was refused", s, "any", 0, 1);
    // The addend is C's new base: refused with accumulate (C's old values would be a second base) and with a
    // split (its offsets follow C's unsplit layout only).
    auto addend_refused = [&](bool accumulate, const ft::Split* split) {
      try {
        ft::gemm(2, 2, 3, {a.data(), 3, 1}, {b.data(), 2, 1}, c.data(), 2, accumulate, nullptr, false, nullptr, split, 1.0f,
                 g.data());
      } catch (const std::invalid_argument&) {
        return true;
      }
      return false;
    };
    const ft::Split cols{ft::Split::Cols, 1, 1};
    expect(addend_refused(true, nullptr), "an addend with accumulate was accepted", s, "any", 0, 1);
    expect(addend_refused(false, &cols), "an addend with a split was accepted", s, "any", 0, 1);
    expect(!addend_refused(false, nullptr), "an addend was refused", s, "any", 0, 1);
  }
  std::printf("gemm_test: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
