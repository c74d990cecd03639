// Host-side launchers of every CUDA kernel (one .cu file per op family). Pointers are device pointers;
// every launcher enqueues on the default stream and returns at once (the glue checks cudaGetLastError).
// Conventions as src/engine/backend.ts: forward launchers overwrite, backward launchers ADD into gradients.
#pragma once
#include <stdint.h>

#include "philox.cuh"

namespace ftc {

// gemm.cu: C[M,N] (= or +=) Σ_k A(i,k)·B(k,j) (+ bias[j]) with A(i,k) = A[i·sai + k·sak],
// B(k,j) = B[k·sbk + j·sbj], C row-major with leading dimension ldc; relu: C = C > 0 ? C : 0 at the end.
// gate (only with accumulate = false: otherwise nothing is launched and cudaErrorInvalidValue is left pending for
// the op's check; laid out as C, leading dimension ldc): C = gate > 0 ? C·gate_scale : 0 after that, the relu
// backward of the layer below, as the CPU GEMM fuses it (gate_scale: 1, or 1/(1 − p) when the gate is the output
// of a dropout after that relu; see linear_backward). addend (likewise only with accumulate = false; laid out
// as C): C = addend + C last, linear's residual as the CPU GEMM fuses it.
void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t sai, int64_t sak, const float* B, int64_t sbk,
          int64_t sbj, float* C, int64_t ldc, bool accumulate, const float* bias, bool relu = false,
          const float* gate = nullptr, float gate_scale = 1.0f, const float* addend = nullptr);
// Which tensor-core GEMM the bf16 and tf32 modes run (gemm.cu use_large_tiles): Auto chooses; Small is the
// 64×64 kernel over fp32 operands, Large the 128×128 cp.async kernel over operands staged to the mode's format.
// Process-wide like the compute mode; tests and the GPU check's benchmark force each.
enum class GemmTiles { Auto, Small, Large };
inline GemmTiles& gemm_tiles() {
  static GemmTiles t = GemmTiles::Auto;
  return t;
}
// db[M] (+)= Σ_n dy[n, m] (dy [N, M]).
void column_sums_add(const float* dy, int64_t N, int64_t M, float* db, bool accumulate = true);
// residual (may be null; laid out as y, not y's storage): y = residual + the product, in the epilogue.
void linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M,
                    bool relu = false, const float* residual = nullptr);
// overwrite_dx: dx = dy·w rather than dx += dy·w. relu_of (only with overwrite_dx; may be null): then
// dx = relu_of > 0 ? relu_scale·dy·w : 0, the relu backward of the layer below (relu_scale 1), or of a relu
// followed by a dropout whose output relu_of is (relu_scale = 1/(1 − p); linearBackward's reluScale).
void linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db, int64_t N,
                     int64_t K, int64_t M, bool overwrite_dx, const float* relu_of = nullptr,
                     bool overwrite_dw = false, float relu_scale = 1.0f);

// norm.cu
void rms_norm_forward(const float* x, const float* scale, float eps, float* y, float* rstd, int64_t N, int64_t D);
void rms_norm_backward(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                       float* dscale, int64_t N, int64_t D);
void layer_norm_forward(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,
                        float* rstd, int64_t N, int64_t C);
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C);

// elementwise.cu
void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* dy, const float* y, float* dx, int64_t n);
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_backward(const float* dy, const float* x, float* dx, int64_t n);
void dropout_forward(const float* x, float* y, int64_t n, const DropKey& key);
void dropout_backward(const float* dy, float* dx, int64_t n, const DropKey& key);
void add(const float* a, const float* b, float* y, int64_t n);
// y = a + dropout(b) (the add op with dropout: the residual after a dropped branch, one pass).
void add_dropout(const float* a, const float* b, float* y, int64_t n, const DropKey& key);
void accumulate(const float* src, float* dst, float alpha, int64_t n);
void scale(float* x, float s, int64_t n);
void one_hot(const float* ids, float* out, int64_t B, int64_t G);

// sequence.cu
void start_token_forward(const float* e, const float* token, float* h, int64_t B, int64_t T, int64_t D);
void start_token_backward(const float* dh, float* de, float* dtoken, int64_t B, int64_t T, int64_t D);
void mean_pool_forward(const float* h, float* z, int64_t B, int64_t S, int64_t D);
void mean_pool_backward(const float* dz, float* dh, int64_t B, int64_t S, int64_t D);

// attention.cu (head dim d = D/H, a multiple of 4, at most ATTN_MAX_HEAD_DIM).
constexpr int ATTN_MAX_HEAD_DIM = 128;
// scratch: attention_forward_scratch floats of device memory (the bf16 mode's staged q, k, v; the same size in
// every mode). The RoPE cos/sin table of each (S, d) is built on first use and kept for the process.
int64_t attention_forward_scratch(int64_t B, int64_t S, int64_t D, int64_t H);
void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, float* scratch,
                       int64_t B, int64_t S, int64_t D, int64_t H, const DropKey& drop);
// scratch: dQ in the rotated basis, then D = rowsum(dO∘O), then the bf16 staging; at least the forward's scratch, so
// one workspace serves both. Adds into dq, dk, dv, or writes them (overwrite: the old contents are never read).
int64_t attention_backward_scratch(int64_t B, int64_t S, int64_t D, int64_t H);
void attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, float* dq, float* dk, float* dv, float* scratch, int64_t B, int64_t S,
                        int64_t D, int64_t H, const DropKey& drop, bool overwrite = false);

// loss.cu
struct HrParams {
  float lambda, eps;
};
void hr_loss_forward(const float* out, const float* hr, const float* w, const float* group, HrParams p, float* pred,
                     float* sample_loss, float* loss, float* group_sum, float* group_count, int64_t B, int64_t G);
void hr_loss_backward(const float* out, const float* hr, const float* w, HrParams p, float* dout, float scale,
                      int64_t B);
void next_patch_nll_forward(const float* params, const float* x, float eps, float* loss, int64_t B, int64_t S,
                            int64_t T, int64_t P);
void next_patch_nll_backward(const float* params, const float* x, float eps, float* dparams, float scale, int64_t B,
                             int64_t S, int64_t T, int64_t P);
void bce_forward(const float* logits, const float* targets, float* loss, int64_t n);
void bce_backward(const float* logits, const float* targets, float* dlogits, float scale, int64_t n);
void softmax_ce_forward(const float* logits, const float* targets, float* loss, int64_t N, int64_t C);
void softmax_ce_backward(const float* logits, const float* targets, float* dlogits, float scale, int64_t N, int64_t C);

// optim.cu
struct AdamWParams {
  float lr, beta1, beta2, eps, weight_decay;
  float grad_scale = 1.0f;  // the gradient is read as grad_scale·grad
  float bias_correction1, bias_correction2;
  float max_norm = 0.0f;  // with a device norm: clip to it (0: no clipping); last, so older aggregates still fit
};
// norm: null, or a device float (globalNorm's output) to clip by on the device (see AdamWParams::max_norm).
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWParams& p, const float* norm);
// acc (one device double) += Σ x²; the caller zeroes acc once and reads it back once.
void sum_squares_add(const float* x, int64_t n, double* acc);
// out[0] = (float)sqrt(acc[0]), on the device.
void store_norm(const double* acc, float* out);
void group_loss_reweight(const float* group_sum, const float* group_count, float eta, const float* group, float* gw,
                         float* w, int64_t G, int64_t B);
void group_dro_update(float* q, const float* group_sum, const float* group_count, float eta, const float* group,
                      float* w, int64_t G, int64_t B);

// check.cu: value rules checked on the device (codes shared with src/engine/cuda/device-checks.ts). slot is two
// floats: [first failing index + 1 (0: passed), the value found there].
enum CheckRule { CheckFinite = 0, CheckUnit = 1, CheckNonNegative = 2, CheckWeights = 3, CheckCounts = 4, CheckGroupIds = 5 };
void check_values(const float* x, int64_t n, int rule, int64_t G, float* slot);
// Every valid id of ids[B] has a non-zero count in counts[G]; slot[1] is the id of the first that does not.
void check_ids_counted(const float* ids, int64_t B, const float* counts, int64_t G, float* slot);
}  // namespace ftc
