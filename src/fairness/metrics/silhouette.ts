// Silhouette score of embeddings labelled by group: how far apart the groups sit in the representation.
// s_i = (b_i − a_i) / max(a_i, b_i) with a_i the mean Euclidean distance from i to the other members of
// its group and b_i the smallest mean distance from i to another group; s_i = 0 for a group of one (the
// convention of Rousseeuw and scikit-learn). Near 1: groups separate cleanly; near 0: they overlap.
import { streamRng, STREAM } from '../../train/sampling';
import { pairwiseSquaredDistances, sampleWithoutReplacement } from './distance';
import { checkEmbedding, checkPositiveInt, checkSeed, type Embedding } from '../../util/array-checks';

export interface SilhouetteOptions {
  /** Rows kept (default 1000), drawn per group in proportion to its size with at least 2 (or all) from each. */
  maxSamples?: number;
  seed: number;
}

export interface SilhouetteResult {
  /** Mean s_i over the rows used. */
  score: number;
  /** Mean s_i over each group's rows, in group order. */
  perGroup: { group: string; score: number; rows: number }[];
  rows: number;
}

/** Stratified subsample: each group keeps round(n_g · max / N) rows, at least min(n_g, 2). */
function stratifiedRows(members: Int32Array[], total: number, maxSamples: number, seed: number): Int32Array[] {
  if (total <= maxSamples) return members;
  return members.map((rows, g) => {
    const k = Math.max(Math.min(rows.length, 2), Math.round((rows.length * maxSamples) / total));
    const pick = sampleWithoutReplacement(rows.length, k, streamRng(seed, STREAM.silhouetteSubsample, g));
    return Int32Array.from(pick, (i) => rows[i]);
  });
}

export function silhouetteScore(emb: Embedding, groupOf: ArrayLike<number>, groupNames: readonly string[], options: SilhouetteOptions): SilhouetteResult {
  const ctx = 'silhouetteScore';
  const maxSamples = options.maxSamples ?? 1000;
  checkPositiveInt(ctx, 'maxSamples', maxSamples);
  checkSeed(ctx, options.seed);
  const N = groupOf.length;
  checkEmbedding(ctx, emb, N);
  const G = groupNames.length;
  const members: number[][] = Array.from({ length: G }, () => []);
  for (let i = 0; i < N; i++) {
    const g = groupOf[i];
    if (!Number.isInteger(g) || g < 0 || g >= G) throw new Error(`${ctx}: groupOf[${i}] = ${g} is not a group id in [0, ${G})`);
    members[g].push(i);
  }
  const present = members.filter((m) => m.length > 0).length;
  if (present < 2) throw new Error(`${ctx}: needs rows from at least 2 groups, got ${present}`);
  const kept = stratifiedRows(members.map((m) => Int32Array.from(m)), N, maxSamples, options.seed);
  const n = kept.reduce((s, m) => s + m.length, 0);
  if (n <= present) throw new Error(`${ctx}: needs more rows (${n}) than groups (${present})`);
  const rows = new Int32Array(n);
  const label = new Int32Array(n);
  let k = 0;
  kept.forEach((m, g) => {
    for (const r of m) {
      rows[k] = r;
      label[k++] = g;
    }
  });
  const d2 = pairwiseSquaredDistances(emb, rows);
  const size = kept.map((m) => m.length);
  const sumTo = new Float64Array(G);
  const perSum = new Float64Array(G);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sumTo.fill(0);
    const base = i * n;
    for (let j = 0; j < n; j++) sumTo[label[j]] += Math.sqrt(d2[base + j]);
    const own = label[i];
    let s = 0;
    if (size[own] > 1) {
      const a = sumTo[own] / (size[own] - 1);
      let b = Infinity;
      for (let g = 0; g < G; g++) if (g !== own && size[g] > 0) b = Math.min(b, sumTo[g] / size[g]);
      const denom = Math.max(a, b);
      s = denom > 0 ? (b - a) / denom : 0;
    }
    total += s;
    perSum[own] += s;
  }
  const perGroup = groupNames.map((group, g) => ({ group, score: size[g] > 0 ? perSum[g] / size[g] : 0, rows: size[g] }));
  return { score: total / n, perGroup: perGroup.filter((p) => p.rows > 0), rows: n };
}
