// ReLU (the MLP blocks) and exact GELU (the HR head): GELU(x) = x·Φ(x), Φ the standard normal CDF.
import { normalCdf, normalPdf } from './erf';
import type { Vec } from './types';

export function reluForward(x: Vec, y: Vec): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

/** Gates on the forward output (y > 0 ⇔ x > 0), so relu may have run in place. */
export function reluBackward(dy: Vec, y: Vec, dx: Vec): void {
  for (let i = 0; i < dy.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

export function geluForward(x: Vec, y: Vec): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] * normalCdf(x[i]);
}

/** d/dx x·Φ(x) = Φ(x) + x·φ(x). */
export function geluBackward(dy: Vec, x: Vec, dx: Vec): void {
  for (let i = 0; i < dy.length; i++) {
    const v = x[i];
    dx[i] = dy[i] * (normalCdf(v) + v * normalPdf(v));
  }
}
