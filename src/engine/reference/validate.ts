// Argument checks of the reference backend that go beyond the shared ShapeBinder: same-shape groups,
// dropout keys, and the values of integer-valued or label inputs (group ids, weights, targets), which the
// reference can afford to scan because its tensors live on the host.
import type { DropoutKey } from '../backend';
import { OpError, checkNumber, checkTensor } from '../check';
import { Tensor, shapeStr } from '../tensor';

const TWO_POW_32 = 4294967296;

/** Every tensor is live, on this backend, and has the shape of the first one. Null entries are skipped. */
export function requireSameShape(op: string, backend: string, named: readonly [string, Tensor | null | undefined][]): void {
  let first: [string, Tensor] | null = null;
  for (const [arg, t] of named) {
    if (t === null) continue;
    checkTensor(op, arg, t, backend);
    const tt = t as Tensor;
    if (first === null) {
      first = [arg, tt];
      continue;
    }
    const ref = first[1].shape;
    if (tt.rank !== ref.length || tt.shape.some((d, i) => d !== ref[i])) {
      throw new OpError(op, `${arg} ${shapeStr(tt.shape)} must have the same shape as ${first[0]} ${shapeStr(ref)}`);
    }
  }
}

/** A dimension that a mean or a normalisation divides by must be at least 1. */
export function requirePositive(op: string, what: string, value: number, shape: readonly number[]): void {
  if (!(value >= 1)) throw new OpError(op, `${what} must be at least 1, got ${value} (shape ${shapeStr(shape)})`);
}

export function checkDropoutKey(op: string, arg: string, key: DropoutKey | undefined | null): DropoutKey {
  if (key === null || key === undefined || typeof key !== 'object') throw new OpError(op, `${arg} must be a DropoutKey {seed, step, site}`);
  checkNumber(op, `${arg}.seed`, key.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  checkNumber(op, `${arg}.step`, key.step, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  checkNumber(op, `${arg}.site`, key.site, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  return key;
}

export function checkDropP(op: string, arg: string, p: unknown): number {
  return checkNumber(op, arg, p, { min: 0, max: 1, maxExclusive: true });
}

/** Group ids are float32 holding integers in [0, G). */
export function checkGroupIds(op: string, arg: string, data: Float32Array, G: number): void {
  for (let i = 0; i < data.length; i++) {
    const g = data[i];
    if (!Number.isInteger(g) || g < 0 || g >= G) {
      throw new OpError(op, `${arg}[${i}] = ${g} is not an integer group id in [0, ${G})`);
    }
  }
}

/** Every value is finite and within [min, max]. */
export function checkValues(op: string, arg: string, data: Float32Array, min = -Infinity, max = Infinity): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x) || x < min || x > max) {
      const range = min === -Infinity && max === Infinity ? 'finite' : `a finite value in [${min}, ${max}]`;
      throw new OpError(op, `${arg}[${i}] = ${x} must be ${range}`);
    }
  }
}
