// erf/erfc against values of the C library's erf (Python math.erf), and the GELU pieces built on them.
import { erf, erfc, normalCdf, normalPdf } from '../../src/engine/reference/erf';

const KNOWN: [number, number, number][] = [
  [0.1, 0.1124629160182849, 0.8875370839817152],
  [0.5, 0.5204998778130465, 0.4795001221869535],
  [1, 0.8427007929497149, 0.15729920705028513],
  [1.5, 0.9661051464753108, 0.033894853524689274],
  [2, 0.9953222650189527, 0.004677734981047265],
  [2.5, 0.999593047982555, 0.0004069520174449589],
  [3, 0.9999779095030014, 2.2090496998585438e-5],
  [3.5, 0.9999992569016276, 7.430983723414128e-7],
  [4, 0.9999999845827421, 1.541725790028002e-8],
  [5, 0.9999999999984626, 1.5374597944280351e-12],
  [-0.7, -0.6778011938374184, 1.6778011938374184],
];

describe('erf', () => {
  test.each(KNOWN)('erf(%f)', (x, e, c) => {
    expect(Math.abs(erf(x) - e)).toBeLessThan(1e-15);
    expect(Math.abs(erfc(x) - c) / c).toBeLessThan(1e-11);
  });

  test('odd symmetry, limits and continuity at the series/continued-fraction switch', () => {
    for (const x of [0.3, 1.7, 2.9, 3.1, 6]) expect(erf(-x)).toBe(-erf(x));
    expect(erf(0)).toBe(0);
    expect(erf(40)).toBe(1);
    expect(erfc(40)).toBeGreaterThanOrEqual(0);
    expect(erfc(-40)).toBe(2);
    expect(Math.abs(erf(3 - 1e-12) - erf(3 + 1e-12))).toBeLessThan(1e-14);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  test('Φ and φ', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(normalCdf(1.959963984540054) - 0.975)).toBeLessThan(1e-15);
    expect(Math.abs(normalPdf(0) - 1 / Math.sqrt(2 * Math.PI))).toBeLessThan(1e-16);
    // The left tail keeps relative precision (Φ(−10) ≈ 7.6199e-24).
    expect(Math.abs(normalCdf(-10) / 7.619853024160593e-24 - 1)).toBeLessThan(1e-10);
  });
});
