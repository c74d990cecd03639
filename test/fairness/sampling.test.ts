import {
  AliasTable,
  UniformSampler,
  groupCounts,
  inverseFrequencySampler,
  inverseFrequencyWeights,
  streamRng,
  toBatches,
  WeightedSampler,
} from '../../src/train/sampling';

describe('UniformSampler', () => {
  test('each epoch visits every index exactly once', () => {
    const s = new UniformSampler(1000, 7);
    for (const epoch of [0, 1, 5]) {
      const order = s.epochOrder(epoch);
      expect(order.length).toBe(1000);
      const seen = new Uint8Array(1000);
      for (const i of order) seen[i]++;
      expect(seen.every((c) => c === 1)).toBe(true);
    }
  });

  test('deterministic from (seed, epoch); epochs and seeds differ', () => {
    const a = new UniformSampler(100, 7);
    const b = new UniformSampler(100, 7);
    expect(Array.from(a.epochOrder(3))).toEqual(Array.from(b.epochOrder(3)));
    expect(Array.from(a.epochOrder(3))).not.toEqual(Array.from(a.epochOrder(4)));
    expect(Array.from(a.epochOrder(3))).not.toEqual(Array.from(new UniformSampler(100, 8).epochOrder(3)));
  });

  test('bad arguments throw', () => {
    expect(() => new UniformSampler(0, 1)).toThrow('n must be a positive integer');
    expect(() => new UniformSampler(5, 1.5)).toThrow('seed must be an integer');
    expect(() => new UniformSampler(5, 1).epochOrder(-1)).toThrow('epoch must be a non-negative integer');
  });
});

describe('inverse-frequency weights and sampler', () => {
  test('weights by hand: groups [0,0,0,1] → f = 3/4, 1/4; w = 1/(2·3/4) = 2/3 and 1/(2·1/4) = 2; sum N = 4', () => {
    const w = inverseFrequencyWeights(Int32Array.from([0, 0, 0, 1]), 2);
    expect(Array.from(w)).toEqual([2 / 3, 2 / 3, 2 / 3, 2].map((x) => expect.closeTo(x, 12)));
    expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(4, 12);
  });

  test('each group is drawn about 1/G of the time (imbalanced 700/200/100)', () => {
    const groupOf = new Int32Array(1000);
    groupOf.fill(1, 700, 900);
    groupOf.fill(2, 900);
    const s = inverseFrequencySampler(groupOf, 3, 11);
    expect(s.samplesPerEpoch).toBe(1000);
    const drawn = new Float64Array(3);
    const perWindow = new Float64Array(1000);
    const epochs = 60;
    for (let e = 0; e < epochs; e++) {
      for (const i of s.epochOrder(e)) {
        drawn[groupOf[i]]++;
        perWindow[i]++;
      }
    }
    const total = epochs * 1000;
    // Binomial sd of a share near 1/3 over 60 000 draws is about 0.002; allow 0.01.
    for (let g = 0; g < 3; g++) expect(Math.abs(drawn[g] / total - 1 / 3)).toBeLessThan(0.01);
    // Within a group the draws are uniform: the 100 windows of group 2 each expect 60 000/(3·100) = 200.
    let min = Infinity;
    let max = -Infinity;
    for (let i = 900; i < 1000; i++) {
      min = Math.min(min, perWindow[i]);
      max = Math.max(max, perWindow[i]);
    }
    expect(min).toBeGreaterThan(140);
    expect(max).toBeLessThan(260);
  });

  test('sampling is with replacement and deterministic from (seed, epoch)', () => {
    const groupOf = Int32Array.from({ length: 50 }, (_, i) => (i < 45 ? 0 : 1));
    const a = inverseFrequencySampler(groupOf, 2, 3);
    const b = inverseFrequencySampler(groupOf, 2, 3);
    const o = a.epochOrder(2);
    expect(Array.from(o)).toEqual(Array.from(b.epochOrder(2)));
    expect(new Set(o).size).toBeLessThan(50); // 25 draws land on the 5 windows of group 1
    expect(Array.from(o)).not.toEqual(Array.from(a.epochOrder(3)));
  });

  test('empty group and bad ids throw', () => {
    expect(() => inverseFrequencyWeights(Int32Array.from([0, 0, 2]), 3)).toThrow('group 1 has no samples');
    expect(() => groupCounts(Int32Array.from([0, 3]), 3)).toThrow('groupOf[1] = 3 is outside [0, 3)');
  });
});

describe('AliasTable and WeightedSampler', () => {
  test('empirical frequencies match weights 1:2:3:4 and a zero weight is never drawn', () => {
    const t = new AliasTable([1, 2, 0, 3, 4]);
    expect(Array.from(t.probabilities)).toEqual([0.1, 0.2, 0, 0.3, 0.4].map((x) => expect.closeTo(x, 12)));
    const rng = streamRng(5, 0);
    const c = new Float64Array(5);
    const n = 100000;
    for (let k = 0; k < n; k++) c[t.draw(rng)]++;
    expect(c[2]).toBe(0);
    // sd of a share p over 1e5 draws ≤ 0.0016; allow 0.006.
    [0.1, 0.2, 0, 0.3, 0.4].forEach((p, i) => expect(Math.abs(c[i] / n - p)).toBeLessThan(0.006));
  });

  test('bad weights throw', () => {
    expect(() => new AliasTable([])).toThrow('no weights');
    expect(() => new AliasTable([1, NaN])).toThrow('weight 1 is NaN');
    expect(() => new AliasTable([1, -1])).toThrow('weight 1 is -1');
    expect(() => new AliasTable([0, 0])).toThrow('all weights are zero');
    expect(() => new WeightedSampler([1], 1, 0)).toThrow('samplesPerEpoch must be a positive integer');
  });
});

describe('toBatches and streamRng', () => {
  test('batches are consecutive slices; dropLast drops the short one', () => {
    const order = Int32Array.from({ length: 10 }, (_, i) => i);
    expect(toBatches(order, 4).map((b) => Array.from(b))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(toBatches(order, 4, true).map((b) => b.length)).toEqual([4, 4]);
    expect(() => toBatches(order, 0)).toThrow('batchSize must be a positive integer');
  });

  test('streams differ by key, repeat for equal keys, and accept seeds beyond 32 bits', () => {
    const draw = (...k: number[]) => {
      const [seed, ...rest] = k;
      const r = streamRng(seed, ...rest);
      return [r.uint32(), r.uint32()];
    };
    expect(draw(1, 2, 3)).toEqual(draw(1, 2, 3));
    expect(draw(1, 2, 3)).not.toEqual(draw(1, 2, 4));
    expect(draw(1, 2, 3)).not.toEqual(draw(1, 3, 2));
    expect(draw(2 ** 40, 1)).not.toEqual(draw(0, 1));
    expect(() => streamRng(0.5)).toThrow('must be integers');
  });
});
