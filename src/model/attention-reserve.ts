// When a training plan gives each block's attention a reserve (Backend.ropeAttention): the CPU kernel keeps the
// forward's probabilities there, and its backward then skips recomputing the scores and their exp (one of its
// five small products). It costs B·H·S² floats per block, against the B·S·(10·D + 3·F) or so of the block's
// other activations: 2% at S = 31 (the HR windows), 9% at S = 128 in the 19m model. Measured (Zen 5, 2 cores,
// D = 512, H = 8, both calls alternated in one process, kernels/cpu/attention.cc): forward+backward 8-9%
// faster at S = 31 (B = 32), 9% at S = 97, 6-7% at S = 129, 3% at S = 257 (B = 8); with dropout 0.1 at S = 31
// 11-14% (the dropout mask goes along in the signs, so the backward draws it no more). Past 128 the gain shrinks while the memory grows as S², so longer windows (the T = 256 pretraining
// windows) recompute. Plans for inference never keep one: no backward follows.
export const ATTENTION_RESERVE_MAX_S = 128;

/** Whether a plan of S tokens gives the attention a reserve (training plans only). */
export function keepsAttentionReserve(S: number, training: boolean): boolean {
  return training && S <= ATTENTION_RESERVE_MAX_S;
}
