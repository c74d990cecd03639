// Input checks shared by the metrics: a length mismatch or a NaN prediction must stop an evaluation with
// a message naming the array and the index, not turn into a NaN buried in a report.

export function checkFinite(what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${what}[${i}] is ${a[i]}; every value must be a finite number`);
  }
}

export function checkSameLength(context: string, arrays: Record<string, ArrayLike<number>>): number {
  const entries = Object.entries(arrays);
  const n = entries[0][1].length;
  for (const [, a] of entries) {
    if (a.length !== n) {
      throw new Error(`${context}: length mismatch: ${entries.map(([k, v]) => `${k} has ${v.length}`).join(', ')}`);
    }
  }
  return n;
}

export function checkPredictions(context: string, pred: ArrayLike<number>, hr: ArrayLike<number>): number {
  const n = checkSameLength(context, { pred, hr });
  if (n === 0) throw new Error(`${context}: no predictions`);
  checkFinite(`${context}: pred`, pred);
  checkFinite(`${context}: hr`, hr);
  return n;
}

/** Group ids in [0, names.length) and every group present. */
export function checkGroups(context: string, groupOf: ArrayLike<number>, names: readonly string[]): Int32Array {
  if (names.length === 0) throw new Error(`${context}: no group names`);
  const counts = new Int32Array(names.length);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i];
    if (!Number.isInteger(g) || g < 0 || g >= names.length) {
      throw new Error(`${context}: groupOf[${i}] = ${g} is not a group id in [0, ${names.length})`);
    }
    counts[g]++;
  }
  for (let g = 0; g < names.length; g++) {
    if (counts[g] === 0) throw new Error(`${context}: group "${names[g]}" has no samples`);
  }
  return counts;
}

export function checkPositiveInt(context: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`${context}: ${name} must be a positive integer, got ${v}`);
}

export function checkSeed(context: string, seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new Error(`${context}: seed must be an integer, got ${seed}`);
}

/** An embedding matrix [rows, dim] stored row-major. */
export interface Embedding {
  data: Float32Array;
  dim: number;
}

export function checkEmbedding(context: string, emb: Embedding, rows: number): void {
  if (!(emb.data instanceof Float32Array)) throw new Error(`${context}: embedding data must be a Float32Array`);
  checkPositiveInt(context, 'embedding dim', emb.dim);
  if (emb.data.length !== rows * emb.dim) {
    throw new Error(`${context}: embedding has ${emb.data.length} values, expected ${rows} rows × ${emb.dim} = ${rows * emb.dim}`);
  }
  checkFinite(`${context}: embedding`, emb.data);
}
