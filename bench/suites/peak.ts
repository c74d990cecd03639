// The machine's peak: fp32 FMA, AVX512-BF16 dot products and AMX bf16 tile products, 1 thread and all cores
// (bench/native/peak.cc). The bf16 mode's figures are held against the peak of the instruction its GEMMs run on
// (bf16PeakOf).
//
// Every "of peak" divides by these, so an understated peak inflates every share at once. On these shared hosts
// a neighbour can slow all the cores for a minute: one run measured 346 GFLOP/s at its start against 419-441
// before and after, and reported a GEMM at 107% of "peak". No disturbance makes the register-only loop faster
// than the cores allow, so the best of several measurements is the estimate: a few tries at the start, the
// steadiness probes during the run (the same loop, 0.1 s, on all cores or on one), and the same tries again at
// the end (finalPeaks).
import * as os from 'os';
import { bf16PeakInstruction, fp32PeakVector, measurePeak, type PeakInstruction } from '../../src/profile/peak';
import type { PeakKind, Peaks, Row, Suite, SuiteContext } from '../types';

const KINDS: readonly PeakKind[] = ['fp32One', 'fp32All', 'bf16One', 'bf16All', 'amxOne', 'amxAll'];

/** The all-core peak the bf16 mode's rows are held against: AMX's where the engine's bf16 GEMMs use AMX tiles. */
export function bf16PeakOf(): PeakKind {
  return bf16PeakInstruction() === 'amx' ? 'amxAll' : 'bf16All';
}

/** How a bf16 row's note names its peak. */
export function bf16PeakName(kind: PeakKind): string {
  return kind === 'amxAll' ? 'the AMX bf16 tile peak (tdpbf16ps)' : 'the bf16 dot-product peak (vdpbf16ps)';
}

/** Each peak as the best of `tries` measurements (0.5 s each; quick runs: one of 0.1 s). */
export function measurePeaks(quick: boolean, tries = quick ? 1 : 3): Peaks {
  const s = quick ? 0.1 : 0.5, all = os.cpus().length;
  const best = (kind: PeakInstruction, threads: number): number | null => {
    let b: number | null = null;
    for (let t = 0; t < tries; t++) {
      const g = measurePeak(kind, threads, s).gflops;
      if (g === null) return null; // the instructions are missing: no try will do better
      b = Math.max(b ?? 0, g);
    }
    return b;
  };
  const fp32One = best('fp32', 1), bf16One = best('bf16', 1), amxOne = best('amx', 1);
  // On a loaded machine the all-core loop can come out below the one-core loop, which no idle machine does;
  // the larger of the two is then the better estimate of what the cores can do.
  const atLeast = (x: number | null, floor: number | null) => (x === null ? null : Math.max(x, floor ?? 0));
  return {
    fp32One, fp32All: atLeast(best('fp32', all), fp32One), bf16One, bf16All: atLeast(best('bf16', all), bf16One),
    amxOne, amxAll: atLeast(best('amx', all), amxOne),
  };
}

/**
 * The best estimate of each peak over the run: the larger of its measurements (the all-core probes measure
 * fp32All, the one-thread probes of one-thread figures fp32One).
 */
export function finalPeaks(start: Peaks, end: Peaks, bestProbe: number | null, bestProbeOne: number | null = null): Peaks {
  const max = (...xs: (number | null)[]) => {
    const known = xs.filter((x): x is number => x !== null);
    return known.length ? Math.max(...known) : null;
  };
  return {
    fp32One: max(start.fp32One, end.fp32One, bestProbeOne),
    fp32All: max(start.fp32All, end.fp32All, bestProbe),
    bf16One: max(start.bf16One, end.bf16One),
    bf16All: max(start.bf16All, end.bf16All),
    amxOne: max(start.amxOne, end.amxOne),
    amxAll: max(start.amxAll, end.amxAll),
  };
}

/**
 * Rows re-expressed against the final peaks: each share divided again by the peak it names (rows without
 * peakOf are an error), and the peak suite's rows showing the final figures. Returns the peaks that moved by
 * more than 1%, as "kind start -> final" for the log and the document.
 */
export function settlePeaks(rows: Row[], start: Peaks, final: Peaks): string[] {
  for (const r of rows) {
    if (r.ofPeak === null) continue;
    // A share that does not name its peak would silently stay against the start's (types.ts: peakShare).
    if (!r.peakOf) throw new Error(`bench: row '${r.figure} ${r.shape}' has a share of peak but does not say which peak (use peakShare)`);
    const s = start[r.peakOf], f = final[r.peakOf];
    if (s && f) r.ofPeak = (r.ofPeak * s) / f;
  }
  // The peak rows name their peak too (with no share), which tells them apart on a one-core host, where the
  // one-thread and all-core rows have the same shape.
  const fresh = peakRows(final);
  rows.forEach((r, i) => {
    if (r.suite !== 'peak' || !r.peakOf) return;
    const match = fresh.find((x) => x.peakOf === r.peakOf);
    if (match) rows[i] = match;
  });
  return KINDS.filter((k) => start[k] && final[k] && final[k]! > 1.01 * start[k]!).map(
    (k) => `${k} ${start[k]!.toFixed(0)} -> ${final[k]!.toFixed(0)} GFLOP/s`);
}

/** Rows whose share of peak is still above 100% after settlePeaks: figures no peak measurement accounts for. */
export function abovePeak(rows: readonly Row[]): string[] {
  return rows.filter((r) => r.ofPeak !== null && r.ofPeak > 1.0).map((r) => `${r.figure} ${r.shape}: ${(100 * r.ofPeak!).toFixed(1)}%`);
}

export function peakRows(p: Peaks, fp32Vector: 'zmm' | 'ymm' | null = fp32PeakVector()): Row[] {
  const all = os.cpus().length;
  // AVX2-only CPUs (Zen 3 and older, pre-Skylake-SP Intel) have no zmm: their fp32 peak is the ymm FMA's.
  const fp32 = `fp32 FMA peak (vfmadd, ${fp32Vector ?? 'zmm'})`;
  const row = (figure: string, threads: number, g: number | null, peakOf: PeakKind): Row => ({
    suite: 'peak', figure, shape: `${threads} thread${threads > 1 ? 's' : ''}`, ms: NaN, rate: g ?? NaN, unit: 'GFLOP/s',
    peer: null, ratio: null, ofPeak: null, peakOf,
    note: g === null ? 'instructions not available on this CPU'
      : `register-only loop, ${peakOf.startsWith('amx') ? '4 independent accumulator tiles'
        : peakOf.startsWith('fp32') && fp32Vector === 'ymm' ? '12 independent accumulators' : '16 independent accumulators'}; best of the run's measurements`,
  });
  return [
    row(fp32, 1, p.fp32One, 'fp32One'),
    row(fp32, all, p.fp32All, 'fp32All'),
    row('bf16 dot-product peak (vdpbf16ps, zmm)', 1, p.bf16One, 'bf16One'),
    row('bf16 dot-product peak (vdpbf16ps, zmm)', all, p.bf16All, 'bf16All'),
    row('bf16 tile peak (AMX tdpbf16ps)', 1, p.amxOne, 'amxOne'),
    row('bf16 tile peak (AMX tdpbf16ps)', all, p.amxAll, 'amxAll'),
  ];
}

export const peakSuite: Suite = {
  name: 'peak',
  description: 'fp32 FMA, bf16 dot-product and AMX bf16 tile peak, 1 thread and all cores',
  async run(ctx: SuiteContext): Promise<Row[]> {
    return peakRows(ctx.peaks);
  },
};
