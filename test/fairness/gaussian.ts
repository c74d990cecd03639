// Test data: rows of independent normals, optionally shifted, as an embedding matrix.
import { Rng } from '../../src/util/random';
import type { Embedding } from '../../src/fairness/metrics';

export function gaussianRows(rows: number, dim: number, seed: number, shift = 0, std = 1): Embedding {
  const data = new Rng(seed).fillNormal(new Float32Array(rows * dim), std, shift);
  return { data, dim };
}

/** Stacks embeddings and returns group ids 0, 1, … for their rows. */
export function stack(...parts: Embedding[]): { emb: Embedding; groupOf: Int32Array } {
  const dim = parts[0].dim;
  const total = parts.reduce((s, p) => s + p.data.length, 0);
  const data = new Float32Array(total);
  const groupOf = new Int32Array(total / dim);
  let off = 0;
  parts.forEach((p, g) => {
    data.set(p.data, off);
    groupOf.fill(g, off / dim, (off + p.data.length) / dim);
    off += p.data.length;
  });
  return { emb: { data, dim }, groupOf };
}
