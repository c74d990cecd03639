// Runs one of the standalone C++ harnesses of test/native through its run-*.sh script and returns its summary
// lines ("<name>: N checks, F failed"), one per build the script runs. A harness exits non-zero on any failed
// check or sanitizer report, which execFileSync turns into a thrown error carrying the harness's output.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export interface HarnessSummary {
  checks: number;
  failed: number;
}

export function runHarness(script: string, name: string, timeoutMs: number): HarnessSummary[] {
  let output: string;
  try {
    output = execFileSync('bash', [path.join(__dirname, script)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${name} harness failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const pattern = new RegExp(`^${name}: (\\d+) checks, (\\d+) failed`);
  return output
    .split('\n')
    .map((line) => pattern.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ checks: Number(m[1]), failed: Number(m[2]) }));
}
