// Argument checks shared by every backend, so that a bad call fails the same way everywhere and the
// message names the op, the argument and the shapes involved. Native code checks again before touching
// memory (a TypeScript check can be bypassed; a segfault cannot be caught).
import { Tensor, shapeStr } from './tensor';

export class OpError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'OpError';
  }
}

/** The tensor is live, belongs to this backend and has the given rank. */
export function checkTensor(op: string, arg: string, t: Tensor | null | undefined, backend: string, rank?: number): Tensor {
  if (!(t instanceof Tensor)) throw new OpError(op, `${arg} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.disposed) throw new OpError(op, `${arg} ${shapeStr(t.shape)} has been disposed`);
  if (t.backendName !== backend) throw new OpError(op, `${arg} lives on backend '${t.backendName}', not '${backend}'`);
  if (rank !== undefined && t.rank !== rank) throw new OpError(op, `${arg} must have rank ${rank}, got shape ${shapeStr(t.shape)}`);
  return t;
}

/**
 * Checks t's shape against `expected`, where a number must match and a string is a symbol bound on first
 * use (so ['N', 'K'] and ['M', 'K'] across calls assert that K agrees). Returns the bindings.
 */
export class ShapeBinder {
  private readonly bound = new Map<string, { value: number; by: string }>();
  constructor(private readonly op: string, private readonly backend: string) {}

  tensor(arg: string, t: Tensor | null | undefined, expected: readonly (number | string)[]): Tensor {
    checkTensor(this.op, arg, t, this.backend);
    const tt = t as Tensor;
    if (tt.rank !== expected.length) {
      throw new OpError(this.op, `${arg} must have shape [${expected.join(', ')}], got ${shapeStr(tt.shape)}`);
    }
    expected.forEach((e, i) => {
      const actual = tt.shape[i];
      if (typeof e === 'number') {
        if (actual !== e) throw new OpError(this.op, `${arg} dim ${i} must be ${e}, got shape ${shapeStr(tt.shape)}`);
        return;
      }
      const prev = this.bound.get(e);
      if (prev === undefined) this.bound.set(e, { value: actual, by: `${arg}${shapeStr(tt.shape)}` });
      else if (prev.value !== actual) {
        throw new OpError(
          this.op,
          `${arg} ${shapeStr(tt.shape)} disagrees with ${prev.by} on ${e} (${actual} vs ${prev.value})`,
        );
      }
    });
    return tt;
  }

  optional(arg: string, t: Tensor | null | undefined, expected: readonly (number | string)[]): Tensor | null {
    return t === null || t === undefined ? null : this.tensor(arg, t, expected);
  }

  get(sym: string): number {
    const b = this.bound.get(sym);
    if (b === undefined) throw new Error(`ShapeBinder: symbol ${sym} not bound`);
    return b.value;
  }

  /** Asserts a relation between bound symbols, e.g. binder.require(D % H === 0, 'D must be divisible by heads'). */
  require(ok: boolean, message: string): void {
    if (!ok) throw new OpError(this.op, message);
  }
}

export function checkNumber(op: string, arg: string, v: unknown, opts: { min?: number; max?: number; integer?: boolean; maxExclusive?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OpError(op, `${arg} must be a finite number, got ${String(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw new OpError(op, `${arg} must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new OpError(op, `${arg} must be ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && (opts.maxExclusive ? v >= opts.max : v > opts.max)) {
    throw new OpError(op, `${arg} must be ${opts.maxExclusive ? '<' : '≤'} ${opts.max}, got ${v}`);
  }
  return v;
}

/** Distinct tensors must not share storage where an op writes one and reads the other. */
export function checkDistinct(op: string, pairs: readonly [string, Tensor | null, string, Tensor | null][]): void {
  for (const [an, a, bn, b] of pairs) {
    if (a && b && a.handle === b.handle) throw new OpError(op, `${an} and ${bn} must not be the same tensor`);
  }
}

// ---- memory operations (shared by every backend's storage) ----

/** A new tensor's shape and optional initial values; returns its element count. */
export function checkNewTensor(shape: readonly number[], init?: Float32Array | readonly number[]): number {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OpError('tensor', `invalid shape ${Array.isArray(shape) ? shapeStr(shape) : String(shape)}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (init !== undefined && init.length !== n) throw new OpError('tensor', `init has ${init.length} values but shape ${shapeStr(shape)} needs ${n}`);
  return n;
}

export function checkView(t: Tensor, shape: readonly number[], backend: string): void {
  checkTensor('view', 't', t, backend);
  if (shape.reduce((a, b) => a * b, 1) !== t.size) {
    throw new OpError('view', `cannot view ${shapeStr(t.shape)} (${t.size} elements) as ${shapeStr(shape)}`);
  }
}

/** Rows [start, start + count) of dim 0 exist; returns the elements per row. */
export function checkSlice0(t: Tensor, start: number, count: number, backend: string): number {
  checkTensor('slice0', 't', t, backend);
  const rows = t.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= rows)) {
    throw new OpError('slice0', `rows [${start}, ${start + count}) out of range for ${shapeStr(t.shape)}`);
  }
  return rows === 0 ? 0 : t.size / rows;
}

export function checkUpload(t: Tensor, data: Float32Array, backend: string): void {
  checkTensor('upload', 't', t, backend);
  if (!(data instanceof Float32Array)) throw new OpError('upload', 'data must be a Float32Array');
  if (data.length !== t.size) throw new OpError('upload', `data has ${data.length} values, tensor ${shapeStr(t.shape)} holds ${t.size}`);
}

export function checkCopy(src: Tensor, dst: Tensor, backend: string): void {
  checkTensor('copy', 'src', src, backend);
  checkTensor('copy', 'dst', dst, backend);
  if (src.size !== dst.size) throw new OpError('copy', `src ${shapeStr(src.shape)} and dst ${shapeStr(dst.shape)} differ in size`);
}
