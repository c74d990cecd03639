// Central-difference gradient checking in float64 for the reference core math.
import { randn, randUniform } from '../helpers/random';

export function f64(a: Float32Array | readonly number[]): Float64Array {
  return Float64Array.from(a);
}

export function randn64(n: number, seed: number, scale = 1): Float64Array {
  return f64(randn(n, seed, scale));
}

export function uniform64(n: number, seed: number, lo: number, hi: number): Float64Array {
  return f64(randUniform(n, seed, lo, hi));
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface FdOptions {
  /** Relative step: h = h·max(1, |x_i|). */
  h?: number;
  rtol?: number;
  /** Absolute tolerance, relative to max(1, |f(x)|). */
  atol?: number;
}

/**
 * Compares analytic[i] with (f(x + h·e_i) − f(x − h·e_i)) / 2h for every i, where f reads x in place.
 * Returns the worst relative error for reporting; throws (jest-friendly) with the index on failure.
 */
export function expectGradient(label: string, f: () => number, x: Float64Array, analytic: ArrayLike<number>, opts: FdOptions = {}): number {
  const hRel = opts.h ?? 1e-6, rtol = opts.rtol ?? 1e-5, atolRel = opts.atol ?? 1e-8;
  if (analytic.length !== x.length) throw new Error(`${label}: analytic gradient has ${analytic.length} entries, x has ${x.length}`);
  const f0 = f();
  const atol = atolRel * Math.max(1, Math.abs(f0));
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const h = hRel * Math.max(1, Math.abs(v));
    x[i] = v + h;
    const fp = f();
    x[i] = v - h;
    const fm = f();
    x[i] = v;
    const numeric = (fp - fm) / (2 * h);
    const err = Math.abs(numeric - analytic[i]);
    const tol = rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i])) + atol;
    if (!(err <= tol)) {
      throw new Error(`${label}: gradient[${i}] analytic ${analytic[i]} vs finite difference ${numeric} (|err| ${err} > tol ${tol})`);
    }
    worst = Math.max(worst, err / Math.max(Math.abs(numeric), 1e-12));
  }
  expect(f()).toBe(f0); // f restored x exactly
  return worst;
}

/**
 * Runs backward(seed grads) where the gradient buffers start at random values and returns the increments,
 * so that every check also proves the backward ADDS into its outputs rather than overwriting them.
 */
export function accumulated(sizes: number[], seed: number, backward: (grads: Float64Array[]) => void): Float64Array[] {
  return gradientsFrom(sizes, seed, backward, 'add');
}

/**
 * Runs backward into buffers that start at random values and returns what it wrote: the increments ('add'),
 * or the buffers themselves ('overwrite': the elementwise backwards, whose dx no one else adds into).
 */
export function gradientsFrom(sizes: number[], seed: number, backward: (grads: Float64Array[]) => void, mode: 'add' | 'overwrite'): Float64Array[] {
  const grads = sizes.map((n, i) => randn64(n, seed + 101 * i));
  const before = grads.map((g) => g.slice());
  backward(grads);
  return mode === 'overwrite' ? grads : grads.map((g, i) => g.map((v, j) => v - before[i][j]));
}
