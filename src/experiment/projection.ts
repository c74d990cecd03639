// 2-D projections of embeddings for the report's scatter plots: UMAP (umap-js) on a seeded, group-balanced
// subsample, so a plot stays readable and cheap whatever the size of the target set.
import { UMAP } from 'umap-js';
import { Rng } from '../util/random';
import type { Projection } from './results';

export function projectEmbeddings(
  emb: Float32Array, dim: number, groupOf: Int32Array, opts: { name: string; maxPerGroup: number; seed: number },
): Projection {
  const n = groupOf.length;
  if (emb.length !== n * dim) throw new Error(`projectEmbeddings: ${emb.length} values for ${n} rows of ${dim}`);
  const rng = new Rng(opts.seed);
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(i);
  }
  const rows: number[] = [];
  for (const idx of byGroup.values()) {
    rng.shuffle(idx);
    rows.push(...idx.slice(0, opts.maxPerGroup));
  }
  rows.sort((a, b) => a - b);
  const data = rows.map((i) => Array.from(emb.subarray(i * dim, (i + 1) * dim)));
  if (rows.length < 4) {
    return { embedding: opts.name, x: data.map((r) => r[0] ?? 0), y: data.map((r) => r[1] ?? 0), group: rows.map((i) => groupOf[i]) };
  }
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, rows.length - 1), minDist: 0.1, random: () => rng.uniform() });
  const xy = umap.fit(data);
  return { embedding: opts.name, x: xy.map((p) => p[0]), y: xy.map((p) => p[1]), group: rows.map((i) => groupOf[i]) };
}
