// The bench's guard against a host that takes a core away mid-measurement (bench/steadiness.ts).
import { refuseDisturbed, steadyGuard } from '../../bench/steadiness';

function guardWith(probes: (number | null)[], retries = 2) {
  const seen = [...probes], logs: string[] = [], sleeps: number[] = [];
  const guard = steadyGuard({
    probe: () => {
      if (seen.length === 0) throw new Error('probed more often than the test planned');
      return seen.shift()!;
    },
    reference: 400, retries, waitMs: 1234, sleep: (ms) => sleeps.push(ms), log: (m) => logs.push(m),
  });
  return { guard, logs, sleeps, left: () => seen.length };
}

test('a figure taken between two calm probes is measured once', () => {
  const g = guardWith([390, 380]);
  let calls = 0;
  expect(g.guard('gemm', () => ++calls)).toBe(1);
  expect(g.left()).toBe(0);
  expect(g.guard.retried).toEqual([]);
  expect(g.sleeps).toEqual([]);
});

test('a probe below 75% of the peak after the figure makes it measured again after a pause, and the retry is the result', () => {
  const g = guardWith([390, 180, 395, 392]);
  let calls = 0;
  expect(g.guard('engine step', () => ++calls)).toBe(2);
  expect(g.guard.retried).toEqual(['engine step']);
  expect(g.guard.disturbed).toEqual([]);
  expect(g.sleeps).toEqual([1234]);
  expect(g.logs[0]).toMatch(/engine step: the host took a core .*probes 390 and 180 GFLOP\/s against a peak of 400/);
});

test('a disturbed probe before the figure counts too; a host disturbed through every retry marks the figure', () => {
  const g = guardWith([200, 390, 210, 390, 390, 100]);
  let calls = 0;
  expect(g.guard('PyTorch step', () => ++calls)).toBe(3);
  expect(g.guard.disturbed).toEqual(['PyTorch step']);
  expect(g.sleeps).toHaveLength(2);
  expect(() => refuseDisturbed('BENCHMARKS.md', g.guard.disturbed, false)).toThrow(/not writing BENCHMARKS.md: 1 figure.*PyTorch step.*--allow-disturbed/);
  expect(() => refuseDisturbed('BENCHMARKS.md', g.guard.disturbed, true)).not.toThrow();
  expect(() => refuseDisturbed('BENCHMARKS.md', [], false)).not.toThrow();
});

test('without a probe (no AVX-512, or a quick run) every figure is taken once', () => {
  const g = guardWith([null, null]);
  expect(g.guard('x', () => 'done')).toBe('done');
  expect(g.guard.retried).toEqual([]);
});

test('a probe above the run\'s peak raises the bar (a peak measured on a slowed host is too lenient), and is kept as evidence of the peak', () => {
  // reference 400; the first probe shows 500, so the second (360) is below 75% of 500 and the figure is retaken
  // (against the reference alone it would have passed).
  const g = guardWith([500, 360, 480, 470]);
  let calls = 0;
  expect(g.guard('gemm', () => ++calls)).toBe(2);
  expect(g.guard.retried).toEqual(['gemm']);
  expect(g.logs[0]).toMatch(/probes 500 and 360 GFLOP\/s against a peak of 500/);
  expect(g.guard.bestProbe()).toBe(500);
});

test('bestProbe is null until a probe has measured something, and a non-finite probe is no evidence', () => {
  // A NaN probe is not calm either: the figure is taken again, and the NaN does not become the best probe.
  const g = guardWith([null, null, NaN, 390, 380, 385]);
  expect(g.guard.bestProbe()).toBeNull();
  g.guard('x', () => 0);
  expect(g.guard.bestProbe()).toBeNull();
  g.guard('y', () => 0);
  expect(g.guard.retried).toEqual(['y']);
  expect(g.guard.bestProbe()).toBe(390);
  expect(g.left()).toBe(0);
});
