// Runs the standalone C++ harness of the fused attention kernel (test/native/attention_test.cc) through
// run-attention-test.sh: an optimised build and an ASan + UBSan build, each comparing every ISA path the CPU
// supports with a naive float64 oracle (itself finite-difference checked). The harness exits non-zero on any
// failed comparison or sanitizer finding, which execFileSync turns into a thrown error with its output.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const script = path.join(__dirname, 'run-attention-test.sh');

describe('native attention kernel harness', () => {
  it('matches the float64 oracle on every ISA path, also under ASan/UBSan', () => {
    let output: string;
    try {
      output = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 170_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`attention harness failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    const summaries = output.split('\n').filter((l) => l.startsWith('attention_test:'));
    expect(summaries).toHaveLength(2); // optimised and sanitised builds both ran to the end
    for (const line of summaries) {
      expect(line).toMatch(/^attention_test: \d+ checks, 0 failed/);
      const checks = Number(/(\d+) checks/.exec(line)![1]);
      expect(checks).toBeGreaterThan(50);
    }
  }, 180_000);
});
