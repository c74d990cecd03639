import { bootstrapErrorMetrics, quantileSorted } from '../../src/fairness/metrics';
import { Rng } from '../../src/util/random';

/** `perGroup` subjects in each of two groups, `windows` windows each; a subject-level error offset plus window noise. */
function cohort(perGroup: number, windows: number, seed: number) {
  const rng = new Rng(seed);
  const n = 2 * perGroup * windows;
  const pred = new Float32Array(n);
  const hr = new Float32Array(n);
  const groupOf = new Int32Array(n);
  const subjectIndex = new Int32Array(n);
  let i = 0;
  for (let s = 0; s < 2 * perGroup; s++) {
    const g = s < perGroup ? 0 : 1;
    const bias = (g === 0 ? 3 : 5) + 2 * rng.normal();
    for (let w = 0; w < windows; w++, i++) {
      hr[i] = 70 + 10 * rng.normal();
      pred[i] = hr[i] + bias + rng.normal();
      groupOf[i] = g;
      subjectIndex[i] = s;
    }
  }
  return { pred, hr, groupOf, subjectIndex, groupNames: ['A', 'B'] };
}

describe('quantiles', () => {
  test('type-7 quantile by hand: [1, 2, 3, 4] at 0.25 → h = 0.75 → 1.75; at 1 → 4', () => {
    const v = Float64Array.from([1, 2, 3, 4]);
    expect(quantileSorted(v, 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted(v, 1)).toBe(4);
    expect(quantileSorted(v, 0)).toBe(1);
  });
});

describe('subject-level bootstrap', () => {
  test('one subject per group: every stratified replicate is the original, so the interval collapses', () => {
    // Subject 0 (A) errors 1, 3 → MAE 2; subject 1 (B) errors 5 → MAE 5; overall (1+3+5)/3 = 3; gap 3.
    const r = bootstrapErrorMetrics(
      { pred: [1, 3, 5], hr: [0, 0, 0], groupOf: [0, 0, 1], groupNames: ['A', 'B'], subjectIndex: [0, 0, 1] },
      { seed: 1, resamples: 200 },
    );
    expect(r.mae).toEqual({ estimate: 3, lo: 3, hi: 3 });
    expect(r.gap).toEqual({ estimate: 3, lo: 3, hi: 3 });
    expect(r.perGroupMae.map((x) => x.estimate)).toEqual([2, 5]);
    expect(r.worstGroupMae.estimate).toBe(5);
    expect(r.subjects).toBe(2);
  });

  test('two subjects in group A with errors 1 and 3: replicate MAE_A ∈ {1, 2, 3} w.p. 1/4, 1/2, 1/4, so the 95% interval is [1, 3]', () => {
    const r = bootstrapErrorMetrics(
      { pred: [1, 3, 5], hr: [0, 0, 0], groupOf: [0, 0, 1], groupNames: ['A', 'B'], subjectIndex: [10, 11, 12] },
      { seed: 2, resamples: 1000 },
    );
    expect(r.perGroupMae[0]).toEqual({ estimate: 2, lo: 1, hi: 3 });
    // Gap = 5 − MAE_A ∈ {4, 3, 2}.
    expect(r.gap).toEqual({ estimate: 3, lo: 2, hi: 4 });
  });

  test('intervals contain the point estimate and narrow with more subjects', () => {
    const small = bootstrapErrorMetrics(cohort(8, 10, 1), { seed: 3 });
    const large = bootstrapErrorMetrics(cohort(200, 10, 1), { seed: 3 });
    for (const r of [small, large]) {
      for (const iv of [r.mae, r.rmse, r.gap, r.worstGroupMae, ...r.perGroupMae]) {
        expect(iv.lo).toBeLessThanOrEqual(iv.estimate);
        expect(iv.hi).toBeGreaterThanOrEqual(iv.estimate);
      }
    }
    const width = (iv: { lo: number; hi: number }) => iv.hi - iv.lo;
    // Width scales about as 1/sqrt(subjects): 25 times more subjects → about 5 times narrower.
    expect(width(large.mae)).toBeLessThan(width(small.mae) / 2.5);
    expect(width(large.gap)).toBeLessThan(width(small.gap) / 2.5);
  });

  test('deterministic from the seed; a different seed changes the interval', () => {
    const data = cohort(6, 5, 4);
    const a = bootstrapErrorMetrics(data, { seed: 9, resamples: 300 });
    const b = bootstrapErrorMetrics(data, { seed: 9, resamples: 300 });
    const c = bootstrapErrorMetrics(data, { seed: 10, resamples: 300 });
    expect(a).toEqual(b);
    expect(a.mae.lo).not.toBe(c.mae.lo);
  });

  test('unstratified resampling discards replicates that lose a group and still brackets the estimate', () => {
    const r = bootstrapErrorMetrics(
      { pred: [1, 3, 5, 2], hr: [0, 0, 0, 0], groupOf: [0, 0, 1, 1], groupNames: ['A', 'B'], subjectIndex: [0, 1, 2, 3] },
      { seed: 5, resamples: 500, stratify: false },
    );
    expect(r.stratified).toBe(false);
    expect(r.discarded).toBeGreaterThan(0); // P(a group drawn 0 of 4 times) = 2·(1/2)^4 = 1/8
    expect(r.mae.lo).toBeLessThanOrEqual(r.mae.estimate);
    expect(r.mae.hi).toBeGreaterThanOrEqual(r.mae.estimate);
  });

  test('bad input throws clear errors', () => {
    const ok = { pred: [1, 2], hr: [1, 2], groupOf: [0, 1], groupNames: ['A', 'B'], subjectIndex: [0, 1] };
    expect(() => bootstrapErrorMetrics({ ...ok, pred: [1, NaN] }, { seed: 1 })).toThrow('pred[1] is NaN');
    expect(() => bootstrapErrorMetrics({ ...ok, subjectIndex: [0] }, { seed: 1 })).toThrow('length mismatch');
    expect(() => bootstrapErrorMetrics({ ...ok, groupOf: [0, 0] }, { seed: 1 })).toThrow('group "B" has no samples');
    expect(() => bootstrapErrorMetrics(ok, { seed: 1, resamples: 0 })).toThrow('resamples must be a positive integer');
    expect(() => bootstrapErrorMetrics(ok, { seed: 1, level: 1 })).toThrow('level must be in (0, 1)');
    expect(() => bootstrapErrorMetrics({ ...ok, subjectIndex: [0, 0] }, { seed: 1 })).toThrow('use stratify: false');
  });
});
