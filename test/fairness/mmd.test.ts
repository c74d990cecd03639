import { gaussianKernel, medianHeuristicSigma2, mmd2FromKernel, mmdBetweenGroups, mmdTwoSample, pairwiseSquaredDistances } from '../../src/fairness/metrics';
import { Rng } from '../../src/util/random';
import { gaussianRows, stack } from './gaussian';

describe('MMD² by hand', () => {
  // 1-D: X = {0, 1}, Y = {3, 4}. Squared distances: within X 1, within Y 1; cross (0,3) 9, (0,4) 16,
  // (1,3) 4, (1,4) 9. Pooled upper triangle sorted: 1, 1, 4, 9, 9, 16 → median (4 + 9)/2 = 6.5,
  // σ² = 6.5/2 = 3.25, k = exp(−d²/6.5).
  // MMD²_u = 2k(1)/(2·1) + 2k(1)/(2·1) − 2·(k(9) + k(16) + k(4) + k(9))/(2·2)
  //        = 2e^(−1/6.5) − (2e^(−9/6.5) + e^(−16/6.5) + e^(−4/6.5)) / 2.
  const k = (d2: number) => Math.exp(-d2 / 6.5);
  const expected = 2 * k(1) - (2 * k(9) + k(16) + k(4)) / 2;

  test('median heuristic bandwidth and the unbiased estimator', () => {
    const emb = { data: Float32Array.from([0, 1, 3, 4]), dim: 1 };
    const d2 = pairwiseSquaredDistances(emb, [0, 1, 2, 3]);
    expect(Array.from(d2.subarray(0, 4))).toEqual([0, 1, 9, 16]);
    expect(medianHeuristicSigma2(d2, 4)).toBe(3.25);
    const K = gaussianKernel(d2, 3.25);
    expect(mmd2FromKernel(K, 4, Float64Array.from([0, 0, 1, 1]))).toBeCloseTo(expected, 12);
    // Fewer than 2 rows on a side: undefined.
    expect(mmd2FromKernel(K, 4, Float64Array.from([0, 1, 1, 1]))).toBeNull();
  });

  test('the biased estimator (V-statistic) by hand: the diagonal is included and every sum divided by m², q², m·q', () => {
    // MMD²_b = (2 + 2k(1))/4 + (2 + 2k(1))/4 − 2·(2k(9) + k(16) + k(4))/4 = 1 + k(1) − (2k(9) + k(16) + k(4))/2.
    const emb = { data: Float32Array.from([0, 1, 3, 4]), dim: 1 };
    const K = gaussianKernel(pairwiseSquaredDistances(emb, [0, 1, 2, 3]), 3.25);
    const biased = 1 + k(1) - (2 * k(9) + k(16) + k(4)) / 2;
    expect(mmd2FromKernel(K, 4, Float64Array.from([0, 0, 1, 1]), 'biased')).toBeCloseTo(biased, 12);
    expect(biased).toBeGreaterThan(expected);
    const r = mmdBetweenGroups(emb, [0, 0, 1, 1], ['x', 'y'], { seed: 1, permutations: 50, estimator: 'biased' });
    expect(r.estimator).toBe('biased');
    expect(r.mmd2).toBeCloseTo(biased, 6);
    expect(() => mmdBetweenGroups(emb, [0, 0, 1, 1], ['x', 'y'], { seed: 1, estimator: 'v' as 'biased' })).toThrow(/estimator must be/);
  });

  test('mmdTwoSample gives the same value; its permutation p-value is exact over the 6 labelings', () => {
    const r = mmdTwoSample({ data: Float32Array.from([0, 1]), dim: 1 }, { data: Float32Array.from([3, 4]), dim: 1 }, { seed: 1, permutations: 2000 });
    expect(r.mmd2).toBeCloseTo(expected, 6);
    expect(r.sigma2).toBe(3.25);
    // The observed split and its mirror are the 2 most extreme of C(4,2) = 6 labelings: p → 1/3.
    expect(r.pValue).toBeGreaterThan(0.29);
    expect(r.pValue).toBeLessThan(0.37);
  });
});

describe('MMD² properties', () => {
  test('two samples from one distribution: MMD² near 0, p-value not small', () => {
    const r = mmdTwoSample(gaussianRows(200, 8, 1), gaussianRows(200, 8, 2), { seed: 3, permutations: 200 });
    expect(Math.abs(r.mmd2)).toBeLessThan(0.02);
    expect(r.pValue).toBeGreaterThan(0.05);
  });

  test('shifted distributions: MMD² large, p-value at its floor', () => {
    const r = mmdTwoSample(gaussianRows(200, 8, 1), gaussianRows(200, 8, 2, 1), { seed: 3, permutations: 200 });
    expect(r.mmd2).toBeGreaterThan(0.2);
    expect(r.pValue).toBeCloseTo(1 / 201, 12);
  });

  test('deterministic from the seed; rows are capped per group', () => {
    const { emb, groupOf } = stack(gaussianRows(300, 4, 5), gaussianRows(120, 4, 6, 0.3));
    const a = mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 7, maxPerGroup: 100, permutations: 100 });
    const b = mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 7, maxPerGroup: 100, permutations: 100 });
    expect(a).toEqual(b);
    expect(a.pairs[0]).toMatchObject({ rowsA: 100, rowsB: 100, permutations: 100 });
    const c = mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 8, maxPerGroup: 100, permutations: 100 });
    expect(c.mmd2).not.toBe(a.mmd2);
  });

  test('three groups: every pair, the max as summary, Bonferroni p', () => {
    const { emb, groupOf } = stack(gaussianRows(80, 4, 1), gaussianRows(80, 4, 2), gaussianRows(80, 4, 3, 1.5));
    const r = mmdBetweenGroups(emb, groupOf, ['A', 'B', 'C'], { seed: 1, permutations: 100 });
    expect(r.pairs.map((p) => `${p.a}-${p.b}`)).toEqual(['A-B', 'A-C', 'B-C']);
    const maxPair = r.pairs.reduce((m, p) => (p.mmd2 > m.mmd2 ? p : m));
    expect(r.mmd2).toBe(maxPair.mmd2);
    expect(r.pair).toContain('C');
    expect(r.summary).toBe('max over pairs');
    expect(r.pValue).toBeCloseTo(Math.min(1, 3 * Math.min(...r.pairs.map((p) => p.pValue))), 12);
  });

  test('subject-level permutation does not mistake subject identity for a group effect', () => {
    // 20 subjects (10 per group) each with its own centre; groups come from the same distribution.
    const rng = new Rng(21);
    const dim = 4;
    const perSubject = 15;
    const n = 20 * perSubject;
    const data = new Float32Array(n * dim);
    const groupOf = new Int32Array(n);
    const subjectIndex = new Int32Array(n);
    for (let s = 0; s < 20; s++) {
      const centre = Array.from({ length: dim }, () => rng.normal());
      for (let w = 0; w < perSubject; w++) {
        const i = s * perSubject + w;
        for (let e = 0; e < dim; e++) data[i * dim + e] = centre[e] + 0.1 * rng.normal();
        groupOf[i] = s % 2;
        subjectIndex[i] = s;
      }
    }
    const emb = { data, dim };
    const byWindow = mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 2, permutations: 200, permuteBy: 'window' }, subjectIndex);
    const bySubject = mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 2, permutations: 200, permuteBy: 'subject' }, subjectIndex);
    expect(byWindow.mmd2).toBe(bySubject.mmd2);
    expect(byWindow.pValue).toBeLessThan(0.01);
    expect(bySubject.pValue).toBeGreaterThan(0.05);
    expect(bySubject.permuteBy).toBe('subject');
  });

  test('bad input throws clear errors', () => {
    const { emb, groupOf } = stack(gaussianRows(5, 3, 1), gaussianRows(5, 3, 2));
    expect(() => mmdBetweenGroups({ data: emb.data.subarray(1), dim: 3 }, groupOf, ['A', 'B'], { seed: 1 })).toThrow('expected 10 rows × 3 = 30');
    const nan = Float32Array.from(emb.data);
    nan[4] = NaN;
    expect(() => mmdBetweenGroups({ data: nan, dim: 3 }, groupOf, ['A', 'B'], { seed: 1 })).toThrow('embedding[4] is NaN');
    expect(() => mmdBetweenGroups(emb, groupOf, ['A', 'B', 'C'], { seed: 1 })).toThrow('group "C" has no samples');
    const oneRow = Int32Array.from(groupOf);
    oneRow.fill(0, 0, 9);
    expect(() => mmdBetweenGroups(emb, oneRow, ['A', 'B'], { seed: 1 })).toThrow('group "B" has 1 row');
    expect(() => mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 1, permuteBy: 'subject' })).toThrow('needs subjectIndex');
    const shared = new Int32Array(10); // one subject in both groups
    expect(() => mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 1, permuteBy: 'subject' }, shared)).toThrow('rows in both groups');
    expect(() => mmdBetweenGroups(emb, groupOf, ['A', 'B'], { seed: 1, permutations: 0 })).toThrow('permutations must be a positive integer');
    expect(() => mmdTwoSample({ data: new Float32Array(4), dim: 2 }, { data: new Float32Array(3), dim: 3 }, { seed: 1 })).toThrow('dim');
  });
});
