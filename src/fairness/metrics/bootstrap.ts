// Subject-level bootstrap of the error metrics. Windows of one subject are strongly correlated, so the
// unit of resampling is the subject: a replicate draws subjects with replacement and takes all windows
// of each drawn subject. Each subject's per-group error sums are precomputed, so a replicate costs
// O(subjects · G), not O(windows).
import { streamRng, STREAM } from '../../train/sampling';
import { checkGroups, checkPositiveInt, checkPredictions, checkSameLength, checkSeed } from '../../util/array-checks';

export interface BootstrapOptions {
  /** Replicates (default 1000). */
  resamples?: number;
  /** Two-sided confidence level (default 0.95). */
  level?: number;
  /**
   * Resample subjects within each group (default true), so every replicate keeps each group's number of
   * subjects and no group can vanish. Needs every subject's windows to lie in one group (groups come
   * from subject attributes). Without it, replicates in which a group drew no subject are discarded and
   * counted in `discarded`.
   */
  stratify?: boolean;
  seed: number;
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

export interface BootstrapInput {
  pred: ArrayLike<number>;
  hr: ArrayLike<number>;
  groupOf: ArrayLike<number>;
  groupNames: readonly string[];
  /** [N] the subject of each window (any integer ids). */
  subjectIndex: ArrayLike<number>;
}

export interface BootstrapResult {
  mae: Interval;
  rmse: Interval;
  perGroupMae: Interval[];
  gap: Interval;
  /** Mean absolute deviation of the group MAEs from the overall MAE: a gap for any number of groups. */
  gapMad: Interval;
  worstGroupMae: Interval;
  resamples: number;
  level: number;
  stratified: boolean;
  discarded: number;
  subjects: number;
}

/** Quantile of sorted values with linear interpolation between order statistics (R's type 7). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) throw new Error('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Percentile interval of replicate values around a point estimate. */
export function percentileInterval(estimate: number, replicates: Float64Array, level: number): Interval {
  const sorted = Float64Array.from(replicates).sort();
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(sorted, tail), hi: quantileSorted(sorted, 1 - tail) };
}

/** Per-subject sufficient statistics: absolute and squared error sums and window counts per group. */
interface SubjectSums {
  subjects: number;
  groups: number;
  abs: Float64Array; // [S·G]
  count: Float64Array; // [S·G]
  sq: Float64Array; // [S]
  /** Group of each subject when it has windows in one group only, else −1. */
  onlyGroup: Int32Array;
}

function subjectSums(input: BootstrapInput): SubjectSums {
  const { pred, hr, groupOf, subjectIndex } = input;
  const G = input.groupNames.length;
  // Dense subject numbering in order of id keeps the replicates independent of window order.
  const ids = new Map<number, number>();
  const sortedIds = [...new Set(Array.from(subjectIndex))].sort((a, b) => a - b);
  sortedIds.forEach((id, k) => ids.set(id, k));
  const S = sortedIds.length;
  const abs = new Float64Array(S * G);
  const count = new Float64Array(S * G);
  const sq = new Float64Array(S);
  for (let i = 0; i < pred.length; i++) {
    const s = ids.get(subjectIndex[i]) as number;
    const e = pred[i] - hr[i];
    abs[s * G + groupOf[i]] += Math.abs(e);
    count[s * G + groupOf[i]] += 1;
    sq[s] += e * e;
  }
  const onlyGroup = new Int32Array(S).fill(-1);
  for (let s = 0; s < S; s++) {
    let found = -1;
    for (let g = 0; g < G; g++) {
      if (count[s * G + g] > 0) found = found === -1 ? g : -2;
    }
    onlyGroup[s] = found;
  }
  return { subjects: S, groups: G, abs, count, sq, onlyGroup };
}

/** MAE, RMSE, per-group MAE, gap and worst-group MAE of subjects drawn `mult[s]` times; null if a group is empty. */
function metricsOf(t: SubjectSums, mult: Float64Array, groupMae: Float64Array): { mae: number; rmse: number; gap: number; mad: number; worst: number } | null {
  const G = t.groups;
  let totAbs = 0;
  let totN = 0;
  let totSq = 0;
  const gAbs = new Float64Array(G);
  const gN = new Float64Array(G);
  for (let s = 0; s < t.subjects; s++) {
    const m = mult[s];
    if (m === 0) continue;
    totSq += m * t.sq[s];
    for (let g = 0; g < G; g++) {
      gAbs[g] += m * t.abs[s * G + g];
      gN[g] += m * t.count[s * G + g];
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let g = 0; g < G; g++) {
    if (gN[g] === 0) return null;
    totAbs += gAbs[g];
    totN += gN[g];
    groupMae[g] = gAbs[g] / gN[g];
    lo = Math.min(lo, groupMae[g]);
    hi = Math.max(hi, groupMae[g]);
  }
  const mae = totAbs / totN;
  let mad = 0;
  for (let g = 0; g < G; g++) mad += Math.abs(groupMae[g] - mae) / G;
  return { mae, rmse: Math.sqrt(totSq / totN), gap: G >= 2 ? hi - lo : 0, mad, worst: hi };
}

export function bootstrapErrorMetrics(input: BootstrapInput, options: BootstrapOptions): BootstrapResult {
  const ctx = 'bootstrapErrorMetrics';
  checkPredictions(ctx, input.pred, input.hr);
  checkSameLength(ctx, { pred: input.pred, groupOf: input.groupOf, subjectIndex: input.subjectIndex });
  checkGroups(ctx, input.groupOf, input.groupNames);
  for (let i = 0; i < input.subjectIndex.length; i++) {
    if (!Number.isSafeInteger(input.subjectIndex[i])) throw new Error(`${ctx}: subjectIndex[${i}] = ${input.subjectIndex[i]} is not an integer`);
  }
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const stratified = options.stratify ?? true;
  checkPositiveInt(ctx, 'resamples', resamples);
  checkSeed(ctx, options.seed);
  if (!(level > 0 && level < 1)) throw new Error(`${ctx}: level must be in (0, 1), got ${level}`);
  const G = input.groupNames.length;
  const t = subjectSums(input);

  // Strata: one per group when stratified, else all subjects together.
  const strata: number[][] = stratified ? Array.from({ length: G }, () => []) : [[]];
  for (let s = 0; s < t.subjects; s++) {
    if (!stratified) {
      strata[0].push(s);
      continue;
    }
    const g = t.onlyGroup[s];
    if (g < 0) {
      throw new Error(`${ctx}: a subject has windows in several groups, so subjects cannot be resampled within groups; use stratify: false`);
    }
    strata[g].push(s);
  }

  const ones = new Float64Array(t.subjects).fill(1);
  const pointGroup = new Float64Array(G);
  const point = metricsOf(t, ones, pointGroup);
  if (point === null) throw new Error(`${ctx}: a group has no windows`);

  const rng = streamRng(options.seed, STREAM.bootstrap);
  const rMae = new Float64Array(resamples);
  const rRmse = new Float64Array(resamples);
  const rGap = new Float64Array(resamples);
  const rMad = new Float64Array(resamples);
  const rWorst = new Float64Array(resamples);
  const rGroup = Array.from({ length: G }, () => new Float64Array(resamples));
  const mult = new Float64Array(t.subjects);
  const groupMae = new Float64Array(G);
  let kept = 0;
  let discarded = 0;
  // Without strata a replicate can lose a group; give up after many discards rather than loop forever.
  const maxDiscards = 10 * resamples;
  while (kept < resamples) {
    mult.fill(0);
    for (const members of strata) {
      for (let k = 0; k < members.length; k++) mult[members[rng.int(members.length)]] += 1;
    }
    const m = metricsOf(t, mult, groupMae);
    if (m === null) {
      if (++discarded > maxDiscards) {
        throw new Error(`${ctx}: over ${maxDiscards} replicates lost a whole group; there are too few subjects per group (use stratify: true)`);
      }
      continue;
    }
    rMae[kept] = m.mae;
    rRmse[kept] = m.rmse;
    rGap[kept] = m.gap;
    rMad[kept] = m.mad;
    rWorst[kept] = m.worst;
    for (let g = 0; g < G; g++) rGroup[g][kept] = groupMae[g];
    kept++;
  }
  return {
    mae: percentileInterval(point.mae, rMae, level),
    rmse: percentileInterval(point.rmse, rRmse, level),
    perGroupMae: rGroup.map((r, g) => percentileInterval(pointGroup[g], r, level)),
    gap: percentileInterval(point.gap, rGap, level),
    gapMad: percentileInterval(point.mad, rMad, level),
    worstGroupMae: percentileInterval(point.worst, rWorst, level),
    resamples,
    level,
    stratified,
    discarded,
    subjects: t.subjects,
  };
}
