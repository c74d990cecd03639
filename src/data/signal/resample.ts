// Anti-aliased rational resampling (polyphase FIR). The model only ever sees 40 Hz, and the sources
// arrive at 30, 64, 125 or 250 Hz, so every window passes through here once.
//
// Scheme: the rate ratio out/in is reduced by the gcd to L/M (upsample by L, filter, downsample by M).
// One Kaiser-windowed sinc low-pass at the virtual rate in·L removes both the images of the upsampling
// and anything above the new Nyquist; only the taps that meet a non-zero input sample are evaluated
// (the polyphase trick), so the cost is taps/L multiply-adds per output sample.

export interface ResampleOptions {
  /** Stop-band attenuation in dB of the anti-aliasing filter (default 60). */
  attenuationDb?: number;
  /**
   * Transition width as a fraction of the lower Nyquist frequency (default 0.15): the stop band starts
   * at the lower of the two Nyquist frequencies and the pass band ends this fraction below it.
   */
  transition?: number;
}

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for β < 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser's β for a given stop-band attenuation (Kaiser's empirical formula). */
export function kaiserBeta(attenuationDb: number): number {
  const a = attenuationDb;
  if (a > 50) return 0.1102 * (a - 8.7);
  if (a >= 21) return 0.5842 * Math.pow(a - 21, 0.4) + 0.07886 * (a - 21);
  return 0;
}

/**
 * Low-pass FIR (odd length, linear phase) with cutoff `cutoff` (cycles per sample at the filter's rate,
 * 0 < cutoff < 0.5), transition width `width` (same unit). DC gain = `gain`.
 */
export function kaiserLowpass(cutoff: number, width: number, attenuationDb: number, gain = 1): Float64Array {
  if (!(cutoff > 0 && cutoff < 0.5)) throw new Error(`kaiserLowpass: cutoff must be in (0, 0.5) cycles/sample, got ${cutoff}`);
  if (!(width > 0)) throw new Error(`kaiserLowpass: transition width must be > 0, got ${width}`);
  // Kaiser's length estimate, rounded up to odd so the delay is a whole number of samples.
  let n = Math.ceil((attenuationDb - 7.95) / (2.285 * 2 * Math.PI * width)) + 1;
  if (n % 2 === 0) n++;
  n = Math.max(n, 3);
  const beta = kaiserBeta(attenuationDb);
  const i0b = besselI0(beta);
  const mid = (n - 1) / 2;
  const h = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = i - mid;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const r = t / mid;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[i] = sinc * w;
    sum += h[i];
  }
  for (let i = 0; i < n; i++) h[i] *= gain / sum;
  return h;
}

interface Plan {
  up: number;
  down: number;
  taps: Float64Array;
}

const planCache = new Map<string, Plan>();

function plan(fromHz: number, toHz: number, opts: ResampleOptions): Plan {
  const att = opts.attenuationDb ?? 60;
  const tr = opts.transition ?? 0.15;
  const key = `${fromHz}|${toHz}|${att}|${tr}`;
  const hit = planCache.get(key);
  if (hit) return hit;
  const g = gcd(fromHz, toHz);
  const up = toHz / g;
  const down = fromHz / g;
  const virt = fromHz * up; // the rate at which the prototype filter runs
  const stop = Math.min(fromHz, toHz) / 2;
  const width = tr * stop;
  const cutoff = stop - width / 2;
  // Gain `up` restores the amplitude lost by inserting up−1 zeros between input samples.
  const taps = kaiserLowpass(cutoff / virt, width / virt, att, up);
  // Each output sample uses one residue class of taps (k ≡ phase mod up). Normalising every class to
  // sum 1 makes a constant pass exactly (no 1e-4 ripple at DC between phases, a "tone" at fs/up).
  for (let ph = 0; ph < up; ph++) {
    let s = 0;
    for (let k = ph; k < taps.length; k += up) s += taps[k];
    for (let k = ph; k < taps.length; k += up) taps[k] /= s;
  }
  const p = { up, down, taps };
  planCache.set(key, p);
  return p;
}

/** Number of output samples resample() produces for n input samples. */
export function resampledLength(n: number, fromHz: number, toHz: number): number {
  const g = gcd(fromHz, toHz);
  return Math.ceil((n * (toHz / g)) / (fromHz / g));
}

/**
 * Resample `x` from `fromHz` to `toHz` (both positive integers). Output sample m sits at time m/toHz,
 * the same time origin as the input (the filter's delay is compensated). Beyond the ends, the signal is
 * held at its first/last value, which avoids the step a zero padding would put into short clips.
 * NaN in the input spreads over the filter's support in the output (gaps stay visible as NaN).
 */
export function resample(x: ArrayLike<number>, fromHz: number, toHz: number, opts: ResampleOptions = {}): Float32Array {
  for (const [name, v] of [['fromHz', fromHz], ['toHz', toHz]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`resample: ${name} must be a positive integer rate in Hz, got ${v}`);
  }
  const n = x.length;
  if (n === 0) return new Float32Array(0);
  if (fromHz === toHz) return Float32Array.from(x);
  const { up, down, taps } = plan(fromHz, toHz, opts);
  const nt = taps.length;
  const delay = (nt - 1) / 2;
  const outLen = resampledLength(n, fromHz, toHz);
  const y = new Float32Array(outLen);
  const last = n - 1;
  for (let m = 0; m < outLen; m++) {
    // y[m] = Σ_k taps[k] · xu[m·down + delay − k], where xu[j] = x[j/up] when up divides j, else 0.
    const centre = m * down + delay;
    // The first k with (centre − k) ≡ 0 (mod up):
    let k = centre % up;
    let acc = 0;
    for (; k < nt; k += up) {
      let i = (centre - k) / up;
      if (i < 0) i = 0;
      else if (i > last) i = last;
      acc += taps[k] * x[i];
    }
    y[m] = acc;
  }
  return y;
}
