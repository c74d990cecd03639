// The classical baseline: HR from the spectral peak of the window (Welch periodogram), searched in
// 0.5–3.5 Hz (30–210 bpm). PPG pulses are not sinusoids: a strong dicrotic wave can make the second
// harmonic the tallest peak, so when the peak at f/2 is comparable, f/2 is taken (the harmonic check).
import { fft, nextPowerOfTwo } from './fft';
import { bandpass } from './filter';

export interface HrEstimatorOptions {
  /** Search band in Hz (default 0.5–3.5). */
  lo?: number;
  hi?: number;
  /** Welch segment length in seconds (default: the whole window up to 12 s, else 8 s with 50% overlap). */
  segmentSeconds?: number;
  /** FFT length at least this many times the segment (zero padding for a finer grid; default 8). */
  padFactor?: number;
  /** Take f/2 when its local peak has at least this fraction of the power at f (default 0.5). */
  harmonicRatio?: number;
  /** Band-pass 0.5–8 Hz before the spectrum (default true; harmless when the window is filtered already). */
  filter?: boolean;
}

export interface HrEstimate {
  /** Estimated HR in bpm. */
  hr: number;
  /** Spectral peak frequency in Hz. */
  freq: number;
  /** Share of the in-band power within ±0.15 Hz of the chosen peak: a crude signal-quality index. */
  peakShare: number;
  /** True when the harmonic check replaced the tallest peak by its half. */
  halved: boolean;
}

/** Welch power spectral density (arbitrary scale) of x at fs; frequencies are k · fs / nfft. */
export function welch(x: ArrayLike<number>, fs: number, segmentLength: number, nfft: number): Float64Array {
  const n = x.length;
  const seg = Math.min(segmentLength, n);
  const hop = Math.max(1, Math.floor(seg / 2));
  const win = new Float64Array(seg);
  for (let i = 0; i < seg; i++) win[i] = seg === 1 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (seg - 1));
  const psd = new Float64Array(nfft / 2 + 1);
  const re = new Float64Array(nfft);
  const im = new Float64Array(nfft);
  let count = 0;
  for (let s = 0; s + seg <= n; s += hop) {
    let mean = 0;
    for (let i = 0; i < seg; i++) mean += x[s + i];
    mean /= seg;
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < seg; i++) re[i] = (x[s + i] - mean) * win[i];
    fft(re, im);
    for (let k = 0; k <= nfft / 2; k++) psd[k] += re[k] * re[k] + im[k] * im[k];
    count++;
  }
  for (let k = 0; k < psd.length; k++) psd[k] /= count;
  return psd;
}

/** Index of the largest value of p in [a, b] (inclusive). */
function argmax(p: Float64Array, a: number, b: number): number {
  let best = a;
  for (let k = a + 1; k <= b; k++) if (p[k] > p[best]) best = k;
  return best;
}

/** Sub-bin peak position by a parabola through the log powers of the peak and its neighbours. */
function refine(p: Float64Array, k: number): number {
  if (k <= 0 || k >= p.length - 1) return k;
  const a = Math.log(p[k - 1] + 1e-300), b = Math.log(p[k] + 1e-300), c = Math.log(p[k + 1] + 1e-300);
  const d = a - 2 * b + c;
  if (!(d < 0)) return k;
  return k + (0.5 * (a - c)) / d;
}

export function estimateHr(x: ArrayLike<number>, fs: number, opts: HrEstimatorOptions = {}): HrEstimate {
  const lo = opts.lo ?? 0.5;
  const hi = opts.hi ?? 3.5;
  if (!(fs > 0)) throw new Error(`estimateHr: sampling rate must be positive, got ${fs}`);
  if (!(lo > 0 && hi > lo && hi < fs / 2)) throw new Error(`estimateHr: search band ${lo}–${hi} Hz is invalid at ${fs} Hz`);
  const n = x.length;
  if (n < fs * 2) throw new Error(`estimateHr: need at least 2 s of signal, got ${n} samples at ${fs} Hz`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) throw new Error(`estimateHr: sample ${i} is ${x[i]}`);
  const y = opts.filter === false ? x : bandpass(x, fs, 0.5, Math.min(8, fs / 2 - 1));
  const segSeconds = opts.segmentSeconds ?? (n / fs <= 12 ? n / fs : 8);
  const seg = Math.min(n, Math.round(segSeconds * fs));
  const nfft = nextPowerOfTwo(seg * (opts.padFactor ?? 8));
  const psd = welch(y, fs, seg, nfft);
  const df = fs / nfft;
  const kLo = Math.ceil(lo / df), kHi = Math.floor(hi / df);
  let k = argmax(psd, kLo, kHi);
  let halved = false;
  const half = k / 2;
  if (half * df >= lo) {
    const w = Math.max(1, Math.round(0.1 / df));
    const a = Math.max(kLo, Math.floor(half - w)), b = Math.min(kHi, Math.ceil(half + w));
    const kh = argmax(psd, a, b);
    // It must be a true local maximum, not the skirt of the main peak.
    const isPeak = kh > a && kh < b;
    if (isPeak && psd[kh] >= (opts.harmonicRatio ?? 0.5) * psd[k]) {
      k = kh;
      halved = true;
    }
  }
  const freq = refine(psd, k) * df;
  let total = 0, near = 0;
  const w = Math.round(0.15 / df);
  for (let j = kLo; j <= kHi; j++) {
    total += psd[j];
    if (Math.abs(j - k) <= w) near += psd[j];
  }
  return { hr: freq * 60, freq, peakShare: total > 0 ? near / total : 0, halved };
}

/** Estimate every row of a row-major [N · length] block; returns HR in bpm per window. */
export function estimateHrWindows(windows: Float32Array, length: number, fs: number, opts: HrEstimatorOptions = {}): Float32Array {
  if (windows.length % length !== 0) throw new Error(`estimateHrWindows: ${windows.length} samples is not a whole number of windows of ${length}`);
  const n = windows.length / length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = estimateHr(windows.subarray(i * length, (i + 1) * length), fs, opts).hr;
  return out;
}
