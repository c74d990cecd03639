// Shared helpers of the cpu backend's own tests (the op comparison is test/conformance): the backends,
// seeded random tensors, and the shared float32-against-float64 comparison on tensors.
import { CpuBackend } from '../../src/engine/cpu/backend';
import type { IsaName } from '../../src/engine/cpu/native-api';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { hostData } from '../../src/engine/host-storage';
import type { Tensor } from '../../src/engine/tensor';
import { expectClose as compareClose } from '../conformance/compare';

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

/** The cpu tensor against the reference's, by the one comparison of the backend tests (conformance/compare.ts). */
export function expectClose(got: Tensor, want: Tensor, what: string, rtol = 1e-4): void {
  compareClose(hostData(got), hostData(want), what, rtol);
}
