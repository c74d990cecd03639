// Runs the standalone C++ harness of the fused attention kernel (test/native/attention_test.cc) through
// run-attention-test.sh: an optimised build and an ASan + UBSan build, each comparing every ISA path the CPU
// supports with a naive float64 oracle (itself finite-difference checked).
import { runHarness } from './harness';

describe('native attention kernel harness', () => {
  it('matches the float64 oracle on every ISA path, also under ASan/UBSan', () => {
    const summaries = runHarness('run-attention-test.sh', 'attention_test', 400_000);
    expect(summaries).toHaveLength(2); // optimised and sanitised builds both ran to the end
    for (const s of summaries) {
      expect(s.failed).toBe(0);
      expect(s.checks).toBeGreaterThan(50);
    }
  }, 420_000);
});
