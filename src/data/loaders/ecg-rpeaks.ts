// R-peak detection in the style of Pan & Tompkins (1985): band-pass 5–15 Hz (QRS energy), five-point
// derivative, squaring, 150 ms moving-window integration, then adaptive signal/noise thresholds with a
// 200 ms refractory period and a search-back for missed beats. Used to derive a reference HR for MIMIC
// recordings that have an ECG but no numerics record (labels and their quality checks: ecg-labels.ts).

import { bandpass } from '../signal/filter';

export interface RPeakOptions {
  /** Refractory period in seconds (no two beats closer), default 0.2. */
  refractory?: number;
  /** Moving-window integration length in seconds, default 0.15. */
  integration?: number;
}

/** Sample indices of R peaks in `ecg` (finite values only; split at gaps before calling). */
export function detectRPeaks(ecg: ArrayLike<number>, fs: number, opts: RPeakOptions = {}): number[] {
  const n = ecg.length;
  if (!(fs >= 50)) throw new Error(`detectRPeaks: sampling rate ${fs} Hz is too low for QRS detection (need ≥ 50 Hz)`);
  if (n < Math.round(2 * fs)) return [];
  for (let i = 0; i < n; i++) if (!Number.isFinite(ecg[i])) throw new Error(`detectRPeaks: sample ${i} is not finite; split the ECG at gaps first`);
  const refractory = Math.round((opts.refractory ?? 0.2) * fs);
  const win = Math.max(1, Math.round((opts.integration ?? 0.15) * fs));
  const bp = bandpass(ecg, fs, 5, Math.min(15, fs / 2 - 1));
  // Five-point derivative, squared, integrated over `win` samples (trailing window).
  const sq = new Float64Array(n);
  for (let i = 4; i < n; i++) {
    const d = (2 * bp[i] + bp[i - 1] - bp[i - 3] - 2 * bp[i - 4]) / 8;
    sq[i] = d * d;
  }
  const mwi = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += sq[i] - (i >= win ? sq[i - win] : 0);
    mwi[i] = acc / win;
  }
  // Candidate peaks: local maxima of the integrated signal.
  const cands: number[] = [];
  for (let i = 1; i < n - 1; i++) if (mwi[i] > mwi[i - 1] && mwi[i] >= mwi[i + 1]) cands.push(i);
  // Thresholds start from the first two seconds (as in the original learning phase).
  const learn = Math.round(2 * fs);
  let maxLearn = 0;
  let meanLearn = 0;
  for (let i = 0; i < learn; i++) {
    maxLearn = Math.max(maxLearn, mwi[i]);
    meanLearn += mwi[i] / learn;
  }
  let spk = 0.25 * maxLearn;
  let npk = 0.5 * meanLearn;
  const beats: number[] = [];
  const tWave = Math.round(0.36 * fs);
  const slope = (i: number): number => {
    let m = 0;
    for (let k = Math.max(4, i - win); k <= i; k++) m = Math.max(m, sq[k]);
    return Math.sqrt(m);
  };
  const threshold = () => npk + 0.25 * (spk - npk);
  let rrMean = 0;
  for (const c of cands) {
    const last = beats.length ? beats[beats.length - 1] : -Infinity;
    if (c - last < refractory) {
      // Within the refractory period keep the larger of the two.
      if (beats.length && mwi[c] > mwi[last] && mwi[c] > threshold()) beats[beats.length - 1] = c;
      continue;
    }
    // T-wave check: within 360 ms of a beat, a candidate whose steepest slope is under half the beat's
    // is a T wave, not a QRS.
    if (beats.length && c - last < tWave && slope(c) < 0.5 * slope(last)) {
      npk = 0.125 * mwi[c] + 0.875 * npk;
      continue;
    }
    if (mwi[c] > threshold()) {
      spk = 0.125 * mwi[c] + 0.875 * spk;
      // Search back: a gap longer than 1.66 mean RR hides a beat below threshold; take the largest
      // candidate above half the threshold in that gap.
      if (beats.length >= 2 && rrMean > 0 && c - last > 1.66 * rrMean) {
        let best = -1;
        for (const b of cands) {
          if (b <= last + refractory || b >= c - refractory) continue;
          if (mwi[b] > 0.5 * threshold() && (best < 0 || mwi[b] > mwi[best])) best = b;
        }
        if (best >= 0) beats.push(best);
      }
      beats.push(c);
      if (beats.length >= 2) {
        const rr = beats[beats.length - 1] - beats[beats.length - 2];
        rrMean = rrMean === 0 ? rr : 0.875 * rrMean + 0.125 * rr;
      }
    } else {
      npk = 0.125 * mwi[c] + 0.875 * npk;
    }
  }
  // The integrated peak lags the R wave; place each beat at the largest |band-passed| sample in the
  // preceding integration window.
  return beats.map((b) => {
    let best = b;
    for (let i = Math.max(0, b - win); i <= b; i++) if (Math.abs(bp[i]) > Math.abs(bp[best])) best = i;
    return best;
  });
}
