// Optimiser and fairness-update kernels: fused AdamW, the online GroupDRO update, and Σ x² for gradient
// clipping (double accumulation, deterministic block order).
#pragma once
#include <cstdint>

namespace ft {

struct AdamWParams {
  float lr, beta1, beta2, eps, weight_decay;
  // The gradient is read as grad_scale·grad (clipping without a rescaling pass).
  float grad_scale = 1.0f;
  // 1 − beta^step, computed in double by the caller.
  double bias_correction1, bias_correction2;
};

// PyTorch AdamW: p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
// p ← p − (lr / bc1)·m / (sqrt(v) / sqrt(bc2) + eps).
void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWParams& prm);

// For groups with count > 0: q_g ← q_g·exp(η·sum_g / count_g); q renormalised to sum 1; then
// w_i = q_{g_i} / count_{g_i}. Group ids validated integers in [0, G) whose groups have count > 0.
// The FairTune paper's reweighting: gw_g = 1 + η·L_g/Σ_present L for present groups (absent ones keep
// theirs), then w_i = gw[g_i] / Σ_j gw[g_j].
void group_loss_reweight(const float* group_loss_sum, const float* group_count, double eta, const float* group,
                         float* gw, float* w, int64_t G, int64_t B);

void group_dro_update(float* q, const float* group_loss_sum, const float* group_count, double eta,
                      const float* group, float* w, int64_t G, int64_t B);

// Σ x[i]² in double.
double sum_squares(const float* x, int64_t n);

// Whether the AVX-512 sum of squares and AdamW prefetch their streams in software (same bits either way): on by
// default where the CPU is not AMD (measured faster on Intel, not measured on AMD); the setter is for the
// harness (test/native/optim_test.cc), which runs both.
bool stream_prefetch();
void set_stream_prefetch(bool on);

}  // namespace ft
