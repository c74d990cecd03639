// Partial interleaved rotary position embedding (DESIGN.md section 3, as rotary_embedding_torch with
// dim = d/2): of a head's d features the first r = d/2 rotate in pairs (2j, 2j+1), j < r/2, by the angle
// pos·10000^(−2j/r); features r..d−1 pass unchanged. The backward is the rotation by −angle (Rᵀ = R(−θ)).

export interface RopeTable {
  /** Head dimension d. */
  d: number;
  /** Pairs per head, r/2 = d/4. */
  pairs: number;
  /** cos and sin of pos·freq_j, indexed [pos·pairs + j]. */
  cos: Float64Array;
  sin: Float64Array;
}

export function ropeTable(S: number, d: number): RopeTable {
  const r = d / 2;
  const pairs = r / 2;
  const cos = new Float64Array(S * pairs);
  const sin = new Float64Array(S * pairs);
  for (let pos = 0; pos < S; pos++) {
    for (let j = 0; j < pairs; j++) {
      const angle = pos * Math.pow(10000, (-2 * j) / r);
      cos[pos * pairs + j] = Math.cos(angle);
      sin[pos * pairs + j] = Math.sin(angle);
    }
  }
  return { d, pairs, cos, sin };
}

/**
 * Rotates the head vector row[off .. off+d) in place for token position pos; direction −1 applies the
 * inverse rotation (the backward).
 */
export function ropeRotate(row: Float64Array, off: number, pos: number, table: RopeTable, direction: 1 | -1): void {
  for (let j = 0; j < table.pairs; j++) {
    const c = table.cos[pos * table.pairs + j];
    const s = direction * table.sin[pos * table.pairs + j];
    const x0 = row[off + 2 * j];
    const x1 = row[off + 2 * j + 1];
    row[off + 2 * j] = x0 * c - x1 * s;
    row[off + 2 * j + 1] = x1 * c + x0 * s;
  }
}
