// The fused RoPE causal attention kernel (FlashAttention-2 scheme) for the CPU backend.
// Layout: q, k, v, out [B, S, D] with H heads of d = D / H side by side in D; lse [B, H, S].
// RoPE: partial and interleaved (DESIGN.md section 3): of each head's d features the first r = d / 2 rotate in
// pairs (2j, 2j+1), j < r / 2, by angle pos * 10000^(-2j / r), pos = token index; the rest pass unchanged.
// Scores are scaled by 1/sqrt(d) and causal (key s' <= query s). lse is the natural-log logsumexp of each
// query row's scaled scores (before dropout). With dropout, probabilities are masked by
// ft::dropout_keep(key, threshold, ((b*H + h)*S + i)*S + j) and scaled by 1/(1 - p).
// The backward ADDS into dq, dk, dv (engine convention) and recomputes probabilities from lse. It reads out
// only for S > 320, for D_i = rowsum(dO∘O); shorter sequences get D_i = sum_j P_ij M_ij dP_ij (M the dropout
// multipliers, 1 without dropout) from the whole rows of P and dP they hold anyway.
#pragma once
#include <cstdint>

#include "philox.h"

namespace ft {

struct AttnDropout {
  float p;             // drop probability in [0, 1); p == 0 means no dropout
  uint32_t threshold;  // dropout_threshold(p)
  DropoutKey key;
};

// Kept probabilities (probs, B·H·S·S floats, may be null): the forward writes there what the backward would
// otherwise recompute from q, k and lse (the scores' product and their exp: one of the backward's five small
// products), and the backward given the same buffer reads them instead. What it holds is this kernel's own
// business: per head, row j (a key) holds P_ij for queries i = j..S-1 at [j·S + i], before dropout and
// negated where dropout dropped it (so the backward draws no mask either); the other entries are never written. A backward given probs trusts them as it trusts lse: they must come from
// the forward of the same q, k (and dropout key). With probs either call takes the whole-matrix path at any
// S (its S² scratch is then no larger than probs itself).
// Callers (native/) have validated shapes: B, S, H >= 1, D % H == 0, (D / H) % 4 == 0, pointers non-null
// (probs aside).
void rope_attention_forward(const float* q, const float* k, const float* v, float* out, float* lse,
                            int64_t B, int64_t S, int64_t H, int64_t D, const AttnDropout* drop,
                            float* probs = nullptr);

void rope_attention_backward(const float* dout, const float* q, const float* k, const float* v, const float* out,
                             const float* lse, float* dq, float* dk, float* dv, int64_t B, int64_t S, int64_t H,
                             int64_t D, const AttnDropout* drop, bool overwrite = false,
                             const float* probs = nullptr);

}  // namespace ft
