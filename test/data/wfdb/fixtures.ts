// Locates the WFDB fixtures (records + rdsamp output, test/fixtures/wfdb: see its README for origin and
// licences) and parses expected outputs. Missing fixtures make the tests FAIL saying where they were looked for.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'fflate';

export const WFDB_FIXTURES = path.resolve(__dirname, '../../fixtures/wfdb');
export const WFDB_RECORDS = path.join(WFDB_FIXTURES, 'records');

export function requireFixtures(): void {
  if (!fs.existsSync(path.join(WFDB_FIXTURES, 'CASES.md'))) {
    throw new Error(`WFDB fixtures not found at ${WFDB_FIXTURES} (they are part of the repository: is the checkout complete?)`);
  }
}

export function record(name: string): string {
  return path.join(WFDB_RECORDS, name);
}

/** Reads an expected rdsamp output (stored gzipped: `name` or `name.gz`) as rows of whitespace-separated tokens. */
export function readExpected(name: string): string[][] {
  const plain = path.join(WFDB_FIXTURES, 'expected', name);
  const file = fs.existsSync(plain) || name.endsWith('.gz') ? plain : `${plain}.gz`;
  if (!fs.existsSync(file)) throw new Error(`expected output missing: ${plain}`);
  let bytes: Uint8Array = fs.readFileSync(file);
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes);
  const text = Buffer.from(bytes).toString('latin1');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}
