// Per-window scaling. The model min–max scales every window to [0, 1] itself (section 3 of DESIGN.md);
// z-scoring is what the classical estimator and the plots use. Both work on one window or on a
// row-major [N · length] block of windows.

function checkBlock(fn: string, data: ArrayLike<number>, length: number): number {
  if (!Number.isInteger(length) || length <= 0) throw new Error(`${fn}: window length must be a positive integer, got ${length}`);
  if (data.length % length !== 0) throw new Error(`${fn}: ${data.length} samples is not a whole number of windows of ${length}`);
  return data.length / length;
}

/** (x − mean) / std per window; a flat window (std < 1e-12) becomes all zeros rather than NaN. */
export function standardizeWindows(data: ArrayLike<number>, length: number): Float32Array {
  const n = checkBlock('standardizeWindows', data, length);
  const out = new Float32Array(data.length);
  for (let w = 0; w < n; w++) {
    const o = w * length;
    let mean = 0;
    for (let i = 0; i < length; i++) mean += data[o + i];
    mean /= length;
    let v = 0;
    for (let i = 0; i < length; i++) v += (data[o + i] - mean) ** 2;
    const sd = Math.sqrt(v / length);
    const inv = sd < 1e-12 ? 0 : 1 / sd;
    for (let i = 0; i < length; i++) out[o + i] = (data[o + i] - mean) * inv;
  }
  return out;
}

/** (x − min) / (max − min) per window into [0, 1]; a flat window becomes all 0.5. */
export function minMaxWindows(data: ArrayLike<number>, length: number): Float32Array {
  const n = checkBlock('minMaxWindows', data, length);
  const out = new Float32Array(data.length);
  for (let w = 0; w < n; w++) {
    const o = w * length;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < length; i++) {
      const v = data[o + i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    if (!(range > 1e-12)) {
      out.fill(0.5, o, o + length);
      continue;
    }
    for (let i = 0; i < length; i++) out[o + i] = (data[o + i] - lo) / range;
  }
  return out;
}

export function standardize(x: ArrayLike<number>): Float32Array {
  return standardizeWindows(x, x.length);
}

export function minMaxScale(x: ArrayLike<number>): Float32Array {
  return minMaxWindows(x, x.length);
}
