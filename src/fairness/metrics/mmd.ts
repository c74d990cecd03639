// Maximum mean discrepancy between the embeddings of groups: do the groups occupy the same region of
// the representation? Gaussian kernel k(x, y) = exp(−‖x − y‖² / (2σ²)) with the median heuristic
// σ² = median(‖x − y‖²) / 2 over the pooled rows of the two groups compared, so that the kernel is e^−1
// at the median distance. The statistic is the unbiased MMD²_u of Gretton et al. (2012) by default, or the
// biased MMD²_b (the V-statistic, diagonal included: larger by about (2 − …)/m on small samples), which some
// papers report; the estimator is named in every result. The p-value
// comes from permuting group labels: over windows, or (default in evaluateFairness) over whole subjects,
// because windows of one subject are not exchangeable with each other's labels.
import { streamRng, STREAM } from '../../train/sampling';
import type { Rng } from '../../util/random';
import { medianUpperTriangle, pairwiseSquaredDistances, sampleWithoutReplacement } from './distance';
import { checkEmbedding, checkGroups, checkPositiveInt, checkSameLength, checkSeed, type Embedding } from '../../util/array-checks';

export type PermuteBy = 'window' | 'subject';

/** MMD²_u (U-statistic, unbiased, may be negative) or MMD²_b (V-statistic, biased upward, ≥ 0). */
export type MmdEstimator = 'unbiased' | 'biased';

export interface MmdOptions {
  /** Label permutations for the p-value (default 500). */
  permutations?: number;
  /** Rows kept per group, drawn without replacement (default 500): the cost is O((2·maxPerGroup)² · E). */
  maxPerGroup?: number;
  /** Unit whose labels are permuted (default 'window'; 'subject' needs subjectIndex). */
  permuteBy?: PermuteBy;
  /** Default 'unbiased'. */
  estimator?: MmdEstimator;
  seed: number;
}

export interface MmdPair {
  a: string;
  b: string;
  mmd2: number;
  pValue: number;
  /** Kernel bandwidth σ² used for this pair. */
  sigma2: number;
  rowsA: number;
  rowsB: number;
  /** Permutations that produced a valid statistic (each side ≥ 2 rows). */
  permutations: number;
}

export interface MmdResult {
  /** MMD² of the two groups, or the largest pairwise MMD² for more than two. */
  mmd2: number;
  /** The pair that gave mmd2. */
  pair: [string, string];
  /**
   * Two groups: the pair's permutation p-value. More: min(1, P · min over pairs of p), the Bonferroni-
   * corrected evidence that any pair differs (which need not be the pair with the largest MMD²).
   */
  pValue: number;
  pairs: MmdPair[];
  permuteBy: PermuteBy;
  estimator: MmdEstimator;
  summary: 'single pair' | 'max over pairs';
  bandwidth: 'sigma^2 = median(squared distance) / 2 over the pooled rows of each pair';
}

/**
 * Median heuristic bandwidth σ² = median(d²)/2 over the strict upper triangle. Falls back to half the mean
 * of the non-zero d² when over half the pairs coincide, and to 1 when all rows are equal (MMD² is then 0).
 */
export function medianHeuristicSigma2(d2: Float64Array, n: number): number {
  const med = medianUpperTriangle(d2, n);
  if (med > 0) return med / 2;
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = d2[i * n + j];
      if (v > 0) {
        s += v;
        c++;
      }
    }
  }
  return c > 0 ? s / c / 2 : 1;
}

/** K = exp(−d² / (2σ²)) in place over a copy of d². */
export function gaussianKernel(d2: Float64Array, sigma2: number): Float64Array {
  const K = new Float64Array(d2.length);
  const c = -1 / (2 * sigma2);
  for (let i = 0; i < d2.length; i++) K[i] = Math.exp(c * d2[i]);
  return K;
}

/**
 * MMD² from an [n·n] kernel matrix and 0/1 labels (0 = X, 1 = Y). Unbiased:
 *   Σ_{i≠j∈X} k/(m(m−1)) + Σ_{i≠j∈Y} k/(q(q−1)) − 2 Σ_{i∈X, j∈Y} k/(m q);
 * biased: the same sums over all i, j (diagonal k(x, x) included) divided by m², q² and m q.
 * Returns null when a side has fewer than 2 rows (the unbiased estimator is undefined; both are refused so
 * that the two estimators cover the same cases).
 */
export function mmd2FromKernel(K: Float64Array, n: number, isY: Float64Array, estimator: MmdEstimator = 'unbiased'): number | null {
  let sXX = 0;
  let sYY = 0;
  let sXY = 0;
  let q = 0;
  for (let i = 0; i < n; i++) q += isY[i];
  const m = n - q;
  if (m < 2 || q < 2) return null;
  for (let i = 0; i < n; i++) {
    let tot = 0;
    let toY = 0;
    const base = i * n;
    for (let j = i + 1; j < n; j++) {
      const k = K[base + j];
      tot += k;
      toY += k * isY[j];
    }
    if (isY[i] === 0) {
      sXX += tot - toY;
      sXY += toY;
    } else {
      sXY += tot - toY;
      sYY += toY;
    }
  }
  // The sums run over i < j, so within-group sums count each unordered pair once: double them.
  if (estimator === 'unbiased') return (2 * sXX) / (m * (m - 1)) + (2 * sYY) / (q * (q - 1)) - (2 * sXY) / (m * q);
  let dX = 0, dY = 0;
  for (let i = 0; i < n; i++) {
    if (isY[i] === 0) dX += K[i * n + i];
    else dY += K[i * n + i];
  }
  return (2 * sXX + dX) / (m * m) + (2 * sYY + dY) / (q * q) - (2 * sXY) / (m * q);
}

/**
 * Permutation test on a kernel matrix. `unitOf[i]` is the exchangeable unit of row i (its own index for
 * window-level permutation, its subject for subject-level); labels are shuffled among units.
 */
export function mmdPermutationTest(
  K: Float64Array,
  n: number,
  isY: Float64Array,
  unitOf: Int32Array,
  permutations: number,
  rng: Rng,
  estimator: MmdEstimator = 'unbiased',
): { mmd2: number; pValue: number; permutations: number } {
  const observed = mmd2FromKernel(K, n, isY, estimator);
  if (observed === null) throw new Error('mmd: each group needs at least 2 rows');
  let units = 0;
  for (let i = 0; i < n; i++) units = Math.max(units, unitOf[i] + 1);
  const unitLabel = new Float64Array(units).fill(-1);
  for (let i = 0; i < n; i++) {
    const u = unitOf[i];
    if (unitLabel[u] !== -1 && unitLabel[u] !== isY[i]) {
      throw new Error(`mmd: unit ${u} (a subject) has rows in both groups compared, so its label cannot be permuted as a whole`);
    }
    unitLabel[u] = isY[i];
  }
  const perm = new Float64Array(n);
  let atLeast = 0;
  let valid = 0;
  for (let p = 0; p < permutations; p++) {
    for (let u = units - 1; u > 0; u--) {
      const j = rng.int(u + 1);
      const t = unitLabel[u];
      unitLabel[u] = unitLabel[j];
      unitLabel[j] = t;
    }
    for (let i = 0; i < n; i++) perm[i] = unitLabel[unitOf[i]];
    const s = mmd2FromKernel(K, n, perm, estimator);
    if (s === null) continue;
    valid++;
    if (s >= observed) atLeast++;
  }
  return { mmd2: observed, pValue: (1 + atLeast) / (1 + valid), permutations: valid };
}

function optionsOf(ctx: string, options: MmdOptions): Required<MmdOptions> {
  const o = {
    permutations: options.permutations ?? 500, maxPerGroup: options.maxPerGroup ?? 500, permuteBy: options.permuteBy ?? 'window',
    estimator: options.estimator ?? 'unbiased', seed: options.seed,
  };
  if (o.estimator !== 'unbiased' && o.estimator !== 'biased') throw new Error(`${ctx}: estimator must be 'unbiased' or 'biased', got ${JSON.stringify(o.estimator)}`);
  checkPositiveInt(ctx, 'permutations', o.permutations);
  checkPositiveInt(ctx, 'maxPerGroup', o.maxPerGroup);
  if (o.maxPerGroup < 2) throw new Error(`${ctx}: maxPerGroup must be at least 2, got ${o.maxPerGroup}`);
  if (o.permuteBy !== 'window' && o.permuteBy !== 'subject') throw new Error(`${ctx}: permuteBy must be 'window' or 'subject', got ${JSON.stringify(o.permuteBy)}`);
  checkSeed(ctx, o.seed);
  return o;
}

/** One stratum of a pair's test: its kernel matrix, labels and permutation units. */
interface Stratum {
  K: Float64Array;
  n: number;
  isY: Float64Array;
  /** Label of each unit (0/1), shuffled in place by the permutations. */
  unitLabel: Float64Array;
  unitOf: Int32Array;
  sigma2: number;
}

/** The kernel matrix and permutation units of rows `rowsA` against `rowsB` of one embedding. */
function stratumOf(emb: Embedding, rowsA: Int32Array, rowsB: Int32Array, subjectOf: ArrayLike<number> | null): Stratum {
  const n = rowsA.length + rowsB.length;
  const rows = new Int32Array(n);
  rows.set(rowsA, 0);
  rows.set(rowsB, rowsA.length);
  const isY = new Float64Array(n);
  isY.fill(1, rowsA.length);
  const unitOf = new Int32Array(n);
  if (subjectOf === null) {
    for (let i = 0; i < n; i++) unitOf[i] = i;
  } else {
    const dense = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const s = subjectOf[rows[i]];
      let u = dense.get(s);
      if (u === undefined) dense.set(s, (u = dense.size));
      unitOf[i] = u;
    }
  }
  const d2 = pairwiseSquaredDistances(emb, rows);
  const sigma2 = medianHeuristicSigma2(d2, n);
  let units = 0;
  for (let i = 0; i < n; i++) units = Math.max(units, unitOf[i] + 1);
  const unitLabel = new Float64Array(units).fill(-1);
  for (let i = 0; i < n; i++) {
    if (unitLabel[unitOf[i]] !== -1 && unitLabel[unitOf[i]] !== isY[i]) {
      throw new Error(`mmd: unit ${unitOf[i]} (a subject) has rows in both groups compared, so its label cannot be permuted as a whole`);
    }
    unitLabel[unitOf[i]] = isY[i];
  }
  return { K: gaussianKernel(d2, sigma2), n, isY, unitLabel, unitOf, sigma2 };
}

/**
 * The test of one pair over strata (the folds of a cross-validation, each its own model's embedding): the
 * statistic is the mean MMD² over the strata where each side has 2 rows, and each permutation shuffles the
 * unit labels within every stratum at once, so that embeddings of different models are never compared.
 * With one stratum this is the plain permutation test (mmdPermutationTest).
 */
function testStrata(strata: readonly Stratum[], permutations: number, rng: Rng, estimator: MmdEstimator) {
  const mean = (labels: (s: Stratum) => Float64Array): number | null => {
    let sum = 0;
    for (const s of strata) {
      const v = mmd2FromKernel(s.K, s.n, labels(s), estimator);
      if (v === null) return null;
      sum += v;
    }
    return sum / strata.length;
  };
  const observed = mean((s) => s.isY);
  if (observed === null) throw new Error('mmd: each group needs at least 2 rows');
  const perm = strata.map((s) => new Float64Array(s.n));
  let atLeast = 0;
  let valid = 0;
  for (let p = 0; p < permutations; p++) {
    strata.forEach((s, k) => {
      for (let u = s.unitLabel.length - 1; u > 0; u--) {
        const j = rng.int(u + 1);
        const t = s.unitLabel[u];
        s.unitLabel[u] = s.unitLabel[j];
        s.unitLabel[j] = t;
      }
      for (let i = 0; i < s.n; i++) perm[k][i] = s.unitLabel[s.unitOf[i]];
    });
    const v = mean((s) => perm[strata.indexOf(s)]);
    if (v === null) continue;
    valid++;
    if (v >= observed) atLeast++;
  }
  const sigma2 = strata.reduce((a, s) => a + s.sigma2, 0) / strata.length;
  return { mmd2: observed, pValue: (1 + atLeast) / (1 + valid), permutations: valid, sigma2 };
}

/** MMD² between two samples given as separate matrices (window-level permutation). */
export function mmdTwoSample(x: Embedding, y: Embedding, options: MmdOptions): MmdPair {
  const ctx = 'mmdTwoSample';
  if (x.dim !== y.dim) throw new Error(`${ctx}: x has dim ${x.dim} but y has dim ${y.dim}`);
  if (x.data.length % x.dim !== 0 || y.data.length % y.dim !== 0) throw new Error(`${ctx}: data length is not a multiple of dim`);
  const nx = x.data.length / x.dim;
  const ny = y.data.length / y.dim;
  const data = new Float32Array(x.data.length + y.data.length);
  data.set(x.data, 0);
  data.set(y.data, x.data.length);
  const groupOf = new Int32Array(nx + ny).fill(1, nx);
  const r = mmdBetweenGroups({ data, dim: x.dim }, groupOf, ['x', 'y'], { ...options, permuteBy: 'window' });
  return r.pairs[0];
}

/**
 * MMD² between every pair of groups of an embedding [N, E]; the summary is the pair with the largest
 * MMD². Rows are subsampled to options.maxPerGroup per group (seeded) before the O(n²) work.
 */
export function mmdBetweenGroups(
  emb: Embedding,
  groupOf: ArrayLike<number>,
  groupNames: readonly string[],
  options: MmdOptions,
  subjectIndex?: ArrayLike<number>,
  /** Stratum of each row (cross-validation fold): MMD² is taken within strata and averaged (testStrata). */
  foldOf?: ArrayLike<number>,
): MmdResult {
  const ctx = 'mmdBetweenGroups';
  const o = optionsOf(ctx, options);
  const N = groupOf.length;
  checkEmbedding(ctx, emb, N);
  const counts = checkGroups(ctx, groupOf, groupNames);
  if (groupNames.length < 2) throw new Error(`${ctx}: needs at least 2 groups, got ${groupNames.length}`);
  let subjectOf: ArrayLike<number> | null = null;
  if (o.permuteBy === 'subject') {
    if (subjectIndex === undefined) throw new Error(`${ctx}: permuteBy 'subject' needs subjectIndex`);
    checkSameLength(ctx, { groupOf, subjectIndex });
    subjectOf = subjectIndex;
  }
  const G = groupNames.length;
  const members: Int32Array[] = Array.from({ length: G }, (_, g) => new Int32Array(counts[g]));
  const fill = new Int32Array(G);
  for (let i = 0; i < N; i++) members[groupOf[i]][fill[groupOf[i]]++] = i;
  const kept = members.map((rows, g) => {
    if (rows.length < 2) throw new Error(`${ctx}: group "${groupNames[g]}" has ${rows.length} row; MMD needs at least 2`);
    const pick = sampleWithoutReplacement(rows.length, o.maxPerGroup, streamRng(o.seed, STREAM.mmdSubsample, g));
    return Int32Array.from(pick, (k) => rows[k]);
  });
  if (foldOf !== undefined) checkSameLength(ctx, { groupOf, foldOf });
  const folds = foldOf === undefined ? [0] : [...new Set(Array.from(foldOf))].sort((x, y) => x - y);
  const inFold = (rows: Int32Array, f: number) => (foldOf === undefined ? rows : rows.filter((r) => foldOf[r] === f));
  const pairs: MmdPair[] = [];
  for (let a = 0; a < G; a++) {
    for (let b = a + 1; b < G; b++) {
      const rng = streamRng(o.seed, STREAM.mmdPermutation, a, b);
      // Folds where a side has fewer than 2 rows say nothing about the pair and are left out.
      const strata = folds
        .map((f) => [inFold(kept[a], f), inFold(kept[b], f)] as const)
        .filter(([ra, rb]) => ra.length >= 2 && rb.length >= 2)
        .map(([ra, rb]) => stratumOf(emb, ra, rb, subjectOf));
      if (strata.length === 0) throw new Error(`${ctx}: no fold holds 2 rows of both "${groupNames[a]}" and "${groupNames[b]}"`);
      const r = testStrata(strata, o.permutations, rng, o.estimator);
      pairs.push({ a: groupNames[a], b: groupNames[b], mmd2: r.mmd2, pValue: r.pValue, sigma2: r.sigma2, rowsA: kept[a].length, rowsB: kept[b].length, permutations: r.permutations });
    }
  }
  let top = pairs[0];
  let minP = pairs[0].pValue;
  for (const p of pairs) {
    if (p.mmd2 > top.mmd2) top = p;
    minP = Math.min(minP, p.pValue);
  }
  return {
    mmd2: top.mmd2,
    pair: [top.a, top.b],
    pValue: pairs.length === 1 ? top.pValue : Math.min(1, pairs.length * minP),
    pairs,
    permuteBy: o.permuteBy,
    estimator: o.estimator,
    summary: pairs.length === 1 ? 'single pair' : 'max over pairs',
    bandwidth: 'sigma^2 = median(squared distance) / 2 over the pooled rows of each pair',
  };
}
