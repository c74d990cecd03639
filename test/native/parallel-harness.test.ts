// Runs the thread-pool stress harness (test/native/parallel_test.cc) through run-parallel-test.sh: an optimised
// build and a ThreadSanitizer build, each making thousands of parallel_for calls across thread counts, spin
// budgets (including ones that run out between calls, so workers go through both the spin and the sleep
// paths), gaps and nested calls. A lost wake-up shows as a hang, which the timeout turns into a failure.
import { runHarness } from './harness';

test('every parallel_for index runs exactly once, without races, whatever the spin budget', () => {
  const summaries = runHarness('run-parallel-test.sh', 'parallel_test', 110_000);
  expect(summaries).toHaveLength(2); // optimised and TSan builds both ran to the end
  for (const s of summaries) {
    expect(s.failed).toBe(0);
    expect(s.checks).toBeGreaterThan(3000);
  }
}, 120_000);
