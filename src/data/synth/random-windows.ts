// Random smooth pseudo-PPG windows for engine checks and demos (traces, the overfit demo, tests): not a
// cohort (see cohort.ts for realistic synthetic PPG), just signals on which min–max scaling is well posed.
import type { Rng } from '../../util/random';

/** Smooth pseudo-PPG: a few random sinusoids plus noise, so that min–max scaling is well conditioned. */
export function randomWindows(rng: Rng, B: number, length: number): Float32Array {
  const x = new Float32Array(B * length);
  for (let b = 0; b < B; b++) {
    const f = 0.8 + 2 * rng.uniform(), ph = 2 * Math.PI * rng.uniform(), f2 = 2 * f, a2 = 0.3 * rng.uniform();
    for (let i = 0; i < length; i++) {
      const t = i / 40;
      x[b * length + i] = Math.sin(2 * Math.PI * f * t + ph) + a2 * Math.sin(2 * Math.PI * f2 * t) + 0.05 * rng.normal();
    }
  }
  return x;
}
