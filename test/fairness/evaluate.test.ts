import { evaluateFairness, gap, mae, perGroupMae, rmse } from '../../src/fairness/metrics';
import { Rng } from '../../src/util/random';

/** Subjects in `groups` groups; group g's predictions err by about 2 + 2g bpm; embeddings shift with the group. */
function domain(groups: number, perGroup: number, windows: number, seed: number) {
  const rng = new Rng(seed);
  const n = groups * perGroup * windows;
  const dim = 6;
  const pred = new Float32Array(n);
  const hr = new Float32Array(n);
  const groupOf = new Int32Array(n);
  const subjectIndex = new Int32Array(n);
  const z = new Float32Array(n * dim);
  const pooled = new Float32Array(n * dim);
  let i = 0;
  for (let s = 0; s < groups * perGroup; s++) {
    const g = s % groups;
    const bias = 2 + 2 * g + rng.normal();
    for (let w = 0; w < windows; w++, i++) {
      hr[i] = 60 + 30 * rng.uniform();
      pred[i] = hr[i] + bias + rng.normal();
      groupOf[i] = g;
      subjectIndex[i] = s;
      for (let e = 0; e < dim; e++) {
        z[i * dim + e] = rng.normal() + (e === 0 ? 2 * g : 0);
        pooled[i * dim + e] = rng.normal();
      }
    }
  }
  return { pred, hr, groupOf, subjectIndex, embeddings: { z: { data: z, dim }, pooled: { data: pooled, dim } } };
}

describe('evaluateFairness', () => {
  test('two groups: point metrics agree with the plain functions, intervals bracket them, JSON round-trips', () => {
    const d = domain(2, 12, 8, 1);
    const groupNames = ['F', 'M'];
    const r = evaluateFairness({ ...d, groupNames, seed: 5, bootstrap: { resamples: 300 }, mmd: { permutations: 100 } });
    const g = perGroupMae(d.pred, d.hr, d.groupOf, groupNames);
    expect(r.windows).toBe(192);
    expect(r.subjects).toBe(24);
    expect(r.mae.estimate).toBe(mae(d.pred, d.hr));
    expect(r.rmse.estimate).toBe(rmse(d.pred, d.hr));
    expect(r.perGroup.map((p) => p.mae.estimate)).toEqual(Array.from(g));
    expect(r.perGroup.map((p) => [p.group, p.windows, p.subjects])).toEqual([['F', 96, 12], ['M', 96, 12]]);
    expect(r.gap.estimate).toBe(gap(g));
    expect(r.gap.definition).toBe('abs difference');
    expect(r.worstGroup.group).toBe('M');
    for (const iv of [r.mae, r.rmse, r.gap, r.worstGroup, ...r.perGroup.map((p) => p.mae)]) {
      expect(iv.lo).toBeLessThanOrEqual(iv.estimate);
      expect(iv.hi).toBeGreaterThanOrEqual(iv.estimate);
    }
    // z carries the group (shifted first coordinate), pooled does not.
    expect(r.embeddings.z.mmd.permuteBy).toBe('subject');
    expect(r.embeddings.z.mmd.pValue).toBeLessThan(0.01);
    expect(r.embeddings.z.silhouette.score).toBeGreaterThan(r.embeddings.pooled.silhouette.score + 0.1);
    expect(Math.abs(r.embeddings.pooled.mmd.mmd2)).toBeLessThan(r.embeddings.z.mmd.mmd2 / 10);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    // Same seed, same report.
    expect(evaluateFairness({ ...d, groupNames, seed: 5, bootstrap: { resamples: 300 }, mmd: { permutations: 100 } })).toEqual(r);
  });

  test('three groups: gap is max − min, worst group is the largest MAE', () => {
    const d = domain(3, 6, 5, 2);
    const r = evaluateFairness({ pred: d.pred, hr: d.hr, groupOf: d.groupOf, subjectIndex: d.subjectIndex, groupNames: ['a', 'b', 'c'], seed: 1, bootstrap: { resamples: 200 } });
    const m = r.perGroup.map((p) => p.mae.estimate);
    expect(r.gap.estimate).toBeCloseTo(Math.max(...m) - Math.min(...m), 12);
    expect(r.gap.definition).toBe('max - min');
    expect(r.worstGroup.estimate).toBe(Math.max(...m));
    expect(r.worstGroup.group).toBe(r.perGroup[m.indexOf(Math.max(...m))].group);
    expect(r.embeddings).toEqual({});
    // The intersection-friendly gap: every group's distance from the overall MAE, averaged.
    const overall = r.mae.estimate;
    expect(r.gapMad.estimate).toBeCloseTo((Math.abs(m[0] - overall) + Math.abs(m[1] - overall) + Math.abs(m[2] - overall)) / 3, 12);
    expect(r.gapMad.lo).toBeLessThan(r.gapMad.hi);
  });

  test('pooled folds: embedding metrics within folds, also when a fold lacks a group', () => {
    const d = domain(3, 6, 5, 4);
    // Subjects of group 2 only ever fall in fold 0: fold 1 has groups 0 and 1 alone.
    const foldOf = Int32Array.from(d.subjectIndex, (s) => (s % 3 === 2 ? 0 : s % 2));
    const r = evaluateFairness({
      pred: d.pred, hr: d.hr, groupOf: d.groupOf, subjectIndex: d.subjectIndex, groupNames: ['a', 'b', 'c'], seed: 1,
      bootstrap: { resamples: 50 }, embeddings: d.embeddings, foldOf, mmd: { permutations: 20 },
    });
    const sil = r.embeddings.z.silhouette;
    expect(sil.perGroup.map((g) => g.group)).toEqual(['a', 'b', 'c']);
    expect(sil.perGroup.find((g) => g.group === 'c')!.rows).toBeGreaterThan(0);
    expect(Number.isFinite(r.embeddings.z.mmd.mmd2)).toBe(true);
  });

  test('bad input throws clear errors', () => {
    const d = domain(2, 3, 2, 3);
    const base = { pred: d.pred, hr: d.hr, groupOf: d.groupOf, subjectIndex: d.subjectIndex, groupNames: ['F', 'M'], seed: 1, bootstrap: { resamples: 50 } };
    const nanPred = Float32Array.from(d.pred);
    nanPred[3] = NaN;
    expect(() => evaluateFairness({ ...base, pred: nanPred })).toThrow('evaluateFairness: pred[3] is NaN');
    expect(() => evaluateFairness({ ...base, hr: d.hr.subarray(1) })).toThrow('length mismatch: pred has 12, hr has 11');
    expect(() => evaluateFairness({ ...base, subjectIndex: d.subjectIndex.subarray(1) })).toThrow('subjectIndex has 11');
    expect(() => evaluateFairness({ ...base, groupNames: ['F', 'M', 'X'] })).toThrow('group "X" has no samples');
    expect(() => evaluateFairness({ ...base, groupNames: ['F'], groupOf: new Int32Array(12) })).toThrow('at least 2 groups');
    expect(() => evaluateFairness({ ...base, embeddings: { z: { data: new Float32Array(5), dim: 2 } } })).toThrow(
      'embedding "z": mmdBetweenGroups: embedding has 5 values, expected 12 rows × 2 = 24',
    );
    expect(() => evaluateFairness({ ...base, seed: 0.5 })).toThrow('seed must be an integer');
  });
});
