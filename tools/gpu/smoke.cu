// Every kernel family once at small shapes, on device memory that was written before it is read: the program
// scripts/gpu-check.sh runs under compute-sanitizer (memcheck, racecheck, synccheck, initcheck), where a
// PyTorch process would bring its own kernels' reports. Exit status 0 when every launch succeeded; the
// sanitizers' own exit status reports what they found. Also built through the emulation header by
// test/cuda/gpu-check.test.ts, so it is known to run before a GPU sees it.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../../kernels/cuda/launch.h"
#include "../../kernels/cuda/ops.h"

extern "C" {
int ftc_set_compute_mode(int mode);
int ftc_sync(void);
const char* ftc_error_string(int code);
}

namespace {

int failures = 0;
std::vector<void*> allocations;

// A device array of n floats in [lo, hi), uploaded (so initcheck sees it written).
float* device(size_t n, float lo = -1.0f, float hi = 1.0f) {
  static uint32_t seed = 12345;
  std::vector<float> h(n > 0 ? n : 1);
  for (float& x : h) {
    seed = seed * 1664525u + 1013904223u;
    x = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
  }
  void* p = nullptr;
  if (cudaMalloc(&p, h.size() * sizeof(float)) != cudaSuccess ||
      cudaMemcpy(p, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
    std::fprintf(stderr, "smoke: cudaMalloc/cudaMemcpy of %zu floats failed\n", n);
    std::exit(2);
  }
  allocations.push_back(p);
  return static_cast<float*>(p);
}

void step(const char* what) {
  const int e = ftc_sync();
  std::printf("%s %s%s%s\n", e == 0 ? "ok  " : "FAIL", what, e == 0 ? "" : ": ", e == 0 ? "" : ftc_error_string(e));
  if (e != 0) ++failures;
}

}  // namespace

int main() {
  const int64_t N = 37, K = 70, M = 45;
  float *x = device(N * K), *w = device(M * K), *b = device(M), *y = device(N * M), *dy = device(N * M);
  float *dx = device(N * K), *dw = device(M * K), *db = device(M);
  const char* names[] = {"linear forward/backward (fp32)", "linear forward/backward (bf16 tensor cores)",
                         "linear forward/backward (tf32 tensor cores)"};
  for (int mode = 0; mode < 3; ++mode) {
    if (ftc_set_compute_mode(mode) != 0) {
      std::printf("skip %s: no tensor cores\n", names[mode]);
      continue;
    }
    ftc::linear_forward(x, w, b, y, N, K, M);
    ftc::linear_backward(dy, x, w, dx, dw, db, N, K, M, false);
    ftc::linear_backward(dy, x, w, dx, nullptr, nullptr, N, K, M, true, x);  // the relu gate in dx's epilogue
    step(names[mode]);
  }
  // The 128×128 cp.async kernel over staged operands, which the size rule keeps for large products: forced.
  if (ftc_set_compute_mode(1) == 0) {
    ftc::gemm_tiles() = ftc::GemmTiles::Large;
    ftc::linear_forward(x, w, b, y, N, K, M);
    ftc::linear_backward(dy, x, w, dx, dw, db, N, K, M, false);
    ftc::linear_backward(dy, x, w, dx, nullptr, nullptr, N, K, M, true, x);
    ftc::gemm_tiles() = ftc::GemmTiles::Auto;
    step("linear forward/backward (bf16, 128x128 cp.async tiles)");
  }
  ftc_set_compute_mode(0);

  const int64_t R = 33, D = 40;
  float *nx = device(R * D), *sc = device(D, 0.5f, 1.5f), *ny = device(R * D), *rstd = device(R), *ndy = device(R * D);
  float *ndx = device(R * D), *dsc = device(D), *beta = device(D), *mean = device(R), *dbeta = device(D);
  ftc::rms_norm_forward(nx, sc, 1e-5f, ny, rstd, R, D);
  ftc::rms_norm_backward(ndy, nx, sc, rstd, ndx, dsc, R, D);
  ftc::layer_norm_forward(nx, sc, beta, 1e-5f, ny, mean, rstd, R, D);
  ftc::layer_norm_backward(ndy, nx, sc, mean, rstd, ndx, dsc, dbeta, R, D);
  step("rmsNorm and layerNorm forward/backward");

  ftc::gelu_forward(nx, ny, R * D);
  ftc::gelu_backward(ndy, nx, ndx, R * D);
  ftc::relu_forward(nx, ny, R * D);
  ftc::relu_backward(ndy, ny, ndx, R * D);
  ftc::accumulate(nx, ndx, 0.5f, R * D);
  step("gelu, relu, accumulate");

  const int64_t B = 2, S = 33, AD = 64, H = 2;
  float *q = device(B * S * AD), *k = device(B * S * AD), *v = device(B * S * AD), *out = device(B * S * AD);
  float *lse = device(B * H * S), *dout = device(B * S * AD), *dq = device(B * S * AD), *dk = device(B * S * AD);
  float *dv = device(B * S * AD);
  float* fs = device((size_t)ftc::attention_forward_scratch(B, S, AD, H));
  float* bs = device((size_t)ftc::attention_backward_scratch(B, S, AD, H));
  const ftc::DropKey drop{1, 2, 3, 4, 1u << 22, 1.0f / 0.75f, 1};  // p = 0.25: the dropout path too
  ftc::attention_forward(q, k, v, out, lse, fs, B, S, AD, H, drop);
  ftc::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, bs, B, S, AD, H, drop);
  step("rope attention forward/backward with dropout");
  {
    // d = 128 (the 1b model's heads): lane pairs, and the backward's shared memory above 48 KB (opted in).
    const int64_t AD2 = 256;
    const size_t n2 = (size_t)(B * S * AD2);
    float *q2 = device(n2), *k2 = device(n2), *v2 = device(n2), *o2 = device(n2), *l2 = device(B * H * S);
    float *do2 = device(n2), *dq2 = device(n2), *dk2 = device(n2), *dv2 = device(n2);
    float* fs2 = device((size_t)ftc::attention_forward_scratch(B, S, AD2, H));
    float* bs2 = device((size_t)ftc::attention_backward_scratch(B, S, AD2, H));
    ftc::attention_forward(q2, k2, v2, o2, l2, fs2, B, S, AD2, H, drop);
    ftc::attention_backward(do2, q2, k2, v2, o2, l2, dq2, dk2, dv2, bs2, B, S, AD2, H, drop);
    step("rope attention forward/backward at d = 128 with dropout");
    // The bf16 mode's tensor-core attention at d = 64 and d = 128 (its backward opts in to 57 KB).
    if (ftc_set_compute_mode(1) == 0) {
      ftc::attention_forward(q, k, v, out, lse, fs, B, S, AD, H, drop);
      ftc::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, bs, B, S, AD, H, drop);
      ftc::attention_forward(q2, k2, v2, o2, l2, fs2, B, S, AD2, H, drop);
      ftc::attention_backward(do2, q2, k2, v2, o2, l2, dq2, dk2, dv2, bs2, B, S, AD2, H, drop);
      step("rope attention forward/backward on tensor cores (bf16) at d = 64 and 128 with dropout");
      ftc_set_compute_mode(0);
    } else {
      std::printf("skip bf16 attention: no bf16 tensor cores\n");
    }
  }

  const int64_t HB = 64, G = 3;
  float *ho = device(HB * 2, -2.0f, 2.0f), *hr = device(HB, 40.0f, 200.0f), *hw = device(HB, 0.0f, 0.02f);
  float *grp = device(HB, 0.0f, 2.99f), *pred = device(HB), *ell = device(HB), *loss = device(1), *gs = device(G);
  float *gc = device(G), *hdo = device(HB * 2);
  // Group ids must be integers: floor them on the host copy.
  std::vector<float> g(HB);
  cudaMemcpy(g.data(), grp, HB * sizeof(float), cudaMemcpyDeviceToHost);
  for (float& e : g) e = (float)(int)e;
  cudaMemcpy(grp, g.data(), HB * sizeof(float), cudaMemcpyHostToDevice);
  ftc::hr_loss_forward(ho, hr, hw, grp, ftc::HrParams{0.5f, 1e-3f}, pred, ell, loss, gs, gc, HB, G);
  ftc::hr_loss_backward(ho, hr, hw, ftc::HrParams{0.5f, 1e-3f}, hdo, 1.0f, HB);
  step("hr loss forward/backward");

  const int64_t n = 100000;
  float *prm = device(n), *grd = device(n), *m1 = device(n, -0.1f, 0.1f), *m2 = device(n, 0.0f, 0.01f);
  ftc::AdamWParams ap;
  ap.lr = 1e-3f, ap.beta1 = 0.9f, ap.beta2 = 0.999f, ap.eps = 1e-8f, ap.weight_decay = 0.01f;
  ap.bias_correction1 = 0.1f, ap.bias_correction2 = 0.001f;
  ftc::adamw(prm, grd, m1, m2, n, ap, nullptr);
  double* acc = nullptr;
  cudaMalloc(reinterpret_cast<void**>(&acc), sizeof(double));
  cudaMemset(acc, 0, sizeof(double));
  ftc::sum_squares_add(grd, n, acc);
  allocations.push_back(acc);
  step("adamw and sum of squares");

  // The step's device clipping and the value checks of kernel-written tensors.
  float *nrm = device(1), *slot = device(2);
  ftc::store_norm(acc, nrm);
  ap.max_norm = 1.0f;
  ftc::adamw(prm, grd, m1, m2, n, ap, nrm);
  ftc::check_values(grd, n, ftc::CheckFinite, 0, slot);
  ftc::check_values(grp, HB, ftc::CheckGroupIds, G, slot);
  ftc::check_ids_counted(grp, HB, gc, G, slot);
  float* onehot = device(HB * G);
  ftc::one_hot(grp, onehot, HB, G);
  step("device norm, clipped adamw, device checks, one-hot targets");

  for (void* a : allocations) cudaFree(a);
  std::printf("smoke: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
