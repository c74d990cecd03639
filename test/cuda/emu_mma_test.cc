// The emulated tensor-core instructions alone, against fragments written out by hand from the PTX ISA's
// layout tables (so that an emulator layout error cannot cancel a kernel layout error), then the bf16
// tensor-core GEMM against a double-precision product of the bf16-rounded operands. Cases of emu_test:
//   mma      mma.sync m16n8k16 bf16, ldmatrix x4 (plain and .trans), cp.async (deferred to its wait group,
//            zero fill), a misaligned ldmatrix row failing the launch
//   gemm_tc  gemm in bf16 mode: the three strided products of linear forward/backward at edge and exact
//            tile shapes, with bias and accumulation, under the race check (and every thread order at one shape)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../../kernels/cuda/launch.h"
#include "../../kernels/cuda/mma.cuh"
#include "../../kernels/cuda/ops.h"

void expect(bool ok, const std::string& what);
std::vector<float> random_vec(size_t n, uint32_t seed, float lo, float hi);
float* dev(const std::vector<float>& v);

namespace {

float bf16_round(float f) {
  const uint32_t u = ftc::bf16_bits(f) << 16;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

// One warp: lane l's registers a[4], b[2], c[4] come from in[l·10 ..], its d[4] go to out[l·4 ..].
__global__ void mma_probe(const uint32_t* in, float* out) {
  const int l = threadIdx.x;
  uint32_t a[4], b[2];
  float c[4], d[4];
  for (int i = 0; i < 4; ++i) a[i] = in[l * 10 + i];
  b[0] = in[l * 10 + 4];
  b[1] = in[l * 10 + 5];
  for (int i = 0; i < 4; ++i) std::memcpy(&c[i], &in[l * 10 + 6 + i], 4);
  ftc::mma_bf16_16816(d, a, b, c);
  for (int i = 0; i < 4; ++i) out[l * 4 + i] = d[i];
}

// One warp: four 8×8 b16 matrices in shared memory with row stride `stride` halves; element (j, r, c) = j·64
// + r·8 + c. Lane l passes row l%8 of matrix l/8 (offset by `skew` bytes to test alignment).
__global__ void ldmatrix_probe(uint32_t* out, int trans, int stride, int skew) {
  FT_DYNAMIC_SHARED(uint16_t, sm);
  const int l = threadIdx.x;
  for (int e = l; e < 4 * 8 * stride; e += 32) {
    const int j = e / (8 * stride), r = (e / stride) % 8, c = e % stride;
    sm[e] = (uint16_t)(c < 8 ? j * 64 + r * 8 + c : 0xdead);
  }
  __syncthreads();
  const unsigned char* row = reinterpret_cast<const unsigned char*>(sm + ((l / 8) * 8 + l % 8) * stride) + skew;
  uint32_t r[4];
  if (trans) ftc::ldmatrix_x4<true>(r, row);
  else ftc::ldmatrix_x4(r, row);
  for (int j = 0; j < 4; ++j) out[l * 4 + j] = r[j];
}

// One thread: what shared memory holds before and after each cp.async wait.
__global__ void cp_async_probe(const float* src, float* out) {
  FT_DYNAMIC_SHARED(float, sm);  // 12 floats, poisoned (0xFF bytes) at block start
  ftc::cp_async16(sm, src, 16);
  ftc::cp_async_commit();
  ftc::cp_async16(sm + 4, src + 4, 16);
  ftc::cp_async_commit();
  ftc::cp_async16(sm + 8, src + 8, 8);  // half from src, half zeros
  ftc::cp_async_commit();
  out[0] = sm[0];  // nothing has landed yet
  ftc::cp_async_wait<2>();
  out[1] = sm[0];  // group 0 landed
  out[2] = sm[4];  // group 1 still in flight
  ftc::cp_async_wait<0>();
  out[3] = sm[4];
  out[4] = sm[9];
  out[5] = sm[10];  // zero-filled
}

void mma_cases() {
  // Hand-placed probes (g = lane/4, t = lane%4): each puts a single 1 in A and in B and expects a single 1 in D.
  //   A(2,10): lane 9 (g 2, t 1) a2 low half;   B(10,3): lane 13 (g 3, t 1) b1 low;  D(2,3): lane 9 d1
  //   A(13,7): lane 23 (g 5, t 3) a1 high half;  B(7,6): lane 27 (g 6, t 3) b0 high;  D(13,6): lane 23 d2
  //   A(0,15): lane 3 (g 0, t 3) a2 high half;   B(15,0): lane 3 b1 high;              D(0,0): lane 0 d0
  // plus C(15,7) = 5: lane 31 c3, which comes back unchanged in lane 31 d3.
  const uint32_t one_lo = 0x3f80u, one_hi = 0x3f80u << 16;  // bf16 1.0
  struct Probe {
    int a_lane, a_reg;
    uint32_t a_bits;
    int b_lane, b_reg;
    uint32_t b_bits;
    int d_lane, d_reg;
  };
  const Probe probes[] = {{9, 2, one_lo, 13, 1, one_lo, 9, 1}, {23, 1, one_hi, 27, 0, one_hi, 23, 2}, {3, 2, one_hi, 3, 1, one_hi, 0, 0}};
  for (const Probe& p : probes) {
    std::vector<uint32_t> in(320, 0);
    in[p.a_lane * 10 + p.a_reg] = p.a_bits;
    in[p.b_lane * 10 + 4 + p.b_reg] = p.b_bits;
    const float five = 5.0f;
    std::memcpy(&in[31 * 10 + 6 + 3], &five, 4);
    std::vector<float> out(128, -1.0f);
    FT_LAUNCH(mma_probe, 1, 32, 0, in.data(), out.data());
    bool ok = cudaGetLastError() == cudaSuccess;
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) {
        const float want = (l == p.d_lane && i == p.d_reg) ? 1.0f : (l == 31 && i == 3) ? 5.0f : 0.0f;
        ok = ok && out[l * 4 + i] == want;
      }
    expect(ok, "mma.sync m16n8k16: a 1 in lane " + std::to_string(p.a_lane) + " a" + std::to_string(p.a_reg) + " and lane " +
                   std::to_string(p.b_lane) + " b" + std::to_string(p.b_reg) + " lands in lane " + std::to_string(p.d_lane) +
                   " d" + std::to_string(p.d_reg) + " only (C passes through)");
  }

  // A random product: fragments filled from A (16×16) and B (16×8) by the layout table, D against a double
  // product of the same bf16 values.
  {
    const auto av = random_vec(256, 31, -2.0f, 2.0f), bv = random_vec(128, 32, -2.0f, 2.0f), cv = random_vec(128, 33, -1.0f, 1.0f);
    auto Af = [&](int i, int k) { return av[i * 16 + k]; };
    auto Bf = [&](int k, int j) { return bv[k * 8 + j]; };
    auto Cf = [&](int i, int j) { return cv[i * 8 + j]; };
    std::vector<uint32_t> in(320);
    for (int l = 0; l < 32; ++l) {
      const int g = l / 4, t = l % 4;
      uint32_t* w = &in[l * 10];
      w[0] = ftc::pack_bf16x2(Af(g, 2 * t), Af(g, 2 * t + 1));
      w[1] = ftc::pack_bf16x2(Af(g + 8, 2 * t), Af(g + 8, 2 * t + 1));
      w[2] = ftc::pack_bf16x2(Af(g, 2 * t + 8), Af(g, 2 * t + 9));
      w[3] = ftc::pack_bf16x2(Af(g + 8, 2 * t + 8), Af(g + 8, 2 * t + 9));
      w[4] = ftc::pack_bf16x2(Bf(2 * t, g), Bf(2 * t + 1, g));
      w[5] = ftc::pack_bf16x2(Bf(2 * t + 8, g), Bf(2 * t + 9, g));
      const float c4[4] = {Cf(g, 2 * t), Cf(g, 2 * t + 1), Cf(g + 8, 2 * t), Cf(g + 8, 2 * t + 1)};
      std::memcpy(&w[6], c4, 16);
    }
    std::vector<float> out(128);
    FT_LAUNCH(mma_probe, 1, 32, 0, in.data(), out.data());
    double worst = 0;
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) {
        const int row = l / 4 + (i / 2) * 8, col = 2 * (l % 4) + i % 2;
        double s = Cf(row, col);
        for (int k = 0; k < 16; ++k) s += (double)bf16_round(Af(row, k)) * bf16_round(Bf(k, col));
        worst = std::fmax(worst, std::fabs(s - out[l * 4 + i]));
      }
    expect(cudaGetLastError() == cudaSuccess && worst < 1e-5, "mma.sync m16n8k16 random: D = A·B + C within fp32 rounding (worst " + std::to_string(worst) + ")");
  }

  // bf16 rounding: to nearest, ties to even, NaN kept.
  expect(ftc::bf16_bits(1.0f) == 0x3f80u && ftc::bf16_bits(1.00390625f) == 0x3f80u /* tie → even */ &&
             ftc::bf16_bits(1.01171875f) == 0x3f82u /* tie → even (up) */ && ftc::bf16_bits(1.0078125f + 1e-6f) == 0x3f81u &&
             ftc::bf16_bits(-2.0f) == 0xc000u && (ftc::bf16_bits(std::nanf("")) & 0x7fc0u) == 0x7fc0u,
         "bf16 rounding: nearest, ties to even, NaN stays NaN");

  // ldmatrix x4, hand-written: lane 13 (g 3, t 1) gets row 3, columns 2-3 of each matrix (plain), or column 3
  // of rows 2-3 (.trans). Element (j, r, c) = j·64 + r·8 + c.
  for (int trans = 0; trans < 2; ++trans) {
    std::vector<uint32_t> out(128, 0);
    FT_LAUNCH(ldmatrix_probe, 1, 32, 4 * 8 * 16 * sizeof(uint16_t), out.data(), trans, 16, 0);
    bool ok = cudaGetLastError() == cudaSuccess;
    const uint32_t lane13_m2 = trans ? (128u + 19u) | ((128u + 27u) << 16) : (128u + 26u) | ((128u + 27u) << 16);
    ok = ok && out[13 * 4 + 2] == lane13_m2;
    for (int l = 0; l < 32; ++l)
      for (int j = 0; j < 4; ++j) {
        const int g = l / 4, t = l % 4;
        const uint32_t lo = trans ? j * 64 + (2 * t) * 8 + g : j * 64 + g * 8 + 2 * t;
        const uint32_t hi = trans ? j * 64 + (2 * t + 1) * 8 + g : j * 64 + g * 8 + 2 * t + 1;
        ok = ok && out[l * 4 + j] == (lo | (hi << 16));
      }
    expect(ok, std::string("ldmatrix.x4") + (trans ? ".trans" : "") + ": every lane's four registers as the PTX table says (lane 13, matrix 2 by hand)");
  }
  {
    std::vector<uint32_t> out(128, 0);
    FT_LAUNCH(ldmatrix_probe, 1, 32, 4 * 8 * 16 * sizeof(uint16_t) + 16, out.data(), 0, 16, 8);
    const cudaError_t e = cudaGetLastError();
    expect(e == cudaErrorLaunchFailure && std::string(cudaGetErrorString(e)).find("16-byte aligned") != std::string::npos,
           "ldmatrix with a row address off 16-byte alignment fails the launch");
  }

  // cp.async: a copy lands at its wait, not before; src-size below 16 zero-fills.
  {
    std::vector<float> src(12);
    for (int i = 0; i < 12; ++i) src[i] = (float)(i + 1);
    std::vector<float> out(6, 0.0f);
    FT_LAUNCH(cp_async_probe, 1, 1, 12 * sizeof(float), src.data(), out.data());
    expect(cudaGetLastError() == cudaSuccess && std::isnan(out[0]) && out[1] == 1.0f && std::isnan(out[2]) && out[3] == 5.0f &&
               out[4] == 10.0f && out[5] == 0.0f,
           "cp.async: read before its wait is the old (poisoned) content; wait_group 2 lands only the oldest group; zero fill");
  }
}

// The double product of bf16-rounded operands in the layout ftc::gemm takes, for comparison.
std::vector<double> gemm_reference(int M, int N, int K, const std::vector<float>& A, long long sai, long long sak,
                                   const std::vector<float>& B, long long sbk, long long sbj, const std::vector<float>* bias) {
  std::vector<double> C((size_t)M * N);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = bias ? (*bias)[j] : 0.0;
      for (int k = 0; k < K; ++k) s += (double)bf16_round(A[i * sai + k * sak]) * bf16_round(B[k * sbk + j * sbj]);
      C[(size_t)i * N + j] = s;
    }
  return C;
}

const ftemu::Order kOrders[] = {ftemu::Order::Forward, ftemu::Order::Reverse, ftemu::Order::Shuffle, ftemu::Order::Eager};

void gemm_tc_cases() {
  ftc::compute_mode() = ftc::ComputeMode::Bf16;
  struct Shape {
    int M, N, K;
  };
  // Edges of every tile dimension (64×64×32), exact tiles, a single element, a K that is not a multiple of 16.
  const Shape shapes[] = {{70, 45, 29}, {64, 64, 32}, {1, 1, 1}, {130, 67, 100}, {33, 128, 72}};
  int case_no = 0;
  for (const Shape& s : shapes) {
    for (int layout = 0; layout < 3; ++layout) {
      // 0: y = x·Wᵀ (+bias): A [M,K] rows, B = W [N,K]; 1: dx += dy·W: A [M,K], B [K,N] rows;
      // 2: dW += dyᵀ·x: A = dy [K,M] (column access), B = x [K,N] rows.
      const int M = s.M, N = s.N, K = s.K;
      long long sai, sak, sbk, sbj;
      if (layout == 0) sai = K, sak = 1, sbk = 1, sbj = K;
      else if (layout == 1) sai = K, sak = 1, sbk = N, sbj = 1;
      else sai = 1, sak = M, sbk = N, sbj = 1;
      const auto A = random_vec((size_t)M * K, 100 + case_no, -1.5f, 1.5f), B = random_vec((size_t)K * N, 200 + case_no, -1.5f, 1.5f);
      const auto bias = random_vec((size_t)N, 300 + case_no, -1.0f, 1.0f);
      const auto init = random_vec((size_t)M * N, 400 + case_no, -1.0f, 1.0f);
      const bool with_bias = layout == 0, accumulate = layout != 0;
      const auto want = gemm_reference(M, N, K, A, sai, sak, B, sbk, sbj, with_bias ? &bias : nullptr);
      double scale = 0;
      for (int i = 0; i < M; ++i)
        for (int k = 0; k < K; ++k) scale = std::fmax(scale, std::fabs(A[i * sai + k * sak]));
      const double tol = 1e-6 * K * scale * 1.5 + 1e-6;
      std::vector<float> first;
      bool same = true, close = true;
      double worst = 0;
      // Every thread order at the edge shape; the forward order (with the race check) elsewhere, for time.
      const int orders = case_no < 3 ? 4 : 1;
      for (int o = 0; o < orders; ++o) {
        ftemu::config().order = kOrders[o];
        ftemu::config().seed = 11 + o;
        ftemu::config().race_check = o == 0;
        // Device allocations, so that the race check's shadow map covers them.
        float *dA = dev(A), *dB = dev(B), *dbias = dev(bias), *dC = dev(init);
        ftc::gemm(M, N, K, dA, sai, sak, dB, sbk, sbj, dC, N, accumulate, with_bias ? dbias : nullptr);
        close = close && cudaGetLastError() == cudaSuccess;
        std::vector<float> C(init.size());
        cudaMemcpy(C.data(), dC, C.size() * sizeof(float), cudaMemcpyDeviceToHost);
        for (float* p : {dA, dB, dbias, dC}) cudaFree(p);
        for (size_t e = 0; e < C.size(); ++e) {
          const double d = std::fabs(C[e] - (want[e] + (accumulate ? init[e] : 0.0)));
          worst = std::fmax(worst, d);
          close = close && d <= tol;
        }
        if (o == 0) first = C;
        else same = same && C == first;
      }
      ftemu::config().order = ftemu::Order::Forward;
      ftemu::config().race_check = false;
      const char* names[] = {"x·Wᵀ+b", "dx+=dy·W", "dW+=dyᵀ·x"};
      expect(close && same, "bf16 tensor-core gemm " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + " " +
                                names[layout] + ": within " + std::to_string(tol) + " of the bf16 product (worst " + std::to_string(worst) +
                                ")" + (orders > 1 ? ", identical under every thread order" : "") + ", race check clean");
      ++case_no;
    }
  }
  ftc::compute_mode() = ftc::ComputeMode::Fp32;
}

}  // namespace

void mma_tests(const std::string& which) {
  if (which == "mma" || which == "all") mma_cases();
  if (which == "gemm_tc" || which == "all") gemm_tc_cases();
}
