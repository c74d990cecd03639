import { median } from '../../src/util/median';

describe('median', () => {
  test('odd and even counts, unsorted input', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  test('empty input gives NaN', () => {
    expect(median([])).toBeNaN();
  });
  test('leaves its input in place', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});
