// Synthetic but plausible experiment results for the report tests: every FairnessReport comes from the real
// evaluateFairness on generated predictions and embeddings, so the report is exercised on the exact shapes
// (and numeric ranges) an experiment produces. 2 sources × 2 targets × 4 strategies × 2 seeds, groups F/M.
import type { CellResult, ExperimentResults, EpochPoint } from '../../src/experiment/results';
import { evaluateFairness } from '../../src/fairness/metrics/evaluate';
import { subjectErrorSums } from '../../src/fairness/metrics/subject-errors';
import { uniformSource } from '../helpers/random';

export const SOURCES = ['wesad-like', 'dalia-like'];
export const TARGETS = ['butppg-like', 'wesad-like'];
export const STRATEGIES = ['erm', 'if', 'groupdro', 'adv'];
export const SEEDS = [1, 2];
export const GROUPS = ['F', 'M'];
/** A configuration value that must come out escaped in the HTML. */
export const NASTY = 'cohort <b>"F&M"</b> & co';

const SUBJECTS = 12;
const WINDOWS_PER_SUBJECT = 6;

/** How much worse group F is served, per strategy: mitigation narrows the gap (and costs a little MAE). */
const F_PENALTY: Record<string, number> = { erm: 2.5, if: 1.2, groupdro: 0.8, adv: 1.0 };
/** How far apart the groups' embeddings sit, per strategy: adv removes most of it. */
const EMB_SHIFT: Record<string, number> = { erm: 1.5, if: 1.2, groupdro: 1.1, adv: 0.3 };

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function embedding(n: number, dim: number, groupOf: Int32Array, shift: number, u: () => number): { data: Float32Array; dim: number } {
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) data[i * dim + d] = normal(u) + (d < 2 && groupOf[i] === 0 ? shift : 0);
  return { data, dim };
}

function cell(source: string, strategy: string, seed: number, cellSeed: number): CellResult {
  const u = uniformSource(cellSeed);
  const epochs: EpochPoint[] = Array.from({ length: 5 }, (_, e) => {
    const base = 8 / (1 + e) + 2 + 0.3 * u();
    return {
      epoch: e + 1,
      trainLoss: base,
      valMae: e === 0 ? null : base * 1.1 + 0.5 * u(),
      trainGroupLoss: [base + F_PENALTY[strategy] / (1 + e), base - 0.2],
    };
  });
  const targets = TARGETS.map((target, ti) => {
    const n = SUBJECTS * WINDOWS_PER_SUBJECT;
    const hr = new Float64Array(n);
    const pred = new Float64Array(n);
    const groupOf = new Int32Array(n);
    const subjectIndex = new Int32Array(n);
    const shiftPenalty = target === source ? 0 : 1.5;
    for (let s = 0; s < SUBJECTS; s++) {
      const g = s % 2; // F = even subjects, M = odd
      const bias = normal(u) * 1.5;
      for (let w = 0; w < WINDOWS_PER_SUBJECT; w++) {
        const i = s * WINDOWS_PER_SUBJECT + w;
        hr[i] = 70 + 15 * u();
        pred[i] = hr[i] + bias + normal(u) * (3 + shiftPenalty + (g === 0 ? F_PENALTY[strategy] : 0));
        groupOf[i] = g;
        subjectIndex[i] = s;
      }
    }
    const shift = EMB_SHIFT[strategy];
    const metrics = evaluateFairness({
      pred, hr, groupOf, groupNames: GROUPS, subjectIndex, seed: cellSeed * 10 + ti,
      embeddings: { z: embedding(n, 4, groupOf, shift, u), pooled: embedding(n, 8, groupOf, shift * 0.7, u) },
      bootstrap: { resamples: 100 },
      mmd: { permutations: 50, maxPerGroup: 40 },
      silhouette: { maxSamples: 80 },
    });
    const m = 40;
    const projection = {
      embedding: 'pooled',
      x: Array.from({ length: m }, (_, i) => normal(u) + (i % 2 === 0 ? shift : 0)),
      y: Array.from({ length: m }, () => normal(u)),
      group: Array.from({ length: m }, (_, i) => i % 2),
    };
    const subjectErrors = subjectErrorSums(pred, hr, groupOf, subjectIndex, Array.from({ length: SUBJECTS }, (_, s) => `s${s}`), GROUPS);
    return { target, metrics, projection, subjectErrors };
  });
  // A group with no training windows in an epoch has loss NaN (null after JSON): the report must cope.
  if (source === SOURCES[1] && strategy === 'adv' && seed === SEEDS[0]) epochs[0].trainGroupLoss[1] = NaN;
  return {
    id: `${source}-${strategy}-s${seed}`,
    source,
    strategy,
    size: 'small',
    seed,
    params: strategy === 'groupdro' ? { eta: 0.01 } : strategy === 'adv' ? { lambda: 0.5, width: 64 } : {},
    groupNames: [...GROUPS],
    training: { epochs, bestEpoch: 5, bestValMae: epochs[4].valMae, windowsPerSecond: 1200, seconds: 42.5 },
    targets,
    finished: '2025-01-01T00:00:00.000Z',
  };
}

export function makeResults(): ExperimentResults {
  const cells: CellResult[] = [];
  let k = 1;
  for (const source of SOURCES) for (const strategy of STRATEGIES) for (const seed of SEEDS) cells.push(cell(source, strategy, seed, k++));
  return {
    name: 'report-test',
    config: { name: NASTY, sources: SOURCES, targets: TARGETS, strategies: STRATEGIES, seeds: SEEDS },
    manifests: Object.fromEntries(
      [...new Set([...SOURCES, ...TARGETS])].map((d) => [
        d,
        {
          source: 'synthetic',
          seed: 7,
          counts: { windows: 72, subjects: 12, perGroup: { gender: { F: { windows: 36, subjects: 6 }, M: { windows: 36, subjects: 6 } } } },
        },
      ]),
    ),
    pretraining: [1, 2, 3, 4].map((epoch) => ({ epoch, loss: 1 / epoch + 0.2 })),
    cells,
    failed: [{ id: 'dalia-like-adv-s3', error: 'adv: loss became NaN at epoch 2 <step 17>' }],
    created: '2025-01-01T00:00:00.000Z',
  };
}
