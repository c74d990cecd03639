// Cutting a signal into fixed-length windows with a hop, both given in seconds.

export interface Frame {
  /** First sample index. */
  start: number;
  /** One past the last sample index. */
  end: number;
  /** Start and end in seconds. */
  t0: number;
  t1: number;
}

/**
 * Windows of `seconds` every `hopSeconds` over n samples at fs. Only whole windows are returned; the
 * window length in samples must be an integer (seconds · fs), so that every window has the same size.
 */
export function frames(n: number, fs: number, seconds: number, hopSeconds = seconds): Frame[] {
  if (!(seconds > 0)) throw new Error(`frames: window length must be > 0 s, got ${seconds}`);
  if (!(hopSeconds > 0)) throw new Error(`frames: hop must be > 0 s, got ${hopSeconds}`);
  const len = seconds * fs;
  if (Math.abs(len - Math.round(len)) > 1e-9) throw new Error(`frames: ${seconds} s at ${fs} Hz is not a whole number of samples`);
  const L = Math.round(len);
  const hop = hopSeconds * fs;
  // A hop below one sample only repeats windows (and, at 1e-9 s, loops for minutes and fills memory): refused,
  // like a frame count that no array could hold, before any work.
  if (!(hop >= 1)) throw new Error(`frames: a hop of ${hopSeconds} s is less than one sample at ${fs} Hz (at least ${1 / fs} s)`);
  const count = n >= L ? Math.floor((n - L) / hop) + 1 : 0;
  if (count > 50_000_000) throw new Error(`frames: ${count} windows of ${seconds} s every ${hopSeconds} s are too many (over 50 million); use a larger hop`);
  const out: Frame[] = [];
  // Starts are rounded from k · hop (not accumulated) so a fractional hop never drifts.
  for (let k = 0; ; k++) {
    const start = Math.round(k * hop);
    if (start + L > n) break;
    out.push({ start, end: start + L, t0: start / fs, t1: (start + L) / fs });
  }
  return out;
}

/** Copy the frames of x into a row-major [frames.length · L] block. */
export function sliceFrames(x: ArrayLike<number>, fr: Frame[]): Float32Array {
  if (fr.length === 0) return new Float32Array(0);
  const L = fr[0].end - fr[0].start;
  const out = new Float32Array(fr.length * L);
  fr.forEach((f, i) => {
    if (f.end - f.start !== L) throw new Error('sliceFrames: frames differ in length');
    for (let j = 0; j < L; j++) out[i * L + j] = x[f.start + j];
  });
  return out;
}
