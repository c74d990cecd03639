// Runs the optimiser kernels' harness (test/native/optim_test.cc) through run-optim-test.sh: an optimised build
// and an ASan + UBSan build, each checking the sum of squares (the gradient norm) and AdamW with and without the
// AVX-512 prefetching loops, bit for bit against each other and against a double reference, on every ISA level
// the CPU has, 1 and 2 threads, edge lengths and misaligned starts.
import { runHarness } from './harness';

test('the prefetching sum of squares and AdamW give the plain loops\' bits and match the double reference', () => {
  const summaries = runHarness('run-optim-test.sh', 'optim_test', 200_000);
  expect(summaries).toHaveLength(2); // optimised and sanitized builds both ran to the end
  for (const s of summaries) {
    expect(s.failed).toBe(0);
    expect(s.checks).toBeGreaterThan(1000);
  }
}, 220_000);
