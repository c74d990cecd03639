// Causal multi-head attention with RoPE on q and k, written the plain way: per (batch, head) the whole
// S×S probability matrix is formed in float64. Being the oracle, it recomputes everything in the backward
// from q, k and v (it does not trust the saved out and lse), so a wrong out/lse from a fused kernel cannot
// make the reference agree with it.
// Layout: q, k, v, out [B,S,D] with H heads of d = D/H side by side in D; lse [B,H,S].
// Dropout on the probabilities: element ((b·H + h)·S + i)·S + j of the Philox mask for query i, key j.
import type { DropoutKey } from '../backend';
import { dropoutMask } from '../philox';
import { RopeTable, ropeRotate, ropeTable } from '../rope';
import type { Vec } from './types';

export interface AttentionShape {
  B: number;
  S: number;
  H: number;
  D: number;
}

export interface AttentionDrop {
  p: number;
  key: DropoutKey;
}

/** Copies head h of batch b from x[B,S,D] into a [S,d] float64 matrix, rotating when a table is given. */
function gatherHead(x: Vec, b: number, h: number, shape: AttentionShape, rope: RopeTable | null): Float64Array {
  const { S, D } = shape;
  const d = D / shape.H;
  const m = new Float64Array(S * d);
  for (let s = 0; s < S; s++) {
    const src = (b * S + s) * D + h * d;
    for (let c = 0; c < d; c++) m[s * d + c] = x[src + c];
    if (rope !== null) ropeRotate(m, s * d, s, rope, 1);
  }
  return m;
}

/** Adds a [S,d] matrix into head h of batch b of x[B,S,D], un-rotating each row first when a table is given. */
/** Rotates a head's gradient back by −angle and adds it into x (or writes it, with overwrite). */
function scatterHead(m: Float64Array, x: Vec, b: number, h: number, shape: AttentionShape, rope: RopeTable | null, overwrite: boolean): void {
  const { S, D } = shape;
  const d = D / shape.H;
  for (let s = 0; s < S; s++) {
    if (rope !== null) ropeRotate(m, s * d, s, rope, -1);
    const dst = (b * S + s) * D + h * d;
    for (let c = 0; c < d; c++) x[dst + c] = overwrite ? m[s * d + c] : x[dst + c] + m[s * d + c];
  }
}

/** Probabilities P[i, j] (j ≤ i, zero above the diagonal) and the row logsumexps, from rotated Q, K. */
function probabilities(Q: Float64Array, K: Float64Array, S: number, d: number): { P: Float64Array; lse: Float64Array } {
  const scale = 1 / Math.sqrt(d);
  const P = new Float64Array(S * S);
  const lse = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    let max = -Infinity;
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += Q[i * d + c] * K[j * d + c];
      const score = dot * scale;
      P[i * S + j] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    for (let j = 0; j <= i; j++) sum += Math.exp(P[i * S + j] - max);
    const l = max + Math.log(sum);
    lse[i] = l;
    for (let j = 0; j <= i; j++) P[i * S + j] = Math.exp(P[i * S + j] - l);
  }
  return { P, lse };
}

/** Multiplier of P[i, j] after dropout: keep/(1 − p), or 1 without dropout. */
function dropScale(shape: AttentionShape, b: number, h: number, drop: AttentionDrop | undefined): Float64Array {
  const { S, H } = shape;
  const f = new Float64Array(S * S).fill(1);
  if (drop === undefined || drop.p === 0) return f;
  const keep = new Uint8Array(S * S);
  dropoutMask(drop.key, drop.p, (b * H + h) * S * S, keep);
  const s = 1 / (1 - drop.p);
  for (let i = 0; i < S * S; i++) f[i] = keep[i] ? s : 0;
  return f;
}

export function ropeAttentionForward(
  q: Vec, k: Vec, v: Vec, shape: AttentionShape, out: Vec, lse: Vec, drop?: AttentionDrop,
): void {
  const { B, S, H, D } = shape;
  const d = D / H;
  const rope = ropeTable(S, d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const Q = gatherHead(q, b, h, shape, rope);
      const K = gatherHead(k, b, h, shape, rope);
      const V = gatherHead(v, b, h, shape, null);
      const { P, lse: rowLse } = probabilities(Q, K, S, d);
      const f = dropScale(shape, b, h, drop);
      for (let i = 0; i < S; i++) {
        lse[(b * H + h) * S + i] = rowLse[i];
        const dst = (b * S + i) * D + h * d;
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j <= i; j++) acc += P[i * S + j] * f[i * S + j] * V[j * d + c];
          out[dst + c] = acc;
        }
      }
    }
  }
}

/**
 * dv += Pdᵀ·dout; dP = (dout·Vᵀ)∘f; dScore = P∘(dP − rowsum(P∘dP))/√d; dq_rot += dScore·K_rot,
 * dk_rot += dScoreᵀ·Q_rot, then rotated back by −angle into dq, dk. (rowsum(P∘dP) equals
 * rowsum(dout∘out), the FlashAttention-2 "D" term, but is computed here from its definition.)
 * overwrite: dq, dk, dv are written rather than added to.
 */
export function ropeAttentionBackward(
  dout: Vec, q: Vec, k: Vec, v: Vec, shape: AttentionShape, dq: Vec, dk: Vec, dv: Vec, drop?: AttentionDrop, overwrite = false,
): void {
  const { B, S, H, D } = shape;
  const d = D / H;
  const scale = 1 / Math.sqrt(d);
  const rope = ropeTable(S, d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const Q = gatherHead(q, b, h, shape, rope);
      const K = gatherHead(k, b, h, shape, rope);
      const V = gatherHead(v, b, h, shape, null);
      const dO = gatherHead(dout, b, h, shape, null);
      const { P } = probabilities(Q, K, S, d);
      const f = dropScale(shape, b, h, drop);
      const dQ = new Float64Array(S * d);
      const dK = new Float64Array(S * d);
      const dV = new Float64Array(S * d);
      const dP = new Float64Array(S);
      for (let i = 0; i < S; i++) {
        let rowDot = 0;
        for (let j = 0; j <= i; j++) {
          const pd = P[i * S + j] * f[i * S + j];
          let g = 0;
          for (let c = 0; c < d; c++) {
            g += dO[i * d + c] * V[j * d + c];
            dV[j * d + c] += pd * dO[i * d + c];
          }
          dP[j] = g * f[i * S + j];
          rowDot += P[i * S + j] * dP[j];
        }
        for (let j = 0; j <= i; j++) {
          const ds = P[i * S + j] * (dP[j] - rowDot) * scale;
          for (let c = 0; c < d; c++) {
            dQ[i * d + c] += ds * K[j * d + c];
            dK[j * d + c] += ds * Q[i * d + c];
          }
        }
      }
      scatterHead(dQ, dq, b, h, shape, rope, overwrite);
      scatterHead(dK, dk, b, h, shape, rope, overwrite);
      scatterHead(dV, dv, b, h, shape, null, overwrite);
    }
  }
}
