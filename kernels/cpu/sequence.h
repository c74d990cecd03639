// Ops that move whole token rows: the learned start token in front of the patch embeddings, and the mean
// over tokens (the pooled embedding).
#pragma once
#include <cstdint>

namespace ft {

// h[B, T+1, D]: h[b, 0] = token, h[b, 1 + t] = e[b, t].
void start_token_forward(const float* e, const float* token, float* h, int64_t B, int64_t T, int64_t D);
// de[b, t] += dh[b, 1 + t] (de may be null); dtoken += Σ_b dh[b, 0] (dtoken may be null).
void start_token_backward(const float* dh, float* de, float* dtoken, int64_t B, int64_t T, int64_t D);

// z[b, d] = mean_s h[b, s, d].
void mean_pool_forward(const float* h, float* z, int64_t B, int64_t S, int64_t D);
// dh[b, s, d] += dz[b, d] / S.
void mean_pool_backward(const float* dz, float* dh, int64_t B, int64_t S, int64_t D);

}  // namespace ft
