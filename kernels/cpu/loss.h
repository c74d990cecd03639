// Losses (DESIGN.md section 3), computed in double: the fused HR loss (weighted L1 on the median
// prediction + λ·logit-Laplace NLL), the next-patch logit-Laplace NLL of pretraining, and BCE with logits
// for the adversary. Group ids must already be validated integers in [0, G).
#pragma once
#include <cstdint>

namespace ft {

struct HrLossParams {
  double lambda;
  double eps;
};

// out[B, 2] = (μ, log b). Writes pred[B], sample_loss[B], loss[0] = Σ w·ℓ / Σ w, group_loss_sum[G],
// group_count[G] (overwritten).
void hr_loss_forward(const float* out, const float* hr, const float* w, const float* group, HrLossParams prm,
                     float* pred, float* sample_loss, float* loss, float* group_loss_sum, float* group_count,
                     int64_t B, int64_t G);
// dout += scale·∂(Σ w·ℓ / Σ w)/∂out.
void hr_loss_backward(const float* out, const float* hr, const float* w, HrLossParams prm, float* dout, double scale,
                      int64_t B);

// params[B, S, 2P], x[B, T·P], T ≤ S − 1: token t predicts patch t. loss[0] = mean NLL over B·T·P.
void next_patch_nll_forward(const float* params, const float* x, double eps, float* loss, int64_t B, int64_t S,
                            int64_t T, int64_t P);
// dparams += scale·∂loss/∂params (tokens t ≥ T get nothing).
void next_patch_nll_backward(const float* params, const float* x, double eps, float* dparams, double scale, int64_t B,
                             int64_t S, int64_t T, int64_t P);

// loss[0] = mean over n of BCE(sigmoid(z), y).
void bce_with_logits_forward(const float* logits, const float* targets, float* loss, int64_t n);
// dlogits += scale·(sigmoid(z) − y)/n.
void bce_with_logits_backward(const float* logits, const float* targets, float* dlogits, double scale, int64_t n);

// loss[0] = mean over N rows of −Σ_c t_c·log softmax(z)_c (targets are distributions, one-hot for labels).
void softmax_ce_forward(const float* logits, const float* targets, float* loss, int64_t N, int64_t C);
// dlogits += scale/N·((Σ_c t_c)·softmax(z) − t).
void softmax_ce_backward(const float* logits, const float* targets, float* dlogits, double scale, int64_t N, int64_t C);

}  // namespace ft
