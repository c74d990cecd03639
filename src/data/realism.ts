// How close the synthetic domains come to real PPG: the same statistics (data/signal/ppg-stats.ts) of real
// records and of each synthetic preset's recordings, side by side. Real records are read with the WFDB
// reader; each contributes its finite runs of at least MIN_RUN_S seconds (gaps cut out). Synthetic presets
// contribute the recordings of a small cohort; the table gives medians over recordings.
import { ppgStats, type PpgStats } from './signal/ppg-stats';
import { generateCohort } from './synth/cohort';
import { PRESET_NAMES } from './synth/presets';
import { readRecord } from './wfdb/read';
import { median as medianOf } from '../util/median';

const MIN_RUN_S = 12;

export interface RealismRow {
  source: string;
  kind: 'real' | 'synthetic';
  /** Segments or recordings measured. */
  segments: number;
  seconds: number;
  hrBpm: number;
  h2h1: number;
  h3h1: number;
  baselineShare: number;
  pulseShare: number;
  highShare: number;
  notchDepth: number;
  notchPhase: number;
  /** Median 2nd-harmonic ratio of the 8 s segments per HR band: shape compared at equal HR. */
  h2h1ByHr: { band: string; segments: number; h2h1: number }[];
}

/** HR bands of the by-HR comparison, bpm. */
export const HR_BANDS: [number, number][] = [[40, 60], [60, 80], [80, 100], [100, 120], [120, 140], [140, 180]];

export interface RealismResult {
  rows: RealismRow[];
  /** Per source: its average beat (the longest segment's or the first recording's) and PSD, for the plot. */
  curves: { source: string; beat: number[]; psd: { f: number[]; db: number[] } }[];
}

/** The median of the finite values of xs (NaN when there are none). */
function median(xs: number[]): number {
  return medianOf(xs.filter(Number.isFinite));
}

function summarise(source: string, kind: RealismRow['kind'], stats: PpgStats[]): RealismRow {
  return {
    source, kind, segments: stats.length, seconds: stats.reduce((a, s) => a + s.seconds, 0),
    hrBpm: median(stats.map((s) => s.hrBpm)), h2h1: median(stats.map((s) => s.h2h1)), h3h1: median(stats.map((s) => s.h3h1)),
    baselineShare: median(stats.map((s) => s.share.baseline)), pulseShare: median(stats.map((s) => s.share.pulse)), highShare: median(stats.map((s) => s.share.high)),
    notchDepth: median(stats.map((s) => s.notchDepth)), notchPhase: median(stats.map((s) => s.notchPhase)),
    h2h1ByHr: HR_BANDS.map(([lo, hi]) => {
      const seg = stats.flatMap((s) => s.segments).filter((x) => x.hrBpm >= lo && x.hrBpm < hi);
      return { band: `${lo}-${hi}`, segments: seg.length, h2h1: median(seg.map((x) => x.h2h1)) };
    }).filter((b) => b.segments > 0),
  };
}

/** Finite runs of x of at least `min` samples. */
function finiteRuns(x: ArrayLike<number>, min: number): Float64Array[] {
  const out: Float64Array[] = [];
  let i = 0;
  while (i < x.length) {
    while (i < x.length && !Number.isFinite(x[i])) i++;
    let j = i;
    while (j < x.length && Number.isFinite(x[j])) j++;
    if (j - i >= min) out.push(Float64Array.from({ length: j - i }, (_, k) => x[i + k]));
    i = j;
  }
  return out;
}

export interface RealRecordSpec {
  /** Record path without extension (header name). */
  record: string;
  /** Signal name, e.g. PLETH. */
  channel: string;
  /** Frames to read (default the whole record). */
  sampFrom?: number;
  sampTo?: number;
  /** Label in the table (default the record's name). */
  label?: string;
}

export function measureRealRecord(spec: RealRecordSpec): { row: RealismRow; curve: RealismResult['curves'][number] } {
  const rec = readRecord(spec.record, { channels: [spec.channel], sampFrom: spec.sampFrom, sampTo: spec.sampTo });
  const sig = rec.signals[0];
  const runs = finiteRuns(sig.physical, Math.round(MIN_RUN_S * sig.fs));
  const label = spec.label ?? rec.name;
  if (runs.length === 0) throw new Error(`data realism: ${label} has no stretch of ${MIN_RUN_S} s of ${spec.channel} without gaps`);
  const stats = runs.map((r) => ppgStats(r, sig.fs));
  const longest = stats.reduce((a, s) => (s.seconds > a.seconds ? s : a));
  return { row: summarise(label, 'real', stats), curve: { source: label, beat: longest.beat, psd: longest.psd } };
}

export function measureSyntheticPreset(preset: string, opts: { seed: number; subjects: number; clean?: boolean; seconds?: number; recordings?: number }): { row: RealismRow; curve: RealismResult['curves'][number] } {
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new Error(`data realism: unknown preset ${preset}`);
  const c = generateCohort(preset, { seed: opts.seed, subjects: opts.subjects, clean: opts.clean, seconds: opts.seconds, recordings: opts.recordings });
  const stats = c.recordings.map((r) => ppgStats(r.signal, r.fs));
  const label = opts.clean ? `${preset} (clean)` : preset;
  return { row: summarise(label, 'synthetic', stats), curve: { source: label, beat: stats[0].beat, psd: stats[0].psd } };
}
