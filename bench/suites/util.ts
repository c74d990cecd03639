// Small helpers the suites share: seeded random tensors and the engine backend.
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
