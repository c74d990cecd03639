// MIMIC loader on the WFDB fixtures of test/fixtures/wfdb (p000878 matched-subset record with gaps and a partial download,
// 3000003_0003 without PLETH), with an attributes CSV, a numerics record written by the test, and the
// R-peak detector on a synthetic ECG with known beats.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectRPeaks } from '../../../src/data/loaders/ecg-rpeaks';
import { syntheticEcg } from './synthetic-ecg';
import { fillClipped, loadMimic } from '../../../src/data/loaders/mimic';
import { requireFixtures, WFDB_RECORDS } from '../wfdb/fixtures';
import { writeFormat16Record } from '../wfdb/writer';

beforeAll(requireFixtures);
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mimic-'));
  const p = path.join(root, 'p00', 'p000878');
  fs.mkdirSync(p, { recursive: true });
  for (const f of fs.readdirSync(path.join(WFDB_RECORDS, 'multi-segment/p000878'))) {
    fs.copyFileSync(path.join(WFDB_RECORDS, 'multi-segment/p000878', f), path.join(p, f));
  }
  for (const f of ['3000003_0003.hea', '3000003_0003.dat']) fs.copyFileSync(path.join(WFDB_RECORDS, f), path.join(root, f));
  fs.writeFileSync(path.join(root, 'attributes.csv'), '\uFEFFSUBJECT_ID,GENDER,AGE\n878,F,71\n12,M,50\n');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('p000878: PLETH across segments 0001–0002 as one run, HR from the ECG, attributes from the CSV, partial download reported', async () => {
  const d = await loadMimic(root, { attributesCsv: path.join(root, 'attributes.csv'), minSeconds: 5 });
  expect(d.subjects).toEqual([{ id: 'p000878', attributes: { gender: 'F', age: 71 } }]);
  expect(d.recordings.length).toBe(1);
  const r = d.recordings[0];
  expect(r.fs).toBe(125);
  expect(r.subjectId).toBe('p000878');
  // The run starts in segment 0001 (samples 3750–5749) and continues into 0002 (5750–7499).
  expect(r.meta!.startSample as number).toBeLessThan(5750);
  expect((r.meta!.startSample as number) + r.signal.length).toBeGreaterThan(5750);
  expect(r.signal.every(Number.isFinite)).toBe(true);
  expect(r.meta!.hrSource).toBe('ecg:II');
  expect(r.hrTrack!.t.length).toBeGreaterThan(0);
  // The pleth beats at about 80 bpm here (its spectral HR is 79–80), and so does the ECG once the detector's
  // extra beats in the noisy first seconds are dropped: the old labeller said 105.7.
  for (const v of r.hrTrack!.hr) expect(Math.abs(v - 80)).toBeLessThan(3);
  const rep = d.report.join('\n');
  expect(rep).toMatch(/3000003_0003: no PLETH channel \(signals: II, V\); skipped/);
  expect(rep).toMatch(/p000878-2137-10-26-16-57: 30 segment\(s\) unreadable and skipped \(3269321_0003 … 3269321_0032\); first: .*3269321_0003\.hea/);
  // The segment-0001-only run has no ECG samples at all: said so, not "no R peaks found".
  expect(rep).toMatch(/no reference HR \(ECG II, V absent from this run's segments\)/);
  expect(rep).toMatch(/kept 2 of 3 ECG label windows; rejected: implausible beat intervals 1/);
});

test('numerics record HR is preferred and aligned by base time', async () => {
  const p = path.join(root, 'p00', 'p000878');
  // 1 Hz numerics starting 30 s after the waveform record (16:57:39): HR 80 + k/10.
  const hr = Array.from({ length: 60 }, (_, k) => 800 + k);
  writeFormat16Record(p, 'p000878-2137-10-26-16-57n', [{ name: 'HR', gain: 10, units: 'bpm', samples: hr }], {
    fs: 1,
    headerText: (t) => t.replace('p000878-2137-10-26-16-57n 1 1 60', 'p000878-2137-10-26-16-57n 1 1 60 16:57:39.000 26/10/2137'),
  });
  const d = await loadMimic(root, { minSeconds: 5 });
  const r = d.recordings[0];
  expect(r.meta!.hrSource).toBe('numerics');
  const t0 = (r.meta!.startSample as number) / 125;
  // Numerics sample k sits at 30 + k s in record time.
  r.hrTrack!.t.forEach((t, i) => expect(r.hrTrack!.hr[i]).toBeCloseTo(80 + (t + t0 - 30) / 10, 6));
  expect(d.subjects[0].attributes).toEqual({});
  expect(d.report.join('\n')).toMatch(/subject p000878: no gender\/age/);
});

test('bad folders give clear errors', async () => {
  await expect(loadMimic(path.join(root, 'nope'))).rejects.toThrow(/MIMIC folder not found/);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mimic-empty-'));
  await expect(loadMimic(empty)).rejects.toThrow(/no WFDB headers/);
  fs.copyFileSync(path.join(WFDB_RECORDS, '3000003_0003.hea'), path.join(empty, '3000003_0003.hea'));
  await expect(loadMimic(empty)).rejects.toThrow(/no usable PLETH recordings.*\n.*3000003_0003: no PLETH channel/);
  fs.rmSync(empty, { recursive: true });
  await expect(loadMimic(root, { attributesCsv: path.join(root, 'missing.csv') })).rejects.toThrow(/missing file: .*missing\.csv/);
});

describe('R-peak detection', () => {
  test('finds every beat of a synthetic ECG within 20 ms', () => {
    const fs = 125;
    const beats: number[] = [];
    for (let t = 0.5; t < 29.5; t += 60 / (70 + 10 * Math.sin(t / 5))) beats.push(t);
    const peaks = detectRPeaks(syntheticEcg(fs, beats, 30), fs).map((p) => p / fs);
    expect(peaks.length).toBe(beats.length);
    peaks.forEach((p, i) => expect(Math.abs(p - beats[i])).toBeLessThan(0.02));
  });

  test('rejects non-finite input and low rates', () => {
    expect(() => detectRPeaks([1, NaN, ...new Array(500).fill(0)], 125)).toThrow(/sample 1 is not finite/);
    expect(() => detectRPeaks(new Array(100).fill(0), 30)).toThrow(/too low/);
  });

  test('fillClipped fills only short interior invalid runs', () => {
    const x = Float64Array.from([NaN, 1, 0.5, NaN, NaN, 2, NaN, NaN, NaN, NaN, 3, NaN]);
    expect(fillClipped(x, 3)).toBe(2);
    expect(Array.from(x).map((v) => (Number.isNaN(v) ? 'n' : v))).toEqual(['n', 1, 0.5, 0.5, 0.5, 2, 'n', 'n', 'n', 'n', 3, 'n']);
  });
});
