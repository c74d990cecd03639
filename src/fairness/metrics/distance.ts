// Pairwise distances between embedding rows and seeded subsampling, the O(n²) core shared by MMD and
// the silhouette score; callers subsample first so that n stays in the hundreds or low thousands.
import type { Rng } from '../../util/random';
import type { Embedding } from '../../util/array-checks';

/** Squared Euclidean distances between the given rows, [n·n] symmetric with a zero diagonal (float64 sums). */
export function pairwiseSquaredDistances(emb: Embedding, rows: ArrayLike<number>): Float64Array {
  const n = rows.length;
  const E = emb.dim;
  const x = emb.data;
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = rows[i] * E;
    for (let j = i + 1; j < n; j++) {
      const oj = rows[j] * E;
      let s = 0;
      for (let e = 0; e < E; e++) {
        const d = x[oi + e] - x[oj + e];
        s += d * d;
      }
      d2[i * n + j] = s;
      d2[j * n + i] = s;
    }
  }
  return d2;
}

/** k distinct indices of [0, n), ascending (partial Fisher–Yates); all of them when k ≥ n. */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (k >= n) return idx;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/** Median of the strict upper triangle of an [n·n] matrix. */
export function medianUpperTriangle(m: Float64Array, n: number): number {
  const vals = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) vals[k++] = m[i * n + j];
  vals.sort();
  const mid = vals.length >> 1;
  return vals.length % 2 === 1 ? vals[mid] : 0.5 * (vals[mid - 1] + vals[mid]);
}
