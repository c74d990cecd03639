// When a training plan gives each block's attention a reserve (Backend.ropeAttention): the CPU kernel keeps the
// forward's probabilities there, and its backward then skips recomputing the scores, their exp and the dropout
// mask (one of its five small products, and the Philox draws). It costs B·H·S² floats per block, against the
// B·S·(10·D + 3·F) or so of the block's other activations: 2% at S = 31 (the HR windows), 9% at S = 128 in the
// 19m model. Measured with `bash test/native/run-attention-test.sh --bench` (its last lines: both routes
// alternated in one process, best of 8 turns, built with the addon's flags; Zen 5, 2 cores, D = 512, H = 8, two
// runs), forward+backward faster with it by 8-10% at S = 31 (B = 32; with dropout 0.1 14%), 7-11% at S = 129
// (15-19%), -1 to 0% at S = 61 (8%), and 4-5% at S = 257 (B = 8; 10-14%). Past 128 the gain no longer grows
// while the memory grows as S², so longer windows (the T = 256 pretraining windows) recompute. Plans for
// inference never keep one: no backward follows.
export const ATTENTION_RESERVE_MAX_S = 128;

/** Whether a plan of S tokens gives the attention a reserve (training plans only). */
export function keepsAttentionReserve(S: number, training: boolean): boolean {
  return training && S <= ATTENTION_RESERVE_MAX_S;
}
