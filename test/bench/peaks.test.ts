// The run's peaks as the best of its measurements, and every share of peak re-expressed against them
// (bench/suites/peak.ts, bench/main.ts: refuseAbovePeak).
import { refuseAbovePeak } from '../../bench/main';
import { abovePeak, finalPeaks, peakRows, settlePeaks } from '../../bench/suites/peak';
import { peakShare, type Peaks, type Row } from '../../bench/types';

const start: Peaks = { fp32One: 176, fp32All: 346, bf16One: 352, bf16All: 769 };

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
    ...peakRows(start),
    row('gemm engine', 372 / 346, 'fp32All'),
    row('bf16 step', 0.6, 'bf16All'),
    row('no share', null, 'fp32All'),
  ];
  const raised = settlePeaks(rows, start, final);
  // The peak rows, matched by the peak they show (on a one-core host the 1-thread and all-core shapes are equal).
  expect(rows.slice(0, 4).map((r) => [r.peakOf, r.rate])).toEqual([['fp32One', 211], ['fp32All', 419], ['bf16One', 352], ['bf16All', 833]]);
  expect(rows[4].ofPeak).toBeCloseTo(372 / 419, 12);
  expect(rows[5].ofPeak).toBeCloseTo((0.6 * 769) / 833, 12);
  expect(rows[6].ofPeak).toBeNull();
  expect(raised).toEqual(['fp32One 176 -> 211 GFLOP/s', 'fp32All 346 -> 419 GFLOP/s', 'bf16All 769 -> 833 GFLOP/s']);
  expect(abovePeak(rows)).toEqual([]);
});

test('a move under 1% still re-divides the shares but is not reported as a raised peak', () => {
  const rows = [row('gemm engine', 0.8, 'fp32All')];
  expect(settlePeaks(rows, start, { ...start, fp32All: 349 })).toEqual([]);
  expect(rows[0].ofPeak).toBeCloseTo((0.8 * 346) / 349, 12);
});

test('a share that does not name its peak is an error, not a share silently left against the start\'s peak', () => {
  expect(() => settlePeaks([row('no peak named', 0.5)], start, start)).toThrow(/row 'no peak named s' has a share of peak but does not say which peak/);
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
