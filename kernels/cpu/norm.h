// RMSNorm and LayerNorm over the last dimension of a row-major [N, D] tensor. Row statistics are
// accumulated in double (D can be S·D = 15872 in the HR head's LayerNorm). Backward adds into dx and the
// parameter gradients; parameter gradients are reduced over rows column-by-column, so they are
// deterministic and independent of the thread count.
#pragma once
#include <cstdint>

namespace ft {

// y = x·rstd·scale, rstd[n] = 1/sqrt(mean(x²) + eps).
void rms_norm_forward(const float* x, const float* scale, double eps, float* y, float* rstd, int64_t N, int64_t D);
// dx += rstd·(g − x·rstd²·mean(g·x)) with g = dy·scale; dscale += Σ_n dy·x·rstd (dscale may be null).
void rms_norm_backward(const float* dy, const float* x, const float* scale, const float* rstd, float* dx,
                       float* dscale, int64_t N, int64_t D);

// y = (x − mean)·rstd·gamma + beta.
void layer_norm_forward(const float* x, const float* gamma, const float* beta, double eps, float* y, float* mean,
                        float* rstd, int64_t N, int64_t C);
// dx += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma, x̂ = (x − mean)·rstd; dgamma += Σ dy·x̂; dbeta += Σ dy.
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C);

}  // namespace ft
