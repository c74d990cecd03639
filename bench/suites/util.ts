// Small helpers the suites share: seeded random tensors, attention FLOPs and the note of a figure taken in turns.
import type { Backend } from '../../src/engine/backend';
import type { Tensor } from '../../src/engine/tensor';
import { Rng } from '../../src/util/random';

export function randTensor(be: Backend, shape: number[], rng: Rng, std = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return be.tensor(shape, rng.fillNormal(new Float32Array(n), std));
}

/** Useful FLOPs of causal attention forward (QKᵀ and PV over the S(S+1)/2 visible pairs). */
export function attentionForwardFlops(B: number, S: number, D: number): number {
  return 4 * B * (S * (S + 1)) / 2 * D;
}

/**
 * A figure's note when it is the median of several turns taken alternately with the other sides; with the
 * turns' own times where given, so that a peer whose turns disagree (PyTorch's 19m step read 829 ms in one
 * turn and over 1100 in the next two on a Zen 3 day) shows it beside the median.
 */
export function roundsNote(n: number, turnsMs?: readonly number[]): string {
  if (n <= 1) return '';
  const each = turnsMs && turnsMs.length === n ? ` (${turnsMs.map((t) => t.toFixed(0)).join(', ')} ms)` : '';
  return `; median of ${n} turns${each} taken alternately with the other sides`;
}
