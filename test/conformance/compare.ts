// The one float32-against-float64 comparison of the backend tests. A backend's result passes where
// |got − want| ≤ rtol·(|want| + mean|want|) elementwise: relative where values are large, absolute at the
// tensor's own scale where a sum of many terms cancels to near zero (float32 cannot do better there).

/** null when `got` is within rtol of `want` everywhere, else a description of the worst element. */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale += Math.abs(want[i]);
  scale = want.length > 0 ? scale / want.length : 0;
  let worst = -1, worstRatio = 1;
  for (let i = 0; i < want.length; i++) {
    const allowed = rtol * (Math.abs(want[i]) + scale) + 1e-30;
    const ratio = Math.abs(got[i] - want[i]) / allowed;
    // NaN compares false both ways: a NaN in either array is always the worst element.
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
    }
  }
  if (worst < 0) return null;
  return `element ${worst} of ${want.length} differs: got ${got[worst]}, expected ${want[worst]} ` +
    `(${worstRatio === Infinity ? 'not finite' : `${worstRatio.toPrecision(3)}× the allowed error`}, rtol ${rtol}, scale ${scale.toPrecision(3)})`;
}

/** A scalar against its float64 value, relative. */
export function scalarMismatch(got: number, want: number, rtol: number): string | null {
  return Math.abs(got - want) <= rtol * Math.max(Math.abs(want), 1e-30) ? null : `got ${got}, expected ${want} (rtol ${rtol})`;
}

/** Throws naming `what` when got and want differ beyond rtol. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-4): void {
  const m = mismatch(got, want, rtol);
  if (m !== null) throw new Error(`${what}: ${m}`);
}

/** max |a[i]|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |got[i] − want[i]|. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}

/** max |got − want| / max |want|: the whole-tensor error of the trace checks (check_trace.py's measure). */
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  return maxAbsDiff(got, want) / Math.max(maxAbs(want), 1e-30);
}
