// Runs the thread-pool stress harness (test/native/parallel_test.cc) through run-parallel-test.sh: an optimised
// build and a ThreadSanitizer build, each making thousands of parallel_for calls across thread counts, spin
// budgets (including ones that run out between calls, so workers go through both the spin and the sleep
// paths), gaps and nested calls. A lost wake-up shows as a hang, which the timeout turns into a failure.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const script = path.join(__dirname, 'run-parallel-test.sh');

test('every parallel_for index runs exactly once, without races, whatever the spin budget', () => {
  let output: string;
  try {
    output = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 110_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`thread-pool harness failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const summaries = output.split('\n').filter((l) => l.startsWith('parallel_test:'));
  expect(summaries).toHaveLength(2); // optimised and TSan builds both ran to the end
  for (const line of summaries) {
    expect(line).toMatch(/^parallel_test: \d+ checks, 0 failed/);
    expect(Number(/(\d+) checks/.exec(line)![1])).toBeGreaterThan(3000);
  }
}, 120_000);
