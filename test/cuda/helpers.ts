// Shared helpers of the CUDA tests: the emulated CUDA backend (the kernels of kernels/cuda run on the CPU),
// the reference oracle, seeded data and a float32-vs-float64 comparison scaled to the reference's magnitude.
import { CudaBackend } from '../../src/engine/cuda/backend';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { hostData } from '../../src/engine/host-storage';
import type { Tensor } from '../../src/engine/tensor';

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

/** |cuda − ref| ≤ rtol·(|ref| + mean|ref|) elementwise. */
export function expectClose(got: Tensor, want: Tensor, what: string, rtol = 1e-4): void {
  const g = emu.download(got), w = hostData(want);
  expect(g.length).toBe(w.length);
  let scale = 0;
  for (const v of w) scale += Math.abs(v);
  scale = w.length > 0 ? scale / w.length : 0;
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs(g[i] - w[i]);
    if (!(err <= rtol * (Math.abs(w[i]) + scale) + 1e-30)) {
      throw new Error(`${what}: element ${i} differs: cuda-emu ${g[i]} vs reference ${w[i]} (scale ${scale})`);
    }
  }
}

export function expectScalarClose(got: number, want: number, what: string, rtol = 1e-4): void {
  if (!(Math.abs(got - want) <= rtol * Math.max(Math.abs(want), 1e-30))) {
    throw new Error(`${what}: cuda-emu ${got} vs reference ${want}`);
  }
}
