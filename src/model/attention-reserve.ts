// When a training plan gives each block's attention a reserve (Backend.ropeAttention): the CPU kernel keeps the
// forward's probabilities there, and its backward then skips recomputing the scores, their exp and the dropout
// mask (one of its five small products, and the Philox draws). It costs B·H·S² floats per block, against the
// B·S·(10·D + 3·F) or so of the block's other activations: 2% at S = 31 (the HR windows), 9% at S = 128 in the
// 19m model. Measured (Zen 5, 2 cores, D = 512, H = 8; both routes alternated in one process), forward+backward
// faster with it by: in a scratch harness built as the addon is (-O3), 8-9% at S = 31 (B = 32), 9% at S = 97,
// 6-7% at S = 129, 3% at S = 257 (B = 8), and with dropout 0.1 at S = 31 11-14%; in the last lines of
// `bash test/native/run-attention-test.sh --bench` (its -O2 build, best of 8 turns, two runs) 3-7% at S = 31
// (dropout: 7-11%), 1-2% at S = 61 (3-7%), 6-7% at S = 129, 2-4% at S = 257. It was never slower up to 128.
// Past 128 the gain shrinks while the memory grows as S², so longer windows (the T = 256 pretraining windows)
// recompute. Plans for inference never keep one: no backward follows.
export const ATTENTION_RESERVE_MAX_S = 128;

/** Whether a plan of S tokens gives the attention a reserve (training plans only). */
export function keepsAttentionReserve(S: number, training: boolean): boolean {
  return training && S <= ATTENTION_RESERVE_MAX_S;
}
