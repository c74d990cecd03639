// Model input preparation: every window is min–max scaled to [0, 1] on its own (as PPG-GPT does), so the
// model sees shape, not amplitude; a flat window maps to 0.5 rather than dividing by zero.
export function minMaxScaleWindows(raw: Float32Array, length: number, out: Float32Array = new Float32Array(raw.length)): Float32Array {
  if (length <= 0 || raw.length % length !== 0) throw new Error(`minMaxScaleWindows: ${raw.length} samples is not a whole number of windows of ${length}`);
  if (out.length !== raw.length) throw new Error(`minMaxScaleWindows: output holds ${out.length} samples, input ${raw.length}`);
  for (let off = 0; off < raw.length; off += length) {
    let lo = Infinity, hi = -Infinity;
    for (let i = off; i < off + length; i++) {
      const v = raw[i];
      if (!Number.isFinite(v)) throw new Error(`minMaxScaleWindows: window ${off / length} has a non-finite sample at ${i - off}`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo;
    for (let i = off; i < off + length; i++) out[i] = span > 0 ? (raw[i] - lo) / span : 0.5;
  }
  return out;
}
