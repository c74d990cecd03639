// BUT-PPG loader on a folder the test writes: BOM CSVs, format-16 records (written by the test's own
// WFDB writer), a poor-quality record, headers with swapped fields, a missing signal file and a missing
// record folder.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadButPpg } from '../../../src/data/loaders/butppg';
import { repairButPpgHeader } from '../../../src/data/loaders/butppg-header';
import { writeFormat16Record } from '../wfdb/writer';

let root: string;
const BOM = '\uFEFF';

function ppg(hr: number, n = 300, fs = 30): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(800 * Math.sin((2 * Math.PI * hr * i) / 60 / fs) + 50 * Math.sin(i / 7)));
}

function writeRecord(id: string, hr: number, headerText?: (t: string) => string): void {
  writeFormat16Record(path.join(root, id), `${id}_PPG`, [{ name: 'PPG', gain: 100, samples: ppg(hr) }], { fs: 30, headerText });
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'butppg-'));
  const ann = [
    'ID,Quality,HR',
    '100001,1,72',
    '100002,0,80',
    '101001,1,65',
    '101002,1,90',
    '102001,1,70',
    '102002,1,75',
    '102003,1,71',
  ];
  fs.writeFileSync(path.join(root, 'quality-hr-ann.csv'), BOM + ann.join('\r\n') + '\r\n');
  const info = [
    'ID,Gender,Age [years],Height [cm],Weight [kg],Ear/finger,Motion',
    '100001,F,34,165,60,finger,0',
    '100002,F,34,165,60,finger,1',
    '101001,M,51,180,85,ear,0',
    '101002,M,52,180,85,ear,0',
    '102001,F,23,170,58,finger,0',
    '102002,F,23,170,58,finger,0',
    '102003,F,23,170,58,finger,0',
  ];
  fs.writeFileSync(path.join(root, 'subject-info.csv'), BOM + info.join('\n') + '\n');
  writeRecord('100001', 72);
  writeRecord('100002', 80);
  // Sampling frequency and number of samples swapped on the record line.
  writeRecord('101001', 65, (t) => t.replace('101001_PPG 1 30 300', '101001_PPG 1 300 30'));
  // Format and gain swapped on the signal line.
  writeRecord('101002', 90, (t) => t.replace('101002_PPG.dat 16 100(0)/mV', '101002_PPG.dat 100(0)/mV 16'));
  writeRecord('102001', 70);
  fs.rmSync(path.join(root, '102001', '102001_PPG.dat'));
  // 102002 has no folder at all.
  writeRecord('102003', 71);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('loads subjects, recordings and HR labels; repairs and skips are reported', async () => {
  const d = await loadButPpg(root);
  expect(d.dataset).toBe('butppg');
  expect(d.recordings.map((r) => r.recordId)).toEqual(['100001', '101001', '101002', '102003']);
  expect(d.subjects.map((s) => s.id)).toEqual(['100', '101', '102']);
  expect(d.subjects[0].attributes).toEqual({ gender: 'F', age: 34, height: 165, weight: 60 });
  expect(d.subjects[1].attributes.gender).toBe('M');
  const r = d.recordings[0];
  expect(r.subjectId).toBe('100');
  expect(r.fs).toBe(30);
  expect(r.signal.length).toBe(300);
  // Physical = digital / gain (gain 100): compare against the written samples.
  const written = ppg(72);
  for (let i = 0; i < 300; i++) expect(r.signal[i]).toBeCloseTo(written[i] / 100, 5);
  expect(Array.from(r.hrTrack!.t)).toEqual([5]);
  expect(Array.from(r.hrTrack!.hr)).toEqual([72]);
  expect(r.meta).toMatchObject({ quality: 1, 'Ear/finger': 'finger', Motion: '0' });
  // The repaired records read the same samples as an intact one would.
  const rep = d.recordings[1];
  expect(rep.fs).toBe(30);
  expect(rep.signal.length).toBe(300);
  expect(rep.signal[10]).toBeCloseTo(ppg(65)[10] / 100, 5);
  expect(d.recordings[2].signal[10]).toBeCloseTo(ppg(90)[10] / 100, 5);
  const report = d.report.join('\n');
  expect(report).toMatch(/101001: repaired header 101001_PPG\.hea: record line: sampling frequency and number of samples were swapped/);
  expect(report).toMatch(/101002: repaired header 101002_PPG\.hea: signal line 2: format and gain were swapped/);
  expect(report).toMatch(/102001: signal file not found: .*102001_PPG\.dat .*samples 0–300/);
  expect(report).toMatch(/102002: missing record header .*102002_PPG\.hea, skipped/);
  expect(report).toMatch(/subject 101: age differs between records \(51 vs 52 in 101002\); keeping 51/);
  expect(report).toMatch(/1 recordings annotated as poor quality/);
});

test('includePoorQuality keeps Quality = 0 recordings with their flag', async () => {
  const d = await loadButPpg(root, { includePoorQuality: true });
  const poor = d.recordings.find((r) => r.recordId === '100002')!;
  expect(poor.meta!.quality).toBe(0);
  expect(poor.hrTrack!.hr[0]).toBe(80);
});

test('accepts the parent folder of the dataset folder', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'butppg-parent-'));
  fs.renameSync(root, path.join(parent, 'butppg-2.0.0'));
  root = parent;
  const d = await loadButPpg(parent);
  expect(d.recordings.length).toBe(4);
});

test('bad folders give clear errors', async () => {
  await expect(loadButPpg(path.join(root, 'nope'))).rejects.toThrow(/BUT-PPG folder not found: .*nope/);
  fs.rmSync(path.join(root, 'subject-info.csv'));
  await expect(loadButPpg(root)).rejects.toThrow(/missing file: .*subject-info\.csv/);
  fs.writeFileSync(path.join(root, 'subject-info.csv'), BOM + 'ID,Sex,Age [years],Height [cm],Weight [kg]\n100001,F,3,4,5\n');
  await expect(loadButPpg(root)).rejects.toThrow(/subject-info\.csv: missing column\(s\) 'Gender'/);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'butppg-empty-'));
  await expect(loadButPpg(empty)).rejects.toThrow(/is not a BUT-PPG 2\.0\.0 folder: quality-hr-ann\.csv and subject-info\.csv are missing/);
  fs.rmSync(empty, { recursive: true });
});

test('header repair leaves correct headers alone and refuses to guess', () => {
  const ok = '100001_PPG 1 30 300\n100001_PPG.dat 16 100(0)/mV 16 0 0 0 0 PPG\n';
  expect(repairButPpgHeader(ok, '100001_PPG', 600)).toEqual({ text: ok, repairs: [] });
  // 30 and 300 swapped but the file holds 200 samples: not unambiguous, so not repaired.
  const odd = '100001_PPG 1 300 30\n100001_PPG.dat 16 100(0)/mV 16 0 0 0 0 PPG\n';
  expect(repairButPpgHeader(odd, '100001_PPG', 400).repairs).toEqual([]);
  const renamed = repairButPpgHeader(ok.replace(/^100001_PPG/, '100009_PPG'), '100001_PPG', 600);
  expect(renamed.repairs).toEqual(["record name '100009_PPG' does not match the file name; using '100001_PPG'"]);
});
