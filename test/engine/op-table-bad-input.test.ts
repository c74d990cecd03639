// Bad calls derived from the op table, at the Backend level: for every op a valid call (which must work),
// then each argument broken in turn (a wrong rank, a dim off by one, a disposed tensor, a non-finite scalar,
// an output that is also an input, a value its rule forbids). Every one must fail naming the op and the
// argument, and the cpu backend must fail with the reference's very message (the checks are the table's).
import type { Backend } from '../../src/engine/backend';
import { CpuBackend } from '../../src/engine/cpu/backend';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { evalExpr } from '../../src/engine/ops/dim-expr';
import type { ArgSpec, NumberSpec, OpSpec, TensorSpec } from '../../src/engine/ops/op-spec';
import { OP_TABLE } from '../../src/engine/ops/op-table';
import type { Tensor } from '../../src/engine/tensor';

const DIMS: Record<string, number> = { N: 2, K: 3, M: 4, B: 2, S: 3, T: 2, D: 8, H: 2, P: 2, C: 3, G: 2, n: 5 };

function shapeOf(t: TensorSpec): number[] {
  if (typeof t.shape === 'string') return [DIMS[t.shape.slice(3)]];
  return t.shape.map((d) => (typeof d === 'number' ? d : evalExpr(d, DIMS)));
}

function valuesOf(t: TensorSpec, n: number): number[] {
  const rule = t.values;
  if (typeof rule === 'object') return Array.from({ length: n }, (_, i) => i % DIMS[rule.groupIds]);
  return new Array<number>(n).fill(rule === 'weights' || rule === 'counts' ? 1 : 0.5);
}

function scalarOf(s: NumberSpec): number {
  if (s.bind !== undefined) return DIMS[s.bind];
  if (s.integer) return s.min ?? 1;
  const lo = s.min ?? s.above ?? 0, hi = s.max ?? s.below ?? lo + 1;
  return (lo + hi) / 2;
}

const KEY = { seed: 1, step: 2, site: 3 };

/** A fresh valid argument list for `spec` on `be`. */
function validArgs(be: Backend, spec: OpSpec): unknown[] {
  return spec.args.map((a: ArgSpec) => {
    switch (a.kind) {
      case 'tensor': {
        const shape = shapeOf(a);
        return be.tensor(shape, valuesOf(a, shape.reduce((x, y) => x * y, 1)));
      }
      case 'number': return scalarOf(a);
      case 'dropoutKey': return { ...KEY };
      case 'options': return Object.fromEntries(a.fields.map((f) => [f.name, f.kind === 'dropoutKey' ? { ...KEY } : scalarOf(f)]));
      case 'tensorList': return [be.tensor([3], [1, 2, 3])];
      // A flag an optional tensor needs is set: a valid call gives every tensor.
      case 'flag': return (spec.needsFlag ?? []).some((r) => r.flag === a.name) ? true : undefined;
    }
  });
}

type Breaker = [string, string, (be: Backend, args: unknown[]) => void];

/** Each way to break one argument of `spec`: [label, argument the message must name, mutation]. */
function breakers(spec: OpSpec): Breaker[] {
  const out: Breaker[] = [];
  spec.args.forEach((a, i) => {
    if (a.kind === 'tensor') {
      const shape = shapeOf(a);
      // Any shape goes for a '...n' tensor unless another shares it.
      const others = spec.args.filter((b) => b !== a && b.kind === 'tensor' && typeof b.shape === 'string');
      if (typeof a.shape !== 'string' || others.length > 0) {
        out.push([`${a.name} rank`, a.name, (be, args) => { args[i] = be.tensor([...shape, 1]); }]);
      }
      if (typeof a.shape !== 'string') {
        out.push([`${a.name} dim 0 off by one`, a.name, (be, args) => { args[i] = be.tensor([shape[0] + 1, ...shape.slice(1)]); }]);
      }
      out.push([`${a.name} disposed`, a.name, (be, args) => be.dispose(args[i] as Tensor)]);
      const rule = a.values;
      if (rule !== undefined) {
        const bad = typeof rule === 'object' ? DIMS[rule.groupIds] : rule === 'unit' ? 2 : rule === 'counts' ? 0.5 : rule === 'weights' ? -1 : NaN;
        out.push([`${a.name} value ${bad}`, a.name, (be, args) => {
          const n = shape.reduce((x, y) => x * y, 1);
          args[i] = be.tensor(shape, Array.from({ length: n }, (_, j) => (j === n - 1 ? bad : valuesOf(a, n)[j])));
        }]);
      }
      if (a.role !== 'in') {
        spec.args.forEach((b, j) => {
          if (j === i || b.kind !== 'tensor' || a.inPlaceWith?.includes(b.name) || (b.kind === 'tensor' && b.inPlaceWith?.includes(a.name))) return;
          if (shapeOf(b).join() !== shape.join()) return;
          out.push([`${a.name} is ${b.name}`, a.name, (_be, args) => { args[i] = args[j]; }]);
        });
      }
    } else if (a.kind === 'number') {
      out.push([`${a.name} NaN`, a.name, (_be, args) => { args[i] = NaN; }]);
    } else if (a.kind === 'dropoutKey') {
      out.push([`${a.name}.seed negative`, `${a.name}.seed`, (_be, args) => { args[i] = { ...KEY, seed: -1 }; }]);
    } else if (a.kind === 'options') {
      for (const f of a.fields) {
        if (f.kind === 'number') out.push([`${a.name}.${f.name} NaN`, `${a.name}.${f.name}`, (_be, args) => { (args[i] as Record<string, unknown>)[f.name] = NaN; }]);
      }
    } else {
      out.push([`${a.name} not an array`, a.name, (_be, args) => { args[i] = 7; }]);
    }
  });
  // A factor other than 1 without the tensor it applies through (the flags that tensor needs cleared too).
  const at = (name: string) => spec.args.findIndex((a) => a.name === name);
  for (const r of spec.factorNeedsTensor ?? []) {
    out.push([`${r.number} without ${r.tensor}`, r.number, (_be, args) => {
      args[at(r.tensor)] = null;
      for (const n of spec.needsFlag ?? []) if (n.tensor === r.tensor) args[at(n.flag)] = undefined;
      args[at(r.number)] = 2;
    }]);
  }
  return out;
}

function messageOf(be: Backend, spec: OpSpec, brk?: Breaker): string {
  const args = validArgs(be, spec);
  brk?.[2](be, args);
  try {
    (be[spec.name as keyof Backend] as (...a: unknown[]) => unknown).apply(be, args);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'no error';
}

const ref = new ReferenceBackend();
const cpu = new CpuBackend();
const rows = (OP_TABLE as readonly OpSpec[]).flatMap((spec) => [
  [spec.name, 'valid', spec, undefined] as const,
  ...breakers(spec).map((b) => [spec.name, b[0], spec, b] as const),
]);

test.each(rows)('%s: %s', (_op, _label, spec, brk) => {
  const want = messageOf(ref, spec, brk);
  if (brk === undefined) {
    expect(want).toBe('no error');
  } else {
    expect(want.startsWith(`${spec.name}: `)).toBe(true);
    expect(want).toMatch(new RegExp(`\\b${brk[1].replace('.', '\\.')}\\b`));
  }
  expect(messageOf(cpu, spec, brk)).toBe(want);
});
