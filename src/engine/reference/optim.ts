// Optimiser arithmetic: fused AdamW with PyTorch's semantics and the squared global norm for clipping.
import type { Vec } from './types';

export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  gradScale?: number;
  maxNorm?: number;
}

/**
 * The factor the gradient is read with when clipping on the device: gradScale·min(1, maxNorm/norm), or null
 * (no update at all) when the norm is not finite. Every backend computes it this way, in float64 where it can.
 */
export function clippedScale(gradScale: number, maxNorm: number, norm: number): number | null {
  if (!Number.isFinite(norm)) return null;
  return maxNorm > 0 && norm > maxNorm ? gradScale * (maxNorm / norm) : gradScale;
}

/**
 * torch.optim.AdamW: p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * p ← p − lr·(m/(1 − β1^t)) / (sqrt(v/(1 − β2^t)) + eps).
 */
export function adamwStep(param: Vec, grad: Vec, m: Vec, v: Vec, o: AdamWParams): void {
  const bc1 = 1 - Math.pow(o.beta1, o.step);
  const bc2 = 1 - Math.pow(o.beta2, o.step);
  const decay = 1 - o.lr * o.weightDecay;
  const scale = o.gradScale ?? 1;
  for (let i = 0; i < param.length; i++) {
    const g = scale * grad[i];
    const mi = o.beta1 * m[i] + (1 - o.beta1) * g;
    const vi = o.beta2 * v[i] + (1 - o.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - (o.lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + o.eps);
  }
}

/** sqrt(Σ x²) rounded to float32, as globalNorm stores it. */
export function globalNorm(arrays: readonly Vec[]): number {
  return Math.fround(Math.sqrt(sumSquares(arrays)));
}

export function sumSquares(arrays: readonly Vec[]): number {
  let s = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
