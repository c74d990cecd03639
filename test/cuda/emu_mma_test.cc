// The emulated tensor-core instructions alone, against fragments written out by hand from the PTX ISA's
// layout tables (so that an emulator layout error cannot cancel a kernel layout error), then the bf16
// tensor-core GEMM against a double-precision product of the bf16-rounded operands. Cases of emu_test:
//   mma      mma.sync m16n8k16 bf16 and m16n8k8 tf32 (with tf32 rounding and the ignored low bits), ldmatrix x4 (plain and .trans), cp.async (deferred to its wait group,
//            zero fill), a misaligned ldmatrix row failing the launch
//   gemm_tc  gemm in bf16 and tf32 modes: the three strided products of linear forward/backward at edge and exact
//            tile shapes, with bias and accumulation, under the race check (and every thread order at one shape)
//   gemm_tc_large, gemm_tc_large_tf32  the same for the 128×128 cp.async kernel over staged operands
//            (gemm_tc_large.cuh) in bf16 and tf32 modes, which must also equal the 64×64 kernel bit for bit
//   attn_tc    attention in bf16 mode (FlashAttention-2 on tensor cores): the forward against a double reference
//            of its bf16 operands, the gradients against the fp32 kernels, every padded head dim, with dropout,
//            race check and thread orders
#include <algorithm>
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

// One warp: lane l's registers a[4], b[2], c[4] come from in[l·10 ..], its d[4] go to out[l·4 ..]; Tf32 picks
// mma.sync m16n8k8 tf32 instead of m16n8k16 bf16 (same register counts).
template <bool Tf32>
__global__ void mma_probe(const uint32_t* in, float* out) {
  const int l = threadIdx.x;
  uint32_t a[4], b[2];
  float c[4], d[4];
  for (int i = 0; i < 4; ++i) a[i] = in[l * 10 + i];
  b[0] = in[l * 10 + 4];
  b[1] = in[l * 10 + 5];
  for (int i = 0; i < 4; ++i) std::memcpy(&c[i], &in[l * 10 + 6 + i], 4);
  if (Tf32) ftc::mma_tf32_1688(d, a, b, c);
  else ftc::mma_bf16_16816(d, a, b, c);
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

// One hand-placed probe: a single 1 in lane a_lane's register a_reg and in lane b_lane's b_reg, expected as a
// single 1 in lane d_lane's d_reg.
struct Probe {
  int a_lane, a_reg;
  uint32_t a_bits;
  int b_lane, b_reg;
  uint32_t b_bits;
  int d_lane, d_reg;
};

// Runs a probe through `kernel` (mma_probe<false> or <true>) with C(15,7) = 5 (lane 31, c3) besides, and checks
// that D holds the 1 where the layout table puts it, the 5 passed through, and zeros elsewhere.
void expect_probe(void (*kernel)(const uint32_t*, float*), const Probe& p, const std::string& instruction) {
  std::vector<uint32_t> in(320, 0);
  in[p.a_lane * 10 + p.a_reg] = p.a_bits;
  in[p.b_lane * 10 + 4 + p.b_reg] = p.b_bits;
  const float five = 5.0f;
  std::memcpy(&in[31 * 10 + 6 + 3], &five, 4);
  std::vector<float> out(128, -1.0f);
  FT_LAUNCH(kernel, 1, 32, 0, in.data(), out.data());
  bool ok = cudaGetLastError() == cudaSuccess;
  for (int l = 0; l < 32; ++l)
    for (int i = 0; i < 4; ++i) {
      const float want = (l == p.d_lane && i == p.d_reg) ? 1.0f : (l == 31 && i == 3) ? 5.0f : 0.0f;
      ok = ok && out[l * 4 + i] == want;
    }
  expect(ok, instruction + ": a 1 in lane " + std::to_string(p.a_lane) + " a" + std::to_string(p.a_reg) + " and lane " +
                 std::to_string(p.b_lane) + " b" + std::to_string(p.b_reg) + " lands in lane " + std::to_string(p.d_lane) +
                 " d" + std::to_string(p.d_reg) + " only (C passes through)");
}

void mma_cases() {
  // Hand-placed probes (g = lane/4, t = lane%4): each puts a single 1 in A and in B and expects a single 1 in D.
  //   A(2,10): lane 9 (g 2, t 1) a2 low half;   B(10,3): lane 13 (g 3, t 1) b1 low;  D(2,3): lane 9 d1
  //   A(13,7): lane 23 (g 5, t 3) a1 high half;  B(7,6): lane 27 (g 6, t 3) b0 high;  D(13,6): lane 23 d2
  //   A(0,15): lane 3 (g 0, t 3) a2 high half;   B(15,0): lane 3 b1 high;              D(0,0): lane 0 d0
  // plus C(15,7) = 5: lane 31 c3, which comes back unchanged in lane 31 d3.
  const uint32_t one_lo = 0x3f80u, one_hi = 0x3f80u << 16;  // bf16 1.0
  const Probe probes[] = {{9, 2, one_lo, 13, 1, one_lo, 9, 1}, {23, 1, one_hi, 27, 0, one_hi, 23, 2}, {3, 2, one_hi, 3, 1, one_hi, 0, 0}};
  for (const Probe& p : probes) expect_probe(mma_probe<false>, p, "mma.sync m16n8k16");

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
    FT_LAUNCH(mma_probe<false>, 1, 32, 0, in.data(), out.data());
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

  // mma.sync m16n8k8 tf32, hand-placed (a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4];
  // b0 = B[t][g], b1 = B[t+4][g]):
  //   A(2,5): lane 9 (g 2, t 1) a2;   B(5,3): lane 13 (g 3, t 1) b1;  D(2,3): lane 9 d1
  //   A(13,3): lane 23 (g 5, t 3) a1; B(3,6): lane 27 (g 6, t 3) b0;  D(13,6): lane 23 d2
  //   A(0,7): lane 3 (g 0, t 3) a2;   B(7,0): lane 3 b1;              D(0,0): lane 0 d0
  {
    const uint32_t one = 0x3f800000u;
    const Probe tf32_probes[] = {{9, 2, one, 13, 1, one, 9, 1}, {23, 1, one, 27, 0, one, 23, 2}, {3, 2, one, 3, 1, one, 0, 0}};
    for (const Probe& p : tf32_probes) expect_probe(mma_probe<true>, p, "mma.sync m16n8k8 tf32");
    // The tensor core reads 19 bits of each operand: 1 + 2^-10 counts, 1 + 2^-11 (a bit below tf32) does not.
    std::vector<uint32_t> in(320, 0);
    const float kept = 1.0f + 0x1p-10f, dropped = 1.0f + 0x1p-11f;
    std::memcpy(&in[0 * 10 + 0], &kept, 4);     // A(0,0)
    std::memcpy(&in[0 * 10 + 4], &dropped, 4);  // B(0,0)
    std::vector<float> out(128, -1.0f);
    FT_LAUNCH(mma_probe<true>, 1, 32, 0, in.data(), out.data());
    expect(cudaGetLastError() == cudaSuccess && out[0] == kept, "mma.sync m16n8k8 tf32: the low 13 bits of an operand are ignored");
  }

  // tf32 rounding (cvt.rna): to nearest, ties away from zero, NaN and infinity kept.
  expect(ftc::tf32_bits(1.0f) == 0x3f800000u && ftc::tf32_bits(1.0f + 0x1p-11f) == 0x3f802000u /* tie → away */ &&
             ftc::tf32_bits(-1.0f - 0x1p-11f) == 0xbf802000u && ftc::tf32_bits(1.0f + 0x1p-12f) == 0x3f800000u &&
             ftc::tf32_bits(INFINITY) == 0x7f800000u && std::isnan(ftc::tf32_round(std::nanf(""))),
         "tf32 rounding: nearest, ties away from zero, infinity and NaN kept");

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

// The double product of operands rounded as `round` does (bf16 or tf32) in the layout ftc::gemm takes.
std::vector<double> gemm_reference(int M, int N, int K, const std::vector<float>& A, long long sai, long long sak,
                                   const std::vector<float>& B, long long sbk, long long sbj, const std::vector<float>* bias,
                                   float (*round)(float)) {
  std::vector<double> C((size_t)M * N);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = bias ? (*bias)[j] : 0.0;
      for (int k = 0; k < K; ++k) s += (double)round(A[i * sai + k * sak]) * round(B[k * sbk + j * sbj]);
      C[(size_t)i * N + j] = s;
    }
  return C;
}

const ftemu::Order kOrders[] = {ftemu::Order::Forward, ftemu::Order::Reverse, ftemu::Order::Shuffle, ftemu::Order::Eager};

float tf32_round(float f) { return ftc::tf32_round(f); }

// The tensor-core GEMM in one mode (bf16: m16n8k16; tf32: m16n8k8, the same byte addresses), by one of its two
// kernels: Small, the 64×64 kernel over fp32 operands; Large, the 128×128 cp.async kernel over staged operands,
// which must also equal the 64×64 kernel bit for bit (the same mma steps per output, in the same order).
void gemm_tc_cases(ftc::ComputeMode mode, ftc::GemmTiles tiles) {
  ftc::compute_mode() = mode;
  const bool tf32 = mode == ftc::ComputeMode::Tf32, large = tiles == ftc::GemmTiles::Large;
  float (*round)(float) = tf32 ? tf32_round : bf16_round;
  struct Shape {
    int M, N, K;
  };
  // Edges of every tile dimension (64×64×32), exact tiles, a single element, a K that is not a multiple of 16.
  const std::vector<Shape> small_shapes = {{70, 45, 29}, {64, 64, 32}, {1, 1, 1}, {130, 67, 100}, {33, 128, 72}};
  // For 128×128 tiles: edges in M and N with a K padded to whole k-tiles, more k-tiles than pipeline stages
  // (a stage refilled while others are read); exact tiles over three k-tiles; a single element; three row
  // blocks; three column blocks over one k-tile.
  // The tf32 instance (the same code with another Op, and twice the k-tiles per K) skips the three row blocks.
  std::vector<Shape> large_shapes = {{100, 130, 104}, {128, 128, 96}, {1, 1, 1}, {257, 129, 40}, {64, 300, 8}};
  if (tf32) large_shapes.erase(large_shapes.begin() + 3);
  const std::vector<Shape>& shapes = large ? large_shapes : small_shapes;
  const std::string kernel = large ? "128x128 cp.async" : "64x64";
  int case_no = 0;
  for (size_t si = 0; si < shapes.size(); ++si) {
    const Shape& s = shapes[si];
    // The residual's layout on the first two shapes only (the same epilogue code; the emulator's time is dear).
    for (int layout = 0; layout < (si < 2 ? 5 : 4); ++layout) {
      // 0: y = x·Wᵀ (+bias): A [M,K] rows, B = W [N,K]; 1: dx += dy·W: A [M,K], B [K,N] rows;
      // 2: dW += dyᵀ·x: A = dy [K,M] (column access), B = x [K,N] rows;
      // 3: dx = gate > 0 ? dy·W : 0, the relu backward fused into the epilogue (gate: values of both signs,
      //    exact zeros and a NaN, all of which close the gate; C starts as NaN, never read);
      // 4: y = residual + x·Wᵀ + b, linear's residual in the epilogue (C starts as NaN, never read).
      const int M = s.M, N = s.N, K = s.K;
      long long sai, sak, sbk, sbj;
      if (layout == 0 || layout == 4) sai = K, sak = 1, sbk = 1, sbj = K;
      else if (layout == 1 || layout == 3) sai = K, sak = 1, sbk = N, sbj = 1;
      else sai = 1, sak = M, sbk = N, sbj = 1;
      const auto A = random_vec((size_t)M * K, 100 + case_no, -1.5f, 1.5f), B = random_vec((size_t)K * N, 200 + case_no, -1.5f, 1.5f);
      const auto bias = random_vec((size_t)N, 300 + case_no, -1.0f, 1.0f);
      auto init = random_vec((size_t)M * N, 400 + case_no, -1.0f, 1.0f);
      const bool with_bias = layout == 0 || layout == 4, accumulate = layout == 1 || layout == 2, gated = layout == 3;
      const bool residual = layout == 4;
      const auto resid = random_vec((size_t)M * N, 600 + case_no, -2.0f, 2.0f);
      auto gate = random_vec((size_t)M * N, 500 + case_no, -1.0f, 1.0f);
      for (size_t e = 0; e < gate.size(); e += 7) gate[e] = 0.0f;
      gate[gate.size() / 2] = std::nanf("");
      if (gated || residual) std::fill(init.begin(), init.end(), std::nanf(""));
      const auto want = gemm_reference(M, N, K, A, sai, sak, B, sbk, sbj, with_bias ? &bias : nullptr, round);
      double scale = 0;
      for (int i = 0; i < M; ++i)
        for (int k = 0; k < K; ++k) scale = std::fmax(scale, std::fabs(A[i * sai + k * sak]));
      const double tol = 1e-6 * K * scale * 1.5 + 1e-6;
      std::vector<float> first;
      bool same = true, close = true;
      double worst = 0;
      // Every thread order at the edge shape; the forward order (with the race check) elsewhere, for time. The
      // 128×128 kernel's tf32 instance, the same code with another Op, in the forward order only (the emulator
      // runs it at about a fifth of a second per block and k-tile).
      const int orders = case_no < 3 && !(large && tf32) ? 4 : 1;
      for (int o = 0; o < orders; ++o) {
        ftemu::config().order = kOrders[o];
        ftemu::config().seed = 11 + o;
        ftemu::config().race_check = o == 0;
        // Device allocations, so that the race check's shadow map covers them.
        float *dA = dev(A), *dB = dev(B), *dbias = dev(bias), *dC = dev(init), *dgate = dev(gate), *dres = dev(resid);
        ftc::gemm_tiles() = tiles;
        ftc::gemm(M, N, K, dA, sai, sak, dB, sbk, sbj, dC, N, accumulate, with_bias ? dbias : nullptr, false,
                  gated ? dgate : nullptr, 1.0f, residual ? dres : nullptr);
        ftc::gemm_tiles() = ftc::GemmTiles::Auto;
        close = close && cudaGetLastError() == cudaSuccess;
        std::vector<float> C(init.size());
        cudaMemcpy(C.data(), dC, C.size() * sizeof(float), cudaMemcpyDeviceToHost);
        for (float* p : {dA, dB, dbias, dC, dgate, dres}) cudaFree(p);
        for (size_t e = 0; e < C.size(); ++e) {
          // A closed gate must give an exact 0 (not a product, not C's NaN); an open one, the product.
          const double base = accumulate ? init[e] : residual ? resid[e] : 0.0;
          const double d = gated && !(gate[e] > 0.0f) ? (C[e] == 0.0f ? 0.0 : INFINITY) : std::fabs(C[e] - (want[e] + base));
          worst = std::isnan(d) ? INFINITY : std::fmax(worst, d);
          close = close && d <= tol;
        }
        if (o == 0) first = C;
        else same = same && C == first;
      }
      ftemu::config().order = ftemu::Order::Forward;
      ftemu::config().race_check = false;
      bool as_small = true;
      if (large) {
        float *dA = dev(A), *dB = dev(B), *dbias = dev(bias), *dC = dev(init), *dgate = dev(gate), *dres = dev(resid);
        ftc::gemm_tiles() = ftc::GemmTiles::Small;
        ftc::gemm(M, N, K, dA, sai, sak, dB, sbk, sbj, dC, N, accumulate, with_bias ? dbias : nullptr, false,
                  gated ? dgate : nullptr, 1.0f, residual ? dres : nullptr);
        ftc::gemm_tiles() = ftc::GemmTiles::Auto;
        std::vector<float> C(init.size());
        cudaMemcpy(C.data(), dC, C.size() * sizeof(float), cudaMemcpyDeviceToHost);
        for (float* p : {dA, dB, dbias, dC, dgate, dres}) cudaFree(p);
        as_small = C == first;
      }
      const char* names[] = {"x·Wᵀ+b", "dx+=dy·W", "dW+=dyᵀ·x", "dx=gate>0?dy·W:0", "y=r+x·Wᵀ+b"};
      expect(close && same && as_small,
             std::string(tf32 ? "tf32" : "bf16") + " tensor-core gemm (" + kernel + ") " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + " " +
                 names[layout] + ": within " + std::to_string(tol) + " of the product of the rounded operands (worst " + std::to_string(worst) + ")" +
                 (orders > 1 ? ", identical under every thread order" : "") + (large ? ", bit-identical to the 64x64 kernel" : "") + ", race check clean");
      ++case_no;
    }
  }
  ftc::compute_mode() = ftc::ComputeMode::Fp32;
}

// The attention forward in double from the operands the tensor-core kernel multiplies: rotated q and k and v
// rounded to bf16 (P is not rounded here: its rounding is the kernel's only other difference, bounded below).
void attention_reference(int B, int S, int D, int H, const std::vector<float>& q, const std::vector<float>& k,
                         const std::vector<float>& v, const ftc::DropKey& drop, std::vector<double>& out,
                         std::vector<double>& lse) {
  const int d = D / H;
  auto rot = [&](const std::vector<float>& x, int b, int i, int h) {
    std::vector<float> r(d);
    for (int c = 0; c < d; c += 2) {
      const float x0 = x[((size_t)b * S + i) * D + h * d + c], x1 = x[((size_t)b * S + i) * D + h * d + c + 1];
      if (c / 2 < d / 4) {
        const double ang = (double)i * std::pow(10000.0, -2.0 * (double)(c / 2) / (double)(d / 2));
        const float cs = (float)std::cos(ang), sn = (float)std::sin(ang);
        r[c] = bf16_round(x0 * cs - x1 * sn);
        r[c + 1] = bf16_round(x1 * cs + x0 * sn);
      } else {
        r[c] = bf16_round(x0);
        r[c + 1] = bf16_round(x1);
      }
    }
    return r;
  };
  out.assign((size_t)B * S * D, 0.0);
  lse.assign((size_t)B * H * S, 0.0);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < S; ++i) {
        const auto qi = rot(q, b, i, h);
        std::vector<double> s(i + 1);
        double m = -INFINITY;
        for (int j = 0; j <= i; ++j) {
          const auto kj = rot(k, b, j, h);
          double dot = 0;
          for (int c = 0; c < d; ++c) dot += (double)qi[c] * kj[c];
          s[j] = dot / std::sqrt((double)d);
          m = std::fmax(m, s[j]);
        }
        double l = 0;
        for (int j = 0; j <= i; ++j) l += std::exp(s[j] - m);
        const uint64_t row = (((uint64_t)b * H + h) * S + i) * (uint64_t)S;
        for (int j = 0; j <= i; ++j) {
          const double p = std::exp(s[j] - m) / l * ftc::drop_factor(drop, row + j);
          for (int c = 0; c < d; ++c) out[((size_t)b * S + i) * D + h * d + c] += p * bf16_round(v[((size_t)b * S + j) * D + h * d + c]);
        }
        lse[((size_t)b * H + h) * S + i] = m + std::log(l);
      }
}

double max_abs(const std::vector<float>& x) {
  double m = 1e-30;
  for (float e : x) m = std::fmax(m, std::fabs((double)e));
  return m;
}

// The largest |got − want|, infinite when either holds a NaN (fmax alone would skip a NaN and pass it).
double max_abs_diff(const std::vector<float>& got, const std::vector<float>& want) {
  double m = 0;
  for (size_t e = 0; e < want.size(); ++e) {
    const double d = std::fabs((double)got[e] - want[e]);
    if (std::isnan(d)) return INFINITY;
    m = std::fmax(m, d);
  }
  return m;
}

struct AttnRun {
  std::vector<float> out, lse, dq, dk, dv;
};

// Forward and backward on device memory (so that the race check covers them) in the current compute mode.
AttnRun attention_run(int B, int S, int D, int H, const std::vector<float>& q, const std::vector<float>& k,
                      const std::vector<float>& v, const std::vector<float>& dout, const ftc::DropKey& key, bool* ok) {
  const size_t n = (size_t)B * S * D, nl = (size_t)B * H * S;
  float *dq_in = dev(q), *dk_in = dev(k), *dv_in = dev(v), *ddout = dev(dout);
  float *dout_ = dev(std::vector<float>(n, NAN)), *dlse = dev(std::vector<float>(nl, NAN));
  // Overwriting gradients: NaN must never be read.
  float *gq = dev(std::vector<float>(n, NAN)), *gk = dev(std::vector<float>(n, NAN)), *gv = dev(std::vector<float>(n, NAN));
  float* scratch = dev(std::vector<float>((size_t)ftc::attention_backward_scratch(B, S, D, H)));
  ftc::attention_forward(dq_in, dk_in, dv_in, dout_, dlse, scratch, B, S, D, H, key);
  *ok = *ok && cudaGetLastError() == cudaSuccess;
  ftc::attention_backward(ddout, dq_in, dk_in, dv_in, dout_, dlse, gq, gk, gv, scratch, B, S, D, H, key, true);
  *ok = *ok && cudaGetLastError() == cudaSuccess;
  AttnRun r{std::vector<float>(n), std::vector<float>(nl), std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)};
  cudaMemcpy(r.out.data(), dout_, n * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(r.lse.data(), dlse, nl * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(r.dq.data(), gq, n * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(r.dk.data(), gk, n * sizeof(float), cudaMemcpyDeviceToHost);
  cudaMemcpy(r.dv.data(), gv, n * sizeof(float), cudaMemcpyDeviceToHost);
  for (float* p : {dq_in, dk_in, dv_in, ddout, dout_, dlse, gq, gk, gv, scratch}) cudaFree(p);
  return r;
}

// The bf16 mode's attention (FlashAttention-2 on tensor cores, attention_tc.cuh) at every padded head dim (16,
// 48, 64, 96, 128), S = 1, S across several row blocks and key tiles, with and without dropout, under the
// race check, and bit-identical under every thread order at one shape (dq to 1e-4: its atomics). The forward
// against a double reference of its bf16 operands; the gradients, whose bf16 operands (dO, P, dS) have no
// simple reference, against the fp32 kernels within 3% of the largest gradient value: bf16 rounding errs by
// about 0.5% of it here, a fragment placed wrongly by O(100%).
void attn_tc_cases() {
  struct Shape {
    int B, S, D, H;
    double p;
  };
  const Shape shapes[] = {{1, 37, 256, 2, 0.1}, {1, 1, 12, 3, 0.0}, {2, 70, 128, 2, 0.0}, {1, 33, 136, 2, 0.2},
                          {2, 9, 96, 1, 0.0},   {1, 130, 40, 1, 0.1}, {1, 67, 64, 2, 0.0}, {1, 90, 32, 1, 0.0}};
  int case_no = 0;
  for (const Shape& sh : shapes) {
    const int B = sh.B, S = sh.S, D = sh.D, H = sh.H;
    const size_t n = (size_t)B * S * D;
    const auto q = random_vec(n, 500 + case_no, -2.0f, 2.0f), k = random_vec(n, 600 + case_no, -2.0f, 2.0f);
    const auto v = random_vec(n, 700 + case_no, -1.0f, 1.0f), dout = random_vec(n, 800 + case_no, -1.0f, 1.0f);
    const ftc::DropKey key = ftc::make_drop_key(sh.p, 3, 4, 5);
    std::vector<double> want_out, want_lse;
    attention_reference(B, S, D, H, q, k, v, key, want_out, want_lse);
    bool ok = true, same = true;
    ftc::compute_mode() = ftc::ComputeMode::Fp32;
    const AttnRun fp32 = attention_run(B, S, D, H, q, k, v, dout, key, &ok);
    ftc::compute_mode() = ftc::ComputeMode::Bf16;
    double worst_out = 0, worst_lse = 0, worst_grad = 0;
    std::vector<float> first;
    const int orders = case_no == 0 ? 4 : 1;
    for (int o = 0; o < orders; ++o) {
      ftemu::config().order = kOrders[o];
      ftemu::config().seed = 21 + o;
      ftemu::config().race_check = o == 0;
      AttnRun r = attention_run(B, S, D, H, q, k, v, dout, key, &ok);
      // P is rounded to bf16 (relative 2^-9) before P·V: the output errs by at most 2^-9·max|v| from that,
      // plus a bf16 step where float and double RoPE round an operand differently; 4·2^-9 leaves margin while
      // a fragment placed wrongly (an O(1) error) fails. lse comes from fp32 scores of exact bf16 products.
      for (size_t e = 0; e < n; ++e) {
        const double err = std::fabs(r.out[e] - want_out[e]);
        worst_out = std::fmax(worst_out, err);
        ok = ok && err <= 4.0 / 512.0 * (1.0 + (sh.p > 0 ? 1.0 / (1.0 - sh.p) : 0.0));
      }
      for (size_t e = 0; e < r.lse.size(); ++e) {
        const double err = std::fabs(r.lse[e] - want_lse[e]);
        worst_lse = std::fmax(worst_lse, err);
        ok = ok && err <= 1e-4 * (1.0 + std::fabs(want_lse[e]));
      }
      // Relative to the largest gradient of the three: at S = 1 the fp32 dq and dk are exactly 0 (P = 1, so
      // dS = dP − D = 0), while bf16 dO in dP against fp32 dO in D leaves a bf16-sized remainder.
      const double gscale = std::fmax(std::fmax(max_abs(fp32.dq), max_abs(fp32.dk)), max_abs(fp32.dv));
      for (auto [got, want] : {std::pair{&r.dq, &fp32.dq}, std::pair{&r.dk, &fp32.dk}, std::pair{&r.dv, &fp32.dv}}) {
        const double err = max_abs_diff(*got, *want) / gscale;
        worst_grad = std::fmax(worst_grad, err);
        ok = ok && err <= 0.03;
      }
      std::vector<float> all = r.out;
      for (const auto* part : {&r.lse, &r.dk, &r.dv}) all.insert(all.end(), part->begin(), part->end());
      for (float x : r.dq) all.push_back(std::round(x * 1e4f) / 1e4f);
      if (o == 0) first = all;
      else same = same && all == first;
    }
    ftemu::config().order = ftemu::Order::Forward;
    ftemu::config().race_check = false;
    expect(ok && same, "bf16 tensor-core attention B=" + std::to_string(B) + " S=" + std::to_string(S) + " D=" +
                           std::to_string(D) + " H=" + std::to_string(H) + (sh.p > 0 ? " dropout" : "") +
                           ": out within the bf16-P bound (worst " + std::to_string(worst_out) + "), lse within 1e-4 (worst " +
                           std::to_string(worst_lse) + "), dq/dk/dv within 3% of the fp32 kernels (worst " +
                           std::to_string(worst_grad) + ")" + (orders > 1 ? ", identical under every thread order" : "") +
                           ", race check clean");
    ++case_no;
  }
  ftc::compute_mode() = ftc::ComputeMode::Fp32;
}

}  // namespace

void mma_tests(const std::string& which) {
  if (which == "mma" || which == "all") mma_cases();
  if (which == "gemm_tc" || which == "all") {
    gemm_tc_cases(ftc::ComputeMode::Bf16, ftc::GemmTiles::Small);
    gemm_tc_cases(ftc::ComputeMode::Tf32, ftc::GemmTiles::Small);
  }
  if (which == "gemm_tc_large" || which == "all") gemm_tc_cases(ftc::ComputeMode::Bf16, ftc::GemmTiles::Large);
  if (which == "gemm_tc_large_tf32" || which == "all") gemm_tc_cases(ftc::ComputeMode::Tf32, ftc::GemmTiles::Large);
  if (which == "attn_tc" || which == "all") attn_tc_cases();
}
