// The raw addon functions must reject bad arguments with a JS Error naming the op and never crash the
// process: wrong array lengths, wrong types, missing arguments, NaN / negative / fractional dims,
// overlapping outputs, out-of-range values. Each op is first called with valid arguments (which must
// work), then with one argument broken at a time.
import { loadAddon } from '../../src/engine/cpu/addon';
import type { NativeAddon } from '../../src/engine/cpu/native-api';

const load = loadAddon();
if (!load.ok) throw new Error(load.reason);
const addon: NativeAddon = load.addon;

const f = (n: number, v = 0.5) => new Float32Array(n).fill(v);

interface OpCase {
  op: keyof NativeAddon;
  /** A fresh valid argument list. */
  args: () => unknown[];
  /** Positions of required Float32Array arguments. */
  arrays: number[];
  /** Positions of optional (nullable) Float32Array arguments. */
  optional?: number[];
  /** Position of an output array (absent when the op has no array output besides an in-place one). */
  out?: number;
  /** Positions of dimension arguments. */
  dims: number[];
}

// Small valid shapes: N=2, K=3, M=4; B=2, S=3, T=2, D=8, H=2, P=2, G=2.
const cases: OpCase[] = [
  { op: 'linear', out: 3, args: () => [f(6), f(12), f(4), f(8), 2, 3, 4], arrays: [0, 1, 3], optional: [2], dims: [4, 5, 6] },
  { op: 'linearBackward', out: 4, args: () => [f(8), f(6), f(12), f(6), f(12), f(4), 2, 3, 4], arrays: [0, 1, 2], optional: [3, 4, 5], dims: [6, 7, 8] },
  { op: 'rmsNorm', out: 3, args: () => [f(6), f(3), 1e-8, f(6), f(2), 2, 3], arrays: [0, 1, 3, 4], dims: [5, 6] },
  { op: 'rmsNormBackward', out: 4, args: () => [f(6), f(6), f(3), f(2), f(6), f(3), 2, 3], arrays: [0, 1, 2, 3, 4], optional: [5], dims: [6, 7] },
  { op: 'layerNorm', out: 4, args: () => [f(6), f(3), f(3), 1e-5, f(6), f(2), f(2), 2, 3], arrays: [0, 1, 2, 4, 5, 6], dims: [7, 8] },
  { op: 'layerNormBackward', out: 5, args: () => [f(6), f(6), f(3), f(2), f(2), f(6), f(3), f(3), 2, 3], arrays: [0, 1, 2, 3, 4, 5], optional: [6, 7], dims: [8, 9] },
  { op: 'startToken', out: 2, args: () => [f(32), f(8), f(48), 2, 2, 8], arrays: [0, 1, 2], dims: [3, 5] },
  { op: 'startTokenBackward', out: 1, args: () => [f(48), f(32), f(8), 2, 2, 8], arrays: [0], optional: [1, 2], dims: [3, 5] },
  { op: 'meanPool', out: 1, args: () => [f(48), f(16), 2, 3, 8], arrays: [0, 1], dims: [2, 3, 4] },
  { op: 'meanPoolBackward', out: 1, args: () => [f(16), f(48), 2, 3, 8], arrays: [0, 1], dims: [2, 3, 4] },
  { op: 'relu', out: 1, args: () => [f(5), f(5), 5], arrays: [0, 1], dims: [2] },
  { op: 'reluBackward', out: 2, args: () => [f(5), f(5), f(5), 5], arrays: [0, 1, 2], dims: [3] },
  { op: 'gelu', out: 1, args: () => [f(5), f(5), 5], arrays: [0, 1], dims: [2] },
  { op: 'geluBackward', out: 2, args: () => [f(5), f(5), f(5), 5], arrays: [0, 1, 2], dims: [3] },
  { op: 'dropout', out: 1, args: () => [f(5), f(5), 5, 0.1, 1, 2, 3], arrays: [0, 1], dims: [2] },
  { op: 'dropoutBackward', out: 1, args: () => [f(5), f(5), 5, 0.1, 1, 2, 3], arrays: [0, 1], dims: [2] },
  { op: 'add', out: 2, args: () => [f(5), f(5), f(5), 5], arrays: [0, 1, 2], dims: [3] },
  { op: 'accumulate', out: 1, args: () => [f(5), f(5), 2, 5], arrays: [0, 1], dims: [3] },
  { op: 'scale', args: () => [f(5), 2, 5], arrays: [0], dims: [2] },
  { op: 'gradReverse', out: 1, args: () => [f(5), f(5), 1, 5], arrays: [0, 1], dims: [3] },
  {
    op: 'ropeAttention', out: 3, args: () => [f(48), f(48), f(48), f(48), f(12), 2, 3, 8, 2, 0, 0, 0, 0],
    arrays: [0, 1, 2, 3, 4], dims: [5, 6, 7, 8],
  },
  {
    op: 'ropeAttentionBackward', out: 6,
    args: () => [f(48), f(48), f(48), f(48), f(48), f(12), f(48), f(48), f(48), 2, 3, 8, 2, 0.1, 5, 6, 7],
    arrays: [0, 1, 2, 3, 4, 5, 6, 7, 8], dims: [9, 10, 11, 12],
  },
  {
    op: 'hrLoss', out: 6, args: () => [f(4), f(2, 80), f(2, 1), new Float32Array([0, 1]), 1, 0.1, f(2), f(2), f(1), f(2), f(2), 2, 2],
    arrays: [0, 1, 2, 3, 6, 7, 8, 9, 10], dims: [11, 12],
  },
  { op: 'hrLossBackward', out: 5, args: () => [f(4), f(2, 80), f(2, 1), 1, 0.1, f(4), 1, 2], arrays: [0, 1, 2, 5], dims: [7] },
  { op: 'nextPatchNll', out: 3, args: () => [f(24), f(8), 0.1, f(1), 2, 3, 2, 2], arrays: [0, 1, 3], dims: [4, 5, 6, 7] },
  { op: 'nextPatchNllBackward', out: 3, args: () => [f(24), f(8), 0.1, f(24), 1, 2, 3, 2, 2], arrays: [0, 1, 3], dims: [5, 6, 7, 8] },
  { op: 'bceWithLogits', out: 2, args: () => [f(3), f(3), f(1), 3], arrays: [0, 1, 2], dims: [3] },
  { op: 'bceWithLogitsBackward', out: 2, args: () => [f(3), f(3), f(3), 1, 3], arrays: [0, 1, 2], dims: [4] },
  {
    op: 'groupDroUpdate', out: 5, args: () => [f(2), f(2, 1), f(2, 1), 0.1, new Float32Array([0, 1]), f(2), 2, 2],
    arrays: [0, 1, 2, 4, 5], dims: [6, 7],
  },
  { op: 'adamw', out: 0, args: () => [f(5), f(5), f(5), f(5), 1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 5], arrays: [0, 1, 2, 3], dims: [10] },
];

function call(op: keyof NativeAddon, args: unknown[]): void {
  (addon[op] as (...a: unknown[]) => unknown)(...args);
}

function expectRejected(c: OpCase, args: unknown[], why: string): void {
  let error: unknown;
  try {
    call(c.op, args);
  } catch (e) {
    error = e;
  }
  // Errors made by the addon come from Node's own realm, not jest's sandbox: check the shape, not instanceof.
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string') throw new Error(`${c.op} accepted ${why}`);
  expect(message).toContain(`fairtune_native.${c.op}`);
}

describe.each(cases)('$op', (c) => {
  test('accepts valid arguments', () => {
    expect(() => call(c.op, c.args())).not.toThrow();
  });

  test('rejects a missing or an extra argument', () => {
    expectRejected(c, c.args().slice(0, -1), 'a missing last argument');
    expectRejected(c, [], 'no arguments');
    expectRejected(c, [...c.args(), 1], 'an extra argument');
  });

  test('rejects wrong array lengths and types', () => {
    for (const i of [...c.arrays, ...(c.optional ?? [])]) {
      for (const [bad, why] of [
        [new Float32Array((c.args()[i] as Float32Array).length + 1), 'one element too many'],
        [new Float32Array((c.args()[i] as Float32Array).length - 1), 'one element too few'],
        [new Float64Array((c.args()[i] as Float32Array).length), 'a Float64Array'],
        [[0.5, 0.5], 'a plain Array'],
        [7, 'a number'],
        ['x', 'a string'],
      ] as [unknown, string][]) {
        const args = c.args();
        args[i] = bad;
        expectRejected(c, args, `${why} at argument ${i}`);
      }
    }
    for (const i of c.arrays) {
      const args = c.args();
      args[i] = null;
      expectRejected(c, args, `null for required argument ${i}`);
    }
  });

  test('rejects NaN, negative, zero, fractional, huge and non-number dims', () => {
    for (const i of c.dims) {
      for (const bad of [NaN, -1, -(2 ** 40), 0, 1.5, Infinity, 2 ** 60, '2', undefined]) {
        const args = c.args();
        args[i] = bad;
        expectRejected(c, args, `dim ${String(bad)} at argument ${i}`);
      }
    }
  });

  test('rejects an output that partially overlaps an input', () => {
    if (c.out === undefined) return;
    const args = c.args();
    const other = c.arrays.find((i) => i !== c.out) as number;
    const outLen = (args[c.out] as Float32Array).length, otherLen = (args[other] as Float32Array).length;
    // One buffer holding both, sharing exactly one element.
    const buf = new Float32Array(otherLen - 1 + outLen).fill(0.5);
    args[other] = buf.subarray(0, otherLen);
    args[c.out] = buf.subarray(otherLen - 1);
    expectRejected(c, args, 'a partially overlapping output');
  });
});

describe('values that would index out of bounds or poison a loss', () => {
  const hr = cases.find((c) => c.op === 'hrLoss') as OpCase;
  const dro = cases.find((c) => c.op === 'groupDroUpdate') as OpCase;
  test.each([[2], [-1], [0.5], [NaN]])('a group id of %f', (g) => {
    for (const c of [hr, dro]) {
      const args = c.args();
      args[c.op === 'hrLoss' ? 3 : 4] = new Float32Array([0, g]);
      expectRejected(c, args, `group id ${g}`);
    }
  });

  test('weights summing to zero, NaN labels, targets outside [0, 1], eps outside (0, 0.5)', () => {
    let args = hr.args();
    args[2] = f(2, 0);
    expectRejected(hr, args, 'zero weights');
    args = hr.args();
    args[1] = new Float32Array([80, NaN]);
    expectRejected(hr, args, 'a NaN label');
    args = hr.args();
    args[5] = 0.5;
    expectRejected(hr, args, 'eps = 0.5');
    const bce = cases.find((c) => c.op === 'bceWithLogits') as OpCase;
    args = bce.args();
    args[1] = new Float32Array([0, 1.5, 0]);
    expectRejected(bce, args, 'a target of 1.5');
  });

  test('dropout p and key out of range', () => {
    const c = cases.find((x) => x.op === 'dropout') as OpCase;
    for (const [i, bad] of [[3, 1], [3, -0.1], [3, NaN], [4, -1], [4, 2 ** 53], [5, 2 ** 32], [6, 1.5]] as [number, number][]) {
      const args = c.args();
      args[i] = bad;
      expectRejected(c, args, `${bad} at argument ${i}`);
    }
  });

  test('attention with D not divisible by H, or a head width not a multiple of 4', () => {
    const c = cases.find((x) => x.op === 'ropeAttention') as OpCase;
    let args = c.args();
    args[8] = 3;
    expectRejected(c, args, 'H = 3 with D = 8');
    args = [f(12), f(12), f(12), f(12), f(2), 1, 2, 6, 1, 0, 0, 0, 0];
    expectRejected(c, args, 'head width 6');
  });

  test('nextPatchNll with more patches than tokens', () => {
    const c = cases.find((x) => x.op === 'nextPatchNll') as OpCase;
    expectRejected(c, [f(24), f(12), 0.1, f(1), 2, 3, 3, 2], 'T = S');
  });

  test('adamw with step 0 or beta = 1', () => {
    const c = cases.find((x) => x.op === 'adamw') as OpCase;
    let args = c.args();
    args[9] = 0;
    expectRejected(c, args, 'step 0');
    args = c.args();
    args[5] = 1;
    expectRejected(c, args, 'beta1 = 1');
  });

  test('sumSquares with a non-array or a wrong element type', () => {
    expect(() => addon.sumSquares(7 as unknown as Float32Array[])).toThrow(/fairtune_native.sumSquares/);
    expect(() => addon.sumSquares([f(2), new Float64Array(2) as unknown as Float32Array])).toThrow(/arrays\[1\]/);
  });

  test('setIsa and setThreads with bad values', () => {
    expect(() => addon.setIsa('sse9' as 'scalar')).toThrow(/fairtune_native.setIsa/);
    expect(() => addon.setThreads(0)).toThrow(/fairtune_native.setThreads/);
    expect(() => addon.setThreads(NaN)).toThrow(/fairtune_native.setThreads/);
  });
});
