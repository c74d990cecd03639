// Binary cross-entropy on logits (the ADV adversary), in the overflow-free form
// BCE(z, t) = max(z, 0) − z·t + log(1 + e^(−|z|)), averaged over all elements.
import { sigmoid } from './logit-laplace';
import type { Vec } from './types';

export function bceWithLogitsForward(logits: Vec, targets: Vec, loss: Vec): void {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    sum += Math.max(z, 0) - z * targets[i] + Math.log1p(Math.exp(-Math.abs(z)));
  }
  loss[0] = sum / logits.length;
}

/** dlogits += scale·(sigmoid(z) − t)/n. */
export function bceWithLogitsBackward(logits: Vec, targets: Vec, dlogits: Vec, scale: number): void {
  const f = scale / logits.length;
  for (let i = 0; i < logits.length; i++) dlogits[i] += f * (sigmoid(logits[i]) - targets[i]);
}
