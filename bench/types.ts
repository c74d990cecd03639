// What every benchmark suite produces: one row per measured figure. Engine rows name the peer they are
// compared with and the ratio of rates (above 1: the engine is faster); peer rows stand alone.
import type { SteadyGuard } from './steadiness';
export interface Row {
  suite: string;
  /** What was measured and by whom, e.g. "linear forward · engine". */
  figure: string;
  shape: string;
  /** Milliseconds per call (median over the timed calls). */
  ms: number;
  /** GFLOP/s or windows/s. */
  rate: number;
  unit: 'GFLOP/s' | 'windows/s';
  /** The peer this row is compared with (the faster of several), or null. */
  peer: string | null;
  /** rate / peer's rate (> 1: this row is faster), or null. */
  ratio: number | null;
  /** rate / the measured peak of the same arithmetic on the same cores, or null when not meaningful. */
  ofPeak: number | null;
  /** Which of the run's peaks ofPeak divides by (set by peakShare), so that it can be divided again by the
   * run's final estimate of that peak (suites/peak.ts: settlePeaks); required when ofPeak is a number. The
   * peak suite's own rows name the peak they show. */
  peakOf?: PeakKind;
  /** Free-text remark (thread settings, skipped peers). */
  note?: string;
}

export interface Peaks {
  /** fp32 FMA peak, GFLOP/s, 1 thread and all cores. */
  fp32One: number | null;
  fp32All: number | null;
  /** AVX512-BF16 dot-product peak, GFLOP/s. */
  bf16One: number | null;
  bf16All: number | null;
  /** AMX bf16 tile-product (tdpbf16ps) peak, GFLOP/s; null where AMX is missing or the OS denies it. */
  amxOne: number | null;
  amxAll: number | null;
}

export interface SuiteContext {
  quick: boolean;
  /** The engine backend's name (cpu unless --backend says otherwise). */
  backend: string;
  peaks: Peaks;
  log: (msg: string) => void;
  /** Records a peer that could not run (the run then cannot regenerate BENCHMARKS.md). */
  missingPeer: (peer: string, why: string) => void;
  /** Runs one measurement between probes of the host, again if the host took a core meanwhile (steadiness.ts). */
  steady: SteadyGuard;
}

export interface Suite {
  name: string;
  description: string;
  run(ctx: SuiteContext): Promise<Row[]>;
}

export type PeakKind = keyof Peaks;

/** A row's ofPeak against one of the run's peaks (null when that peak is unknown), and which one (spread into the row). */
export function peakShare(gflops: number, peaks: Peaks, kind: PeakKind): { ofPeak: number | null; peakOf: PeakKind } {
  const peak = peaks[kind];
  return { ofPeak: peak && peak > 0 ? gflops / peak : null, peakOf: kind };
}
