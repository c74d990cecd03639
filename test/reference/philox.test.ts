// Philox4x32-10 against the Random123 known-answer vectors (kat_vectors of the reference distribution,
// the same three that TensorFlow's and other ports test), and the statistics of the dropout mask.
import { dropoutMask, dropoutThreshold, philox4x32 } from '../../src/engine/philox';

const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

describe('Philox4x32-10', () => {
  test.each(KAT.map((k, i) => [i, ...k] as const))('known-answer vector %i', (_i, ctr, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out);
    expect(Array.from(out)).toEqual(expected);
  });
});

describe('dropout mask', () => {
  const key = { seed: 1234567, step: 17, site: 3 };

  test.each([0.1, 0.5, 0.9])('keep rate is 1 − p (p = %f)', (p) => {
    const n = 200_000;
    const keep = new Uint8Array(n);
    dropoutMask(key, p, 0, keep);
    let kept = 0;
    for (const k of keep) kept += k;
    // Binomial standard deviation sqrt(n p (1 − p)) / n ≤ 0.0012; allow 5 sigma.
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(0.006);
  });

  test('p = 0 keeps everything; threshold is ceil(p·2^24)', () => {
    const keep = new Uint8Array(1000);
    dropoutMask(key, 0, 0, keep);
    expect(keep.every((k) => k === 1)).toBe(true);
    expect(dropoutThreshold(0.1)).toBe(Math.ceil(0.1 * 16777216));
    expect(() => dropoutThreshold(1)).toThrow(/p must be in \[0, 1\)/);
  });

  test('a mask drawn from an offset equals the same slice of the whole mask', () => {
    const whole = new Uint8Array(103);
    dropoutMask(key, 0.3, 0, whole);
    const part = new Uint8Array(41);
    dropoutMask(key, 0.3, 37, part);
    expect(Array.from(part)).toEqual(Array.from(whole.subarray(37, 78)));
  });

  test('different seed, step or site give different masks; the same key the same mask', () => {
    const draw = (k: typeof key) => {
      const m = new Uint8Array(256);
      dropoutMask(k, 0.5, 0, m);
      return Array.from(m);
    };
    const base = draw(key);
    expect(draw({ ...key })).toEqual(base);
    expect(draw({ ...key, seed: key.seed + 1 })).not.toEqual(base);
    expect(draw({ ...key, step: key.step + 1 })).not.toEqual(base);
    expect(draw({ ...key, site: key.site + 1 })).not.toEqual(base);
    // Seeds above 2^32 use the second key word.
    expect(draw({ ...key, seed: key.seed + 2 ** 32 })).not.toEqual(base);
  });
});
