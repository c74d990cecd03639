// Shared helpers for the signal tests: a least-squares sinusoid fit at a known frequency.

export function tone(n: number, fs: number, f: number, amp = 1, phase = 0.3): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * f * i) / fs + phase);
  return x;
}

/** Amplitude of the component at frequency f over x[from, to) (least squares on sin and cos). */
export function amplitudeAt(x: ArrayLike<number>, fs: number, f: number, from = 0, to = x.length): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * f * i) / fs), c = Math.cos((2 * Math.PI * f * i) / fs);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  return Math.hypot(a, b);
}

export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

/** Largest |x − fit| where fit is the best sinusoid at f: small only if x is that sinusoid. */
export function maxResidual(x: ArrayLike<number>, fs: number, f: number, from: number, to: number): number {
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * f * i) / fs), c = Math.cos((2 * Math.PI * f * i) / fs);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  let m = 0;
  for (let i = from; i < to; i++) {
    m = Math.max(m, Math.abs(x[i] - a * Math.sin((2 * Math.PI * f * i) / fs) - b * Math.cos((2 * Math.PI * f * i) / fs)));
  }
  return m;
}
