// The run's peaks as the best of its measurements, and every share of peak re-expressed against them
// (bench/suites/peak.ts, bench/main.ts: refuseAbovePeak).
import { refuseAbovePeak } from '../../bench/main';
import { abovePeak, bf16PeakName, bf16PeakOf, finalPeaks, peakRows, settlePeaks } from '../../bench/suites/peak';
import { peakShare, type Peaks, type Row } from '../../bench/types';
import { bf16PeakInstruction, fp32PeakVector, measurePeak } from '../../src/profile/peak';

const start: Peaks = { fp32One: 176, fp32All: 346, bf16One: 352, bf16All: 769, amxOne: 3100, amxAll: 5600 };

function row(figure: string, ofPeak: number | null, peakOf?: Row['peakOf']): Row {
  return { suite: 'gemm', figure, shape: 's', ms: 1, rate: 1, unit: 'GFLOP/s', peer: null, ratio: null, ofPeak, ...(peakOf ? { peakOf } : {}) };
}

test('each final peak is the largest of its measurements; the probes count for the fp32 peak of their width only; unknown stays unknown', () => {
  const end: Peaks = { fp32One: 211, fp32All: 400, bf16One: 340, bf16All: null, amxOne: 3230, amxAll: null };
  expect(finalPeaks(start, end, 419)).toEqual({ fp32One: 211, fp32All: 419, bf16One: 352, bf16All: 769, amxOne: 3230, amxAll: 5600 });
  expect(finalPeaks(start, end, null).fp32All).toBe(400);
  // The one-thread probes (of one-thread figures) count for the one-thread peak, and only when they beat it.
  expect(finalPeaks(start, end, 419, 215)).toEqual({ fp32One: 215, fp32All: 419, bf16One: 352, bf16All: 769, amxOne: 3230, amxAll: 5600 });
  expect(finalPeaks(start, end, null, 200).fp32One).toBe(211);
  const none: Peaks = { fp32One: null, fp32All: null, bf16One: null, bf16All: null, amxOne: null, amxAll: null };
  expect(finalPeaks(none, none, null)).toEqual(none);
});

test('settlePeaks divides each share again by the final value of the peak it names, and shows the final peaks', () => {
  const final: Peaks = { fp32One: 211, fp32All: 419, bf16One: 352, bf16All: 833, amxOne: 3100, amxAll: 5800 };
  const rows: Row[] = [
    ...peakRows(start),
    row('gemm engine', 372 / 346, 'fp32All'),
    row('bf16 step', 0.6, 'bf16All'),
    row('no share', null, 'fp32All'),
    row('bf16 step on AMX', 0.05, 'amxAll'),
  ];
  const raised = settlePeaks(rows, start, final);
  // The peak rows, matched by the peak they show (on a one-core host the 1-thread and all-core shapes are equal).
  expect(rows.slice(0, 6).map((r) => [r.peakOf, r.rate])).toEqual([
    ['fp32One', 211], ['fp32All', 419], ['bf16One', 352], ['bf16All', 833], ['amxOne', 3100], ['amxAll', 5800]]);
  expect(rows[5].note).toMatch(/4 independent accumulator tiles/);
  expect(rows[6].ofPeak).toBeCloseTo(372 / 419, 12);
  expect(rows[7].ofPeak).toBeCloseTo((0.6 * 769) / 833, 12);
  expect(rows[8].ofPeak).toBeNull();
  expect(rows[9].ofPeak).toBeCloseTo((0.05 * 5600) / 5800, 12);
  expect(raised).toEqual(['fp32One 176 -> 211 GFLOP/s', 'fp32All 346 -> 419 GFLOP/s', 'bf16All 769 -> 833 GFLOP/s', 'amxAll 5600 -> 5800 GFLOP/s']);
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

test('the bf16 mode is held against the peak of the instruction its GEMMs run on, which the peak tool measures', () => {
  // AMX tiles where the addon's bf16 GEMMs use them (the tool must then measure them: a bf16 step on AMX read 124%
  // of the vdpbf16ps peak), vdpbf16ps elsewhere (the tool then reports AMX as unavailable, or measures it where the
  // CPU has AMX but the addon was told not to use it).
  const instruction = bf16PeakInstruction();
  expect(bf16PeakOf()).toBe(instruction === 'amx' ? 'amxAll' : 'bf16All');
  expect(bf16PeakName(bf16PeakOf())).toMatch(instruction === 'amx' ? /AMX bf16 tile peak/ : /bf16 dot-product peak/);
  const amx = measurePeak('amx', 1, 0.05);
  if (instruction === 'amx') {
    const dot = measurePeak('bf16', 1, 0.05);
    expect(amx.error).toBeUndefined();
    // 16 × 16 × 32 products per tdpbf16ps against 32 per vdpbf16ps: the tile peak is several times the other.
    expect(amx.gflops!).toBeGreaterThan(4 * dot.gflops!);
  } else if (amx.gflops === null) {
    expect(amx.error).toMatch(/lacks AMX-BF16 or the OS denies the tile state/);
  }
});

test('the fp32 peak runs on the widest vectors the CPU has, the ones the engine picks: ymm on AVX2-only CPUs', () => {
  // An AVX2-only CPU (Zen 3) once had no fp32 peak at all ("CPU lacks AVX-512"), so no "of peak" figure anywhere.
  const vector = fp32PeakVector();
  const fig = measurePeak('fp32', 1, 0.05);
  if (vector === null) {
    expect(fig.gflops).toBeNull();
    return;
  }
  expect(fig.error).toBeUndefined();
  expect(fig.vector).toBe(vector);
  expect(fig.gflops!).toBeGreaterThan(1);
  expect(peakRows(start, vector).find((r) => r.peakOf === 'fp32All')!.figure).toBe(`fp32 FMA peak (vfmadd, ${vector})`);
});
