// The argument checks of every op on every backend, derived from its op-table entry: tensors live and on
// this backend, shapes (symbols bound on first use, so a disagreeing dim is named with both tensors),
// symbol minimums, the table's constraints, scalar ranges, aliasing of outputs with inputs, and the value
// rules of labels, weights and group ids. A backend supplies how to read a tensor's values on the host; the
// same call then fails with the same message on every backend.
import { OpError, checkNumber, checkTensor } from '../check';
import { Tensor, shapeStr } from '../tensor';
import { evalExpr, solveFor, symbolsOf } from './dim-expr';
import type { ArgSpec, KeySpec, NumberSpec, OpSpec, TensorSpec, ValueRule } from './op-spec';

export interface CheckedCall {
  /** The value of every shape symbol of the op. */
  dims: Readonly<Record<string, number>>;
  /** The op has nothing to do (its noopWhenZero symbol is 0): no kernel should run. */
  noop: boolean;
}

/**
 * Host copies of tensors' values (free for host backends; a host shadow or one download for device ones).
 * A device backend may answer null for a tensor whose values the host does not know: the check is then
 * handed to its `defer`, to run on the device and be reported at the next read (see DeferredCheck).
 */
export type ValueReader = (ts: readonly Tensor[]) => (Float32Array | null)[];

/** A value check left to the device: one tensor's rule, or that every id of `ids` has a count in `counts`. */
export type DeferredCheck =
  | { kind: 'rule'; op: string; name: string; tensor: Tensor; rule: ValueRule; G: number }
  | { kind: 'idsCounted'; op: string; ids: string; counts: string; idsTensor: Tensor; countsTensor: Tensor; G: number };

const TWO_POW_32 = 4294967296;

function checkScalar(op: string, arg: string, v: unknown, s: NumberSpec): number {
  const x = checkNumber(op, arg, v, { integer: s.integer, min: s.min, max: s.max });
  const aboveOk = s.above === undefined || x > s.above, belowOk = s.below === undefined || x < s.below;
  if (aboveOk && belowOk) return x;
  if (s.above !== undefined && s.below !== undefined) throw new OpError(op, `${arg} must be in (${s.above}, ${s.below}), got ${x}`);
  throw new OpError(op, aboveOk ? `${arg} must be < ${s.below}, got ${x}` : `${arg} must be > ${s.above}, got ${x}`);
}

export function checkDropoutKey(op: string, arg: string, k: unknown): void {
  if (k === null || k === undefined || typeof k !== 'object') throw new OpError(op, `${arg} must be a DropoutKey {seed, step, site}`);
  const o = k as Record<string, unknown>;
  checkNumber(op, `${arg}.seed`, o.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  checkNumber(op, `${arg}.step`, o.step, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  checkNumber(op, `${arg}.site`, o.site, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
}

function checkScalarArg(op: string, name: string, spec: NumberSpec | KeySpec, v: unknown): void {
  if (spec.kind === 'dropoutKey') checkDropoutKey(op, name, v);
  else checkScalar(op, name, v === undefined ? spec.default : v, spec);
}

/**
 * Binds shape symbols across the op's tensors and names both tensors when they disagree. It runs on every op
 * call of a training step, so the texts naming where a symbol was bound are only built for a message: a
 * binding keeps the argument's name and its tensor's shape (none for a number argument) instead.
 */
class Binder {
  readonly dims: Record<string, number> = {};
  private readonly byName: Record<string, string> = {};
  private readonly byShape: Record<string, readonly number[] | null> = {};
  private pending: [TensorSpec, Tensor, number][] = [];
  private sameShape: [string, Tensor] | null = null;

  constructor(private readonly spec: OpSpec) {}

  private fail(message: string): never {
    throw new OpError(this.spec.name, message);
  }

  /** Binds sym to value, set by argument `name`: a tensor of `shape`, or (shape null) a number argument. */
  bind(sym: string, value: number, name: string, shape: readonly number[] | null): void {
    const min = this.spec.mayBeZero?.includes(sym) ? 0 : 1;
    if (!(value >= min)) this.fail(`${sym} must be at least ${min}, got ${value} (${byText(name, shape, value)})`);
    this.dims[sym] = value;
    this.byName[sym] = name;
    this.byShape[sym] = shape;
  }

  /** Where sym was bound, as messages name it: 'x[4, 8]' or 'heads = 8'. */
  private by(sym: string): string | undefined {
    const name = this.byName[sym];
    return name === undefined ? undefined : byText(name, this.byShape[sym], this.dims[sym]);
  }

  tensor(spec: TensorSpec, t: Tensor): void {
    if (typeof spec.shape === 'string') {
      if (this.sameShape === null) {
        this.sameShape = [spec.name, t];
        this.bind(spec.shape.slice(3), t.size, spec.name, t.shape);
      } else {
        const [n0, t0] = this.sameShape;
        if (t.rank !== t0.rank || t.shape.some((d, i) => d !== t0.shape[i])) {
          this.fail(`${spec.name} ${shapeStr(t.shape)} must have the same shape as ${n0} ${shapeStr(t0.shape)}`);
        }
      }
      return;
    }
    if (t.rank !== spec.shape.length) this.fail(`${spec.name} must have shape [${spec.shape.join(', ')}], got ${shapeStr(t.shape)}`);
    spec.shape.forEach((_, i) => {
      if (!this.dim(spec, t, i)) this.pending.push([spec, t, i]);
    });
  }

  /** Checks or binds dim i of t; false when it has two unbound symbols yet. */
  private dim(spec: TensorSpec, t: Tensor, i: number): boolean {
    const e = (spec.shape as readonly (string | number)[])[i], actual = t.shape[i];
    if (typeof e === 'number') {
      if (actual !== e) this.fail(`${spec.name} dim ${i} must be ${e}, got shape ${shapeStr(t.shape)}`);
      return true;
    }
    const symbols = symbolsOf(e);
    let unbound = 0;
    for (const s of symbols) if (this.dims[s] === undefined) unbound++;
    if (unbound === 0) {
      const want = evalExpr(e, this.dims);
      if (actual === want) return true;
      const by = this.by(e);
      if (by !== undefined) this.fail(`${spec.name} ${shapeStr(t.shape)} disagrees with ${by} on ${e} (${actual} vs ${want})`);
      const known = symbols.map((s) => `${s} = ${this.dims[s]}`).join(', ');
      this.fail(`${spec.name} ${shapeStr(t.shape)} dim ${i} must be ${e} = ${want} (${known}), got ${actual}`);
    }
    const solved = unbound === 1 ? solveFor(e, actual, this.dims) : null;
    if (solved === null) return false;
    const [sym, value] = solved;
    if (Number.isNaN(value)) this.fail(`${spec.name} ${shapeStr(t.shape)} dim ${i} = ${actual} is not ${e} for any integer ${sym}`);
    this.bind(sym, value, spec.name, t.shape);
    return true;
  }

  finish(): void {
    let progress = true;
    while (this.pending.length > 0 && progress) {
      const before = this.pending.length;
      this.pending = this.pending.filter(([s, t, i]) => !this.dim(s, t, i));
      progress = this.pending.length < before;
    }
    if (this.pending.length > 0) throw new Error(`op table: ${this.spec.name} leaves ${this.pending[0][0].name} dims unbound`);
  }
}

/** A binding's origin as messages name it: a tensor argument with its shape, or a number argument's value. */
function byText(name: string, shape: readonly number[] | null, value: number): string {
  return shape === null ? `${name} = ${value}` : `${name}${shapeStr(shape)}`;
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : typeof v;
}

/** Each argument alone: tensors live and here, scalars in range, options and keys well formed. */
function checkArgs(spec: OpSpec, backend: string, args: readonly unknown[], binder: Binder): [TensorSpec, Tensor][] {
  const op = spec.name;
  const tensors: [TensorSpec, Tensor][] = [];
  spec.args.forEach((a: ArgSpec, i) => {
    const v = args[i];
    switch (a.kind) {
      case 'tensor':
        if (a.optional && (v === null || v === undefined)) return;
        tensors.push([a, checkTensor(op, a.name, v as Tensor, backend)]);
        return;
      case 'number': {
        const x = checkScalar(op, a.name, v === undefined ? a.default : v, a);
        if (a.bind !== undefined) binder.bind(a.bind, x, a.name, null);
        return;
      }
      case 'dropoutKey':
        checkDropoutKey(op, a.name, v);
        return;
      case 'options':
        if (a.optional && v === undefined) return;
        if (v === null || typeof v !== 'object') throw new OpError(op, `${a.name} must be an options object, got ${String(v)}`);
        for (const f of a.fields) checkScalarArg(op, `${a.name}.${f.name}`, f, (v as Record<string, unknown>)[f.name]);
        return;
      case 'flag':
        if (v !== undefined && typeof v !== 'boolean') throw new OpError(op, `${a.name} must be true or false, got ${String(v)}`);
        return;
      case 'tensorList':
        if (!Array.isArray(v)) throw new OpError(op, `${a.name} must be an array of Tensors, got ${describeValue(v)}`);
        v.forEach((t, j) => checkTensor(op, `${a.name}[${j}]`, t as Tensor, backend));
        return;
    }
  });
  return tensors;
}

/** An output may not be the same tensor as any other argument, except the inputs it may overwrite in place. */
function checkAliasing(op: string, tensors: readonly [TensorSpec, Tensor][]): void {
  tensors.forEach(([s, t], i) => {
    tensors.forEach(([s2, t2], j) => {
      if (i === j || t.handle !== t2.handle) return;
      const out1 = s.role !== 'in', out2 = s2.role !== 'in';
      if (!out1 && !out2) return;
      if (out2 && (!out1 || j < i)) return; // each pair once, named output first
      if (s.inPlaceWith?.includes(s2.name) || s2.inPlaceWith?.includes(s.name)) return;
      throw new OpError(op, `${s.name} and ${s2.name} must not be the same tensor`);
    });
  });
}

/** A constraint's message with each {expression} replaced by its value. */
function fill(message: string, env: Readonly<Record<string, number>>): string {
  return message.replace(/\{([^}]+)\}/g, (_, e: string) => String(evalExpr(e, env)));
}

/** What a rule says about x, the value at index i of tensor `name`, when x breaks it. */
export function valueRuleMessage(name: string, i: number, x: number, rule: ValueRule, G: number): string {
  if (typeof rule === 'object') return `${name}[${i}] = ${x} is not an integer group id in [0, ${G})`;
  const [lo, hi] = rule === 'unit' ? [0, 1] : rule === 'finite' ? [-Infinity, Infinity] : [0, Infinity];
  if (!Number.isFinite(x) || x < lo || x > hi) return `${name}[${i}] = ${x} must be ${rule === 'finite' ? 'finite' : `a finite value in [${lo}, ${hi}]`}`;
  return `${name}[${i}] = ${x} is not a non-negative integer`;
}

/** The message of weights that are all non-negative but sum to `sum` ≤ 0. */
export function weightsSumMessage(name: string, shape: readonly number[], sum: number): string {
  return `${name} ${shapeStr(shape)} sums to ${sum}; it must be > 0`;
}

/** The message of a sample whose group has no count. */
export function idsCountedMessage(ids: string, counts: string, i: number, id: number): string {
  return `${ids}[${i}] = ${id} but ${counts}[${id}] is 0`;
}

/** A tensor's values obey its rule. */
export function checkValueRule(op: string, name: string, shape: readonly number[], data: Float32Array, rule: ValueRule, dims: Readonly<Record<string, number>>): void {
  if (typeof rule === 'object') {
    const G = dims[rule.groupIds];
    for (let i = 0; i < data.length; i++) {
      const g = data[i];
      if (!Number.isInteger(g) || g < 0 || g >= G) throw new OpError(op, valueRuleMessage(name, i, g, rule, G));
    }
    return;
  }
  const [lo, hi] = rule === 'unit' ? [0, 1] : rule === 'finite' ? [-Infinity, Infinity] : [0, Infinity];
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x) || x < lo || x > hi || (rule === 'counts' && !Number.isInteger(x))) {
      throw new OpError(op, valueRuleMessage(name, i, x, rule, 0));
    }
    sum += x;
  }
  if (rule === 'weights' && !(sum > 0)) throw new OpError(op, weightsSumMessage(name, shape, sum));
}

function checkValues(
  spec: OpSpec, tensors: readonly [TensorSpec, Tensor][], dims: Readonly<Record<string, number>>, read: ValueReader,
  defer?: (c: DeferredCheck) => void,
): void {
  const ruled = tensors.filter(([s]) => s.values !== undefined);
  if (ruled.length === 0) return;
  const data = read(ruled.map(([, t]) => t));
  const host = new Map<string, Float32Array | null>();
  ruled.forEach(([s, t], i) => {
    const rule = s.values as ValueRule, values = data[i];
    host.set(s.name, values);
    if (values !== null) {
      checkValueRule(spec.name, s.name, t.shape, values, rule, dims);
    } else {
      if (defer === undefined) throw new Error(`${spec.name}: the values of ${s.name} could not be read for their check`);
      defer({ kind: 'rule', op: spec.name, name: s.name, tensor: t, rule, G: typeof rule === 'object' ? dims[rule.groupIds] : 0 });
    }
  });
  if (spec.idsCounted !== undefined) {
    const { ids, counts } = spec.idsCounted;
    const idv = host.get(ids), cv = host.get(counts);
    if (idv && cv) {
      for (let i = 0; i < idv.length; i++) {
        if (cv[idv[i]] === 0) throw new OpError(spec.name, idsCountedMessage(ids, counts, i, idv[i]));
      }
    } else {
      const find = (n: string) => (tensors.find(([s]) => s.name === n) as [TensorSpec, Tensor])[1];
      defer!({ kind: 'idsCounted', op: spec.name, ids, counts, idsTensor: find(ids), countsTensor: find(counts), G: find(counts).size });
    }
  }
}

/**
 * Runs every check the op table declares for a call of `spec` with the Backend method's arguments, and
 * returns the bound dims. Value rules run only when `read` is given (every backend gives it).
 */
export function checkCall(spec: OpSpec, backend: string, args: readonly unknown[], read?: ValueReader, defer?: (c: DeferredCheck) => void): CheckedCall {
  const binder = new Binder(spec);
  const tensors = checkArgs(spec, backend, args, binder);
  for (const [s, t] of tensors) binder.tensor(s, t);
  binder.finish();
  const dims = binder.dims;
  for (const c of spec.constraints ?? []) {
    if (evalExpr(c.test, dims) === 0) throw new OpError(spec.name, fill(c.message, dims));
  }
  const at = (name: string) => spec.args.findIndex((a) => a.name === name);
  for (const r of spec.needsFlag ?? []) {
    if (args[at(r.tensor)] != null && args[at(r.flag)] !== true) throw new OpError(spec.name, r.message);
  }
  for (const r of spec.factorNeedsTensor ?? []) {
    const f = args[at(r.number)];
    if (f !== undefined && f !== 1 && args[at(r.tensor)] == null) throw new OpError(spec.name, r.message);
  }
  checkAliasing(spec.name, tensors);
  const noop = spec.noopWhenZero !== undefined && dims[spec.noopWhenZero] === 0;
  if (read !== undefined && !noop) checkValues(spec, tensors, dims, read, defer);
  return { dims, noop };
}
