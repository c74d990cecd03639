// Seeded samplers of window indices for fine-tuning, deterministic from (seed, epoch) so that a resumed
// run draws the same batches: a per-epoch shuffle (erm) and inverse-frequency sampling with replacement
// (the "if" strategy, as PyTorch's WeightedRandomSampler does it), drawn from an alias table in O(1).
import { Rng } from '../util/random';

/** Stream ids keep the random sequences of different users of one seed apart. */
export const STREAM = {
  uniformSampler: 1,
  weightedSampler: 2,
  bootstrap: 3,
  mmdSubsample: 4,
  mmdPermutation: 5,
  silhouetteSubsample: 6,
  findings: 7,
  alarmBootstrap: 8,
} as const;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A generator for one stream of one seed, e.g. streamRng(seed, STREAM.uniformSampler, epoch). The keys are
 * hashed (murmur3-style mixing of each key's low and high 32 bits) so that nearby seeds and epochs give
 * unrelated sequences.
 */
export function streamRng(seed: number, ...keys: number[]): Rng {
  let h = 0x9e3779b9;
  for (const k of [seed, ...keys]) {
    if (!Number.isSafeInteger(k)) throw new Error(`streamRng: seed and keys must be integers, got ${k}`);
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    for (const w of [lo, hi]) {
      h = fmix32((h ^ fmix32(w + 0x6a09e667)) + 0x3c6ef372);
    }
  }
  return new Rng(h);
}

/** One epoch's window indices, in the order the batches take them. */
export interface EpochSampler {
  readonly samplesPerEpoch: number;
  epochOrder(epoch: number): Int32Array;
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`sampler: epoch must be a non-negative integer, got ${epoch}`);
}

/** Every index once per epoch, in a fresh seeded shuffle (Fisher–Yates) each epoch. */
export class UniformSampler implements EpochSampler {
  readonly samplesPerEpoch: number;
  constructor(readonly n: number, readonly seed: number) {
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`UniformSampler: n must be a positive integer, got ${n}`);
    if (!Number.isSafeInteger(seed)) throw new Error(`UniformSampler: seed must be an integer, got ${seed}`);
    this.samplesPerEpoch = n;
  }

  epochOrder(epoch: number): Int32Array {
    checkEpoch(epoch);
    const order = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    streamRng(this.seed, STREAM.uniformSampler, epoch).shuffle(order);
    return order;
  }
}

/** Vose's alias table: O(n) to build, O(1) per draw. */
export class AliasTable {
  readonly n: number;
  /** Probability of keeping column i (else take alias[i]). */
  private readonly keep: Float64Array;
  private readonly alias: Int32Array;
  /** Normalised probabilities, for inspection and tests. */
  readonly probabilities: Float64Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new Error('AliasTable: no weights');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!Number.isFinite(w) || w < 0) throw new Error(`AliasTable: weight ${i} is ${w}; weights must be finite and non-negative`);
      total += w;
    }
    if (!(total > 0)) throw new Error('AliasTable: all weights are zero');
    this.n = n;
    this.probabilities = new Float64Array(n);
    this.keep = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      this.probabilities[i] = weights[i] / total;
      scaled[i] = this.probabilities[i] * n;
      this.alias[i] = i;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.keep[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // What is left has scaled weight 1 up to rounding.
    while (nl > 0) this.keep[large[--nl]] = 1;
    while (ns > 0) this.keep[small[--ns]] = 1;
  }

  draw(rng: Rng): number {
    const i = rng.int(this.n);
    return rng.uniform() < this.keep[i] ? i : this.alias[i];
  }
}

/** Draws indices with replacement, P(i) ∝ weights[i]; samplesPerEpoch draws per epoch. */
export class WeightedSampler implements EpochSampler {
  readonly table: AliasTable;
  readonly samplesPerEpoch: number;

  constructor(weights: ArrayLike<number>, readonly seed: number, samplesPerEpoch?: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`WeightedSampler: seed must be an integer, got ${seed}`);
    this.table = new AliasTable(weights);
    this.samplesPerEpoch = samplesPerEpoch ?? weights.length;
    if (!Number.isSafeInteger(this.samplesPerEpoch) || this.samplesPerEpoch <= 0) {
      throw new Error(`WeightedSampler: samplesPerEpoch must be a positive integer, got ${samplesPerEpoch}`);
    }
  }

  epochOrder(epoch: number): Int32Array {
    checkEpoch(epoch);
    const rng = streamRng(this.seed, STREAM.weightedSampler, epoch);
    const out = new Int32Array(this.samplesPerEpoch);
    for (let k = 0; k < out.length; k++) out[k] = this.table.draw(rng);
    return out;
  }
}

/** Windows per group; throws when an id is outside [0, numGroups). */
export function groupCounts(groupOf: Int32Array, numGroups: number): Int32Array {
  if (!Number.isSafeInteger(numGroups) || numGroups <= 0) throw new Error(`groupCounts: numGroups must be a positive integer, got ${numGroups}`);
  const counts = new Int32Array(numGroups);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i];
    if (g < 0 || g >= numGroups) throw new Error(`groupCounts: groupOf[${i}] = ${g} is outside [0, ${numGroups})`);
    counts[g]++;
  }
  return counts;
}

/**
 * The design's inverse-frequency weights w_i = 1 / (G · f_g), f_g = n_g / N the share of sample i's group.
 * They sum to N, so P(i) = w_i / N = 1 / (G · n_g) and every group is drawn with probability 1/G.
 */
export function inverseFrequencyWeights(groupOf: Int32Array, numGroups: number): Float64Array {
  const n = groupOf.length;
  if (n === 0) throw new Error('inverseFrequencyWeights: no samples');
  const counts = groupCounts(groupOf, numGroups);
  for (let g = 0; g < numGroups; g++) {
    if (counts[g] === 0) throw new Error(`inverseFrequencyWeights: group ${g} has no samples, so its weight 1/(G·f_g) is undefined`);
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = n / (numGroups * counts[groupOf[i]]);
  return w;
}

/** The "if" strategy's sampler: N draws per epoch (as WeightedRandomSampler's default) unless told. */
export function inverseFrequencySampler(groupOf: Int32Array, numGroups: number, seed: number, samplesPerEpoch?: number): WeightedSampler {
  return new WeightedSampler(inverseFrequencyWeights(groupOf, numGroups), seed, samplesPerEpoch ?? groupOf.length);
}

/** Cuts an epoch's order into batches (views, no copy); the last batch is short unless dropLast. */
export function toBatches(order: Int32Array, batchSize: number, dropLast = false): Int32Array[] {
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new Error(`toBatches: batchSize must be a positive integer, got ${batchSize}`);
  const batches: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(order.length, start + batchSize);
    if (dropLast && end - start < batchSize) break;
    batches.push(order.subarray(start, end));
  }
  return batches;
}
