// One call that turns a target domain's predictions (and optionally embeddings) into the fairness
// report of DESIGN section 5, as a plain JSON-serialisable object (numbers, strings, arrays).
import { bootstrapErrorMetrics, type BootstrapOptions, type Interval } from './bootstrap';
import { gap, mae, perGroupMae, rmse, worstGroup } from './errors';
import { mmdBetweenGroups, type MmdOptions, type MmdResult } from './mmd';
import { silhouetteScore, type SilhouetteOptions, type SilhouetteResult } from './silhouette';
import { checkGroups, checkPredictions, checkSameLength, checkSeed, type Embedding } from '../../util/array-checks';

export interface EvaluateInput {
  /** [N] predicted HR, bpm. */
  pred: ArrayLike<number>;
  /** [N] reference HR, bpm. */
  hr: ArrayLike<number>;
  /** [N] group id of each window, an index into groupNames. */
  groupOf: ArrayLike<number>;
  groupNames: readonly string[];
  /** [N] subject of each window (the bootstrap's unit and, by default, MMD's permutation unit). */
  subjectIndex: ArrayLike<number>;
  /** Named embeddings with one row per window, e.g. { z: …, pooled: … }. */
  embeddings?: Record<string, Embedding>;
  /**
   * [N] cross-validation fold of each window, when the predictions pool several models (one per fold).
   * Error metrics pool every window; embedding metrics are taken within each fold (one model's space) and
   * combined: MMD² averaged with a fold-stratified permutation test, silhouette averaged over the folds.
   */
  foldOf?: ArrayLike<number>;
  seed: number;
  bootstrap?: Omit<BootstrapOptions, 'seed'>;
  /** permuteBy defaults to 'subject' here. */
  mmd?: Omit<MmdOptions, 'seed'>;
  silhouette?: Omit<SilhouetteOptions, 'seed'>;
}

export interface GroupReport {
  group: string;
  windows: number;
  subjects: number;
  mae: Interval;
}

export interface EmbeddingReport {
  dim: number;
  mmd: MmdResult;
  silhouette: SilhouetteResult;
}

export interface FairnessReport {
  windows: number;
  subjects: number;
  mae: Interval;
  rmse: Interval;
  perGroup: GroupReport[];
  /** |MAE_a − MAE_b| for two groups, max − min for more. */
  gap: Interval & { definition: 'abs difference' | 'max - min' };
  /**
   * The mean absolute deviation of the group MAEs from the overall MAE, (1/G)·Σ_g |MAE_g − MAE|: for
   * intersections (G > 2) it weighs every group, where max − min sees only the two extremes.
   */
  gapMad: Interval;
  /** The worst group at the point estimate; its interval is that of max_g MAE_g over replicates. */
  worstGroup: Interval & { group: string };
  bootstrap: { resamples: number; level: number; stratified: boolean; discarded: number; unit: 'subject' };
  embeddings: Record<string, EmbeddingReport>;
  seed: number;
}

/** The silhouette of each fold's rows (folds with 2 groups present), averaged weighted by the rows used. */
function silhouetteByFold(
  emb: Embedding, groupOf: ArrayLike<number>, groupNames: readonly string[], foldOf: ArrayLike<number>, options: SilhouetteOptions,
): SilhouetteResult {
  const folds = [...new Set(Array.from(foldOf))].sort((a, b) => a - b);
  const parts: SilhouetteResult[] = [];
  for (const f of folds) {
    const rows = Array.from(foldOf, (v, i) => (v === f ? i : -1)).filter((i) => i >= 0);
    const groups = rows.map((i) => groupOf[i]);
    if (new Set(groups).size < 2 || rows.length <= new Set(groups).size) continue;
    const data = new Float32Array(rows.length * emb.dim);
    rows.forEach((r, k) => data.set(emb.data.subarray(r * emb.dim, (r + 1) * emb.dim), k * emb.dim));
    parts.push(silhouetteScore({ data, dim: emb.dim }, groups, groupNames, { ...options, maxSamples: Math.max(2, Math.ceil((options.maxSamples ?? 1000) / folds.length)) }));
  }
  if (parts.length === 0) throw new Error('silhouette: no fold holds rows of 2 groups');
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  return {
    score: parts.reduce((a, p) => a + p.score * p.rows, 0) / rows,
    // Each fold lists only the groups it has rows of; a group absent from every fold is left out, as silhouetteScore does.
    perGroup: groupNames.map((group) => {
      const mine = parts.flatMap((p) => p.perGroup.filter((x) => x.group === group));
      const n = mine.reduce((a, x) => a + x.rows, 0);
      return { group, rows: n, score: n === 0 ? 0 : mine.reduce((a, x) => a + x.score * x.rows, 0) / n };
    }).filter((x) => x.rows > 0),
    rows,
  };
}

export function evaluateFairness(input: EvaluateInput): FairnessReport {
  const ctx = 'evaluateFairness';
  const { pred, hr, groupOf, groupNames, subjectIndex, seed } = input;
  const n = checkPredictions(ctx, pred, hr);
  checkSameLength(ctx, { pred, hr, groupOf, subjectIndex });
  checkSeed(ctx, seed);
  if (groupNames.length < 2) throw new Error(`${ctx}: fairness needs at least 2 groups, got ${groupNames.length} (${groupNames.join(', ')})`);
  const counts = checkGroups(ctx, groupOf, groupNames);

  const groupMae = perGroupMae(pred, hr, groupOf, groupNames);
  const worst = worstGroup(groupMae, groupNames);
  const boot = bootstrapErrorMetrics({ pred, hr, groupOf, groupNames, subjectIndex }, { ...input.bootstrap, seed });
  const subjectsPerGroup = groupNames.map(() => new Set<number>());
  for (let i = 0; i < n; i++) subjectsPerGroup[groupOf[i]].add(subjectIndex[i]);

  const embeddings: Record<string, EmbeddingReport> = {};
  for (const [name, emb] of Object.entries(input.embeddings ?? {})) {
    const label = `${ctx}: embedding "${name}"`;
    try {
      embeddings[name] = {
        dim: emb.dim,
        mmd: mmdBetweenGroups(emb, groupOf, groupNames, { permuteBy: 'subject', ...input.mmd, seed }, subjectIndex, input.foldOf),
        silhouette: input.foldOf === undefined
          ? silhouetteScore(emb, groupOf, groupNames, { ...input.silhouette, seed })
          : silhouetteByFold(emb, groupOf, groupNames, input.foldOf, { ...input.silhouette, seed }),
      };
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
  }

  return {
    windows: n,
    subjects: boot.subjects,
    // Point estimates from the plain metrics; the bootstrap supplies only the interval ends.
    mae: { ...boot.mae, estimate: mae(pred, hr) },
    rmse: { ...boot.rmse, estimate: rmse(pred, hr) },
    perGroup: groupNames.map((group, g) => ({
      group,
      windows: counts[g],
      subjects: subjectsPerGroup[g].size,
      mae: { ...boot.perGroupMae[g], estimate: groupMae[g] },
    })),
    gap: { ...boot.gap, estimate: gap(groupMae), definition: groupNames.length === 2 ? 'abs difference' : 'max - min' },
    gapMad: { ...boot.gapMad, estimate: groupMae.reduce((a, v) => a + Math.abs(v - mae(pred, hr)), 0) / groupMae.length },
    worstGroup: { ...boot.worstGroupMae, estimate: worst.mae, group: worst.name },
    bootstrap: { resamples: boot.resamples, level: boot.level, stratified: boot.stratified, discarded: boot.discarded, unit: 'subject' },
    embeddings,
    seed,
  };
}
