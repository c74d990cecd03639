// Runs the GEMM threading harness (test/native/gemm_test.cc) through run-gemm-test.sh: an optimised build and
// a ThreadSanitizer build, each comparing 2-4-thread products with the 1-thread result bit for bit (and that
// with a float64 reference) on shapes where threads share, claim and wait for each other's packed panels.
import { runHarness } from './harness';

test('multi-threaded GEMMs are bit-identical to one thread, without races in the panel hand-off', () => {
  const summaries = runHarness('run-gemm-test.sh', 'gemm_test', 400_000);
  expect(summaries).toHaveLength(2); // optimised and TSan builds both ran to the end
  for (const s of summaries) {
    expect(s.failed).toBe(0);
    expect(s.checks).toBeGreaterThan(50);
  }
}, 420_000);
