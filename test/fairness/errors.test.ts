import { gap, mae, perGroupMae, rmse, worstGroup } from '../../src/fairness/metrics';

// pred [1, 2, 3, 4], hr [2, 2, 5, 1]: errors −1, 0, −2, 3; |e| = 1, 0, 2, 3; e² = 1, 0, 4, 9.
const pred = Float32Array.from([1, 2, 3, 4]);
const hr = Float32Array.from([2, 2, 5, 1]);

describe('point error metrics', () => {
  test('MAE = (1 + 0 + 2 + 3) / 4 = 1.5', () => {
    expect(mae(pred, hr)).toBeCloseTo(1.5, 12);
  });

  test('RMSE = sqrt((1 + 0 + 4 + 9) / 4) = sqrt(3.5)', () => {
    expect(rmse(pred, hr)).toBeCloseTo(Math.sqrt(3.5), 12);
  });

  test('per-group MAE with groups [A, A, B, B]: A = (1 + 0)/2 = 0.5, B = (2 + 3)/2 = 2.5; gap 2; worst B', () => {
    const g = perGroupMae(pred, hr, Int32Array.from([0, 0, 1, 1]), ['A', 'B']);
    expect(Array.from(g)).toEqual([0.5, 2.5]);
    expect(gap(g)).toBe(2);
    expect(worstGroup(g, ['A', 'B'])).toEqual({ index: 1, name: 'B', mae: 2.5 });
  });

  test('gap of three groups is max − min: [1, 4, 2.5] → 3', () => {
    expect(gap([1, 4, 2.5])).toBe(3);
    // groups [A, B, C, B] on the errors above: A = 1, B = (0 + 3)/2 = 1.5, C = 2 → gap 1, worst C.
    const g = perGroupMae(pred, hr, Int32Array.from([0, 1, 2, 1]), ['A', 'B', 'C']);
    expect(Array.from(g)).toEqual([1, 1.5, 2]);
    expect(gap(g)).toBe(1);
    expect(worstGroup(g, ['A', 'B', 'C']).name).toBe('C');
  });

  test('bad input throws clear errors', () => {
    expect(() => mae(Float32Array.from([1, 2]), Float32Array.from([1]))).toThrow('length mismatch: pred has 2, hr has 1');
    expect(() => mae(Float32Array.from([1, NaN]), Float32Array.from([1, 2]))).toThrow('pred[1] is NaN');
    expect(() => rmse(Float32Array.from([1]), Float32Array.from([Infinity]))).toThrow('hr[0] is Infinity');
    expect(() => mae(new Float32Array(0), new Float32Array(0))).toThrow('no predictions');
    expect(() => perGroupMae(pred, hr, Int32Array.from([0, 0, 0, 0]), ['A', 'B'])).toThrow('group "B" has no samples');
    expect(() => perGroupMae(pred, hr, Int32Array.from([0, 0, 2, 0]), ['A', 'B'])).toThrow('groupOf[2] = 2 is not a group id in [0, 2)');
    expect(() => perGroupMae(pred, hr, Int32Array.from([0, 1]), ['A', 'B'])).toThrow('length mismatch');
    expect(() => gap([1])).toThrow('at least 2 groups');
    expect(() => worstGroup([1, 2], ['A'])).toThrow('2 values but 1 group names');
  });
});
