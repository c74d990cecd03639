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

/** Throws when any element is NaN or infinite (used where callers ask for input checking). */
export function checkFinite(op: string, arg: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new OpError(op, `${arg} has a non-finite value (${data[i]}) at index ${i}`);
  }
}

/** Distinct tensors must not share storage where an op writes one and reads the other. */
export function checkDistinct(op: string, pairs: readonly [string, Tensor | null, string, Tensor | null][]): void {
  for (const [an, a, bn, b] of pairs) {
    if (a && b && a.handle === b.handle) throw new OpError(op, `${an} and ${bn} must not be the same tensor`);
  }
}
