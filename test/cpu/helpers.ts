// Shared helpers of the cpu backend tests: the backends, seeded random tensors and a float32-vs-float64
// comparison that scales its tolerance with the magnitude of the reference values.
import { CpuBackend } from '../../src/engine/cpu/backend';
import type { IsaName } from '../../src/engine/cpu/native-api';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { hostData } from '../../src/engine/host-storage';
import type { Tensor } from '../../src/engine/tensor';

export const cpu = new CpuBackend();
export const ref = new ReferenceBackend();

/** The ISA paths this machine can run, best first. */
export function isaPaths(): IsaName[] {
  const all: IsaName[] = ['avx512', 'avx2', 'scalar'];
  return all.slice(all.indexOf(cpu.info().detectedIsa));
}

import { mulberry32 as rng, randomArray } from '../helpers/random';

export { rng, randomArray };

/** The same data as a tensor on both backends. */
export function pair(shape: number[], data: Float32Array): { c: Tensor; r: Tensor } {
  return { c: cpu.tensor(shape, data), r: ref.tensor(shape, data) };
}

export function rand2(shape: number[], rand: () => number, lo = -1, hi = 1): { c: Tensor; r: Tensor } {
  return pair(shape, randomArray(shape.reduce((a, b) => a * b, 1), rand, lo, hi));
}

/**
 * |cpu − ref| ≤ rtol·(|ref| + mean|ref|) elementwise: relative where values are large, absolute at the
 * scale of the tensor where they cancel to near zero (float32 sums of many terms cannot do better).
 */
export function expectClose(got: Tensor, want: Tensor, what: string, rtol = 1e-4): void {
  const g = hostData(got), w = hostData(want);
  expect(g.length).toBe(w.length);
  let scale = 0;
  for (const v of w) scale += Math.abs(v);
  scale = w.length > 0 ? scale / w.length : 0;
  for (let i = 0; i < w.length; i++) {
    const err = Math.abs(g[i] - w[i]);
    if (!(err <= rtol * (Math.abs(w[i]) + scale) + 1e-30)) {
      throw new Error(`${what}: element ${i} differs: cpu ${g[i]} vs reference ${w[i]} (scale ${scale})`);
    }
  }
}

export function expectScalarClose(got: number, want: number, what: string, rtol = 1e-4): void {
  if (!(Math.abs(got - want) <= rtol * Math.max(Math.abs(want), 1e-30))) {
    throw new Error(`${what}: cpu ${got} vs reference ${want}`);
  }
}
