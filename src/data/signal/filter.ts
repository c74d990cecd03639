// Zero-phase Butterworth filtering as a cascade of biquads run forward then backward (as scipy's
// filtfilt does). Zero phase matters because the HR label and the pulse shape must not shift in time;
// the forward-backward pass squares the magnitude response (a 2nd-order section acts as a 4th-order one).

/** One second-order section, normalised so that a0 = 1: y = b0·x + b1·x₋₁ + b2·x₋₂ − a1·y₋₁ − a2·y₋₂. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function checkCutoff(fn: string, fc: number, fs: number): void {
  if (!(fs > 0) || !Number.isFinite(fs)) throw new Error(`${fn}: sampling rate must be positive, got ${fs}`);
  if (!(fc > 0 && fc < fs / 2)) throw new Error(`${fn}: cutoff ${fc} Hz must lie in (0, ${fs / 2}) Hz (Nyquist of ${fs} Hz)`);
}

function checkOrder(fn: string, order: number): void {
  if (!Number.isInteger(order) || order < 1 || order > 12) throw new Error(`${fn}: order must be an integer in [1, 12], got ${order}`);
}

/**
 * Butterworth sections via the bilinear transform (pre-warped at the cutoff). Poles come in conjugate
 * pairs with quality factors Q_k = 1 / (2 sin((2k+1)π / 2N)); an odd order adds one first-order section.
 */
function butterworth(kind: 'low' | 'high', order: number, fc: number, fs: number): Biquad[] {
  const w0 = (2 * Math.PI * fc) / fs;
  const cw = Math.cos(w0);
  const sw = Math.sin(w0);
  const out: Biquad[] = [];
  for (let k = 0; k < Math.floor(order / 2); k++) {
    const q = 1 / (2 * Math.sin(((2 * k + 1) * Math.PI) / (2 * order)));
    const alpha = sw / (2 * q);
    const a0 = 1 + alpha;
    const bb = kind === 'low' ? [(1 - cw) / 2, 1 - cw, (1 - cw) / 2] : [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2];
    out.push({ b0: bb[0] / a0, b1: bb[1] / a0, b2: bb[2] / a0, a1: (-2 * cw) / a0, a2: (1 - alpha) / a0 });
  }
  if (order % 2 === 1) {
    const kk = Math.tan(w0 / 2);
    const a1 = (kk - 1) / (kk + 1);
    const b0 = kind === 'low' ? kk / (1 + kk) : 1 / (1 + kk);
    out.push({ b0, b1: kind === 'low' ? b0 : -b0, b2: 0, a1, a2: 0 });
  }
  return out;
}

export function butterworthLowpass(order: number, fc: number, fs: number): Biquad[] {
  checkOrder('butterworthLowpass', order);
  checkCutoff('butterworthLowpass', fc, fs);
  return butterworth('low', order, fc, fs);
}

export function butterworthHighpass(order: number, fc: number, fs: number): Biquad[] {
  checkOrder('butterworthHighpass', order);
  checkCutoff('butterworthHighpass', fc, fs);
  return butterworth('high', order, fc, fs);
}

/** Band-pass = high-pass at `lo` then low-pass at `hi`, each of the given order (before doubling by filtfilt). */
export function butterworthBandpass(order: number, lo: number, hi: number, fs: number): Biquad[] {
  if (!(lo < hi)) throw new Error(`butterworthBandpass: low cutoff ${lo} Hz must be below high cutoff ${hi} Hz`);
  return [...butterworthHighpass(order, lo, fs), ...butterworthLowpass(order, hi, fs)];
}

/** Magnitude response |H(e^{jω})| of a cascade at frequency f (single pass). */
export function magnitudeResponse(sections: Biquad[], f: number, fs: number): number {
  const w = (2 * Math.PI * f) / fs;
  let mag = 1;
  for (const s of sections) {
    // Evaluate numerator and denominator polynomials in z^{-1} = e^{-jω}.
    const c1 = Math.cos(w), s1 = -Math.sin(w), c2 = Math.cos(2 * w), s2 = -Math.sin(2 * w);
    const nr = s.b0 + s.b1 * c1 + s.b2 * c2, ni = s.b1 * s1 + s.b2 * s2;
    const dr = 1 + s.a1 * c1 + s.a2 * c2, di = s.a1 * s1 + s.a2 * s2;
    mag *= Math.hypot(nr, ni) / Math.hypot(dr, di);
  }
  return mag;
}

/**
 * Run the cascade over x in place (direct form II transposed), starting each section in its steady
 * state for a constant input equal to x[0], so a DC offset does not ring at the start.
 */
function runCascade(sections: Biquad[], x: Float64Array): void {
  let u = x[0];
  for (const s of sections) {
    const gain = (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
    const yss = gain * u;
    let z2 = s.b2 * u - s.a2 * yss;
    let z1 = yss - s.b0 * u;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      const y = s.b0 * xi + z1;
      z1 = s.b1 * xi - s.a1 * y + z2;
      z2 = s.b2 * xi - s.a2 * y;
      x[i] = y;
    }
    u = yss;
  }
}

/**
 * Zero-phase filtering: the signal is extended at both ends by an odd reflection of `padSamples`
 * (default 0, capped at n − 1; the caller knows the slowest pole, see bandpass()), filtered forward,
 * reversed, filtered again, reversed, and the padding cut off. The reflection keeps the slope at the
 * ends continuous, so short clips do not start with a transient.
 */
export function filtfilt(sections: Biquad[], x: ArrayLike<number>, padSamples?: number): Float32Array {
  const n = x.length;
  if (n === 0) return new Float32Array(0);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`filtfilt: input sample ${i} is ${x[i]}; remove gaps (NaN) before filtering`);
  }
  const pad = Math.max(0, Math.min(n - 1, Math.round(padSamples ?? 0)));
  const ext = new Float64Array(n + 2 * pad);
  const x0 = x[0], xn = x[n - 1];
  for (let i = 0; i < pad; i++) ext[i] = 2 * x0 - x[pad - i];
  for (let i = 0; i < n; i++) ext[pad + i] = x[i];
  for (let i = 0; i < pad; i++) ext[pad + n + i] = 2 * xn - x[n - 2 - i];
  runCascade(sections, ext);
  ext.reverse();
  runCascade(sections, ext);
  ext.reverse();
  return Float32Array.from(ext.subarray(pad, pad + n));
}

/** Zero-phase band-pass (default PPG band 0.5–8 Hz), order 2 per edge, padding = 2 periods of `lo`. */
export function bandpass(x: ArrayLike<number>, fs: number, lo = 0.5, hi = 8, order = 2): Float32Array {
  const sections = butterworthBandpass(order, lo, hi, fs);
  return filtfilt(sections, x, Math.round((2 * fs) / lo));
}
