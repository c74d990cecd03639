// C entry points over the kernels' launchers (kernels/cuda/ops.h), for the GPU check's Python drivers
// (tools/gpu/*.py, through ctypes). A GPU machine lent for a check has no node, so PyTorch drives the kernels
// directly on its own device tensors and is the float64 oracle beside them. Built by scripts/gpu-check.sh
// with nvcc for the GPU, and by test/cuda/gpu-check.test.ts with g++ through the emulation header, where the
// "device" pointers are host memory (CPU tensors), so the drivers are tested here before a GPU runs them.
// Every function only launches; ftc_sync() waits and returns the first error (0 when none).
#include <stdint.h>

#include "../../kernels/cuda/launch.h"
#include "../../kernels/cuda/ops.h"

extern "C" {

// 0 = fp32, 1 = bf16, 2 = tf32 (both on tensor cores). Returns 0, -1 when the device has no tensor cores for
// the mode, -2 for an unknown mode.
int ftc_set_compute_mode(int mode) {
  if (mode < 0 || mode > 2) return -2;
  if (mode != 0 && !ftc::tensor_cores_available()) return -1;
  ftc::compute_mode() = mode == 1 ? ftc::ComputeMode::Bf16 : mode == 2 ? ftc::ComputeMode::Tf32 : ftc::ComputeMode::Fp32;
  return 0;
}

// Which tensor-core GEMM the bf16 and tf32 modes run: 0 = chosen by size, 1 = the 64×64 kernel over fp32
// operands, 2 = the 128×128 cp.async kernel over staged operands. Returns 0, -2 for an unknown choice.
int ftc_set_gemm_tiles(int tiles) {
  if (tiles < 0 || tiles > 2) return -2;
  ftc::gemm_tiles() = tiles == 1 ? ftc::GemmTiles::Small : tiles == 2 ? ftc::GemmTiles::Large : ftc::GemmTiles::Auto;
  return 0;
}

int ftc_sync(void) {
  cudaError_t e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e == cudaSuccess) e = ftc::take_pending_error();
  return (int)e;
}

const char* ftc_error_string(int code) { return cudaGetErrorString((cudaError_t)code); }

void ftc_linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  ftc::linear_forward(x, w, b, y, N, K, M);
}

// relu_of (may be null; needs overwrite_dx): dx = relu_of > 0 ? dy·w : 0, the gate fused into dx's epilogue.
void ftc_linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db, int64_t N,
                         int64_t K, int64_t M, int overwrite_dx, const float* relu_of) {
  ftc::linear_backward(dy, x, w, dx, dw, db, N, K, M, overwrite_dx != 0, relu_of);
}

void ftc_rms_norm_forward(const float* x, const float* scale, float eps, float* y, float* rstd, int64_t N, int64_t D) {
  ftc::rms_norm_forward(x, scale, eps, y, rstd, N, D);
}

void ftc_rms_norm_backward(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                           float* dscale, int64_t N, int64_t D) {
  ftc::rms_norm_backward(dy, x, scale, rstd, dx, dscale, N, D);
}

void ftc_layer_norm_forward(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,
                            float* rstd, int64_t N, int64_t C) {
  ftc::layer_norm_forward(x, gamma, beta, eps, y, mean, rstd, N, C);
}

void ftc_gelu_forward(const float* x, float* y, int64_t n) { ftc::gelu_forward(x, y, n); }
void ftc_gelu_backward(const float* dy, const float* x, float* dx, int64_t n) { ftc::gelu_backward(dy, x, dx, n); }

int64_t ftc_attention_forward_scratch(int64_t B, int64_t S, int64_t D, int64_t H) {
  return ftc::attention_forward_scratch(B, S, D, H);
}
int64_t ftc_attention_backward_scratch(int64_t B, int64_t S, int64_t D, int64_t H) {
  return ftc::attention_backward_scratch(B, S, D, H);
}

// Without attention dropout (the check compares against the exact softmax).
void ftc_attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, float* scratch,
                           int64_t B, int64_t S, int64_t D, int64_t H) {
  ftc::attention_forward(q, k, v, out, lse, scratch, B, S, D, H, ftc::DropKey{0, 0, 0, 0, 0, 1.0f, 0});
}

void ftc_attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                            const float* lse, float* dq, float* dk, float* dv, float* scratch, int64_t B, int64_t S,
                            int64_t D, int64_t H) {
  ftc::attention_backward(dout, q, k, v, out, lse, dq, dk, dv, scratch, B, S, D, H, ftc::DropKey{0, 0, 0, 0, 0, 1.0f, 0});
}

void ftc_hr_loss_forward(const float* out, const float* hr, const float* w, const float* group, float lambda, float eps,
                         float* pred, float* sample_loss, float* loss, float* group_sum, float* group_count, int64_t B,
                         int64_t G) {
  ftc::hr_loss_forward(out, hr, w, group, ftc::HrParams{lambda, eps}, pred, sample_loss, loss, group_sum, group_count, B, G);
}

void ftc_hr_loss_backward(const float* out, const float* hr, const float* w, float lambda, float eps, float* dout,
                          float scale, int64_t B) {
  ftc::hr_loss_backward(out, hr, w, ftc::HrParams{lambda, eps}, dout, scale, B);
}

void ftc_adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
               float eps, float weight_decay, float grad_scale, float bias_correction1, float bias_correction2) {
  const ftc::AdamWParams p{lr, beta1, beta2, eps, weight_decay, grad_scale, bias_correction1, bias_correction2};
  ftc::adamw(param, grad, m, v, n, p, nullptr);
}

void ftc_sum_squares_add(const float* x, int64_t n, double* acc) { ftc::sum_squares_add(x, n, acc); }

// The step's clipping on the device: the norm from the double accumulator, then AdamW reading it.
void ftc_store_norm(const double* acc, float* out) { ftc::store_norm(acc, out); }

void ftc_adamw_clipped(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                       float beta2, float eps, float weight_decay, float bias_correction1, float bias_correction2,
                       const float* norm, float max_norm) {
  const ftc::AdamWParams p{lr, beta1, beta2, eps, weight_decay, 1.0f, bias_correction1, bias_correction2, max_norm};
  ftc::adamw(param, grad, m, v, n, p, norm);
}

// The value checks of kernel-written tensors (kernels/cuda/check.cu).
void ftc_check_values(const float* x, int64_t n, int rule, int64_t G, float* slot) { ftc::check_values(x, n, rule, G, slot); }

}  // extern "C"
