// Softmax cross-entropy on logits (the ADV adversary over G groups): per row of z[N,C] and target
// distribution t, ℓ = −Σ_c t_c·(z_c − lse(z)) with lse computed after subtracting the row maximum (no
// overflow); the loss is the mean over rows. ∂ℓ/∂z_j = (Σ_c t_c)·p_j − t_j with p = softmax(z).
import type { Vec } from './types';

/** p = softmax(z[row]) into `p`, returning log Σ exp(z) of the row. */
function softmaxRow(z: Vec, row: number, C: number, p: Float64Array): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[row * C + c]);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += (p[c] = Math.exp(z[row * C + c] - max));
  for (let c = 0; c < C; c++) p[c] /= sum;
  return max + Math.log(sum);
}

export function softmaxCrossEntropyForward(logits: Vec, targets: Vec, loss: Vec, N: number, C: number): void {
  const p = new Float64Array(C);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const lse = softmaxRow(logits, n, C, p);
    for (let c = 0; c < C; c++) total -= targets[n * C + c] * (logits[n * C + c] - lse);
  }
  loss[0] = total / N;
}

export function softmaxCrossEntropyBackward(logits: Vec, targets: Vec, dlogits: Vec, scale: number, N: number, C: number): void {
  const p = new Float64Array(C), f = scale / N;
  for (let n = 0; n < N; n++) {
    softmaxRow(logits, n, C, p);
    let mass = 0;
    for (let c = 0; c < C; c++) mass += targets[n * C + c];
    for (let c = 0; c < C; c++) dlogits[n * C + c] += f * (mass * p[c] - targets[n * C + c]);
  }
}
