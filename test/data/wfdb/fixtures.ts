// Locates the shared WFDB fixtures (records + rdsamp output) beside the checkout and parses expected
// outputs. Missing fixtures make the tests FAIL with a message saying where they were looked for.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'fflate';

export const WFDB_FIXTURES = path.resolve(__dirname, '../../../../shared/fixtures/wfdb');
export const WFDB_RECORDS = path.join(WFDB_FIXTURES, 'records');

export function requireFixtures(): void {
  if (!fs.existsSync(path.join(WFDB_FIXTURES, 'CASES.md'))) {
    throw new Error(`WFDB fixtures not found at ${WFDB_FIXTURES} (expected ../shared/fixtures/wfdb beside the checkout)`);
  }
}

export function record(name: string): string {
  return path.join(WFDB_RECORDS, name);
}

/** Reads an expected rdsamp output (gunzipping .gz) as rows of whitespace-separated tokens. */
export function readExpected(name: string): string[][] {
  const file = path.join(WFDB_FIXTURES, 'expected', name);
  if (!fs.existsSync(file)) throw new Error(`expected output missing: ${file}`);
  let bytes: Uint8Array = fs.readFileSync(file);
  if (name.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = Buffer.from(bytes).toString('latin1');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}
