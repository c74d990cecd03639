// Harness of the optimiser's streaming kernels (kernels/cpu/optim.cc): the sum of squares behind the gradient
// norm and the fused AdamW update, each with and without the AVX-512 software-prefetch path (on by default
// where the CPU is not AMD). The prefetching loops restate the plain ones for one ISA, so they must give the
// same bits: checked bit for bit against the plain path on every ISA level the CPU has, at 1 and 2 threads, on
// lengths around the vector, piece and block edges and on misaligned starts; and both are checked against a
// plain double reference (AdamW: PyTorch's formula). Built and run by
// run-optim-test.sh, also under ASan + UBSan (reads and writes past the ends; the prefetches past them are
// hints and must not fault).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "isa.h"
#include "optim.h"
#include "parallel.h"

namespace {

int failures = 0, checks = 0;

void expect(bool ok, const char* what, int64_t n, int64_t offset, const char* isa, int threads) {
  ++checks;
  if (!ok && ++failures <= 20)
    std::printf("FAIL %s (n %lld, offset %lld, isa %s, threads %d, prefetch %d)\n", what, (long long)n,
                (long long)offset, isa, threads, (int)ft::stream_prefetch());
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  std::uniform_real_distribution<float> expo(-6.0f, 6.0f);
  // Around 32 (the sum's lanes), 64 (AdamW's prefetch pieces), 2^14 (AdamW's thread grain) and 2^16 (the sum's
  // blocks), and a length of several blocks with a ragged end.
  const int64_t lengths[] = {0, 1, 31, 32, 33, 63, 64, 65, 127, 1000, 16383, 16384 * 2 + 5, 65535, 65536, 65537, 300007};
  const ft::Isa levels[] = {ft::Isa::Avx512, ft::Isa::Avx2, ft::Isa::Scalar};
  const bool prefetch_default = ft::stream_prefetch();
  for (int64_t n : lengths) {
    for (int64_t offset : {0, 1, 3}) {
      // Values over 12 octaves, so a misordered sum shows in its last bits.
      std::vector<float> x((size_t)(n + offset));
      for (float& v : x) v = nd(rng) * std::exp2(expo(rng));
      double ref = 0;  // in order, in double: within 1e-12 of any lane order over these lengths
      for (int64_t i = 0; i < n; ++i) {
        ref += (double)x[offset + i] * (double)x[offset + i];
      }
      std::vector<float> p(x.size()), m(x.size()), v(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        p[i] = nd(rng);
        m[i] = nd(rng) * 0.1f;
        v[i] = std::fabs(nd(rng)) * 0.01f;
      }
      ft::AdamWParams prm{1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.5f, 1.0 - 0.9 * 0.9 * 0.9, 1.0 - 0.999 * 0.999 * 0.999};
      // PyTorch's AdamW in double (the kernel's constants, as adamw_update derives them), with each element's
      // tolerance from the magnitudes of the terms it sums: m's two terms nearly cancel where the gradient
      // opposes the old moment, and the kernel rounds each term to float (with or without an FMA).
      std::vector<double> p_ref(x.size()), m_ref(x.size()), v_ref(x.size()), p_tol(x.size()), m_tol(x.size()),
          v_tol(x.size());
      {
        const double decay = (float)(1.0 - (double)prm.lr * (double)prm.weight_decay);
        const double step_size = (float)((double)prm.lr / prm.bias_correction1);
        const double inv_sqrt_bc2 = (float)(1.0 / std::sqrt(prm.bias_correction2));
        const double b1 = prm.beta1, b2 = prm.beta2, c1 = 1.0f - prm.beta1, c2 = 1.0f - prm.beta2;
        for (size_t i = 0; i < x.size(); ++i) {
          p_ref[i] = p[i], m_ref[i] = m[i], v_ref[i] = v[i];
          if ((int64_t)i < offset || (int64_t)i >= offset + n) continue;  // outside: must stay as they were
          const double g = (double)(prm.grad_scale * x[i]);
          m_ref[i] = b1 * m[i] + c1 * g;
          v_ref[i] = b2 * v[i] + c2 * g * g;
          const double den = std::sqrt(v_ref[i]) * inv_sqrt_bc2 + prm.eps;
          p_ref[i] = p[i] * decay - step_size * m_ref[i] / den;
          m_tol[i] = 1e-6 * (std::fabs(b1 * m[i]) + std::fabs(c1 * g));
          v_tol[i] = 1e-6 * v_ref[i];
          p_tol[i] = 1e-6 * std::fabs(p[i] * decay) + step_size * (std::fabs(m_ref[i]) * 1e-6 + m_tol[i]) / den;
        }
      }
      for (ft::Isa isa : levels) {
        if (!ft::set_isa(isa)) continue;
        for (int threads = 1; threads <= 2; ++threads) {
          ft::set_num_threads(threads);
          double sums[2];
          std::vector<float> ps[2], ms[2], vs[2];
          for (int pf = 0; pf < 2; ++pf) {
            ft::set_stream_prefetch(pf == 1);
            sums[pf] = ft::sum_squares(x.data() + offset, n);
            ps[pf] = p, ms[pf] = m, vs[pf] = v;
            ft::adamw_update(ps[pf].data() + offset, x.data() + offset, ms[pf].data() + offset, vs[pf].data() + offset, n, prm);
            expect(std::fabs(sums[pf] - ref) <= 1e-12 * ref, "sum of squares far from the double reference", n, offset,
                   ft::isa_name(isa), threads);
            bool close = true;
            for (size_t i = 0; i < x.size(); ++i) {
              close = close && std::fabs(ps[pf][i] - p_ref[i]) <= p_tol[i] && std::fabs(ms[pf][i] - m_ref[i]) <= m_tol[i] &&
                      std::fabs(vs[pf][i] - v_ref[i]) <= v_tol[i];
            }
            expect(close, "AdamW far from the float reference (or wrote outside its range)", n, offset, ft::isa_name(isa),
                   threads);
          }
          expect(std::memcmp(&sums[0], &sums[1], sizeof(double)) == 0, "prefetching sum of squares differs in bits", n,
                 offset, ft::isa_name(isa), threads);
          expect(same_bits(ps[0], ps[1]) && same_bits(ms[0], ms[1]) && same_bits(vs[0], vs[1]),
                 "prefetching AdamW differs in bits", n, offset, ft::isa_name(isa), threads);
        }
      }
      ft::set_isa(ft::detected_isa());
    }
  }
  ft::set_stream_prefetch(prefetch_default);
  std::printf("optim_test: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
