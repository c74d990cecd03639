// Fully connected layer in PyTorch layout, y[N,M] = x[N,K]·w[M,K]ᵀ + b[M]. patchEmbed is this with
// N = B·T rows of K = P samples, so it reuses these functions.
import type { Vec } from './types';

export function linearForward(x: Vec, w: Vec, b: Vec | null, y: Vec, N: number, K: number, M: number): void {
  for (let n = 0; n < N; n++) {
    const xo = n * K;
    for (let m = 0; m < M; m++) {
      const wo = m * K;
      let acc = b === null ? 0 : b[m];
      for (let k = 0; k < K; k++) acc += x[xo + k] * w[wo + k];
      y[n * M + m] = acc;
    }
  }
}

/**
 * dx += dy·w (or = with overwriteDx; gated by reluOf > 0 when given, as reluBackward gates, and then times
 * reluScale), dw += dyᵀ·x, db += Σ_n dy (or both = with overwriteDw; each skipped when null).
 */
export function linearBackward(
  dy: Vec, x: Vec, w: Vec, dx: Vec | null, dw: Vec | null, db: Vec | null, N: number, K: number, M: number, overwriteDx = false,
  reluOf: Vec | null = null, overwriteDw = false, reluScale = 1,
): void {
  if (dx !== null) {
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let m = 0; m < M; m++) acc += dy[n * M + m] * w[m * K + k];
        if (reluOf !== null) acc = reluOf[n * K + k] > 0 ? acc * reluScale : 0;
        dx[n * K + k] = overwriteDx ? acc : dx[n * K + k] + acc;
      }
    }
  }
  if (dw !== null) {
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc += dy[n * M + m] * x[n * K + k];
        dw[m * K + k] = overwriteDw ? acc : dw[m * K + k] + acc;
      }
    }
  }
  if (db !== null) {
    for (let m = 0; m < M; m++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[n * M + m];
      db[m] = overwriteDw ? acc : db[m] + acc;
    }
  }
}

/** y[g] = x·w[g]ᵀ + b[g] for g < G: G linear layers over one input (w [G,M,K], b [G,M], y [G,N,M]). */
export function linearFanoutForward(x: Vec, w: Vec, b: Vec | null, y: Vec, G: number, N: number, K: number, M: number): void {
  for (let g = 0; g < G; g++) {
    linearForward(x, w.subarray(g * M * K, (g + 1) * M * K), b === null ? null : b.subarray(g * M, (g + 1) * M),
      y.subarray(g * N * M, (g + 1) * N * M), N, K, M);
  }
}

/**
 * The backward of linearFanoutForward: dx (+)= Σ_g dy[g]·w[g] (overwriteDx: the first product overwrites,
 * the rest add), dw[g] (+)= dy[g]ᵀ·x, db[g] (+)= Σ_n dy[g].
 */
export function linearFanoutBackward(
  dy: Vec, x: Vec, w: Vec, dx: Vec | null, dw: Vec | null, db: Vec | null, G: number, N: number, K: number, M: number,
  overwriteDx = false, overwriteDw = false,
): void {
  for (let g = 0; g < G; g++) {
    const part = (v: Vec | null, size: number) => (v === null ? null : v.subarray(g * size, (g + 1) * size));
    linearBackward(part(dy, N * M)!, x, part(w, M * K)!, dx, part(dw, M * K), part(db, M), N, K, M, overwriteDx && g === 0, null, overwriteDw);
  }
}
