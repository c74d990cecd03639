// The run's peaks as the best of its measurements, and every share of peak re-expressed against them
// (bench/suites/peak.ts, bench/main.ts: refuseAbovePeak).
import * as os from 'os';
import { refuseAbovePeak } from '../../bench/main';
import { abovePeak, finalPeaks, settlePeaks } from '../../bench/suites/peak';
import { peakShare, type Peaks, type Row } from '../../bench/types';

const start: Peaks = { fp32One: 176, fp32All: 346, bf16One: 352, bf16All: 769 };
const all = os.cpus().length;

function row(figure: string, ofPeak: number | null, peakOf?: Row['peakOf']): Row {
  return { suite: 'gemm', figure, shape: 's', ms: 1, rate: 1, unit: 'GFLOP/s', peer: null, ratio: null, ofPeak, ...(peakOf ? { peakOf } : {}) };
}

test('each final peak is the largest of its measurements; the probes count for the all-core fp32 peak only; unknown stays unknown', () => {
  const end: Peaks = { fp32One: 211, fp32All: 400, bf16One: 340, bf16All: null };
  expect(finalPeaks(start, end, 419)).toEqual({ fp32One: 211, fp32All: 419, bf16One: 352, bf16All: 769 });
  expect(finalPeaks(start, end, null).fp32All).toBe(400);
  const none: Peaks = { fp32One: null, fp32All: null, bf16One: null, bf16All: null };
  expect(finalPeaks(none, none, null)).toEqual(none);
});

test('settlePeaks divides each share again by the final value of the peak it names, and shows the final peaks', () => {
  const final: Peaks = { fp32One: 211, fp32All: 419, bf16One: 352, bf16All: 833 };
  const rows: Row[] = [
    { suite: 'peak', figure: 'fp32 FMA peak (vfmadd, zmm)', shape: `${all} thread${all > 1 ? 's' : ''}`, ms: NaN, rate: 346, unit: 'GFLOP/s', peer: null, ratio: null, ofPeak: null },
    row('gemm engine', 372 / 346, 'fp32All'),
    row('bf16 step', 0.6, 'bf16All'),
    row('no peak named', 0.5),
    row('no share', null, 'fp32All'),
  ];
  const raised = settlePeaks(rows, start, final);
  expect(rows[0].rate).toBe(419);
  expect(rows[1].ofPeak).toBeCloseTo(372 / 419, 12);
  expect(rows[2].ofPeak).toBeCloseTo((0.6 * 769) / 833, 12);
  expect(rows[3].ofPeak).toBe(0.5);
  expect(rows[4].ofPeak).toBeNull();
  expect(raised).toEqual(['fp32One 176 -> 211 GFLOP/s', 'fp32All 346 -> 419 GFLOP/s', 'bf16All 769 -> 833 GFLOP/s']);
  expect(abovePeak(rows)).toEqual([]);
});

test('peakShare names the peak a share was taken against', () => {
  expect(peakShare(200, start, 'fp32All')).toEqual({ ofPeak: 200 / 346, peakOf: 'fp32All' });
  expect(peakShare(200, { ...start, bf16All: null }, 'bf16All')).toEqual({ ofPeak: null, peakOf: 'bf16All' });
});

test('a share still above 100% blocks BENCHMARKS.md, naming the figure, unless allowed', () => {
  const rows = [row('linear forward · engine', 1.074, 'fp32All'), row('ok', 0.8, 'fp32All')];
  const above = abovePeak(rows);
  expect(above).toEqual(['linear forward · engine s: 107.4%']);
  expect(() => refuseAbovePeak('BENCHMARKS.md', above, false)).toThrow(/not writing BENCHMARKS.md: 1 figure\(s\) above the measured peak \(linear forward · engine s: 107.4%\)/);
  expect(() => refuseAbovePeak('BENCHMARKS.md', above, true)).not.toThrow();
  expect(() => refuseAbovePeak('BENCHMARKS.md', [], false)).not.toThrow();
});
