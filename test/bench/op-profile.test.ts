// `fairtune profile --ops`: every op call of a step is booked to a family (GEMMs by their role in the block),
// the families add up to no more than the step, and a backend whose ops run asynchronously is refused.
import { getBackend } from '../../src/engine/registry';
import { opFamily } from '../../src/profile/op-timer';
import { profileCase } from '../../src/profile/profile';
import { opsTable } from '../../src/profile/report';

test('GEMMs are told apart by their weight shapes', () => {
  const be = getBackend('reference'), D = 8;
  const w = (m: number, k: number) => be.tensor([m, k]);
  expect(opFamily('linear', [null, w(D, D)], D)).toBe('GEMM attention projections fwd');
  expect(opFamily('linear', [null, w(4 * D, D)], D)).toBe('GEMM MLP linear1 fwd');
  expect(opFamily('linearBackward', [null, null, w(D, 4 * D)], D)).toBe('GEMM MLP linear2 bwd');
  expect(opFamily('linear', [null, w(2, 11 * D)], D)).toBe('GEMM HR head fwd');
  expect(opFamily('adamw', [], D)).toBe('AdamW');
  expect(opFamily('zero', [], D)).toBe('zeroing');
});

test('a tiny step profiled by op family: every family of the block appears once per layer, the sum fits the step', () => {
  const r = profileCase({ size: 'tiny', batch: 4, patches: 5, steps: 3, backend: 'cpu', ops: true });
  const ops = r.ops!;
  const by = new Map(ops.map((o) => [o.family, o]));
  // tiny: 2 blocks; q, k, v and concat per block forward (4 × 2), and as many backward.
  expect(by.get('GEMM attention projections fwd')?.calls).toBe(8);
  expect(by.get('GEMM attention projections bwd')?.calls).toBe(8);
  expect(by.get('GEMM MLP linear1 fwd')?.calls).toBe(2);
  expect(by.get('attention fwd')?.calls).toBe(2);
  expect(by.get('AdamW')?.calls).toBeGreaterThan(0);
  const booked = ops.reduce((a, o) => a + o.ms, 0);
  expect(booked).toBeGreaterThan(0);
  // The families are those of the median step itself (not means over steps), so they fit inside it exactly.
  expect(booked).toBeLessThanOrEqual(r.msPerStep);
  expect(opsTable([{ ...r, ofPeak: null }])).toMatch(/\| GEMM MLP linear1 fwd \| [\d.]+ \| [\d.]+% \| 2 \|/);
});

test('a backend that queues its work is refused, with the reason', () => {
  expect(() => profileCase({ size: 'tiny', batch: 1, patches: 2, steps: 1, backend: 'webgpu', ops: true }))
    .toThrow(/only means something on a backend that runs ops synchronously/);
});
