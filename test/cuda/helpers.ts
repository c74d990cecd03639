// Shared helpers of the CUDA tests: the emulated CUDA backend (the kernels of kernels/cuda run on the CPU),
// the reference oracle, seeded data and a float32-vs-float64 comparison scaled to the reference's magnitude.
import { CudaBackend } from '../../src/engine/cuda/backend';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { hostData } from '../../src/engine/host-storage';
import type { Tensor } from '../../src/engine/tensor';
import { expectClose as compareClose } from '../conformance/compare';

export const emu = new CudaBackend('cuda-emu');
export const ref = new ReferenceBackend();

import { mulberry32 as rng, randomArray } from '../helpers/random';

export { rng, randomArray };

export interface Pair {
  c: Tensor;
  r: Tensor;
}

/** The same data as a tensor on the emulated device and on the reference. */
export function pair(shape: number[], data: Float32Array): Pair {
  return { c: emu.tensor(shape, data), r: ref.tensor(shape, data) };
}

export function rand2(shape: number[], rand: () => number, lo = -1, hi = 1): Pair {
  return pair(shape, randomArray(shape.reduce((a, b) => a * b, 1), rand, lo, hi));
}

export function zeros2(shape: number[]): Pair {
  return pair(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

/** The emulated device's tensor against the reference's, by the one comparison (conformance/compare.ts). */
export function expectClose(got: Tensor, want: Tensor, what: string, rtol = 1e-4): void {
  compareClose(emu.download(got), hostData(want), what, rtol);
}
