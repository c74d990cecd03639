// Elementwise ops over whole tensors: the residual add, gradient accumulation, in-place scaling. Each reads
// element i before writing element i, so any output may alias an input.
import type { Vec } from './types';

export function addForward(a: Vec, b: Vec, y: Vec): void {
  for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
}

/** dst += alpha·src (also the gradient reversal, with alpha = −λ). */
export function accumulateInto(src: Vec, dst: Vec, alpha: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] += alpha * src[i];
}

export function scaleInPlace(x: Vec, s: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= s;
}
