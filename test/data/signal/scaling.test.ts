import { frames, sliceFrames } from '../../../src/data/signal/framing';
import { minMaxScale, minMaxWindows, standardize, standardizeWindows } from '../../../src/data/signal/standardize';

describe('per-window scaling', () => {
  test('standardisation gives mean 0, sd 1 per window; flat windows become 0', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 5, 5, 5]);
    const y = standardizeWindows(x, 4);
    const w = Array.from(y.subarray(0, 4));
    expect(w.reduce((a, b) => a + b) / 4).toBeCloseTo(0, 6);
    expect(Math.sqrt(w.reduce((a, b) => a + b * b, 0) / 4)).toBeCloseTo(1, 6);
    expect(Array.from(y.subarray(4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(standardize(Float32Array.from([2, 4])))).toEqual([-1, 1]);
  });

  test('min–max maps each window onto [0, 1]; flat windows become 0.5', () => {
    const y = minMaxWindows(Float32Array.from([2, 4, 3, 7, 7, 7]), 3);
    expect(Array.from(y)).toEqual([0, 1, 0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(minMaxScale([-1, 1]))).toEqual([0, 1]);
  });

  test('a block that is not whole windows is rejected', () => {
    expect(() => standardizeWindows(new Float32Array(5), 2)).toThrow(/not a whole number of windows/);
    expect(() => minMaxWindows(new Float32Array(4), 0)).toThrow(/positive integer/);
  });
});

describe('framing', () => {
  test('windows and hops in seconds, only whole windows', () => {
    const f = frames(100, 10, 3, 2.5);
    expect(f.map((x) => x.start)).toEqual([0, 25, 50]);
    expect(f[1]).toEqual({ start: 25, end: 55, t0: 2.5, t1: 5.5 });
    const block = sliceFrames(Float32Array.from({ length: 100 }, (_, i) => i), f);
    expect(block.length).toBe(90);
    expect(block[30]).toBe(25);
    expect(() => frames(100, 40, 0.01)).toThrow(/whole number of samples/);
    expect(() => frames(100, 40, 1, 0)).toThrow(/hop must be > 0/);
  });
});
