// The raw addon functions must reject bad arguments with a JS Error naming the op and never crash the
// process. The cases are derived from the op table (src/engine/ops/op-table.ts) through the native layout
// the generated glue reads: for every op, a valid call (which must work), then one argument broken at a
// time: missing or extra arguments, wrong array lengths and types, bad dims, scalars outside their declared
// ranges, outputs partially overlapping an input, and group ids that would index out of bounds.
import { loadAddon } from '../../src/engine/cpu/addon';
import type { NativeAddon } from '../../src/engine/cpu/native-api';
import { evalExpr, symbolsOf } from '../../src/engine/ops/dim-expr';
import { NATIVE_OPS, nativeParams, type NativeParam } from '../../src/engine/ops/native-layout';
import type { NumberSpec, OpSpec, TensorSpec } from '../../src/engine/ops/op-spec';

const load = loadAddon();
if (!load.ok) throw new Error(load.reason);
const addon: NativeAddon = load.addon;

/** Small dims that satisfy every constraint of the table (D/H = 4, T ≤ S − 1). */
const DIMS: Record<string, number> = { N: 2, K: 3, M: 4, B: 2, S: 3, T: 2, D: 8, H: 2, P: 2, C: 3, G: 2, n: 5 };

function length(t: TensorSpec): number {
  if (typeof t.shape === 'string') return DIMS[t.shape.slice(3)];
  return t.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : evalExpr(d, DIMS)), 1);
}

/** A valid value for a tensor: ids cycle through the groups, everything else 0.5 (1 for weights and counts). */
function validArray(t: TensorSpec): Float32Array {
  const n = length(t), rule = t.values;
  if (typeof rule === 'object') return Float32Array.from({ length: n }, (_, i) => i % DIMS[rule.groupIds]);
  return new Float32Array(n).fill(rule === 'weights' || rule === 'counts' ? 1 : 0.5);
}

function validScalar(s: NumberSpec): number {
  if (s.integer) return s.min ?? (s.above !== undefined ? s.above + 1 : 1);
  const lo = s.min ?? s.above ?? 0, hi = s.max ?? s.below ?? lo + 1;
  return (lo + hi) / 2;
}

/** flags: those an optional tensor needs (spec.needsFlag), set because a valid call gives every tensor. */
function validArgs(params: readonly NativeParam[], flags: ReadonlySet<string>): unknown[] {
  return params.map((p) => {
    if (p.kind === 'tensor') return validArray(p.spec);
    if (p.kind === 'tensorList') return [new Float32Array(3).fill(0.5), new Float32Array(0)];
    if (p.kind === 'scalar') return flags.has(p.name) ? 1 : validScalar(p.spec);
    return DIMS[p.name];
  });
}

/** Values just outside a scalar's declared range (and NaN, Infinity, a string). */
function badScalars(s: NumberSpec): unknown[] {
  const bad: unknown[] = [NaN, Infinity, 'x'];
  if (s.min !== undefined) bad.push(s.min - 1);
  if (s.max !== undefined) bad.push(s.max + 1);
  if (s.above !== undefined) bad.push(s.above);
  if (s.below !== undefined) bad.push(s.below);
  if (s.integer) bad.push(validScalar(s) + 0.5);
  return bad;
}

function call(op: string, args: unknown[]): void {
  (addon[op] as (...a: unknown[]) => unknown)(...args);
}

function expectRejected(op: string, args: unknown[], why: string): void {
  let error: unknown;
  try {
    call(op, args);
  } catch (e) {
    error = e;
  }
  // Errors made by the addon come from Node's own realm, not jest's sandbox: check the shape, not instanceof.
  const message = (error as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string') throw new Error(`${op} accepted ${why}`);
  expect(message).toContain(`fairtune_native.${op}`);
}

const rows = NATIVE_OPS.map((s: OpSpec) => [s.name, nativeParams(s), new Set((s.needsFlag ?? []).map((r) => r.flag))] as const);

describe.each(rows)('%s', (op, params, flags) => {
  const positions = (kind: NativeParam['kind']) => params.flatMap((p, i) => (p.kind === kind ? [i] : []));

  test('accepts valid arguments', () => {
    expect(() => call(op, validArgs(params, flags))).not.toThrow();
  });

  test('rejects a missing or an extra argument', () => {
    expectRejected(op, validArgs(params, flags).slice(0, -1), 'a missing last argument');
    expectRejected(op, [], 'no arguments');
    expectRejected(op, [...validArgs(params, flags), 1], 'an extra argument');
  });

  test('rejects wrong array lengths and types', () => {
    for (const i of positions('tensor')) {
      const n = (validArgs(params, flags)[i] as Float32Array).length;
      for (const [bad, why] of [
        [new Float32Array(n + 1), 'one element too many'],
        [new Float32Array(n - 1), 'one element too few'],
        [new Float64Array(n), 'a Float64Array'],
        [[0.5, 0.5], 'a plain Array'],
        [7, 'a number'],
        ['x', 'a string'],
      ] as [unknown, string][]) {
        const args = validArgs(params, flags);
        args[i] = bad;
        expectRejected(op, args, `${why} at argument ${i}`);
      }
      const spec = (params[i] as Extract<NativeParam, { kind: 'tensor' }>).spec;
      if (!spec.optional) {
        const args = validArgs(params, flags);
        args[i] = null;
        expectRejected(op, args, `null for required argument ${i}`);
      }
    }
  });

  test('rejects NaN, negative, zero, fractional, huge and non-number dims', () => {
    for (const i of positions('dim')) {
      const p = params[i] as Extract<NativeParam, { kind: 'dim' }>;
      for (const bad of [NaN, -1, -(2 ** 40), ...(p.mayBeZero ? [] : [0]), 1.5, Infinity, 2 ** 60, '2', undefined]) {
        const args = validArgs(params, flags);
        args[i] = bad;
        expectRejected(op, args, `dim ${String(bad)} at argument ${i}`);
      }
    }
  });

  test('rejects scalars outside their declared ranges', () => {
    for (const i of positions('scalar')) {
      for (const bad of badScalars((params[i] as Extract<NativeParam, { kind: 'scalar' }>).spec)) {
        const args = validArgs(params, flags);
        args[i] = bad;
        expectRejected(op, args, `scalar ${String(bad)} at argument ${i}`);
      }
    }
  });

  test('rejects an output that partially overlaps another tensor', () => {
    const tensors = positions('tensor');
    for (const o of tensors.filter((i) => (params[i] as Extract<NativeParam, { kind: 'tensor' }>).spec.role !== 'in')) {
      for (const other of tensors.filter((i) => i !== o)) {
        const args = validArgs(params, flags);
        const outLen = (args[o] as Float32Array).length, otherLen = (args[other] as Float32Array).length;
        // One buffer holding both, sharing exactly one element.
        const buf = new Float32Array(otherLen - 1 + outLen).fill(0.5);
        args[other] = buf.subarray(0, otherLen);
        args[o] = buf.subarray(otherLen - 1);
        expectRejected(op, args, `output ${o} overlapping argument ${other}`);
      }
    }
  });

  test('rejects group ids that would index out of bounds', () => {
    for (const i of positions('tensor')) {
      const rule = (params[i] as Extract<NativeParam, { kind: 'tensor' }>).spec.values;
      if (typeof rule !== 'object') continue;
      for (const g of [DIMS[rule.groupIds], -1, 0.5, NaN]) {
        const args = validArgs(params, flags);
        args[i] = Float32Array.from({ length: (args[i] as Float32Array).length }, (_, j) => (j === 1 ? g : 0));
        expectRejected(op, args, `group id ${g}`);
      }
    }
  });
});

describe('the constraints that protect memory', () => {
  test('every memory constraint of the table is enforced natively', () => {
    // Break each one by changing a dim it reads, with arrays sized to the broken dims, so only it can fail.
    const broken: Record<string, Record<string, number>> = {
      'D % H == 0': { H: 3 },
      '(D / H) % 4 == 0': { D: 12, H: 2 },
      'T <= S - 1': { T: 3 },
    };
    let checked = 0;
    for (const spec of NATIVE_OPS) {
      for (const c of (spec.constraints ?? []).filter((x) => x.protectsMemory)) {
        const change = broken[c.test];
        expect(change).toBeDefined();
        const dims = { ...DIMS, ...change };
        expect(evalExpr(c.test, dims)).toBe(0);
        const args = nativeParams(spec).map((p) => {
          if (p.kind === 'dim') return dims[p.name];
          if (p.kind === 'tensor') {
            const shape = p.spec.shape;
            const n = typeof shape === 'string' ? dims[shape.slice(3)]
              : shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : evalExpr(d, dims)), 1);
            return new Float32Array(n).fill(0.5);
          }
          return p.kind === 'scalar' ? validScalar(p.spec) : [];
        });
        expectRejected(spec.name, args, `a broken constraint ${c.test}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
    expect(symbolsOf('D % H == 0')).toEqual(['D', 'H']);
  });

  test('setIsa and setThreads with bad values', () => {
    expect(() => (addon.setIsa as (s: string) => void)('sse9')).toThrow(/fairtune_native.setIsa/);
    expect(() => addon.setThreads(0)).toThrow(/fairtune_native.setThreads/);
    expect(() => addon.setThreads(NaN)).toThrow(/fairtune_native.setThreads/);
  });

  test('an optional tensor given without the flag it needs (needsFlag)', () => {
    let checked = 0;
    for (const spec of NATIVE_OPS) {
      for (const r of spec.needsFlag ?? []) {
        const params = nativeParams(spec), flags = new Set((spec.needsFlag ?? []).map((x) => x.flag));
        const args = validArgs(params, flags);
        args[params.findIndex((p) => p.name === r.flag)] = 0;
        expect(() => call(spec.name, args)).toThrow(r.message);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  test('a factor other than 1 given without the tensor it applies through (factorNeedsTensor)', () => {
    let checked = 0;
    for (const spec of NATIVE_OPS) {
      for (const r of spec.factorNeedsTensor ?? []) {
        const params = nativeParams(spec), flags = new Set((spec.needsFlag ?? []).map((x) => x.flag));
        const args = validArgs(params, flags);
        args[params.findIndex((p) => p.name === r.tensor)] = null;
        // Flags the missing tensor needed are cleared too, so the factor is the only thing wrong.
        for (const n of spec.needsFlag ?? []) if (n.tensor === r.tensor) args[params.findIndex((p) => p.name === n.flag)] = 0;
        args[params.findIndex((p) => p.name === r.number)] = 2;
        expect(() => call(spec.name, args)).toThrow(r.message);
        args[params.findIndex((p) => p.name === r.number)] = 1;
        expect(() => call(spec.name, args)).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(1);
  });

  test('sumSquares with a non-array or a wrong element type', () => {
    expectRejected('sumSquares', [7], 'a number');
    expect(() => call('sumSquares', [[new Float32Array(2), new Float64Array(2)]])).toThrow(/tensors\[1\]/);
  });
});
