// Every conformance case of test/fixtures/wfdb/CASES.md: the reader's output must equal the output
// of the original WFDB software (rdsamp 10.5.24) sample for sample.

import { INVALID_SAMPLE, readRecord, secondsToSample, type WfdbRecord } from '../../../src/data/wfdb';
import { readExpected, record, requireFixtures } from './fixtures';

beforeAll(requireFixtures);

interface Compare {
  physical?: boolean;
  /** The value the expected file prints for invalid samples (rdsamp prints -32768; some targets replaced it). */
  invalid?: number;
  /** rdsamp -H: every signal expanded to the highest samples-per-frame by repetition. */
  highRes?: boolean;
}

function compare(rec: WfdbRecord, expectedFile: string, opts: Compare = {}): void {
  const rows = readExpected(expectedFile);
  const sigs = rec.signals;
  const maxSpf = opts.highRes ? Math.max(...sigs.map((s) => s.samplesPerFrame)) : 1;
  const nRows = (rec.sampTo - rec.sampFrom) * maxSpf;
  expect(rows.length).toBe(nRows);
  expect(rows[0].length).toBe(sigs.length);
  const invalid = opts.invalid ?? -32768;
  let mismatches = 0;
  const first: string[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < sigs.length; c++) {
      const s = sigs[c];
      const i = opts.highRes ? Math.floor((r * s.samplesPerFrame) / maxSpf) : r;
      const tok = rows[r][c];
      let ok: boolean;
      if (opts.physical) {
        const a = s.physical[i];
        ok = tok === '-' ? Number.isNaN(a) : Math.abs(a - Number(tok)) <= 5.01e-9 * Math.max(1, Math.abs(a));
        if (!ok && first.length < 5) first.push(`row ${r} col ${c}: got ${a}, expected ${tok}`);
      } else {
        const a = s.digital[i];
        ok = a === INVALID_SAMPLE ? Number(tok) === invalid : Number(tok) === a;
        if (!ok && first.length < 5) first.push(`row ${r} col ${c}: got ${a === INVALID_SAMPLE ? 'INVALID' : a}, expected ${tok}`);
      }
      if (!ok) mismatches++;
    }
  }
  expect(first).toEqual([]);
  expect(mismatches).toBe(0);
}

describe('WFDB conformance (CASES.md)', () => {
  test('record-1a: format 16, 4 channels, digital', () => {
    const rec = readRecord(record('test01_00s'));
    expect(rec.signals.map((s) => s.name)).toEqual(['ECG 1', 'ECG 2', 'ECG 3', 'ECG 4']);
    compare(rec, 'record-1a');
  });

  test('record-1b: WFDB-MAT with byte offset, PLETH + II, physical, time range', () => {
    const fs = 250;
    const rec = readRecord(record('a103l'), { sampFrom: secondsToSample(50, fs), sampTo: secondsToSample(160, fs), channels: [2, 0] });
    expect(rec.signals.map((s) => s.name)).toEqual(['PLETH', 'II']);
    compare(rec, 'record-1b', { physical: true });
  });

  test('record-1c: WFDB-MAT, digital, from 80 s to the end', () => {
    const rec = readRecord(record('a103l'), { sampFrom: secondsToSample(80, 250), channels: [0, 1] });
    expect(rec.sampTo).toBe(82500);
    compare(rec, 'record-1c');
  });

  test('record-1d: MIMIC-style 125 Hz record, one channel, physical', () => {
    const rec = readRecord(record('3000003_0003'), { sampFrom: secondsToSample(1, 125), sampTo: secondsToSample(8, 125), channels: [1] });
    compare(rec, 'record-1d', { physical: true });
  });

  test('record-1f: one signal file per format (8, 16, 61, 80, 160, 212, 310, 311, 24, 32)', () => {
    const rec = readRecord(record('binformats'));
    expect(rec.signals.map((s) => s.format)).toEqual([8, 16, 61, 80, 160, 212, 310, 311, 24, 32]);
    compare(rec, 'record-1f.gz');
  });

  test('record-2b: format 212 (MIT-BIH 100), second channel, digital', () => {
    const rec = readRecord(record('100'), { sampFrom: secondsToSample(0.002, 360), sampTo: secondsToSample(30, 360), channels: [1] });
    compare(rec, 'record-2b');
  });

  test('record-2c: format 212 with three channels (odd sample count), physical', () => {
    compare(readRecord(record('100_3chan')), 'record-2c', { physical: true });
  });

  test('record-2d: format 310, digital', () => {
    compare(readRecord(record('310derive'), { sampFrom: secondsToSample(0.007, 250) }), 'record-2d');
  });

  test('record-2e: format 311, physical', () => {
    const rec = readRecord(record('311derive'), { sampFrom: secondsToSample(0.005, 250), sampTo: secondsToSample(3.91, 250) });
    compare(rec, 'record-2e', { physical: true });
  });

  test('record-multi-fixed-c: fixed-layout multi-segment, channel reordering, physical', () => {
    const rec = readRecord(record('multi-segment/fixed1/v102s'), { sampFrom: 70000, sampTo: 80000, channels: [1, 0, 3] });
    expect(rec.signals.map((s) => s.name)).toEqual(['V', 'II', 'RESP']);
    compare(rec, 'record-multi-fixed-c', { physical: true });
  });

  test('record-multi-fixed-d: fixed-layout multi-segment, multi-frequency, digital high resolution', () => {
    const rec = readRecord(record('multi-segment/041s/041s'), { channels: [3, 2, 1] });
    expect(rec.signals.map((s) => s.samplesPerFrame)).toEqual([1, 4, 4]);
    expect(rec.signals[1].fs).toBe(500);
    compare(rec, 'record-multi-fixed-d.gz', { highRes: true, invalid: -2048 });
  });

  test('record-multi-variable-a: variable layout with a layout header, absent signal → "-"', () => {
    const rec = readRecord(record('multi-segment/s00001/s00001-2896-10-10-00-31'), { sampFrom: 14428365, sampTo: 14428375 });
    expect(rec.signals.map((s) => s.name)).toEqual(['II', 'V', 'MCL1', 'ABP']);
    compare(rec, 'record-multi-variable-a', { physical: true });
  });

  test('record-multi-variable-d: MIMIC-III matched subset, gaps and PLETH at 125 Hz, digital', () => {
    const rec = readRecord(record('multi-segment/p000878/p000878-2137-10-26-16-57'), { sampFrom: 3550, sampTo: 7500, channels: [0, 1] });
    expect(rec.signals.map((s) => s.name)).toEqual(['PLETH', 'II']);
    // The first 200 samples lie in the declared "~" gap: invalid, not zero.
    for (let i = 0; i < 200; i++) expect(rec.signals[0].digital[i]).toBe(INVALID_SAMPLE);
    compare(rec, 'record-multi-variable-d', { invalid: -128 });
  });
});
