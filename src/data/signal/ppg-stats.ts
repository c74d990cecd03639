// Measures of a PPG signal that say how real it looks, computed the same way for recorded and synthetic
// pulses, at the model's 40 Hz: the harmonic structure of the pulse (the dicrotic notch lives in the 2nd and
// 3rd harmonics), where the power sits (baseline wander, the pulse band, high-frequency noise), and the
// ensemble-average beat with its notch. Used by `fairtune data realism` to compare the synthetic domains
// against real records (docs/synthetic-realism.md).
import { fft } from './fft';
import { bandpass } from './filter';
import { welch } from './hr-estimator';
import { resample } from './resample';
import { median } from '../../util/median';

export const STATS_FS = 40;
/** Points of the ensemble-average beat (one cycle, systolic peak to the next). */
export const BEAT_POINTS = 60;

export interface PpgStats {
  seconds: number;
  /** Median over 8 s segments of the spectral HR, bpm. */
  hrBpm: number;
  /** Amplitude ratios of the 2nd and 3rd harmonic to the fundamental, median over 8 s segments. */
  h2h1: number;
  h3h1: number;
  /** Shares of the power in 0.05–20 Hz: below 0.5 Hz (baseline), 0.5–5 Hz (pulse), above 5 Hz (noise). */
  share: { baseline: number; pulse: number; high: number };
  /** Ensemble-average beat, min–max scaled, BEAT_POINTS points from a systolic peak to the next. */
  beat: number[];
  /**
   * Dicrotic notch of the average beat: the rise from the notch (a local minimum after the systolic peak)
   * to the diastolic peak after it, as a share of the beat's range; 0 when the downslope is monotone.
   */
  notchDepth: number;
  /** Where the notch sits in the cycle (0..1), NaN without one. */
  notchPhase: number;
  /** Log10 power spectral density (normalised to its maximum) on 0..12 Hz, for plots. */
  psd: { f: number[]; db: number[] };
  /** Beats that entered the average. */
  beats: number;
  /** Per 8 s segment (hop 4 s): spectral HR and harmonic ratios, so sources can be compared at equal HR. */
  segments: { hrBpm: number; h2h1: number; h3h1: number }[];
}

/** Harmonic amplitudes of one segment: the fundamental is the strongest line in 0.6–3.5 Hz. */
function harmonics(x: Float32Array, fs: number): { f0: number; h2: number; h3: number } | null {
  const nfft = 4096;
  const re = new Float64Array(nfft), im = new Float64Array(nfft);
  let mean = 0;
  for (const v of x) mean += v / x.length;
  for (let i = 0; i < x.length; i++) re[i] = (x[i] - mean) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (x.length - 1)));
  fft(re, im);
  const p = (k: number) => re[k] * re[k] + im[k] * im[k];
  const bin = fs / nfft;
  let k0 = Math.ceil(0.6 / bin);
  for (let k = k0; k <= Math.floor(3.5 / bin); k++) if (p(k) > p(k0)) k0 = k;
  // Each line's power summed over ±0.15 Hz (the window's main lobe and the HR's drift within 8 s).
  const band = (f: number) => {
    const c = Math.round(f / bin), w = Math.round(0.15 / bin);
    let s = 0;
    for (let k = Math.max(1, c - w); k <= Math.min(nfft / 2, c + w); k++) s += p(k);
    return Math.sqrt(s);
  };
  const f0 = k0 * bin;
  if (3 * f0 + 0.15 >= fs / 2) return null;
  const a1 = band(f0);
  return a1 > 0 ? { f0, h2: band(2 * f0) / a1, h3: band(3 * f0) / a1 } : null;
}

/**
 * Systolic peaks of a band-passed pulse: local maxima at least 0.33 s apart, above the median by 40% of the
 * way to the 95th percentile (the filter's rebound after a sharp pulse is a smaller maximum than that).
 */
function peaks(y: Float32Array, fs: number): number[] {
  const out: number[] = [];
  const minGap = Math.round(0.33 * fs);
  const sorted = Array.from(y).sort((a, b) => a - b);
  const mid = sorted[sorted.length >> 1], p95 = sorted[Math.floor(0.95 * (sorted.length - 1))];
  const level = mid + 0.4 * (p95 - mid);
  for (let i = 1; i + 1 < y.length; i++) {
    if (!(y[i] > y[i - 1] && y[i] >= y[i + 1] && y[i] > level)) continue;
    const last = out[out.length - 1];
    if (last !== undefined && i - last < minGap) {
      if (y[i] > y[last]) out[out.length - 1] = i;
      continue;
    }
    out.push(i);
  }
  return out;
}

/** The notch of an average beat: the deepest rise from a local minimum to a later local maximum after the peak. */
function notchOf(beat: number[]): { depth: number; phase: number } {
  let best = { depth: 0, phase: NaN };
  // Skip the systolic peak's own shoulder and the next upstroke.
  const from = Math.round(0.1 * beat.length), to = Math.round(0.8 * beat.length);
  for (let i = from; i < to; i++) {
    if (!(beat[i] < beat[i - 1] && beat[i] <= beat[i + 1])) continue;
    let hi = beat[i];
    for (let j = i + 1; j < to; j++) hi = Math.max(hi, beat[j]);
    if (hi - beat[i] > best.depth) best = { depth: hi - beat[i], phase: i / beat.length };
  }
  // A rise under 1% of the beat's range is the resampler's ripple on a flat stretch, not a notch.
  return best.depth < 0.01 ? { depth: 0, phase: NaN } : best;
}

/** Statistics of x (no NaN) recorded at fs Hz. */
export function ppgStats(x: ArrayLike<number>, fs: number): PpgStats {
  if (!Number.isInteger(fs) || fs <= 0) throw new Error(`ppgStats: fs must be a positive integer, got ${fs}`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error(`ppgStats: sample ${i} is ${x[i]}; cut out gaps first`);
  const y = resample(x, fs, STATS_FS);
  const seg = 8 * STATS_FS;
  if (y.length < seg) throw new Error(`ppgStats: ${(x.length / fs).toFixed(1)} s of signal; at least 8 s are needed`);

  const h: { f0: number; h2: number; h3: number }[] = [];
  for (let s = 0; s + seg <= y.length; s += seg / 2) {
    const r = harmonics(y.subarray(s, s + seg), STATS_FS);
    if (r) h.push(r);
  }

  const nfft = 512;
  const psd = welch(y, STATS_FS, Math.min(nfft, y.length), nfft);
  const bin = STATS_FS / nfft;
  let base = 0, pulse = 0, high = 0;
  for (let k = 0; k < psd.length; k++) {
    const f = k * bin;
    if (f < 0.05) continue;
    if (f < 0.5) base += psd[k];
    else if (f < 5) pulse += psd[k];
    else high += psd[k];
  }
  const total = base + pulse + high;
  const maxP = Math.max(...psd);
  const f: number[] = [], db: number[] = [];
  for (let k = 1; k * bin <= 12; k++) {
    f.push(k * bin);
    db.push(10 * Math.log10(psd[k] / maxP + 1e-12));
  }

  // Ensemble-average beat over regular cycles, found as the peaks of the band-passed pulse.
  const bp = bandpass(y, STATS_FS, 0.5, 8);
  const pk = peaks(bp, STATS_FS);
  const ibis = pk.slice(1).map((v, i) => v - pk[i]);
  const typical = median(ibis);
  const sum = new Float64Array(BEAT_POINTS);
  let beats = 0;
  for (let i = 0; i + 1 < pk.length; i++) {
    const len = pk[i + 1] - pk[i];
    if (!(Math.abs(len - typical) <= 0.2 * typical)) continue;
    // The shape is taken from the unfiltered signal (a band-pass rings after a sharp pulse and would draw a
    // notch of its own), with the straight line between the cycle's two ends removed against baseline wander.
    const cyc: number[] = [];
    const y0 = y[pk[i]], y1 = y[pk[i + 1]];
    for (let q = 0; q < BEAT_POINTS; q++) {
      const t = pk[i] + (q * len) / BEAT_POINTS;
      const a = Math.floor(t), w = t - a;
      cyc.push(y[a] * (1 - w) + y[Math.min(y.length - 1, a + 1)] * w - (y0 + ((y1 - y0) * q) / BEAT_POINTS));
    }
    const lo = Math.min(...cyc), hi = Math.max(...cyc);
    if (!(hi > lo)) continue;
    cyc.forEach((v, q) => (sum[q] += (v - lo) / (hi - lo)));
    beats++;
  }
  const beat = Array.from(sum, (v) => (beats ? v / beats : NaN));
  const lo = Math.min(...beat), hi = Math.max(...beat);
  const scaled = beat.map((v) => (hi > lo ? (v - lo) / (hi - lo) : NaN));
  const notch = beats ? notchOf(scaled) : { depth: NaN, phase: NaN };

  return {
    seconds: x.length / fs,
    hrBpm: 60 * median(h.map((v) => v.f0)),
    h2h1: median(h.map((v) => v.h2)),
    h3h1: median(h.map((v) => v.h3)),
    share: { baseline: base / total, pulse: pulse / total, high: high / total },
    beat: scaled,
    notchDepth: notch.depth,
    notchPhase: notch.phase,
    psd: { f, db },
    beats,
    segments: h.map((v) => ({ hrBpm: 60 * v.f0, h2h1: v.h2, h3h1: v.h3 })),
  };
}
