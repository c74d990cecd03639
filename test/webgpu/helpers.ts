// Shared helpers of the webgpu tests: one device per test file (started on first use, destroyed in
// afterAll), seeded data on both the webgpu and the reference backend, and a
// comparison that REPORTS a mismatch (so a test can show that it notices wrong values) and a thin
// expect-style wrapper over it. If the `webgpu` package or Mesa cannot give a device, the backend's
// constructor throws "webgpu unavailable: <reason>" and every test of the file fails with that reason.
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { hostData } from '../../src/engine/host-storage';
import type { Tensor } from '../../src/engine/tensor';
import { WebGpuBackend } from '../../src/engine/webgpu/backend';
import type { WebGpuOptions } from '../../src/engine/webgpu/backend';
import { expectClose as compareClose, mismatch as compareMismatch } from '../conformance/compare';

export const ref = new ReferenceBackend();

/** A backend for the test file: created lazily on first use, destroyed by the afterAll this registers. */
export function useWebGpu(opts?: WebGpuOptions): () => WebGpuBackend {
  let be: WebGpuBackend | null = null;
  afterAll(() => {
    be?.destroy();
  });
  return () => (be ??= new WebGpuBackend(opts));
}

import { mulberry32 as rng, randomArray } from '../helpers/random';

export { rng, randomArray };

export interface Pair {
  g: Tensor;
  r: Tensor;
}

/** The same data as a tensor on both backends. */
export function pair(gpu: WebGpuBackend, shape: number[], data: Float32Array): Pair {
  return { g: gpu.tensor(shape, data), r: ref.tensor(shape, data) };
}

export function rand2(gpu: WebGpuBackend, shape: number[], rand: () => number, lo = -1, hi = 1): Pair {
  return pair(gpu, shape, randomArray(shape.reduce((a, b) => a * b, 1), rand, lo, hi));
}

/** null when got is within rtol of want (the one comparison of the backend tests, conformance/compare.ts). */
export function mismatch(got: Float32Array, want: Float32Array, rtol = 1e-4): string | null {
  return compareMismatch(got, want, rtol);
}

/** Downloads the webgpu tensor and compares it with the reference tensor; throws naming `what`. */
export function expectClose(gpu: WebGpuBackend, p: Pair, what: string, rtol = 1e-4): void {
  compareClose(gpu.download(p.g), hostData(p.r), what, rtol);
}
