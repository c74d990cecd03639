// RMSNorm (the blocks) and LayerNorm (the HR head) over the last dimension, with the per-row statistics
// saved for the backward. Statistics are computed in float64 with two passes (mean first), so the
// reference does not suffer the cancellation of E[x²] − E[x]² that a fast kernel might accept.
import type { Vec } from './types';

/** y = x·rstd·scale with rstd = 1/sqrt(mean(x²) + eps), rows of length D. */
export function rmsNormForward(x: Vec, scale: Vec, eps: number, y: Vec, rstd: Vec, N: number, D: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    let ss = 0;
    for (let c = 0; c < D; c++) ss += x[o + c] * x[o + c];
    const r = 1 / Math.sqrt(ss / D + eps);
    rstd[n] = r;
    for (let c = 0; c < D; c++) y[o + c] = x[o + c] * r * scale[c];
  }
}

/**
 * With x̂ = x·r and g = dy·scale: dx += r·(g − x̂·mean(g·x̂)), dscale += Σ_n dy·x̂. Uses the saved rstd
 * (as a fused kernel would) rather than recomputing it.
 */
export function rmsNormBackward(
  dy: Vec, x: Vec, scale: Vec, rstd: Vec, dx: Vec, dscale: Vec | null, N: number, D: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    const r = rstd[n];
    let dot = 0;
    for (let c = 0; c < D; c++) dot += dy[o + c] * scale[c] * x[o + c] * r;
    const meanDot = dot / D;
    for (let c = 0; c < D; c++) {
      const xh = x[o + c] * r;
      dx[o + c] += r * (dy[o + c] * scale[c] - xh * meanDot);
      if (dscale !== null) dscale[c] += dy[o + c] * xh;
    }
  }
}

/** y = (x − mean)·rstd·gamma + beta, biased variance, rows of length C. */
export function layerNormForward(
  x: Vec, gamma: Vec, beta: Vec, eps: number, y: Vec, mean: Vec, rstd: Vec, N: number, C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += x[o + c];
    const mu = s / C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[o + c] - mu) * (x[o + c] - mu);
    const r = 1 / Math.sqrt(v / C + eps);
    mean[n] = mu;
    rstd[n] = r;
    for (let c = 0; c < C; c++) y[o + c] = (x[o + c] - mu) * r * gamma[c] + beta[c];
  }
}

/** With g = dy·gamma: dx += rstd·(g − mean(g) − x̂·mean(g·x̂)), dgamma += Σ dy·x̂, dbeta += Σ dy. */
export function layerNormBackward(
  dy: Vec, x: Vec, gamma: Vec, mean: Vec, rstd: Vec, dx: Vec, dgamma: Vec | null, dbeta: Vec | null,
  N: number, C: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const mu = mean[n], r = rstd[n];
    let sg = 0, sgx = 0;
    for (let c = 0; c < C; c++) {
      const g = dy[o + c] * gamma[c];
      sg += g;
      sgx += g * (x[o + c] - mu) * r;
    }
    const mg = sg / C, mgx = sgx / C;
    for (let c = 0; c < C; c++) {
      const xh = (x[o + c] - mu) * r;
      dx[o + c] += r * (dy[o + c] * gamma[c] - mg - xh * mgx);
      if (dgamma !== null) dgamma[c] += dy[o + c] * xh;
      if (dbeta !== null) dbeta[c] += dy[o + c];
    }
  }
}
