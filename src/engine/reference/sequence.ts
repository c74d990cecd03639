// Ops that move whole token vectors along the sequence axis: the learned start token and mean pooling.
import type { Vec } from './types';

/** h[B,S,D] with h[:,0] = token and h[:,1:] = e[B,S−1,D]. */
export function startTokenForward(e: Vec, token: Vec, h: Vec, B: number, T: number, D: number): void {
  const S = T + 1;
  for (let b = 0; b < B; b++) {
    const ho = b * S * D;
    for (let c = 0; c < D; c++) h[ho + c] = token[c];
    for (let i = 0; i < T * D; i++) h[ho + D + i] = e[b * T * D + i];
  }
}

export function startTokenBackward(dh: Vec, de: Vec | null, dtoken: Vec | null, B: number, T: number, D: number): void {
  const S = T + 1;
  if (dtoken !== null) {
    for (let c = 0; c < D; c++) {
      let acc = 0;
      for (let b = 0; b < B; b++) acc += dh[b * S * D + c];
      dtoken[c] += acc;
    }
  }
  if (de !== null) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < T * D; i++) de[b * T * D + i] += dh[b * S * D + D + i];
    }
  }
}

/** z[B,D] = mean over S of h[B,S,D]. */
export function meanPoolForward(h: Vec, z: Vec, B: number, S: number, D: number): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < D; c++) {
      let acc = 0;
      for (let s = 0; s < S; s++) acc += h[(b * S + s) * D + c];
      z[b * D + c] = acc / S;
    }
  }
}

export function meanPoolBackward(dz: Vec, dh: Vec, B: number, S: number, D: number): void {
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      for (let c = 0; c < D; c++) dh[(b * S + s) * D + c] += dz[b * D + c] / S;
    }
  }
}
