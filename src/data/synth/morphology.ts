// Pulse shape: each beat is a sum of Gaussians (systolic wave, reflected diastolic wave, a small late
// wave). The gap between the first two makes the dicrotic notch; its depth and timing follow the
// subject's stiffness and the group effects (see subjects.ts). The shape stretches with the left-
// ventricular ejection time, LVET = 0.413 − 0.0017·HR s (Weissler's regression), not with the whole beat
// interval: systole shortens less than diastole as HR rises, so at 120 bpm the pulse fills more of the cycle
// and its 2nd harmonic grows, as in real ICU pleths (docs/synthetic-realism.md). A fixed-duration pulse
// would fill the whole period at high HR, which real pulses (fundamental strongest) do not.
import { Physiology } from './subjects';

export interface PulseWave {
  /** Offset of the wave's centre after the beat time (s), its width (sd, s) and amplitude. */
  centre: number;
  width: number;
  amp: number;
}

/** Ejection time at a beat interval, relative to its value at 0.85 s (70.6 bpm), where the shapes below are set. */
export function ejectionScale(ibi: number): number {
  const lvet = (i: number) => 0.413 - 0.0017 * (60 / i);
  return lvet(Math.min(1.6, Math.max(0.3, ibi))) / lvet(0.85);
}

export function pulseWaves(p: Physiology, ibi: number): PulseWave[] {
  const r = ejectionScale(ibi);
  const sys = { centre: 0.17 * r, width: 0.075 * r, amp: 1 };
  const dia = { centre: sys.centre + p.reflectionDelay * r, width: (0.105 + 0.02 * p.stiffness) * r, amp: p.reflectionAmp };
  const late = { centre: dia.centre + 0.14 * r, width: 0.1 * r, amp: 0.12 * p.reflectionAmp };
  return [sys, dia, late];
}

/** How far after the beat time a pulse still contributes (4 widths past the last wave). */
export function pulseSpan(waves: PulseWave[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const w of waves) {
    lo = Math.min(lo, w.centre - 4 * w.width);
    hi = Math.max(hi, w.centre + 4 * w.width);
  }
  return [lo, hi];
}
