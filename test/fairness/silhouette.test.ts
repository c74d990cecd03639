import { silhouetteScore } from '../../src/fairness/metrics';
import { gaussianRows, stack } from './gaussian';

describe('silhouette score', () => {
  test('by hand: A = {0, 1}, B = {4, 6} on a line', () => {
    // 0: a = 1, b = (4 + 6)/2 = 5 → (5 − 1)/5 = 0.8
    // 1: a = 1, b = (3 + 5)/2 = 4 → 3/4
    // 4: a = 2, b = (4 + 3)/2 = 3.5 → 1.5/3.5 = 3/7
    // 6: a = 2, b = (6 + 5)/2 = 5.5 → 3.5/5.5 = 7/11
    const r = silhouetteScore({ data: Float32Array.from([0, 1, 4, 6]), dim: 1 }, [0, 0, 1, 1], ['A', 'B'], { seed: 1 });
    expect(r.score).toBeCloseTo((0.8 + 0.75 + 3 / 7 + 7 / 11) / 4, 12);
    expect(r.perGroup[0]).toEqual({ group: 'A', score: expect.closeTo(0.775, 12), rows: 2 });
    expect(r.perGroup[1].score).toBeCloseTo((3 / 7 + 7 / 11) / 2, 12);
  });

  test('a member of a group of one scores 0 (A = {0, 1}, B = {5})', () => {
    // 0: a = 1, b = 5 → 0.8; 1: a = 1, b = 4 → 0.75; 5: singleton → 0.
    const r = silhouetteScore({ data: Float32Array.from([0, 1, 5]), dim: 1 }, [0, 0, 1], ['A', 'B'], { seed: 1 });
    expect(r.score).toBeCloseTo((0.8 + 0.75 + 0) / 3, 12);
  });

  test('well-separated clusters score near 1, identical distributions near 0', () => {
    const far = stack(gaussianRows(150, 8, 1, 0, 0.1), gaussianRows(150, 8, 2, 5, 0.1));
    expect(silhouetteScore(far.emb, far.groupOf, ['A', 'B'], { seed: 1 }).score).toBeGreaterThan(0.9);
    const same = stack(gaussianRows(150, 8, 1), gaussianRows(150, 8, 2));
    expect(Math.abs(silhouetteScore(same.emb, same.groupOf, ['A', 'B'], { seed: 1 }).score)).toBeLessThan(0.05);
  });

  test('subsampling keeps every group, is seeded, and stays close to the full score', () => {
    const data = stack(gaussianRows(900, 4, 1), gaussianRows(100, 4, 2, 1));
    const full = silhouetteScore(data.emb, data.groupOf, ['A', 'B'], { seed: 1, maxSamples: 2000 });
    const sub = silhouetteScore(data.emb, data.groupOf, ['A', 'B'], { seed: 1, maxSamples: 200 });
    expect(full.rows).toBe(1000);
    expect(sub.rows).toBe(200);
    expect(sub.perGroup.map((g) => g.rows)).toEqual([180, 20]);
    expect(sub).toEqual(silhouetteScore(data.emb, data.groupOf, ['A', 'B'], { seed: 1, maxSamples: 200 }));
    expect(Math.abs(sub.score - full.score)).toBeLessThan(0.1);
  });

  test('bad input throws clear errors', () => {
    const emb = { data: Float32Array.from([0, 1, 2, 3]), dim: 1 };
    expect(() => silhouetteScore(emb, [0, 0, 0, 0], ['A', 'B'], { seed: 1 })).toThrow('at least 2 groups');
    expect(() => silhouetteScore(emb, [0, 1, 0], ['A', 'B'], { seed: 1 })).toThrow('expected 3 rows × 1 = 3');
    expect(() => silhouetteScore(emb, [0, 1, 0, 5], ['A', 'B'], { seed: 1 })).toThrow('groupOf[3] = 5');
    expect(() => silhouetteScore({ data: Float32Array.from([0, 1]), dim: 1 }, [0, 1], ['A', 'B'], { seed: 1 })).toThrow('more rows (2) than groups (2)');
    expect(() => silhouetteScore(emb, [0, 1, 0, 1], ['A', 'B'], { seed: 1, maxSamples: -1 })).toThrow('maxSamples');
  });
});
